"""The roll file: its columns and the check of one row. Pure (no Django), so the importer's hot loop stays
cheap and the rules are tested on their own.

A row is either a tuple of clean values in ``STAGE_COLUMNS`` order or a list of ``RowError``. What needs the
whole file (a CNIC on two lines, two electors on one serial) is checked by the importer afterwards.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.cnic import InvalidCNIC, normalize

COLUMNS = (
    "cnic",
    "name",
    "name_ur",
    "relation",
    "relation_name",
    "relation_name_ur",
    "gender",
    "date_of_birth",
    "address",
    "address_ur",
    "census_block",
    "serial",
    "family_number",
    "status",
)
REQUIRED = frozenset(COLUMNS) - {"name_ur", "relation_name_ur", "address_ur", "status"}

# What a checked row holds, in the staging table's column order (the file's line comes first).
STAGE_COLUMNS = ("line", *COLUMNS[:10], "block_id", "roll", *COLUMNS[11:])

MAX_NAME = 100
MAX_ADDRESS = 200
MAX_NUMBER = 9_999_999
MINIMUM_AGE = 18

_BLOCK = re.compile(r"[0-9]{9}")
_NUMBER = re.compile(r"[0-9]{1,7}")
RELATIONS = {"father": "father", "s/o": "father", "d/o": "father", "husband": "husband", "w/o": "husband"}
GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F", "x": "X", "transgender": "X"}
STATUSES = ("active", "shifted", "deceased", "deleted")  # the file's words; empty means active


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    code: str
    message: str


class HeaderError(ValueError):
    pass


def column_positions(header: list[str]) -> list[int]:
    """Where each of COLUMNS is in the file's header (any order; extra columns are ignored)."""
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in COLUMNS if c not in names and c in REQUIRED]
    if missing:
        raise HeaderError(f"The header lacks the column(s): {', '.join(missing)}. Expected: {', '.join(COLUMNS)}.")
    duplicated = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    if duplicated:
        raise HeaderError(f"The header names these columns twice: {', '.join(duplicated)}.")
    return [names.index(c) if c in names else -1 for c in COLUMNS]


def latest_birth_date(today: datetime.date) -> datetime.date:
    """The last date of birth of someone who is 18 today (29 February → 28 February in other years)."""
    try:
        return today.replace(year=today.year - MINIMUM_AGE)
    except ValueError:
        return today.replace(year=today.year - MINIMUM_AGE, day=28)


