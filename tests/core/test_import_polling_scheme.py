"""manage.py import_polling_scheme / generate_polling_scheme and the pure parser behind them.

Every refusal asserts that nothing changed: no station, constituency, district
or audit event appears. The format is docs/polling-scheme-csv.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.importers.polling_scheme import COLUMNS, ProvinceRef, normalise_name, parse_rows
from core.importers.progress import TerminalProgress
from core.importers.services import PollingSchemeInvalid, polling_scheme_import
from core.importers.synthetic import generate_scheme, write_scheme_csv
from core.models import AuditEvent, Constituency, District, PollingStation, Province
from tests.factories import ConstituencyFactory, ProvinceFactory

HEADER = ",".join(COLUMNS)
# Invented places and schools. Lines: header 1, then 2, 3, 4, 5.
GOOD = [
    'Punjab,Sabzpur,NA-60,Sabzpur-I,1,"Government Boys High School No. 1, Kot Rahim",male,1850,0,5,0,31.52037,74.35874',
    'Punjab,Sabzpur,NA-60,Sabzpur-I,2,"Government Girls School No. 3, Kot Rahim",female,0,1420,0,4,31.521,74.359',
    "Punjab,Sabzpur,NA-60,Sabzpur-I,3,Government Primary School Chak No. 12/GB,combined,900,850,2,2,,",
    'Sindh,,PS-5,Goth Karim-II,1,"Union Council Office, Goth Karim",combined,1100,990,3,2,25.396000,68.357800',
]
PROVINCES = [
    ProvinceRef("punjab", "Punjab", "PP"),
    ProvinceRef("sindh", "Sindh", "PS"),
    ProvinceRef("kp", "Khyber Pakhtunkhwa", "PK"),
    ProvinceRef("balochistan", "Balochistan", "PB"),
    ProvinceRef("ict", "Islamabad Capital Territory", ""),
]
ERROR_LINE = re.compile(r"^line (\d+)(?:, (\w+))?: (.*) \[(\w+)\]$", re.MULTILINE)


def scheme(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def with_row(index: int, row: str) -> str:
    """The good file with row ``index`` (0-based; on line index + 2) replaced."""
    rows = list(GOOD)
    rows[index] = row
    return scheme(*rows)


def write(tmp_path: Path, content: str | bytes, name: str = "scheme.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_polling_scheme", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_refused(path: Path, *args: str) -> tuple[list[tuple[int, str | None, str]], str]:
    """Run an import that must fail; return [(line, column, code)] from the report, and the report."""
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_polling_scheme", str(path), *args, stdout=io.StringIO(), stderr=err)
    report = err.getvalue()
    return [(int(m[1]), m[2], m[4]) for m in ERROR_LINE.finditer(report)], report


def counts() -> dict[str, int]:
    return {
        "stations": PollingStation.objects.count(),
        "constituencies": Constituency.objects.count(),
        "districts": District.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


# --- a good file ---------------------------------------------------------------


@pytest.mark.django_db
def test_good_file_creates_stations_constituencies_and_districts(tmp_path):
    path = write(tmp_path, scheme(*GOOD))
    out, err = run(path)

    assert counts() == {"stations": 4, "constituencies": 2, "districts": 1, "audit": 1}
    assert "4 created, 0 updated, 0 unchanged" in out
    assert "2 created, 0 updated" in out
    assert err == ""  # no progress bar when stderr is not a terminal

    na60 = Constituency.objects.get(code="NA-60")
    assert (na60.house, na60.name, na60.province.code, na60.district.name) == ("NA", "Sabzpur-I", "punjab", "Sabzpur")
    ps5 = Constituency.objects.get(code="PS-5")
    assert (ps5.house, ps5.province.code, ps5.district) == ("PA", "sindh", None)

    first = PollingStation.objects.get(constituency=na60, number=1)
    assert first.name == "Government Boys High School No. 1, Kot Rahim"
    assert (first.station_type, first.male_voters, first.female_voters, first.male_booths, first.female_booths) == (
        "male",
        1850,
        0,
        5,
        0,
    )
    assert (first.latitude, first.longitude) == (Decimal("31.52037"), Decimal("74.35874"))
    third = PollingStation.objects.get(constituency=na60, number=3)
    assert (third.station_type, third.latitude, third.longitude) == ("combined", None, None)


@pytest.mark.django_db
def test_import_is_audited_with_counts_file_hash_and_command_actor(tmp_path):
    content = scheme(*GOOD)
    run(write(tmp_path, content, "lahore_scheme.csv"))

    event = AuditEvent.objects.get()
    assert event.action == "geography.scheme_imported"
    assert event.actor_label == "command:import_polling_scheme"
    assert event.data["file_name"] == "lahore_scheme.csv"
    assert event.data["sha256"] == hashlib.sha256(content.encode()).hexdigest()
    assert event.data["stations_created"] == 4
    assert event.data["constituencies_created"] == 2
    assert event.data["districts_created"] == 1


@pytest.mark.django_db
def test_reimport_changes_nothing_but_is_audited(tmp_path):
    path = write(tmp_path, scheme(*GOOD))
    run(path)
    before = list(PollingStation.objects.order_by("pk").values())

    out, _err = run(path)

    assert "0 created, 0 updated, 4 unchanged" in out
    assert "0 created, 0 updated (of 2" in out
    assert list(PollingStation.objects.order_by("pk").values()) == before
    assert counts() == {"stations": 4, "constituencies": 2, "districts": 1, "audit": 2}
    latest = AuditEvent.objects.order_by("-seq").first()
    assert (latest.data["stations_created"], latest.data["stations_updated"]) == (0, 0)
    assert latest.data["stations_unchanged"] == 4


@pytest.mark.django_db
def test_changed_row_updates_the_station_and_changed_name_the_constituency(tmp_path):
    run(write(tmp_path, scheme(*GOOD)))
    untouched = PollingStation.objects.get(constituency__code="NA-60", number=1)
    changed = list(GOOD)
    changed[2] = changed[2].replace("900,850,2,2", "950,870,3,2")
    changed[3] = changed[3].replace("Goth Karim-II", "Goth Karim-III")

    out, _err = run(write(tmp_path, scheme(*changed), "changed.csv"))

    assert "0 created, 1 updated, 3 unchanged" in out
    station = PollingStation.objects.get(constituency__code="NA-60", number=3)
    assert (station.male_voters, station.female_voters, station.male_booths) == (950, 870, 3)
    assert Constituency.objects.get(code="PS-5").name == "Goth Karim-III"
    assert PollingStation.objects.get(pk=untouched.pk) == untouched
    assert counts()["stations"] == 4


@pytest.mark.django_db
def test_stations_missing_from_the_file_are_kept_and_counted(tmp_path):
    run(write(tmp_path, scheme(*GOOD)))
    out, _err = run(write(tmp_path, scheme(*GOOD[:2], GOOD[3]), "shorter.csv"))
    assert "1 stations of these constituencies are not in the file; they were kept" in out
    assert PollingStation.objects.filter(constituency__code="NA-60", number=3).exists()


@pytest.mark.django_db
def test_existing_district_is_matched_whatever_its_case(tmp_path):
    district = District.objects.create(province=Province.objects.get(code="punjab"), name="Sabzpur")
    rows = [row.replace("Punjab,Sabzpur", "Punjab,SABZPUR") for row in GOOD]
    out, _err = run(write(tmp_path, scheme(*rows)))
    assert "districts: 0 created" in out
    assert Constituency.objects.get(code="NA-60").district == district


@pytest.mark.django_db
def test_empty_district_keeps_the_constituencys_district(tmp_path):
    run(write(tmp_path, scheme(*GOOD)))
    rows = [row.replace("Punjab,Sabzpur,", "Punjab,,") for row in GOOD]
    out, _err = run(write(tmp_path, scheme(*rows), "no_districts.csv"))
    assert "0 created, 0 updated (of 2" in out
    assert Constituency.objects.get(code="NA-60").district.name == "Sabzpur"


@pytest.mark.django_db
def test_new_district_on_reimport_is_created_and_given_to_the_constituency(tmp_path):
    run(write(tmp_path, scheme(*GOOD)))
    rows = [*GOOD[:3], GOOD[3].replace("Sindh,,", "Sindh,Rahimabad,")]
    out, _err = run(write(tmp_path, scheme(*rows), "with_district.csv"))
    assert "constituencies: 0 created, 1 updated" in out
    assert "districts: 1 created" in out
    assert Constituency.objects.get(code="PS-5").district.name == "Rahimabad"
    assert District.objects.get(name="Rahimabad").province.code == "sindh"


@pytest.mark.django_db
def test_provinces_match_by_code_or_name_in_any_case(tmp_path):
    rows = [
        "punjab,,NA-60,Sabzpur-I,1,School A,combined,900,800,2,2,,",
        "PUNJAB,,NA-60,Sabzpur-I,2,School B,combined,900,800,2,2,,",
        "KP,,NA-5,Gul Khel,1,School C,combined,900,800,2,2,,",
        "Khyber Pakhtunkhwa,,NA-5,Gul Khel,2,School D,combined,900,800,2,2,,",
        "khyber pakhtunkhwa,,PK-3,Banda Ali,1,School E,combined,900,800,2,2,,",
        "ICT,,NA-47,Islamabad-II,1,School F,combined,900,800,2,2,,",
        "Islamabad Capital Territory,,NA-47,Islamabad-II,2,School G,combined,900,800,2,2,,",
        "balochistan,,PB-7,Killi Noor,1,School H,combined,900,800,2,2,,",
    ]
    run(write(tmp_path, scheme(*rows)))
    provinces = dict(Constituency.objects.values_list("code", "province__code"))
    assert provinces == {"NA-60": "punjab", "NA-5": "kp", "PK-3": "kp", "NA-47": "ict", "PB-7": "balochistan"}


@pytest.mark.django_db
def test_values_are_normalised_and_coordinates_rounded_to_six_places(tmp_path):
    row = " punjab , Sabzpur , na-60 , Sabzpur-I , 7 , School  by   the\tcanal , MALE , 1000 , 0 , 3 , 0 , "
    row += "31.1234567 , 74.5 "
    path = write(tmp_path, scheme(row))
    run(path)
    station = PollingStation.objects.get()
    assert (station.constituency.code, station.number, station.name) == ("NA-60", 7, "School by the canal")
    assert station.station_type == "male"
    assert (station.latitude, station.longitude) == (Decimal("31.123457"), Decimal("74.500000"))
    out, _err = run(path)
    assert "0 created, 0 updated, 1 unchanged" in out  # rounding does not make a re-import look like a change


@pytest.mark.django_db
def test_quoted_names_with_newlines_and_commas_import_and_later_lines_are_right(tmp_path):
    rows = [
        GOOD[0],
        'Punjab,Sabzpur,NA-60,Sabzpur-I,2,"Government Girls School,\nKot Rahim, ""Block B""",female,0,1420,0,4,,',
        'Punjab,Sabzpur,NA-60,Sabzpur-I,3,"Basic Health Unit\r\n\r\nMauza Gulpur",combined,900,850,2,2,,',
        GOOD[3],
    ]
    run(write(tmp_path, scheme(*rows)))
    names = dict(PollingStation.objects.filter(constituency__code="NA-60").values_list("number", "name"))
    assert names[2] == 'Government Girls School, Kot Rahim, "Block B"'
    assert names[3] == "Basic Health Unit Mauza Gulpur"

    # Records start on lines 2, 3 (to 4), 5 (to 7), 8; a bad value in the last is reported on line 8.
    bad = [*rows[:3], GOOD[3].replace(",combined,", ",mixed,"), GOOD[3].replace(",1,", ",0,")]
    errors, _report = run_refused(write(tmp_path, scheme(*bad), "bad.csv"))
    assert errors == [(8, "station_type", "bad_station_type"), (9, "ps_number", "not_a_number")]


