"""evp/roll.py, the check of one row of a roll file and the header: every rule, pure (no database)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evp.roll import COLUMNS, STAGE_COLUMNS, HeaderError, RowChecker, RowError, column_positions, latest_birth_date

TODAY = datetime.date(2024, 6, 15)
BLOCK = "310000001"
BLOCKS = {BLOCK: 7}
GOOD = {
    "cnic": "3520212345673",
    "name": "Bilal Ahmed",
    "name_ur": "بلال احمد",
    "relation": "father",
    "relation_name": "Ghulam Abbas",
    "relation_name_ur": "غلام عباس",
    "gender": "M",
    "date_of_birth": "1980-05-17",
    "address": "House 12, Street 4, Kot Rahim",
    "address_ur": "مکان ۱۲، گلی ۴، کوٹ رحیم",
    "census_block": BLOCK,
    "serial": "12",
    "family_number": "4",
    "status": "active",
}


def values(**changes: str) -> list[str]:
    row = {**GOOD, **changes}
    return [row[c] for c in COLUMNS]


def check(today: datetime.date = TODAY, **changes: str):
    return RowChecker(BLOCKS, today).check(9, values(**changes))


def clean(today: datetime.date = TODAY, **changes: str) -> dict:
    result = check(today, **changes)
    assert isinstance(result, tuple), result
    return dict(zip(STAGE_COLUMNS, result, strict=True))


def errors(today: datetime.date = TODAY, **changes: str) -> list[tuple[str, str]]:
    result = check(today, **changes)
    assert isinstance(result, list), f"accepted: {result}"
    assert all(isinstance(e, RowError) and e.line == 9 and e.message for e in result)
    return [(e.column, e.code) for e in result]


def test_a_good_row_comes_back_clean_in_stage_order():
    row = clean()
    assert row == {
        "line": 9,
        "cnic": 3520212345673,
        "name": "Bilal Ahmed",
        "name_ur": "بلال احمد",
        "relation": "father",
        "relation_name": "Ghulam Abbas",
        "relation_name_ur": "غلام عباس",
        "gender": "M",
        "date_of_birth": "1980-05-17",
        "address": "House 12, Street 4, Kot Rahim",
        "address_ur": "مکان ۱۲، گلی ۴، کوٹ رحیم",
        "block_id": 7,
        "roll": "M",
        "serial": 12,
        "family_number": 4,
        "status": "active",
    }


def test_values_are_trimmed():
    row = clean(name="  Bilal Ahmed ", serial=" 12 ", census_block=f" {BLOCK} ", status=" Active ")
    assert (row["name"], row["serial"], row["block_id"], row["status"]) == ("Bilal Ahmed", 12, 7, "active")


# --- CNIC -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "352021234567",  # 12 digits
        "35202123456733",  # 14 digits
        "0520212345673",  # leading zero
        "1111111111111",  # one digit repeated
        "35202-1234567-",
        "3520A12345673",
        "",
        "   ",
        "35202/1234567/3",
        "٣٥٢٠٢١٢٣٤٥٦٧",  # 12 Arabic-Indic digits
    ],
)
def test_a_cnic_that_is_not_13_digits_is_refused(text):
    assert errors(cnic=text) == [("cnic", "invalid_cnic")]


@pytest.mark.parametrize(
    "text",
    ["3520212345673", "35202-1234567-3", "35202 1234567 3", " 35202-1234567-3 ", "۳۵۲۰۲-۱۲۳۴۵۶۷-۳", "۳۵۲۰۲۱۲۳۴۵۶۷۳"],
)
def test_a_cnic_with_dashes_spaces_or_urdu_digits_is_accepted_as_a_number(text):
    assert clean(cnic=text)["cnic"] == 3520212345673


@given(st.text(alphabet="0123456789", min_size=13, max_size=13).filter(lambda s: s[0] != "0" and len(set(s)) > 1))
def test_any_13_digits_not_starting_with_0_nor_one_digit_repeated_pass_and_come_back_the_same(text):
    assert clean(cnic=text)["cnic"] == int(text)


# --- names and addresses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["name", "relation_name", "address"])
def test_a_required_text_column_left_empty_is_refused(column):
    assert errors(**{column: "  "}) == [(column, "required")]


@pytest.mark.parametrize(
    ("column", "limit"),
    [
        ("name", 100),
        ("name_ur", 100),
        ("relation_name", 100),
        ("relation_name_ur", 100),
        ("address", 200),
        ("address_ur", 200),
    ],
)
def test_a_text_longer_than_its_column_is_refused_and_one_at_the_limit_is_not(column, limit):
    letter = "ب" if column.endswith("_ur") else "b"
    assert clean(**{column: letter * limit})[column] == letter * limit
    assert errors(**{column: letter * (limit + 1)}) == [(column, "too_long")]


@pytest.mark.parametrize("column", ["name_ur", "relation_name_ur", "address_ur"])
def test_the_urdu_texts_are_optional(column):
    assert clean(**{column: ""})[column] == ""


# --- relation, gender, list ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "relation"),
    [
        ("father", "father"),
        ("Father", "father"),
        ("S/O", "father"),
        ("s/o", "father"),
        ("D/O", "father"),
        ("husband", "husband"),
        ("HUSBAND", "husband"),
        ("W/O", "husband"),
        ("w/o", "husband"),
    ],
)
def test_relations_and_their_abbreviations(text, relation):
    assert clean(relation=text)["relation"] == relation


@pytest.mark.parametrize("text", ["brother", "SO", "S.O", "", "mother"])
def test_an_unknown_relation_is_refused(text):
    assert errors(relation=text) == [("relation", "invalid_choice")]


@pytest.mark.parametrize(
    ("text", "gender", "roll"),
    [
        ("M", "M", "M"),
        ("m", "M", "M"),
        ("Male", "M", "M"),
        ("F", "F", "F"),
        ("female", "F", "F"),
        ("FEMALE", "F", "F"),
        ("X", "X", "M"),
        ("transgender", "X", "M"),
    ],
)
def test_women_are_on_the_female_list_men_and_transgender_electors_on_the_male_list(text, gender, roll):
    row = clean(gender=text)
    assert (row["gender"], row["roll"]) == (gender, roll)


@pytest.mark.parametrize("text", ["", "W", "man", "T", "0"])
def test_an_unknown_gender_is_refused(text):
    assert errors(gender=text) == [("gender", "invalid_choice")]


# --- date of birth --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "17/05/1980", "1980-5-17", "1980-02-30", "1980-13-01", "80-05-17", "yesterday", "1980-W20-6", "19800517"],
)
def test_a_date_not_written_yyyy_mm_dd_is_refused(text):
    assert errors(date_of_birth=text) == [("date_of_birth", "invalid_date")]


def test_an_elector_is_18_on_the_day_of_the_18th_birthday():
    assert clean(date_of_birth="2006-06-15")["date_of_birth"] == "2006-06-15"
    assert errors(date_of_birth="2006-06-16") == [("date_of_birth", "under_age")]
    assert errors(date_of_birth="2024-06-15") == [("date_of_birth", "under_age")]


def test_a_date_of_birth_before_1900_is_refused():
    assert clean(date_of_birth="1900-01-01")["date_of_birth"] == "1900-01-01"
    assert errors(date_of_birth="1899-12-31") == [("date_of_birth", "too_old")]


@pytest.mark.parametrize(
    ("today", "latest"),
    [
        (datetime.date(2024, 6, 15), datetime.date(2006, 6, 15)),
        (datetime.date(2024, 2, 29), datetime.date(2006, 2, 28)),  # 2006 has no 29 February
        (datetime.date(2040, 2, 29), datetime.date(2022, 2, 28)),
        (datetime.date(2022, 2, 28), datetime.date(2004, 2, 28)),
        (datetime.date(2022, 3, 1), datetime.date(2004, 3, 1)),
        (datetime.date(2020, 2, 29), datetime.date(2002, 2, 28)),
    ],
)
def test_latest_birth_date_is_18_years_back_and_29_february_falls_back_to_the_28th(today, latest):
    assert latest_birth_date(today) == latest


def test_on_29_february_those_born_on_28_february_18_years_ago_may_vote_and_those_born_a_day_later_not():
    leap_day = datetime.date(2024, 2, 29)
    assert clean(leap_day, date_of_birth="2006-02-28")["date_of_birth"] == "2006-02-28"
    assert errors(leap_day, date_of_birth="2006-03-01") == [("date_of_birth", "under_age")]


def test_someone_born_on_29_february_is_18_on_1_march_of_a_common_year():
    assert errors(datetime.date(2022, 2, 28), date_of_birth="2004-02-29") == [("date_of_birth", "under_age")]
    assert clean(datetime.date(2022, 3, 1), date_of_birth="2004-02-29")["date_of_birth"] == "2004-02-29"


# --- census block, serial and family numbers, status ------------------------------------------------------------------


def test_a_9_digit_block_code_that_is_not_in_the_scheme_is_unknown():
    assert errors(census_block="999999999") == [("census_block", "unknown_block")]


@pytest.mark.parametrize("text", ["", "31000001", "3100000011", "31000000A", "310-000-001"])
def test_a_block_code_that_is_not_9_digits_is_malformed(text):
    assert errors(census_block=text) == [("census_block", "invalid_block")]


@pytest.mark.parametrize("column", ["serial", "family_number"])
@pytest.mark.parametrize("text", ["0", "00", "-1", "-12", "abc", "1.5", "12345678", "99999999", "", "1e3", "+5"])
def test_serial_and_family_numbers_are_whole_numbers_from_1_to_7_digits(column, text):
    assert errors(**{column: text}) == [(column, "invalid_number")]


@pytest.mark.parametrize("column", ["serial", "family_number"])
@pytest.mark.parametrize(("text", "number"), [("1", 1), ("007", 7), ("9999999", 9_999_999)])
def test_serial_and_family_numbers_accepted(column, text, number):
    assert clean(**{column: text})[column] == number


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("", "active"),
        ("active", "active"),
        ("ACTIVE", "active"),
        ("Shifted", "shifted"),
        ("deceased", "deceased"),
        ("deleted", "deleted"),
    ],
)
def test_status_values_and_empty_means_active(text, status):
    assert clean(status=text)["status"] == status


@pytest.mark.parametrize("text", ["moved", "dead", "inactive", "x"])
def test_an_unknown_status_is_refused(text):
    assert errors(status=text) == [("status", "invalid_choice")]


def test_every_broken_column_of_a_row_is_reported_at_once():
    found = errors(cnic="123", name="", gender="Q", date_of_birth="x", census_block="999999999", serial="0")
    assert found == [
        ("cnic", "invalid_cnic"),
        ("name", "required"),
        ("gender", "invalid_choice"),
        ("date_of_birth", "invalid_date"),
        ("census_block", "unknown_block"),
        ("serial", "invalid_number"),
    ]


# --- the header -------------------------------------------------------------------------------------------------------


def test_columns_are_found_in_any_order_and_extra_columns_are_ignored():
    header = ["serial", "extra", *reversed(COLUMNS[:-3]), "status", "family_number"]
    header.remove("serial")
    header.insert(0, "serial")
    positions = column_positions(header)
    assert [header[p] for p in positions] == list(COLUMNS)


def test_header_names_are_trimmed_case_insensitive_and_a_bom_is_ignored():
    header = ["\ufeffCNIC", *(f" {c.upper()} " for c in COLUMNS[1:])]
    assert column_positions(header) == list(range(len(COLUMNS)))


def test_optional_columns_may_be_missing():
    header = [c for c in COLUMNS if c not in ("name_ur", "relation_name_ur", "address_ur", "status")]
    positions = dict(zip(COLUMNS, column_positions(header), strict=True))
    assert positions["name_ur"] == positions["status"] == positions["address_ur"] == -1
    assert header[positions["serial"]] == "serial"


@pytest.mark.parametrize("missing", ["cnic", "name", "relation", "gender", "date_of_birth", "census_block", "serial"])
def test_a_missing_required_column_is_named(missing):
    with pytest.raises(HeaderError, match=missing):
        column_positions([c for c in COLUMNS if c != missing])


def test_a_column_named_twice_is_refused():
    with pytest.raises(HeaderError, match="serial"):
        column_positions([*COLUMNS, "Serial"])
