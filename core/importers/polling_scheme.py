"""The polling scheme CSV, read and checked in pure Python (no Django).

The format and every rule are in docs/polling-scheme-csv.md. ``parse_rows``
reads a whole file and returns each good record as a ``StationRow`` and each
problem as a ``RowError`` that names the physical line where the record
starts (quoted fields may span lines), the column and the rule. The caller
refuses the file if there is any error: nothing is ever half-imported.

The database side (districts, constituencies, the upsert, the audit event)
is ``core/importers/services.py``; the only thing it hands in here is the
list of provinces.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

COLUMNS = (
    "province",
    "district",
    "constituency_code",
    "constituency_name",
    "ps_number",
    "ps_name",
    "station_type",
    "male_voters",
    "female_voters",
    "male_booths",
    "female_booths",
    "lat",
    "lon",
)
# Every column must be in the header; these may be empty on a row.
OPTIONAL_VALUES = frozenset({"district", "lat", "lon"})
STATION_TYPES = ("male", "female", "combined")

# Pakistan's bounding box (degrees); a station outside it is a typing mistake.
LAT_MIN, LAT_MAX = Decimal("23.5"), Decimal("37.2")
LON_MIN, LON_MAX = Decimal("60.8"), Decimal("77.9")
# The database keeps 6 decimal places (about 10 cm); more are rounded.
COORDINATE_STEP = Decimal("0.000001")

# Limits of the database columns (core.models.geography).
MAX_COUNT = 2_147_483_647  # PositiveIntegerField: station number, voters
MAX_BOOTHS = 32_767  # PositiveSmallIntegerField
MAX_DISTRICT_NAME = 80
MAX_CONSTITUENCY_NAME = 160
MAX_STATION_NAME = 255

NA_PREFIX = "NA"
CONSTITUENCY_CODE = re.compile(r"(NA|PP|PS|PK|PB)-([1-9][0-9]{0,2})")
_WHOLE_NUMBER = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def gettext_noop(message: str) -> str:
    """Marks a message for the translation catalogue (``makemessages`` knows this name).

    Messages are kept untranslated here (this module imports no Django); the
    service renders them with Django's gettext (``RowError.render``).
    """
    return message


@dataclass(frozen=True)
class ProvinceRef:
    """What the parser needs to know about a province (``core.models.Province``)."""

    code: str
    name: str
    pa_prefix: str = ""


@dataclass(frozen=True)
class RowError:
    """One problem in the file. ``code`` is stable (tests and docs use it); the
    message is ``template % params`` in English until rendered with a translator."""

    line: int
    code: str
    template: str
    params: Mapping[str, Any] = field(default_factory=dict)
    column: str | None = None

    def render(self, translate: Callable[[str], str] = gettext_noop) -> str:
        return translate(self.template) % dict(self.params)

    @property
    def message(self) -> str:
        return self.render()

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message} [{self.code}]"


@dataclass(frozen=True, slots=True)
class StationRow:
    """One good record: a polling station and the constituency it belongs to."""

    line: int
    province: str  # ProvinceRef.code
    district: str  # "" when the file leaves it empty
    constituency_code: str  # upper case, e.g. "NA-44"
    constituency_name: str
    house: str  # "NA" or "PA", from the code's prefix
    number: int
    name: str
    station_type: str  # male, female or combined
    male_voters: int
    female_voters: int
    male_booths: int
    female_booths: int
    latitude: Decimal | None
    longitude: Decimal | None


def parse_rows(
    lines: Iterable[bytes] | Iterable[str], *, provinces: Sequence[ProvinceRef]
) -> tuple[list[StationRow], list[RowError]]:
    """Read a whole polling scheme file; return (good rows, errors sorted by line).

    ``lines`` are the file's physical lines: a file opened in binary mode (bytes
    are decoded as UTF-8 here, so a bad byte is reported with its line) or
    already-decoded strings. A UTF-8 byte order mark is accepted. The result is
    usable only when the error list is empty.
    """
    errors: list[RowError] = []
    reader = csv.reader(decode_lines(lines, errors), strict=True)
    records = csv_records(reader, errors)
    first = next(records, None)
    if first is None:
        if not errors:
            errors.append(RowError(1, "empty_file", gettext_noop("The file is empty; it needs a header line.")))
        return [], _sorted(errors)
    header_line, header = first
    columns, header_errors = read_header(header_line, header)
    if header_errors:
        return [], _sorted(errors + header_errors)
    checker = _RowChecker(columns, len(header), provinces, errors)
    rows = [row for line, values in records if (row := checker.check(line, values)) is not None]
    if checker.records == 0 and not errors:
        errors.append(
            RowError(header_line, "no_rows", gettext_noop("The file has a header but no polling stations after it."))
        )
    return rows, _sorted(errors)


def _sorted(errors: list[RowError]) -> list[RowError]:
    return sorted(errors, key=lambda e: e.line)


# --- lines and records ---------------------------------------------------------


def decode_lines(raw_lines: Iterable[bytes | str], errors: list[RowError]) -> Iterator[str]:
    """Physical lines as text; a line that is not UTF-8 is reported and read with U+FFFD."""
    for number, raw in enumerate(raw_lines, start=1):
        if isinstance(raw, str):
            yield raw.removeprefix("\ufeff") if number == 1 else raw
            continue
        if number == 1:
            if raw.startswith(_UTF16_BOMS):
                errors.append(
                    RowError(
                        1,
                        "not_utf8",
                        gettext_noop('The file is UTF-16, not UTF-8; save it again as "CSV UTF-8".'),
                    )
                )
                return
            raw = raw.removeprefix(_UTF8_BOM)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(
                RowError(
                    number,
                    "not_utf8",
                    gettext_noop(
                        "This line is not UTF-8 (byte 0x%(byte)s at position %(position)d); "
                        'save the file as "CSV UTF-8".'
                    ),
                    {"byte": f"{raw[exc.start]:02X}", "position": exc.start + 1},
                )
            )
            yield raw.decode("utf-8", errors="replace")


def csv_records(reader: Any, errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields) for every record that is not blank."""
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(_csv_error(start, str(exc)))
            continue
        if any(value.strip() for value in values):
            yield start, values


