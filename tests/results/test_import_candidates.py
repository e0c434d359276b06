"""manage.py import_candidates, the parser and service behind it, and contest_create.

Every refusal asserts that nothing changed: no contest, contest station,
candidate or audit event appears or changes.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from core.exceptions import ConflictError, DomainError
from core.models import AuditEvent, Constituency, PollingStation
from results import services
from results.importers import CandidatesInvalid, candidates_import, contest_create, parse_candidates
from results.models import Candidate, Contest, ContestStation
from tests.factories import ConstituencyFactory
from tests.results.factories import make_contest, make_election

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
HEADER = "election,constituency_code,ballot_order,name,name_ur,party,symbol"
# Invented candidates. Lines: header 1, then 2..6.
GOOD = [
    "ge-2026,NA-60,1,Rana Tariq Mehmood,رانا طارق محمود,Pakistan Awami Front,Lantern",
    'ge-2026,NA-60,2,"Malik Ghulam Rasool, Advocate",,Qaumi Insaf Tehreek,Kite',
    "ge-2026,NA-60,3,Shaista Parveen,,,Teapot",
    "ge-2026,PS-5,1,Abdul Sattar Memon,,Sindh Ittehad Party,Boat",
    "ge-2026,PS-5,2,Rukhsana Soomro,,Independent,Ladder",
]
ERROR_LINE = re.compile(r"^line (\d+)(?:, (\w+))?: (.*) \[(\w+)\]$", re.MULTILINE)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English, whatever locale an earlier test left active."""
    with translation.override("en"):
        yield


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def with_row(index: int, row: str) -> str:
    rows = list(GOOD)
    rows[index] = row
    return csv_text(*rows)