class RowChecker:
    def __init__(self, blocks: Mapping[str, int], today: datetime.date) -> None:
        self.blocks = blocks
        self.latest_birth = latest_birth_date(today)
        self.earliest_birth = datetime.date(1900, 1, 1)
        self.latest_iso, self.earliest_iso = self.latest_birth.isoformat(), self.earliest_birth.isoformat()

    def check(self, line: int, values: list[str]) -> tuple | list[RowError]:
        """The clean row, or every rule it breaks. A row with nothing to report takes the fast path (a few
        comparisons); anything else goes through ``explain``, which is the definition of the rules and names
        each one broken. Both give the same clean row for a good row (tested)."""
        v = [value.strip() for value in values]
        cnic, dob, serial, family = v[0], v[7], v[11], v[12]
        relation = RELATIONS.get(v[3]) or RELATIONS.get(v[3].lower())
        gender = GENDERS.get(v[6]) or GENDERS.get(v[6].lower())
        block_id = self.blocks.get(v[10])
        status = v[13] or "active"
        if (
            len(cnic) == 13
            and cnic.isascii()
            and cnic.isdigit()
            and cnic[0] != "0"
            and cnic.count(cnic[0]) != 13
            and relation is not None
            and gender is not None
            and block_id is not None
            and status in STATUSES
            and 0 < len(v[1]) <= MAX_NAME
            and 0 < len(v[4]) <= MAX_NAME
            and 0 < len(v[8]) <= MAX_ADDRESS
            and len(v[2]) <= MAX_NAME
            and len(v[5]) <= MAX_NAME
            and len(v[9]) <= MAX_ADDRESS
            and 0 < len(serial) <= 7
            and serial.isascii()
            and serial.isdigit()
            and 0 < len(family) <= 7
            and family.isascii()
            and family.isdigit()
            and len(dob) == 10
            and dob[4] == dob[7] == "-"
            and self.earliest_iso <= dob <= self.latest_iso
        ):
            try:
                datetime.date.fromisoformat(dob)
                numbers = int(serial), int(family)
            except ValueError:
                numbers = (0, 0)
            if numbers[0] >= 1 and numbers[1] >= 1:
                roll = "F" if gender == "F" else "M"
                return (line, int(cnic), v[1], v[2], relation, v[4], v[5], gender, dob, v[8], v[9], block_id, roll,
                        numbers[0], numbers[1], status)  # fmt: skip
        return self.explain(line, v)

    def explain(self, line: int, v: list[str]) -> tuple | list[RowError]:
        errors: list[RowError] = []

        def fail(column: str, code: str, message: str) -> None:
            errors.append(RowError(line, column, code, message))

        (cnic_text, name, name_ur, relation, rel_name, rel_name_ur, gender, dob, address, address_ur, block, serial,
         family, status) = v  # fmt: skip

        cnic = 0
        try:
            cnic = int(normalize(cnic_text))
        except InvalidCNIC as exc:
            fail("cnic", "invalid_cnic", str(exc))
        for column, value, limit, required in (
            ("name", name, MAX_NAME, True),
            ("name_ur", name_ur, MAX_NAME, False),
            ("relation_name", rel_name, MAX_NAME, True),
            ("relation_name_ur", rel_name_ur, MAX_NAME, False),
            ("address", address, MAX_ADDRESS, True),
            ("address_ur", address_ur, MAX_ADDRESS, False),
        ):
            if required and not value:
                fail(column, "required", "This column is required.")
            elif len(value) > limit:
                fail(column, "too_long", f"At most {limit} characters; this has {len(value)}.")
        relation_value = RELATIONS.get(relation.lower())
        if relation_value is None:
            fail("relation", "invalid_choice", "Write father or husband (or S/O, D/O, W/O).")
        gender_value = GENDERS.get(gender.lower())
        if gender_value is None:
            fail("gender", "invalid_choice", "Write M, F or X (male, female, transgender).")
        birth = None
        try:
            if len(dob) != 10 or dob[4] != "-" or dob[7] != "-":
                raise ValueError(dob)
            birth = datetime.date.fromisoformat(dob)
        except ValueError:
            fail("date_of_birth", "invalid_date", "Write the date as YYYY-MM-DD, for example 1985-07-14.")
        if birth is not None and birth > self.latest_birth:
            fail("date_of_birth", "under_age", f"An elector is at least {MINIMUM_AGE} years old.")
        elif birth is not None and birth < self.earliest_birth:
            fail("date_of_birth", "too_old", "A date of birth before 1900 is not plausible.")
        block_id = self.blocks.get(block)
        if block_id is None:
            if _BLOCK.fullmatch(block):
                fail("census_block", "unknown_block", "No census block has this code.")
            else:
                fail("census_block", "invalid_block", "A census block code has exactly 9 digits.")
        numbers = []
        for column, value in (("serial", serial), ("family_number", family)):
            if _NUMBER.fullmatch(value) and int(value) >= 1:
                numbers.append(int(value))
            else:
                fail(column, "invalid_number", f"A whole number from 1 to {MAX_NUMBER:,}.")
        status_value = status.lower() or "active"
        if status_value not in STATUSES:
            fail("status", "invalid_choice", f"One of: {', '.join(STATUSES)} (empty means active).")
        if errors:
            return errors
        roll = "F" if gender_value == "F" else "M"
        return (
            line,
            cnic,
            name,
            name_ur,
            relation_value,
            rel_name,
            rel_name_ur,
            gender_value,
            dob,
            address,
            address_ur,
            block_id,
            roll,
            numbers[0],
            numbers[1],
            status_value,
        )