def _csv_error(line: int, detail: str) -> RowError:
    if "unexpected end of data" in detail:
        return RowError(
            line,
            "bad_csv",
            gettext_noop("A quoted field that starts in this record is never closed; the file ends inside it."),
        )
    if "expected after" in detail:
        return RowError(
            line,
            "bad_csv",
            gettext_noop(
                "A closing quote must be followed by a comma or the end of the line; "
                'write a quote inside a quoted field as two quotes ("").'
            ),
        )
    if "new-line character" in detail:
        return RowError(
            line,
            "bad_csv",
            gettext_noop("A carriage return on its own ends a line here; save the file with ordinary line endings."),
        )
    return RowError(line, "bad_csv", gettext_noop("This record is not valid CSV: %(detail)s."), {"detail": detail})


def read_header(
    line: int, header: list[str], *, required: Sequence[str] = COLUMNS, optional: Sequence[str] = ()
) -> tuple[dict[str, int], list[RowError]]:
    """Map column names to positions; report a missing header and missing, repeated or unknown columns.

    Shared by every CSV import (required and optional columns differ per format)."""
    known = (*required, *optional)
    names = [value.strip().lower() for value in header]
    if not any(name in known for name in names):
        return {}, [
            RowError(
                line,
                "no_header",
                gettext_noop("The first line must be the header: %(columns)s."),
                {"columns": ",".join(required)},
            )
        ]
    errors = []
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        errors.append(
            RowError(
                line,
                "duplicate_columns",
                gettext_noop("The header names these columns twice: %(columns)s."),
                {"columns": ", ".join(duplicated)},
            )
        )
    missing = [name for name in required if name not in names]
    if missing:
        errors.append(
            RowError(
                line,
                "missing_columns",
                gettext_noop("The header lacks these columns: %(columns)s."),
                {"columns": ", ".join(missing)},
            )
        )
    unknown = [
        value.strip() or f"(column {index} has no name)"
        for index, (value, name) in enumerate(zip(header, names, strict=True), start=1)
        if name not in known
    ]
    if unknown:
        errors.append(
            RowError(
                line,
                "unknown_columns",
                gettext_noop(
                    "The header has columns this format does not know: %(columns)s (the columns are %(known)s)."
                ),
                {"columns": ", ".join(unknown), "known": ",".join(known)},
            )
        )
    return {name: names.index(name) for name in known if name in names}, errors