@pytest.mark.django_db
def test_utf8_bom_and_windows_line_endings_are_accepted(tmp_path):
    content = b"\xef\xbb\xbf" + scheme(*GOOD).replace("\n", "\r\n").encode()
    run(write(tmp_path, content))
    assert counts()["stations"] == 4


@pytest.mark.django_db
def test_blank_lines_are_skipped_and_do_not_shift_line_numbers(tmp_path):
    content = scheme(GOOD[0], "", ",,,,,,,,,,,,", GOOD[1].replace(",female,", ",mixed,"))
    errors, _report = run_refused(write(tmp_path, content))
    assert errors == [(5, "station_type", "bad_station_type")]


@pytest.mark.django_db
def test_dry_run_reports_what_would_change_and_writes_nothing(tmp_path):
    out, _err = run(write(tmp_path, scheme(*GOOD)), "--dry-run")
    assert "Nothing was written (--dry-run)" in out
    assert "4 created, 0 updated, 0 unchanged" in out
    assert "districts: 1 created" in out
    assert counts() == {"stations": 0, "constituencies": 0, "districts": 0, "audit": 0}


@pytest.mark.django_db
def test_dry_run_of_a_bad_file_fails_like_an_import(tmp_path):
    errors, _report = run_refused(write(tmp_path, with_row(1, GOOD[1].replace(",2,", ",x,"))), "--dry-run")
    assert errors == [(3, "ps_number", "not_a_number")]


