"""evp/importer.py and the import_roll / generate_roll commands: a generated roll imported into synthetic blocks
over a few stations; re-imports, edits with their change history, every bad-row rule (with the good rows still
imported), files that cannot be read at all (nothing imported), the report's privacy, the audit event."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.models import AuditEvent, CensusBlock, Province, StationType
from evp.blocks import block_shapes, synthetic_blocks
from evp.importer import roll_import
from evp.models import Elector, ElectorChange, RollImport, StationRange
from evp.roll import COLUMNS
from evp.synth import generate
from tests.evp.conftest import report_rows, roll_text, station, today, write_roll
from tests.evp.factories import DistrictFactory
from tests.factories import ConstituencyFactory

pytestmark = pytest.mark.django_db

C = {name: i for i, name in enumerate(COLUMNS)}


@pytest.fixture
def blocks(db) -> list:
    """Census blocks with station ranges made by evp.blocks over six factory-made stations in two constituencies."""
    punjab = Province.objects.get(code="punjab")
    district = DistrictFactory()
    na = ConstituencyFactory(code="NA-61", house="NA", province=punjab, district=district)
    pa = ConstituencyFactory(code="PP-91", house="PA", province=punjab, district=district)
    station(na, 1, StationType.MALE, "Government Boys School No. 1, Chak 7", "گورنمنٹ بوائز اسکول نمبر ۱، چک ۷")
    station(na, 2, StationType.FEMALE, "Government Girls School No. 2, Chak 7", "گورنمنٹ گرلز اسکول نمبر ۲، چک ۷")
    station(na, 3, StationType.COMBINED, "Union Council Office, Chak 9", "یونین کونسل دفتر، چک ۹")
    station(na, 4, StationType.COMBINED, "Basic Health Unit, Chak 11", "بنیادی مرکز صحت، چک ۱۱")
    station(pa, 1, StationType.COMBINED, "Government Model School, Kot Rahim", "گورنمنٹ ماڈل اسکول، کوٹ رحیم")
    station(pa, 2, StationType.COMBINED, "Town Committee Hall, Kot Rahim", "ٹاؤن کمیٹی ہال، کوٹ رحیم")
    made = synthetic_blocks(seed=3)
    assert made == CensusBlock.objects.count() >= 6
    assert synthetic_blocks(seed=3) == 0  # every station has its ranges now
    shapes = block_shapes()
    assert len(shapes) == made
    return shapes


@pytest.fixture
def rows(blocks) -> list[list[str]]:
    return list(generate(blocks, 400, seed=9, today=today()))


def run(path: Path, **kwargs) -> RollImport:
    return roll_import(path=str(path), today=today(), **kwargs)


def electors() -> dict[int, dict]:
    return {e["cnic"]: e for e in Elector.objects.values()}


def changed_rows(rows: list[list[str]], edits: dict[int, dict[str, str]]) -> list[list[str]]:
    """A copy of ``rows`` with {row index: {column: new value}} applied."""
    out = [list(r) for r in rows]
    for index, changes in edits.items():
        for column, value in changes.items():
            out[index][C[column]] = value
    return out


def test_synthetic_blocks_give_every_station_its_lists(blocks):
    ranges = list(StationRange.objects.select_related("station"))
    assert {r.station.station_type for r in ranges if r.roll == "M"} <= {"male", "combined"}
    assert {r.station.station_type for r in ranges if r.roll == "F"} <= {"female", "combined"}
    by_list = defaultdict(list)
    for r in ranges:
        by_list[(r.block_id, r.roll)].append((r.serial_from, r.serial_to))
    for spans in by_list.values():  # each list is covered from serial 1 to the end, without a gap
        spans.sort()
        assert spans[0][0] == 1 and spans[-1][1] is None
        for (_a, end), (start, _b) in zip(spans, spans[1:], strict=False):
            assert start == end + 1


def test_a_generated_roll_is_imported_whole(tmp_path, rows):
    record = run(write_roll(tmp_path / "roll.csv", rows))
    assert (record.status, record.rows, record.created, record.updated, record.unchanged, record.bad) == (
        "done",
        400,
        400,
        0,
        0,
        0,
    )
    assert record.finished_at is not None and record.error == ""
    stored = electors()
    assert len(stored) == 400
    codes = dict(CensusBlock.objects.values_list("id", "code"))
    for row in rows:
        e = stored[int(row[C["cnic"]])]
        assert (e["name"], e["name_ur"], e["relation_name"], e["address"], e["address_ur"]) == (
            row[C["name"]],
            row[C["name_ur"]],
            row[C["relation_name"]],
            row[C["address"]],
            row[C["address_ur"]],
        )
        assert (codes[e["block_id"]], e["serial"], e["family_number"], e["gender"], e["status"]) == (
            row[C["census_block"]],
            int(row[C["serial"]]),
            int(row[C["family_number"]]),
            row[C["gender"]],
            "active",
        )
        assert e["date_of_birth"] == datetime.date.fromisoformat(row[C["date_of_birth"]])
        assert e["roll"] == ("F" if e["gender"] == "F" else "M")
    assert report_rows(record) == []
    assert not ElectorChange.objects.exists()


def test_the_import_is_audited_with_the_files_sha256_and_counts(tmp_path, rows):
    path = write_roll(tmp_path / "roll.csv", rows)
    record = run(path)
    event = AuditEvent.objects.get(action="evp.roll_imported")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.sha256 == digest
    assert event.target_id == str(record.pk)
    assert event.data["sha256"] == digest and event.data["file"] == "roll.csv"
    assert (event.data["rows"], event.data["created"], event.data["bad"]) == (400, 400, 0)


def test_importing_the_same_file_again_changes_nothing(tmp_path, rows):
    path = write_roll(tmp_path / "roll.csv", rows)
    run(path)
    before = electors()
    again = run(path)
    assert (again.status, again.rows, again.created, again.updated, again.unchanged, again.bad) == (
        "done",
        400,
        0,
        0,
        400,
        0,
    )
    assert electors() == before  # not even updated_at moved
    assert not ElectorChange.objects.exists()


def test_an_edited_file_updates_the_roll_and_records_exactly_what_changed(tmp_path, rows):
    run(write_roll(tmp_path / "roll.csv", rows))
    before = electors()
    last = defaultdict(int)
    for row in rows:
        key = (row[C["census_block"]], row[C["gender"]] == "F")
        last[key] = max(last[key], int(row[C["serial"]]))
    moved = rows[20]
    free = last[(moved[C["census_block"]], moved[C["gender"]] == "F")] + 1
    edited = changed_rows(rows, {10: {"name": "Renamed Person"}, 20: {"serial": str(free)}, 30: {"status": "deleted"}})
    record = run(write_roll(tmp_path / "edited.csv", edited))
    assert (record.status, record.created, record.updated, record.unchanged, record.bad) == ("done", 0, 3, 397, 0)
    changes = {c.elector.cnic: c for c in ElectorChange.objects.select_related("elector")}
    assert len(changes) == 3
    renamed, reserialed, deleted = (int(rows[i][C["cnic"]]) for i in (10, 20, 30))
    assert (changes[renamed].before, changes[renamed].after) == (
        {"name": rows[10][C["name"]]},
        {"name": "Renamed Person"},
    )
    assert (changes[reserialed].before, changes[reserialed].after) == (
        {"serial": int(moved[C["serial"]])},
        {"serial": free},
    )
    assert (changes[deleted].before, changes[deleted].after) == ({"status": "active"}, {"status": "deleted"})
    assert {c.source for c in changes.values()} == {f"import:{record.pk}"}
    after = electors()
    assert after[renamed]["name"] == "Renamed Person"
    assert after[reserialed]["serial"] == free
    assert after[deleted]["status"] == "deleted"
    untouched = int(rows[0][C["cnic"]])
    assert after[untouched] == before[untouched]
    assert after[renamed]["updated_at"] > before[renamed]["updated_at"]


def same_list_as(row: list[str], other: list[str]) -> bool:
    female = (row[C["gender"]] == "F", other[C["gender"]] == "F")
    return row[C["census_block"]] == other[C["census_block"]] and female[0] == female[1]


@pytest.mark.postgres
def test_two_electors_swap_serials_in_one_file(tmp_path, rows):
    run(write_roll(tmp_path / "roll.csv", rows))
    first = rows[0]
    same_list = [r for r in rows[1:] if same_list_as(r, first)]
    second = same_list[0]
    a, b = first[C["serial"]], second[C["serial"]]
    swapped = [list(r) for r in rows]
    swapped[0][C["serial"]], swapped[rows.index(second)][C["serial"]] = b, a
    record = run(write_roll(tmp_path / "swapped.csv", swapped))
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what the commit would check
    assert (record.status, record.updated, record.bad) == ("done", 2, 0)
    stored = electors()
    assert stored[int(first[C["cnic"]])]["serial"] == int(b)
    assert stored[int(second[C["cnic"]])]["serial"] == int(a)


# --- bad rows ----------------------------------------------------------------------------------------------------


def fresh(template: list[str], k: int, **changes: str) -> list[str]:
    """A new elector (a CNIC and a serial the roll does not hold) like ``template``."""
    row = list(template)
    row[C["cnic"]] = f"4210{k:09d}"
    row[C["serial"]] = str(50_000 + k)
    row[C["name"]] = f"Bad Row Person {k}"
    for column, value in changes.items():
        row[C[column]] = value
    return row


def test_bad_rows_are_reported_by_line_column_and_rule_and_the_good_rows_still_import(tmp_path, rows):
    base, rest = rows[:300], rows[300:]
    run(write_roll(tmp_path / "base.csv", base))
    t = rest[0]
    holder = base[0]
    young = (today() - datetime.timedelta(days=365 * 10)).isoformat()
    bad = [
        fresh(t, 1, cnic="352021234567"),  # 12 digits
        fresh(t, 2, census_block="999999999"),
        fresh(t, 3),
        fresh(t, 4, cnic="4210000000003"),  # the same CNIC as the line before
        fresh(t, 5, serial="60000"),
        fresh(t, 6, serial="60000"),  # the same serial on the same list as the line before
        fresh(holder, 7, serial=holder[C["serial"]]),  # a serial held in the roll by an elector not in this file
        fresh(t, 8, date_of_birth=young),
    ]
    first_bad = 2 + len(rest)  # the header is line 1
    body = roll_text([*rest, *bad]).encode()
    body += roll_text([fresh(t, 9)[:5]]).split("\n", 1)[1].encode()  # five columns
    not_utf8 = roll_text([fresh(t, 10, name="Bil\udcffal")]).split("\n", 1)[1]
    body += not_utf8.encode("utf-8", "surrogateescape")  # a byte 0xff in the name
    path = tmp_path / "with-bad-rows.csv"
    path.write_bytes(body)
    record = run(path)

    found = {(int(r["line"]), r["column"], r["code"]) for r in report_rows(record)}
    L = first_bad
    assert found == {
        (L, "cnic", "invalid_cnic"),
        (L + 1, "census_block", "unknown_block"),
        (L + 2, "cnic", "duplicate_cnic"),
        (L + 3, "cnic", "duplicate_cnic"),
        (L + 4, "serial", "duplicate_serial"),
        (L + 5, "serial", "duplicate_serial"),
        (L + 6, "serial", "serial_taken"),
        (L + 7, "date_of_birth", "under_age"),
        (L + 8, "", "columns"),
        (L + 9, "", "encoding"),
    }
    messages = {int(r["line"]): r["message"] for r in report_rows(record)}
    assert str(L + 3) in messages[L + 2] and str(L + 2) in messages[L + 3]
    assert str(L + 5) in messages[L + 4] and str(L + 4) in messages[L + 5]
    assert (record.status, record.rows, record.bad, record.created, record.updated) == (
        "done",
        len(rest) + 10,
        10,
        len(rest),
        0,
    )
    stored = electors()
    assert len(stored) == 400
    assert not any(cnic // 10**9 == 4210 for cnic in stored)  # no bad row got in
    holder_row = stored[int(holder[C["cnic"]])]
    assert holder_row["serial"] == int(holder[C["serial"]])
    assert AuditEvent.objects.filter(action="evp.roll_imported").last().data["bad_by_code"] == {
        "invalid_cnic": 1,
        "unknown_block": 1,
        "duplicate_cnic": 2,
        "duplicate_serial": 2,
        "serial_taken": 1,
        "under_age": 1,
        "columns": 1,
        "encoding": 1,
    }

    report = Path(record.report_path).read_text(encoding="utf-8")
    for row in [*rest, *bad]:
        assert row[C["cnic"]] not in report and row[C["name"]] not in report
    assert "352021234567" not in report


def test_the_report_goes_where_it_is_asked_to(tmp_path, rows):
    target = tmp_path / "reports" / "bad.csv"
    target.parent.mkdir()
    record = run(write_roll(tmp_path / "roll.csv", [*rows[:5], fresh(rows[0], 1, gender="?")]), report_path=str(target))
    assert record.report_path == str(target)
    assert [(r["line"], r["column"], r["code"]) for r in report_rows(record)] == [("7", "gender", "invalid_choice")]


def test_a_row_with_a_week_date_lands_in_the_report(tmp_path, rows):
    record = run(write_roll(tmp_path / "roll.csv", [*rows[:5], fresh(rows[0], 1, date_of_birth="1980-W20-6")]))
    assert [(r["line"], r["code"]) for r in report_rows(record)] == [("7", "invalid_date")]
    assert record.created == 5


def test_a_bom_and_reordered_columns_are_read(tmp_path, rows):
    header = list(reversed(COLUMNS))
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + roll_text([list(reversed(r)) for r in rows[:50]], header).encode())
    record = run(path)
    assert (record.status, record.created, record.bad) == ("done", 50, 0)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (roll_text([], [c for c in COLUMNS if c != "serial"]).encode(), "serial"),
        (roll_text([], [*COLUMNS, "cnic"]).encode(), "twice"),
    ],
    ids=["empty file", "missing column", "duplicated column"],
)
def test_a_file_that_cannot_be_read_fails_and_nothing_is_imported(tmp_path, rows, content, reason):
    run(write_roll(tmp_path / "base.csv", rows[:10]))
    before, audit = electors(), AuditEvent.objects.count()
    path = tmp_path / "broken.csv"
    if content:  # a missing column: the good rows after the header must not get in either
        content += roll_text(rows[10:20]).split("\n", 1)[1].encode()
    path.write_bytes(content)
    record = run(path)
    assert record.status == "failed" and reason in record.error
    assert (record.created, record.updated) == (0, 0) and record.finished_at is not None
    assert electors() == before and not ElectorChange.objects.exists()
    assert AuditEvent.objects.count() == audit


# --- the commands --------------------------------------------------------------------------------------------------


def test_generate_roll_writes_the_header_and_count_rows_and_bad_rows_the_importer_refuses(tmp_path, blocks):
    good = tmp_path / "good.csv"
    call_command("generate_roll", "--count", "60", "--seed", "4", "--out", str(good), stderr=io.StringIO())
    lines = list(csv.reader(good.open(encoding="utf-8")))
    assert lines[0] == list(COLUMNS) and len(lines) == 61
    with_bad = tmp_path / "with-bad.csv"
    err = io.StringIO()
    call_command("generate_roll", "--count", "60", "--seed", "4", "--bad", "4", "--out", str(with_bad), stderr=err)
    assert "Wrote 64 electors" in err.getvalue()
    bad_lines = list(csv.reader(with_bad.open(encoding="utf-8")))
    assert bad_lines[:61] == lines  # the same seed, the same roll

    out = io.StringIO()
    call_command("import_roll", str(with_bad), stdout=out, stderr=io.StringIO())
    record = RollImport.objects.get()
    refused = {(int(r["line"]), r["code"]) for r in report_rows(record)}
    assert refused == {
        (2, "duplicate_cnic"),
        (62, "invalid_cnic"),
        (63, "unknown_block"),
        (64, "duplicate_cnic"),
        (65, "under_age"),
    }
    assert (record.created, record.bad) == (59, 5)
    text = out.getvalue()
    assert "rows/s" in text and "59 created" in text and f"report: {record.report_path}" in text
    assert f"sha256: {record.sha256}" in text
    event = AuditEvent.objects.get(action="evp.roll_imported")
    assert event.actor_label == "command:import_roll"


def test_generate_roll_refuses_a_count_below_1(tmp_path, blocks):
    with pytest.raises(CommandError):
        call_command("generate_roll", "--count", "0", "--out", str(tmp_path / "x.csv"))


def test_import_roll_without_bad_rows_says_so(tmp_path, rows):
    out = io.StringIO()
    call_command("import_roll", str(write_roll(tmp_path / "roll.csv", rows[:30])), stdout=out, stderr=io.StringIO())
    assert "30 rows" in out.getvalue() and "rows/s" in out.getvalue() and "no bad rows" in out.getvalue()


def test_import_roll_of_a_missing_file_is_an_error_and_records_nothing(tmp_path, db):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_roll", str(tmp_path / "absent.csv"), stdout=io.StringIO())
    assert not RollImport.objects.exists()


def test_import_roll_of_an_unreadable_file_is_an_error_and_imports_nothing(tmp_path, rows):
    path = write_roll(tmp_path / "roll.csv", rows[:5], header=[c for c in COLUMNS if c != "gender"])
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_roll", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert not Elector.objects.exists()
    assert RollImport.objects.get().status == "failed"