def write(tmp_path: Path, content: str | bytes, name: str = "candidates.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def run(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_candidates", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def run_refused(path: Path, *args: str) -> list[tuple[int, str | None, str]]:
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_candidates", str(path), *args, stdout=io.StringIO(), stderr=err)
    return [(int(m[1]), m[2], m[4]) for m in ERROR_LINE.finditer(err.getvalue())]


def snapshot() -> dict:
    return {
        "contests": Contest.objects.count(),
        "stations": ContestStation.objects.count(),
        "candidates": sorted(
            Candidate.objects.values_list(
                "contest_id", "ballot_order", "name", "name_ur", "party", "party_ur", "symbol", "symbol_ur"
            )
        ),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def scheme():
    """The documented polling scheme sample (NA-60, PP-120, PS-5, NA-5, PK-3, PB-7 …) and the election."""
    call_command(
        "import_polling_scheme",
        str(SAMPLES / "polling_scheme_sample.csv"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    make_election("ge-2026")


# --- a good file ---------------------------------------------------------------


def test_good_file_creates_contests_with_their_stations_and_candidates(tmp_path, scheme):
    out = run(write(tmp_path, csv_text(*GOOD)))

    assert "contests: 2 created (with 5 stations), 2 in the file" in out
    assert "candidates: 5 created, 0 updated, 0 unchanged, 0 removed" in out
    na60 = Contest.objects.get(election__code="ge-2026", constituency__code="NA-60")
    assert [(c.ballot_order, c.name, c.party, c.symbol) for c in na60.candidates.all()] == [
        (1, "Rana Tariq Mehmood", "Pakistan Awami Front", "Lantern"),
        (2, "Malik Ghulam Rasool, Advocate", "Qaumi Insaf Tehreek", "Kite"),
        (3, "Shaista Parveen", "", "Teapot"),
    ]
    assert na60.candidates.get(ballot_order=1).name_ur == "رانا طارق محمود"
    # The contest's stations are the constituency's polling stations, with their type and registered voters.
    scheme_stations = PollingStation.objects.filter(constituency__code="NA-60").order_by("number")
    assert [
        (s.polling_station_id, s.number, s.station_type, s.male_voters, s.female_voters) for s in na60.stations.all()
    ] == [(p.pk, p.number, p.station_type, p.male_voters, p.female_voters) for p in scheme_stations]
    assert na60.status == Contest.Status.COUNTING


def test_import_is_one_audit_event_with_counts_file_hash_and_command_actor(tmp_path, scheme):
    content = csv_text(*GOOD)
    run(write(tmp_path, content, "na60.csv"))
    event = AuditEvent.objects.get(action__startswith="results.")
    assert event.action == "results.candidates_imported"
    assert event.actor_label == "command:import_candidates"
    assert event.data["file_name"] == "na60.csv"
    assert event.data["sha256"] == hashlib.sha256(content.encode()).hexdigest()
    assert (event.data["contests_created"], event.data["candidates_created"]) == (2, 5)


def test_reimport_changes_nothing_but_is_audited(tmp_path, scheme):
    path = write(tmp_path, csv_text(*GOOD))
    run(path)
    before = snapshot()
    out = run(path)
    assert "contests: 0 created (with 0 stations)" in out
    assert "candidates: 0 created, 0 updated, 5 unchanged, 0 removed" in out
    after = snapshot()
    assert after["audit"] == before["audit"] + 1
    assert {**after, "audit": 0} == {**before, "audit": 0}


def test_changed_name_or_party_updates_and_a_dropped_candidate_is_removed(tmp_path, scheme):
    run(write(tmp_path, csv_text(*GOOD)))
    changed = [
        "ge-2026,NA-60,1,Rana Tariq Mahmood,رانا طارق محمود,Pakistan Awami Front,Lantern",  # spelling
        'ge-2026,NA-60,2,"Malik Ghulam Rasool, Advocate",,Independent,Kite',  # party
        *GOOD[3:],  # NA-60's candidate 3 withdrew
    ]
    out = run(write(tmp_path, csv_text(*changed), "second.csv"))
    assert "candidates: 0 created, 2 updated, 2 unchanged, 1 removed" in out
    na60 = Contest.objects.get(constituency__code="NA-60")
    assert [(c.ballot_order, c.name, c.party) for c in na60.candidates.all()] == [
        (1, "Rana Tariq Mahmood", "Pakistan Awami Front"),
        (2, "Malik Ghulam Rasool, Advocate", "Independent"),
    ]


def test_contests_not_in_the_file_are_not_touched(tmp_path, scheme):
    run(write(tmp_path, csv_text(*GOOD)))
    run(write(tmp_path, csv_text(*GOOD[:3]), "na60_only.csv"))
    assert Candidate.objects.filter(contest__constituency__code="PS-5").count() == 2


def test_the_documented_sample_file_imports_with_urdu_party_and_symbol(scheme):
    out = run(SAMPLES / "candidates_sample.csv")
    assert "contests: 6 created" in out
    assert "candidates: 15 created" in out
    candidate = Candidate.objects.get(contest__constituency__code="PS-5", ballot_order=1)
    assert (candidate.party_ur, candidate.symbol_ur) == ("سندھ اتحاد پارٹی", "کشتی")


def test_utf8_bom_crlf_and_a_quoted_name_over_two_lines_are_accepted(tmp_path, scheme):
    rows = ['ge-2026,NA-60,1,"Rana Tariq\nMehmood",,,', *GOOD[1:3], "ge-2026,NA-60,4,Late Entry,,,"]
    content = "\ufeff" + csv_text(*rows).replace("\n", "\r\n")
    run(write(tmp_path, content))
    assert Candidate.objects.get(ballot_order=1).name == "Rana Tariq Mehmood"
    assert Candidate.objects.get(ballot_order=4).name == "Late Entry"


def test_dry_run_reports_what_would_change_and_writes_nothing(tmp_path, scheme):
    before = snapshot()
    out = run(write(tmp_path, csv_text(*GOOD)), "--dry-run")
    assert "Nothing was written (--dry-run)" in out
    assert "contests: 2 created (with 5 stations)" in out
    assert snapshot() == before


# --- bad files -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "row", "expected"),
    [
        (2, "ge-2099,NA-60,1,Shaista Parveen,,,", [(4, "election", "unknown_election")]),
        (2, "ge 2026,NA-60,3,Shaista Parveen,,,", [(4, "election", "bad_election_code")]),
        (4, "ge-2026,NA-999,1,Rukhsana Soomro,,,", [(6, "constituency_code", "unknown_constituency")]),
        (4, "ge-2026,NA-05,2,Rukhsana Soomro,,,", [(6, "constituency_code", "bad_constituency_code")]),
        (2, "ge-2026,NA-60,0,Shaista Parveen,,,", [(4, "ballot_order", "not_a_number")]),
        (2, "ge-2026,NA-60,three,Shaista Parveen,,,", [(4, "ballot_order", "not_a_number")]),
        (2, "ge-2026,NA-60,,Shaista Parveen,,,", [(4, "ballot_order", "required")]),
        (2, "ge-2026,NA-60,99999,Shaista Parveen,,,", [(4, "ballot_order", "too_large")]),
        (2, "ge-2026,NA-60,3,   ,,,", [(4, "name", "required")]),
        (2, f"ge-2026,NA-60,3,{'x' * 161},,,", [(4, "name", "too_long")]),
        (2, "ge-2026,NA-60,3,Shaista Parveen,,", [(4, None, "field_count")]),
        (2, "ge-2026,NA-60,4,Shaista Parveen,,,", [(2, "ballot_order", "ballot_order_gap")]),
    ],
)
def test_each_bad_row_is_reported_on_its_line_and_nothing_is_imported(tmp_path, scheme, index, row, expected):
    before = snapshot()
    assert run_refused(write(tmp_path, with_row(index, row))) == expected
    assert snapshot() == before


def test_duplicate_ballot_order_names_both_lines(tmp_path, scheme):
    path = write(tmp_path, with_row(2, "ge-2026,NA-60,2,Shaista Parveen,,,"))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_candidates", str(path), stdout=io.StringIO(), stderr=err)
    report = err.getvalue()
    assert "line 4, ballot_order: NA-60 (ge-2026) ballot order 2 is on line 3 and again on line 4" in report
    assert "[duplicate_ballot_order]" in report
    assert Contest.objects.count() == 0


def test_a_row_moved_out_of_its_contest_leaves_a_gap_that_is_reported_too(tmp_path, scheme):
    # Line 2's election code is mistyped, so as the file stands NA-60 of ge-2026 starts at 2.
    assert run_refused(write(tmp_path, with_row(0, "ge 2026,NA-60,1,Rana Tariq Mehmood,,,"))) == [
        (2, "election", "bad_election_code"),
        (3, "ballot_order", "ballot_order_gap"),
    ]


def test_every_bad_row_is_reported_not_just_the_first(tmp_path, scheme):
    rows = list(GOOD)
    rows[0] = "ge-2026,NA-60,1,,,,"
    rows[4] = "ge-2026,PS-5,2,Rukhsana Soomro,,,,extra"
    assert run_refused(write(tmp_path, csv_text(*rows))) == [(2, "name", "required"), (6, None, "field_count")]


def test_database_errors_are_all_reported_together(tmp_path, scheme):
    rows = ["ge-2099,NA-60,1,A,,,", "ge-2026,NA-999,1,B,,,"]
    assert run_refused(write(tmp_path, csv_text(*rows))) == [
        (2, "election", "unknown_election"),
        (3, "constituency_code", "unknown_constituency"),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", [(1, None, "empty_file")]),
        (HEADER + "\n", [(1, None, "no_rows")]),
        ("a,b,c\n1,2,3\n", [(1, None, "no_header")]),
        (csv_text(GOOD[0], header="election,constituency_code,ballot_order,name"), [(1, None, "missing_columns")]),
        (csv_text(GOOD[0] + ",x", header=HEADER + ",colour"), [(1, None, "unknown_columns")]),
    ],
)
def test_bad_file_shape_is_reported_and_nothing_is_imported(tmp_path, scheme, content, expected):
    assert run_refused(write(tmp_path, content)) == expected
    assert Contest.objects.count() == 0


def test_a_constituency_without_polling_stations_cannot_get_a_contest(tmp_path, scheme):
    ConstituencyFactory(code="NA-77")
    rows = [*GOOD, "ge-2026,NA-77,1,Someone,,,"]
    assert run_refused(write(tmp_path, csv_text(*rows))) == [(7, "constituency_code", "no_stations")]
    assert Contest.objects.count() == 0


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_candidates", str(tmp_path / "absent.csv"))


# --- contests whose keying has started ------------------------------------------


def keyed_contest():
    """NA-46 of ge-2026 with candidates "Candidate 1..3", "Party 1..3" and one accepted Form-45."""
    setup = make_contest("NA-46")
    figures = services.Figures(
        polled_male=480, polled_female=480, polled_total=960, excluded=10, votes={1: 500, 2: 300, 3: 150}
    )
    for operator in (setup.deo1, setup.deo2):
        services.form45_entry_submit(
            actor=operator, contest_station_id=setup.stations[0].pk, idempotency_key=uuid.uuid4().hex, figures=figures
        )
    return setup


NA46 = [f"ge-2026,NA-46,{n},Candidate {n},,Party {n}," for n in (1, 2, 3)]


def test_a_contest_with_accepted_forms_keeps_its_candidates(tmp_path):
    setup = keyed_contest()
    before = snapshot()
    changed = [*NA46[:2], "ge-2026,NA-46,3,Someone Else,,Party 3,"]
    assert run_refused(write(tmp_path, csv_text(*changed))) == [(2, None, "contest_has_results")]
    added = [*NA46, "ge-2026,NA-46,4,A Newcomer,,,"]
    assert run_refused(write(tmp_path, csv_text(*added), "added.csv")) == [(2, None, "contest_has_results")]
    assert snapshot() == before
    # The same candidates again are not a change: accepted, nothing written but the audit event.
    assert "0 created, 0 updated, 3 unchanged" in run(write(tmp_path, csv_text(*NA46), "same.csv"))
    assert setup.contest.candidates.count() == 3


def test_a_contest_with_a_waiting_first_entry_keeps_its_candidates_too(tmp_path):
    setup = make_contest("NA-46")
    services.form45_entry_submit(
        actor=setup.deo1,
        contest_station_id=setup.stations[0].pk,
        idempotency_key="first",
        figures=services.Figures(480, 480, 960, 10, {1: 500, 2: 300, 3: 150}),
    )
    changed = [*NA46[:2], "ge-2026,NA-46,3,Someone Else,,Party 3,"]
    assert run_refused(write(tmp_path, csv_text(*changed))) == [(2, None, "contest_has_results")]


def test_a_final_contest_keeps_its_candidates(tmp_path):
    setup = make_contest("NA-46")
    Contest.objects.filter(pk=setup.contest.pk).update(status=Contest.Status.FINAL)
    changed = [*NA46[:2], "ge-2026,NA-46,3,Someone Else,,Party 3,"]
    assert run_refused(write(tmp_path, csv_text(*changed))) == [(2, None, "contest_final")]


def test_dry_run_also_refuses_a_contest_with_results(tmp_path):
    keyed_contest()
    changed = [*NA46[:2], "ge-2026,NA-46,3,Someone Else,,Party 3,"]
    assert run_refused(write(tmp_path, csv_text(*changed)), "--dry-run") == [(2, None, "contest_has_results")]


# --- the service and the pure parser ---------------------------------------------


def test_service_raises_with_codes_and_reports_progress(tmp_path, scheme):
    calls: list[tuple[int, int]] = []
    report = candidates_import(
        actor=None, path_or_stream=write(tmp_path, csv_text(*GOOD)), progress=lambda d, t: calls.append((d, t))
    )
    assert (report.contests_created, report.candidates_created) == (2, 5)
    assert calls == [(1, 2), (2, 2)]
    with pytest.raises(CandidatesInvalid) as refused:
        candidates_import(actor=None, path_or_stream=io.BytesIO(csv_text("ge-2026,NA-60,1,,,,").encode()))
    assert refused.value.code == "candidates_invalid"
    assert [(e.line, e.column, e.code) for e in refused.value.errors] == [(2, "name", "required")]


def test_parser_reads_text_lines_and_gives_typed_rows():
    rows, errors = parse_candidates([HEADER + ",symbol_ur\n", "ge-2026,na-60,1,  Rana   Tariq ,,PAF,Lantern,لالٹین\n"])
    assert errors == []
    (row,) = rows
    assert (row.line, row.election, row.constituency_code, row.ballot_order, row.name, row.symbol_ur) == (
        2,
        "ge-2026",
        "NA-60",
        1,
        "Rana Tariq",
        "لالٹین",
    )
    assert row.party_ur == ""


# --- contest_create --------------------------------------------------------------


def test_contest_create_copies_the_scheme_and_is_audited(scheme):
    election = make_election("ge-2026")
    constituency = Constituency.objects.get(code="PS-5")
    contest = contest_create(actor=None, election=election, constituency=constituency)
    assert [(s.number, s.station_type) for s in contest.stations.all()] == list(
        PollingStation.objects.filter(constituency=constituency)
        .order_by("number")
        .values_list("number", "station_type")
    )
    event = AuditEvent.objects.get(action__startswith="results.")
    assert (event.action, event.data["stations"]) == ("results.contest_created", 2)


def test_contest_create_refuses_a_second_contest_and_an_empty_constituency(scheme):
    election = make_election("ge-2026")
    constituency = Constituency.objects.get(code="PS-5")
    contest_create(actor=None, election=election, constituency=constituency)
    before = snapshot()
    with pytest.raises(ConflictError) as exists:
        contest_create(actor=None, election=election, constituency=constituency)
    assert exists.value.code == "contest_exists"
    with pytest.raises(DomainError) as empty:
        contest_create(actor=None, election=election, constituency=ConstituencyFactory(code="NA-77"))
    assert empty.value.code == "no_stations"
    assert snapshot() == before