# --- one record --------------------------------------------------------------


def shown(value: str, limit: int = 40) -> str:
    """A value as quoted in a message: one line, not too long."""
    flat = " ".join(value.split()) or value
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def normalise_name(value: str) -> str:
    """Names are one line: runs of spaces, tabs and line breaks become one space."""
    return " ".join(value.split())


class _RowChecker:
    """Checks records one by one, remembering what the file-wide rules need."""

    def __init__(
        self, columns: dict[str, int], width: int, provinces: Sequence[ProvinceRef], errors: list[RowError]
    ) -> None:
        self.columns = columns
        self.width = width
        self.errors = errors
        self.records = 0
        self.provinces: dict[str, ProvinceRef] = {}
        for province in provinces:
            self.provinces[province.code.lower()] = province
            self.provinces[normalise_name(province.name).lower()] = province
        self.prefix_owner = {p.pa_prefix: p for p in provinces if p.pa_prefix}
        self.choices = ", ".join(f"{p.name} ({p.code})" for p in provinces)
        # constituency code -> attribute -> (first value, its line); and (code, number) -> line
        self.seen: dict[str, dict[str, tuple[str, int]]] = {}
        self.stations: dict[tuple[str, int], int] = {}

    def error(self, line: int, column: str | None, code: str, template: str, /, **params: Any) -> None:
        self.errors.append(RowError(line, code, template, params, column))

    def check(self, line: int, values: list[str]) -> StationRow | None:
        self.records += 1
        if len(values) != self.width:
            self.error(
                line,
                None,
                "field_count",
                gettext_noop(
                    "This record has %(count)d fields but the header has %(width)d; "
                    "a value that contains a comma must be in double quotes."
                ),
                count=len(values),
                width=self.width,
            )
            return None
        v = {name: values[index].strip() for name, index in self.columns.items()}
        before = len(self.errors)

        province = self.province(line, v["province"])
        code = self.constituency_code(line, v["constituency_code"], province)
        constituency_name = self.text(line, "constituency_name", v["constituency_name"], MAX_CONSTITUENCY_NAME)
        district = self.text(line, "district", v["district"], MAX_DISTRICT_NAME)
        number = self.whole_number(line, "ps_number", v["ps_number"], minimum=1, maximum=MAX_COUNT)
        name = self.text(line, "ps_name", v["ps_name"], MAX_STATION_NAME)
        station_type = self.station_type(line, v["station_type"])
        male_voters = self.whole_number(line, "male_voters", v["male_voters"], minimum=0, maximum=MAX_COUNT)
        female_voters = self.whole_number(line, "female_voters", v["female_voters"], minimum=0, maximum=MAX_COUNT)
        male_booths = self.whole_number(line, "male_booths", v["male_booths"], minimum=0, maximum=MAX_BOOTHS)
        female_booths = self.whole_number(line, "female_booths", v["female_booths"], minimum=0, maximum=MAX_BOOTHS)
        self.one_sex_station(
            line,
            station_type,
            {
                "male_voters": male_voters,
                "female_voters": female_voters,
                "male_booths": male_booths,
                "female_booths": female_booths,
            },
        )
        latitude, longitude = self.coordinates(line, v["lat"], v["lon"])
        if code is not None:
            self.same_constituency(line, code, "constituency_name", constituency_name, exact=True)
            self.same_constituency(line, code, "province", province.name if province else None, exact=True)
            self.same_constituency(line, code, "district", district or None, exact=False)
            if number is not None:
                self.unique_station(line, code, number)

        if (
            len(self.errors) > before
            or province is None
            or code is None
            or constituency_name is None
            or number is None
            or name is None
            or station_type is None
            or male_voters is None
            or female_voters is None
            or male_booths is None
            or female_booths is None
        ):
            return None
        return StationRow(
            line=line,
            province=province.code,
            district=district or "",
            constituency_code=code,
            constituency_name=constituency_name,
            house="NA" if code.startswith(NA_PREFIX + "-") else "PA",
            number=number,
            name=name,
            station_type=station_type,
            male_voters=male_voters,
            female_voters=female_voters,
            male_booths=male_booths,
            female_booths=female_booths,
            latitude=latitude,
            longitude=longitude,
        )

    # -- single values --

    def required(self, line: int, column: str, value: str) -> bool:
        if value:
            return True
        self.error(line, column, "required", gettext_noop("This value is required; the field is empty."))
        return False

    def province(self, line: int, value: str) -> ProvinceRef | None:
        if not self.required(line, "province", value):
            return None
        province = self.provinces.get(normalise_name(value).lower())
        if province is None:
            self.error(
                line,
                "province",
                "unknown_province",
                gettext_noop('"%(value)s" is not a province; use the name or code of one of: %(choices)s.'),
                value=shown(value),
                choices=self.choices,
            )
        return province

    def constituency_code(self, line: int, value: str, province: ProvinceRef | None) -> str | None:
        if not self.required(line, "constituency_code", value):
            return None
        code = value.upper()
        match = CONSTITUENCY_CODE.fullmatch(code)
        if match is None:
            self.error(
                line,
                "constituency_code",
                "bad_constituency_code",
                gettext_noop(
                    '"%(value)s" is not a constituency code: write the house prefix, a hyphen and the number '
                    "without leading zeros, like NA-44, PP-120, PS-5, PK-3 or PB-7."
                ),
                value=shown(value),
            )
            return None
        prefix = match.group(1)
        if prefix == NA_PREFIX or province is None:
            return code
        if not province.pa_prefix:
            self.error(
                line,
                "constituency_code",
                "no_pa_seats",
                gettext_noop("%(province)s has no Provincial Assembly seats, so %(code)s cannot be in it."),
                province=province.name,
                code=code,
            )
        elif prefix != province.pa_prefix:
            owner = self.prefix_owner.get(prefix)
            self.error(
                line,
                "constituency_code",
                "pa_prefix_mismatch",
                gettext_noop(
                    "%(code)s is a seat of %(owner)s (%(prefix)s); the Provincial Assembly seats of "
                    "%(province)s start with %(expected)s."
                ),
                code=code,
                owner=owner.name if owner else "no province",
                prefix=prefix,
                province=province.name,
                expected=province.pa_prefix,
            )
        return code

    def text(self, line: int, column: str, value: str, max_length: int) -> str | None:
        if column not in OPTIONAL_VALUES and not self.required(line, column, value):
            return None
        text = normalise_name(value)
        if len(text) > max_length:
            self.error(
                line,
                column,
                "too_long",
                gettext_noop("This has %(length)d characters; at most %(max)d are allowed."),
                length=len(text),
                max=max_length,
            )
            return None
        return text

    def whole_number(self, line: int, column: str, value: str, *, minimum: int, maximum: int) -> int | None:
        if not self.required(line, column, value):
            return None
        if _WHOLE_NUMBER.fullmatch(value) is None or int(value) < minimum:
            if minimum == 1:
                template = gettext_noop('"%(value)s" is not a whole number of 1 or more.')
            else:
                template = gettext_noop('"%(value)s" is not a whole number of 0 or more.')
            self.error(line, column, "not_a_number", template, value=shown(value))
            return None
        # A very long run of digits is too large without converting it (int() refuses > 4,300 digits).
        number = int(value) if len(value) <= 18 else maximum + 1
        if number > maximum:
            self.error(
                line,
                column,
                "too_large",
                gettext_noop("%(value)s is larger than the largest allowed, %(max)d."),
                value=shown(value),
                max=maximum,
            )
            return None
        return number

    def station_type(self, line: int, value: str) -> str | None:
        if not self.required(line, "station_type", value):
            return None
        station_type = value.lower()
        if station_type not in STATION_TYPES:
            self.error(
                line,
                "station_type",
                "bad_station_type",
                gettext_noop('"%(value)s" is not a station type; use male, female or combined.'),
                value=shown(value),
            )
            return None
        return station_type

    def one_sex_station(self, line: int, station_type: str | None, counts: dict[str, int | None]) -> None:
        """A male station has no female voters or booths, a female station no male ones (the model's checks)."""
        if station_type not in ("male", "female"):
            return
        other = "female" if station_type == "male" else "male"
        for column in (f"{other}_voters", f"{other}_booths"):
            if counts[column]:
                self.error(
                    line,
                    column,
                    f"{station_type}_station_has_{other}",
                    gettext_noop("A %(type)s station has 0 %(column)s; this row has %(value)d."),
                    type=station_type,
                    column=column,
                    value=counts[column],
                )

    def coordinates(self, line: int, lat: str, lon: str) -> tuple[Decimal | None, Decimal | None]:
        if not lat and not lon:
            return None, None
        if not lat or not lon:
            given, empty = ("lat", "lon") if lat else ("lon", "lat")
            self.error(
                line,
                empty,
                "lat_lon_together",
                gettext_noop("%(given)s is given but %(empty)s is empty; give both or leave both empty."),
                given=given,
                empty=empty,
            )
            return None, None
        latitude = self.decimal(line, "lat", lat)
        longitude = self.decimal(line, "lon", lon)
        if latitude is None or longitude is None:
            return None, None
        lat_ok = LAT_MIN <= latitude <= LAT_MAX
        lon_ok = LON_MIN <= longitude <= LON_MAX
        if not (lat_ok and lon_ok):
            if LAT_MIN <= longitude <= LAT_MAX and LON_MIN <= latitude <= LON_MAX:
                template = gettext_noop(
                    "%(lat)s, %(lon)s is outside Pakistan (lat %(lat_min)s to %(lat_max)s, "
                    "lon %(lon_min)s to %(lon_max)s); are lat and lon swapped?"
                )
            else:
                template = gettext_noop(
                    "%(lat)s, %(lon)s is outside Pakistan (lat %(lat_min)s to %(lat_max)s, "
                    "lon %(lon_min)s to %(lon_max)s)."
                )
            self.error(
                line,
                "lat" if not lat_ok else "lon",
                "outside_pakistan",
                template,
                lat=lat,
                lon=lon,
                lat_min=LAT_MIN,
                lat_max=LAT_MAX,
                lon_min=LON_MIN,
                lon_max=LON_MAX,
            )
            return None, None
        return (
            latitude.quantize(COORDINATE_STEP, rounding=ROUND_HALF_UP),
            longitude.quantize(COORDINATE_STEP, rounding=ROUND_HALF_UP),
        )

    def decimal(self, line: int, column: str, value: str) -> Decimal | None:
        if _DECIMAL.fullmatch(value) is None:
            self.error(
                line,
                column,
                "not_a_decimal",
                gettext_noop('"%(value)s" is not a decimal number of degrees like 31.5204.'),
                value=shown(value),
            )
            return None
        return Decimal(value)

    # -- rules across the file --

    def same_constituency(self, line: int, code: str, column: str, value: str | None, *, exact: bool) -> None:
        """Every row of one constituency gives it the same name, province and (where given) district."""
        if value is None:
            return
        first = self.seen.setdefault(code, {}).setdefault(column, (value, line))
        same = first[0] == value if exact else first[0].casefold() == value.casefold()
        if not same:
            self.error(
                line,
                column,
                "constituency_differs",
                gettext_noop(
                    '%(column)s of %(code)s is "%(value)s" here but "%(first)s" on line %(first_line)d; '
                    "every row of a constituency must give the same %(column)s."
                ),
                column=column,
                code=code,
                value=shown(value),
                first=shown(first[0]),
                first_line=first[1],
            )

    def unique_station(self, line: int, code: str, number: int) -> None:
        first_line = self.stations.setdefault((code, number), line)
        if first_line != line:
            self.error(
                line,
                "ps_number",
                "duplicate_station",
                gettext_noop(
                    "%(code)s polling station %(number)d is on line %(first_line)d and again on line %(line)d; "
                    "a station number appears once per constituency."
                ),
                code=code,
                number=number,
                first_line=first_line,
                line=line,
            )