# --- bad files: every rule, with its line, and nothing imported --------------------

BAD_ROWS = [
    # (name, 0-based row to replace, replacement row, expected (line, column, code) errors)
    ("unknown province", 1, GOOD[1].replace("Punjab,", "Panjab,", 1), [(3, "province", "unknown_province")]),
    ("empty province", 1, GOOD[1].replace("Punjab,", ",", 1), [(3, "province", "required")]),
    ("code without hyphen", 1, GOOD[1].replace("NA-60", "NA60"), [(3, "constituency_code", "bad_constituency_code")]),
    ("code with zero", 1, GOOD[1].replace("NA-60", "NA-060"), [(3, "constituency_code", "bad_constituency_code")]),
    ("unknown house", 3, GOOD[3].replace("PS-5", "PX-5"), [(5, "constituency_code", "bad_constituency_code")]),
    (
        "PA prefix of another province",
        3,
        GOOD[3].replace("PS-5", "PP-5"),
        [(5, "constituency_code", "pa_prefix_mismatch")],
    ),
    (
        "PA seat in ICT",
        3,
        GOOD[3].replace("Sindh,", "ICT,").replace("PS-5", "PP-5"),
        [(5, "constituency_code", "no_pa_seats")],
    ),
    (
        "constituency name differs",
        1,
        GOOD[1].replace("Sabzpur-I,", "Sabzpur-II,"),
        [(3, "constituency_name", "constituency_differs")],
    ),
    (
        "constituency province differs",
        1,
        GOOD[1].replace("Punjab,", "Balochistan,", 1),
        [(3, "province", "constituency_differs")],
    ),
    (
        "constituency district differs",
        2,
        GOOD[2].replace(",Sabzpur,", ",Noorgarh,"),
        [(4, "district", "constituency_differs")],
    ),
    ("ps_number zero", 1, GOOD[1].replace(",2,", ",0,"), [(3, "ps_number", "not_a_number")]),
    ("ps_number negative", 1, GOOD[1].replace(",2,", ",-2,"), [(3, "ps_number", "not_a_number")]),
    ("ps_number decimal", 1, GOOD[1].replace(",2,", ",2.5,"), [(3, "ps_number", "not_a_number")]),
    ("ps_number huge", 1, GOOD[1].replace(",2,", ",99999999999,"), [(3, "ps_number", "too_large")]),
    (
        "ps_name empty",
        2,
        GOOD[2].replace("Government Primary School Chak No. 12/GB", "  "),
        [(4, "ps_name", "required")],
    ),
    ("ps_name too long", 2, GOOD[2].replace("Government", "G" * 300), [(4, "ps_name", "too_long")]),
    ("station type unknown", 2, GOOD[2].replace(",combined,", ",mixed,"), [(4, "station_type", "bad_station_type")]),
    ("voters negative", 2, GOOD[2].replace(",900,", ",-900,"), [(4, "male_voters", "not_a_number")]),
    ("voters not a number", 2, GOOD[2].replace(",850,", ",many,"), [(4, "female_voters", "not_a_number")]),
    ("voters empty", 2, GOOD[2].replace(",850,", ",,"), [(4, "female_voters", "required")]),
    ("booths too many", 2, GOOD[2].replace(",2,2,", ",40000,2,"), [(4, "male_booths", "too_large")]),
    (
        "male station with female voters",
        0,
        GOOD[0].replace(",male,1850,0,5,0,", ",male,1850,10,5,1,"),
        [(2, "female_voters", "male_station_has_female"), (2, "female_booths", "male_station_has_female")],
    ),
    (
        "female station with male booths",
        1,
        GOOD[1].replace(",female,0,1420,0,4,", ",female,0,1420,1,4,"),
        [(3, "male_booths", "female_station_has_male")],
    ),
    ("lat without lon", 0, GOOD[0].replace(",74.35874", ","), [(2, "lon", "lat_lon_together")]),
    ("lon without lat", 0, GOOD[0].replace(",31.52037,", ",,"), [(2, "lat", "lat_lon_together")]),
    ("lat outside Pakistan", 0, GOOD[0].replace("31.52037", "12.5"), [(2, "lat", "outside_pakistan")]),
    ("lon outside Pakistan", 0, GOOD[0].replace("74.35874", "80.1"), [(2, "lon", "outside_pakistan")]),
    ("lon not a decimal", 0, GOOD[0].replace("74.35874", "74°21'E"), [(2, "lon", "not_a_decimal")]),
    ("lat not a number", 0, GOOD[0].replace("31.52037", "NaN"), [(2, "lat", "not_a_decimal")]),
    ("too few fields", 2, GOOD[2].removesuffix(","), [(4, None, "field_count")]),
    ("unquoted comma in a name", 2, GOOD[2].replace("Chak No. 12/GB", "Chak No. 12, GB"), [(4, None, "field_count")]),
    ("duplicate station number", 2, GOOD[2].replace(",3,", ",1,"), [(4, "ps_number", "duplicate_station")]),
    ("text after a closing quote", 3, GOOD[3].replace('"Union', '"Union"x'), [(5, None, "bad_csv")]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("index", "row", "expected"), [case[1:] for case in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_each_bad_row_is_reported_on_its_line_and_nothing_is_imported(tmp_path, index, row, expected):
    before = counts()
    errors, _report = run_refused(write(tmp_path, with_row(index, row)))
    assert errors == expected
    assert counts() == before


BAD_FILES = [
    ("empty file", "", [(1, None, "empty_file")]),
    ("header only", scheme(), [(1, None, "no_rows")]),
    ("no header", "\n".join(GOOD) + "\n", [(1, None, "no_header")]),
    ("missing column", scheme(header=HEADER.replace(",lon", "")), [(1, None, "missing_columns")]),
    ("unknown column", scheme(header=HEADER + ",remarks"), [(1, None, "unknown_columns")]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "expected"), [case[1:] for case in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_file_shape_is_reported_and_nothing_is_imported(tmp_path, content, expected):
    errors, _report = run_refused(write(tmp_path, content))
    assert errors == expected
    assert counts() == {"stations": 0, "constituencies": 0, "districts": 0, "audit": 0}


@pytest.mark.django_db
def test_repeated_and_missing_columns_are_both_named(tmp_path):
    errors, report = run_refused(write(tmp_path, scheme(header=HEADER.replace("lat,lon", "lat,lat"))))
    assert errors == [(1, None, "duplicate_columns"), (1, None, "missing_columns")]
    assert "twice: lat" in report
    assert "lacks these columns: lon" in report


@pytest.mark.django_db
def test_quote_open_at_the_end_of_the_file_is_reported_where_it_opens(tmp_path):
    content = scheme(*GOOD[:3], 'Sindh,,PS-5,Goth Karim-II,1,"Union Council Office', "more text")
    errors, _report = run_refused(write(tmp_path, content))
    assert errors == [(5, None, "bad_csv")]


@pytest.mark.django_db
def test_non_utf8_bytes_are_reported_with_their_line(tmp_path):
    content = scheme(*GOOD).encode().replace(b"Goth Karim-II", b"Goth Kar\xefm-II")
    errors, report = run_refused(write(tmp_path, content))
    assert errors == [(5, None, "not_utf8")]
    assert "byte 0xEF" in report
    assert counts()["stations"] == 0


@pytest.mark.django_db
def test_utf16_file_is_refused_with_a_hint(tmp_path):
    errors, report = run_refused(write(tmp_path, scheme(*GOOD).encode("utf-16")))
    assert errors == [(1, None, "not_utf8")]
    assert "UTF-16" in report


@pytest.mark.django_db
def test_duplicate_station_names_both_lines(tmp_path):
    content = scheme(*GOOD, GOOD[1].replace("School No. 3", "Middle School"))
    errors, report = run_refused(write(tmp_path, content))
    assert errors == [(6, "ps_number", "duplicate_station")]
    assert "NA-60 polling station 2 is on line 3 and again on line 6" in report


@pytest.mark.django_db
def test_every_bad_row_is_reported_not_just_the_first(tmp_path):
    rows = [GOOD[0].replace("Punjab", "Panjab", 1), GOOD[1], GOOD[2].replace(",combined,", ",mixed,"), GOOD[3]]
    errors, report = run_refused(write(tmp_path, scheme(*rows)))
    assert errors == [(2, "province", "unknown_province"), (4, "station_type", "bad_station_type")]
    assert report.startswith("line 2, province: ")


@pytest.mark.django_db
def test_constituency_in_another_province_in_the_database_is_refused(tmp_path):
    ConstituencyFactory(code="NA-60", house="NA", province=ProvinceFactory(code="sindh", name="Sindh", pa_prefix="PS"))
    before = counts()
    errors, report = run_refused(write(tmp_path, scheme(*GOOD)))
    assert errors == [(2, "province", "constituency_in_other_province")]
    assert "NA-60 already exists in Sindh, not Punjab" in report
    assert counts() == before


@pytest.mark.django_db
def test_bad_file_leaves_existing_stations_as_they_were(tmp_path):
    run(write(tmp_path, scheme(*GOOD)))
    before = list(PollingStation.objects.order_by("pk").values())
    state = counts()
    rows = [row.replace("1850", "1900").replace("Sabzpur-I", "Sabzpur-Central") for row in GOOD]
    rows.append("Punjab,Sabzpur,NA-61,Sabzpur-II,1,New School,combined,10,10,1,1,40.1,74.0")
    errors, _report = run_refused(write(tmp_path, scheme(*rows), "bad.csv"))
    assert errors == [(6, "lat", "outside_pakistan")]
    assert list(PollingStation.objects.order_by("pk").values()) == before
    assert counts() == state


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_polling_scheme", str(tmp_path / "absent.csv"))


@pytest.mark.django_db
def test_the_documented_sample_file_imports():
    sample = Path(__file__).resolve().parents[2] / "docs" / "examples" / "polling_scheme_sample.csv"
    out, _err = run(sample)
    assert "10 created, 0 updated, 0 unchanged" in out
    assert "constituencies: 7 created" in out
    assert "districts: 5 created" in out


# --- the service ---------------------------------------------------------------


@pytest.mark.django_db
def test_service_reports_progress_up_to_the_row_count_and_raises_with_codes(tmp_path):
    calls: list[tuple[int, int]] = []
    report = polling_scheme_import(
        actor=None,
        path_or_stream=write(tmp_path, scheme(*GOOD)),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert report.stations_created == 4
    assert calls[0] == (0, 4)
    assert calls[-1] == (4, 4)

    with pytest.raises(PollingSchemeInvalid) as refused:
        polling_scheme_import(actor=None, path_or_stream=io.BytesIO(scheme(GOOD[0].replace("male", "mixed")).encode()))
    assert refused.value.code == "scheme_invalid"
    assert [(e.line, e.column, e.code) for e in refused.value.errors] == [(2, "station_type", "bad_station_type")]


# --- generated schemes ---------------------------------------------------------------


def test_generated_scheme_is_deterministic_and_plausible():
    first = list(generate_scheme(stations=3000, seed=7))
    assert first == list(generate_scheme(stations=3000, seed=7))
    assert first != list(generate_scheme(stations=3000, seed=8))
    assert len(first) == 3000
    shares = {t: sum(r["station_type"] == t for r in first) / len(first) for t in ("male", "female", "combined")}
    assert 0.24 < shares["male"] < 0.32
    assert 0.22 < shares["female"] < 0.30
    assert 0.42 < shares["combined"] < 0.50
    assert all(600 <= r["male_voters"] + r["female_voters"] <= 3000 for r in first)


def test_national_scheme_has_every_constituency_of_ge_2024():
    rows = list(generate_scheme(stations=2000, seed=1, national=True))
    codes = {r["constituency_code"] for r in rows}
    assert len(rows) == 2000
    assert sum(code.startswith("NA-") for code in codes) == 266
    for prefix, seats in (("PP", 297), ("PS", 130), ("PK", 115), ("PB", 51)):
        assert sum(code.startswith(prefix + "-") for code in codes) == seats


@pytest.mark.django_db
def test_generated_file_round_trips_through_the_importer(tmp_path):
    path = tmp_path / "national.csv"
    call_command("generate_polling_scheme", "--national", "--stations", "1500", "--seed", "3", "--out", str(path))
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1500

    out, _err = run(path)

    assert "1,500 created, 0 updated, 0 unchanged" in out
    assert Constituency.objects.count() == len({r["constituency_code"] for r in rows})
    for row in rows[::250]:
        station = PollingStation.objects.get(constituency__code=row["constituency_code"], number=row["ps_number"])
        assert station.name == row["ps_name"]
        assert station.male_voters == int(row["male_voters"])
        assert station.constituency.province.name == row["province"]
    assert "0 created, 0 updated, 1,500 unchanged" in run(path)[0]


@pytest.mark.django_db
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stations=st.integers(min_value=1, max_value=60), seed=st.integers(min_value=0, max_value=10**6))
def test_any_generated_scheme_imports_and_reimport_is_a_no_op(stations, seed):
    buffer = io.StringIO(newline="")
    write_scheme_csv(generate_scheme(stations=stations, seed=seed), buffer)
    content = buffer.getvalue().encode()

    first = polling_scheme_import(actor=None, path_or_stream=io.BytesIO(content))
    again = polling_scheme_import(actor=None, path_or_stream=io.BytesIO(content))

    assert first.stations_created + first.stations_updated + first.stations_unchanged == stations
    assert (again.stations_created, again.stations_updated, again.stations_unchanged) == (0, 0, stations)
    assert (again.constituencies_created, again.constituencies_updated, again.districts_created) == (0, 0, 0)


# --- the pure parser (no database) ---------------------------------------------------

names = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=30).filter(
    lambda text: text.split() != []
)


@settings(max_examples=60, deadline=None)
@given(station_names=st.lists(names, min_size=1, max_size=6), seed=st.integers(min_value=0, max_value=1000))
def test_any_names_survive_csv_quoting_and_records_keep_their_physical_line(station_names, seed):
    rows = list(generate_scheme(stations=len(station_names), seed=seed))
    for row, name in zip(rows, station_names, strict=True):
        row["ps_name"] = name
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    expected_lines = []
    for row in rows:
        expected_lines.append(buffer.getvalue().count("\n") + 1)
        writer.writerow([row[column] if row[column] is not None else "" for column in COLUMNS])

    parsed, errors = parse_rows(io.BytesIO(buffer.getvalue().encode()), provinces=PROVINCES)

    assert errors == []
    assert [row.name for row in parsed] == [normalise_name(name) for name in station_names]
    assert [row.line for row in parsed] == expected_lines


def test_parser_reads_text_lines_and_gives_typed_rows():
    rows, errors = parse_rows(io.StringIO("\ufeff" + scheme(*GOOD), newline=""), provinces=PROVINCES)
    assert errors == []
    assert [(r.line, r.constituency_code, r.house, r.number) for r in rows] == [
        (2, "NA-60", "NA", 1),
        (3, "NA-60", "NA", 2),
        (4, "NA-60", "NA", 3),
        (5, "PS-5", "PA", 1),
    ]
    assert rows[1].latitude == Decimal("31.521000")
    assert rows[3].district == ""


def test_parser_error_says_line_column_rule_and_code():
    _rows, errors = parse_rows(io.StringIO(scheme(GOOD[0].replace(",1850,", ",-3,"))), provinces=PROVINCES)
    assert [str(e) for e in errors] == ['line 2, male_voters: "-3" is not a whole number of 0 or more. [not_a_number]']


# --- the progress bar -------------------------------------------------------------


def test_progress_bar_redraws_at_most_every_interval_and_always_at_the_end():
    written: list[str] = []
    now = [0.0]
    bar = TerminalProgress(written.append, label="Stations", clock=lambda: now[0])
    bar(0, 100)
    bar(10, 100)  # too soon: not drawn
    now[0] = 0.5
    bar(50, 100)
    bar(100, 100)  # the end is always drawn
    bar.close()
    assert len(written) == 4
    assert written[0].startswith("\rStations [------")
    assert " 50% 50/100 " in written[1]
    assert "100% 100/100 in 0.5 s" in written[2]
    assert written[3] == "\n"
