"""Synthetic polling schemes: plausible, deterministic for a seed, and invented.

``generate_scheme(stations=…, seed=…, national=False)`` yields one dict per
polling station, keyed by the columns of the polling scheme CSV
(docs/polling-scheme-csv.md); ``write_scheme_csv`` writes them. Every name is
made up from common words (no real village, school or person is meant);
benchmarks and tests reuse this module, so it stays pure Python.

The shape follows GE-2024 (docs DOMAIN.md): NA seats per province as in the
2023 delimitation (KP NA-1–45, ICT NA-46–48, Punjab NA-49–189, Sindh
NA-190–250, Balochistan NA-251–266) and the PA seats PP-1–297, PS-1–130,
PK-1–115, PB-1–51; stations about 28 % male, 26 % female, 46 % combined;
600–3,000 voters a station and a booth per ~400 voters; coordinates inside a
rough box around each province.

- ``national=True``: every one of the 859 constituencies gets stations; the
  rows are split half NA scheme, half PA scheme (in reality both schemes list
  the same buildings, so the full country is about 2 × 90,675 rows) and over
  the provinces by their share of polling stations.
- ``national=False`` (default): a random slice of that country, about one
  constituency per 300 stations, so small files still mix provinces and houses.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from .polling_scheme import COLUMNS

NATIONAL_STATIONS = 96_000  # the default size of a national file (see the module docstring)
STATIONS_PER_CONSTITUENCY = 300  # in a slice (national=False)
SHARE_MALE, SHARE_FEMALE = 0.28, 0.26  # the rest combined
VOTERS_MIN, VOTERS_MAX = 600, 3000
VOTERS_PER_BOOTH = 400
SHARE_WITHOUT_COORDINATES = 0.03


@dataclass(frozen=True)
class ProvinceShape:
    name: str  # as seeded in core/migrations/0002
    pa_prefix: str
    na_first: int
    na_last: int
    pa_seats: int
    districts: int
    station_share: float  # of the country's polling stations (roughly)
    box: tuple[float, float, float, float]  # lat_min, lat_max, lon_min, lon_max
    village_style: str


PROVINCES = (
    ProvinceShape("Khyber Pakhtunkhwa", "PK", 1, 45, 115, 38, 0.175, (31.3, 36.8, 69.4, 74.0), "kp"),
    ProvinceShape("Islamabad Capital Territory", "", 46, 48, 0, 1, 0.010, (33.55, 33.78, 72.85, 73.35), "ict"),
    ProvinceShape("Punjab", "PP", 49, 189, 297, 41, 0.550, (28.0, 33.9, 69.6, 75.3), "punjab"),
    ProvinceShape("Sindh", "PS", 190, 250, 130, 30, 0.210, (24.0, 28.4, 67.0, 70.9), "sindh"),
    ProvinceShape("Balochistan", "PB", 251, 266, 51, 36, 0.055, (25.2, 31.9, 61.3, 70.0), "balochistan"),
)

# Common words, put together at random; the results are invented places.
_ROOTS = (
    "Ali", "Amin", "Bagh", "Bahadur", "Bilal", "Chanan", "Daud", "Faqir", "Fateh", "Gul", "Haji", "Hassan",
    "Jahan", "Jalal", "Kamal", "Karim", "Lal", "Malik", "Mehr", "Mian", "Nawab", "Nazir", "Noor", "Pir",
    "Qadir", "Rahim", "Raja", "Sabz", "Sardar", "Shah", "Sher", "Sona", "Sultan", "Taj", "Umar", "Yousaf",
    "Zaman", "Barkat", "Sadiq", "Rehmat", "Khair", "Jiwan", "Anwar", "Mubarak", "Nadir", "Iqbal",
)  # fmt: skip
_PLACE_SUFFIXES = ("pur", "abad", "wala", "garh", "kot", "nagar", "wali", "pura", "ganj")
_PUNJAB_CHAK_BLOCKS = ("GB", "JB", "RB", "EB", "WB", "ML", "TDA")
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")
_LEVELS = ("Primary", "Primary", "Elementary", "Middle", "High", "High", "Higher Secondary")
_MALE_BUILDINGS = (
    "Government Degree College for Boys",
    "Union Council Office",
    "Basic Health Unit",
    "Community Centre",
)
_FEMALE_BUILDINGS = ("Government Degree College for Women", "Basic Health Unit", "Government Girls Community School")
_COMBINED_BUILDINGS = ("Union Council Office", "Community Centre", "Government Model School", "Town Committee Hall")


@dataclass
class _Constituency:
    province: ProvinceShape
    code: str
    house: str
    district: str
    name: str
    centre: tuple[float, float]
    weight: float = 1.0
    stations: int = 0


def generate_scheme(stations: int = 1000, seed: int = 0, national: bool = False) -> Iterator[dict[str, Any]]:
    """Yield ``stations`` rows (dicts keyed by the CSV columns), the same ones for the same arguments."""
    if stations < 0:
        raise ValueError("stations must be 0 or more")
    rng = random.Random(seed)
    country = _country(rng)
    if national:
        chosen = country
        seats = Counter((c.province.name, c.house) for c in country)
        for c in chosen:
            house_share = 1.0 if not c.province.pa_seats else 0.5
            in_house = seats[c.province.name, c.house]
            c.weight = c.province.station_share * house_share / in_house * rng.uniform(0.75, 1.25)
    else:
        count = min(len(country), max(1, math.ceil(stations / STATIONS_PER_CONSTITUENCY)))
        picked = set(rng.sample(range(len(country)), count))
        chosen = [c for i, c in enumerate(country) if i in picked]
        for c in chosen:
            c.weight = rng.uniform(0.6, 1.4)
    _apportion(chosen, stations)
    for constituency in chosen:
        if not constituency.stations:
            continue
        villages = [_village(rng, constituency.province) for _ in range(rng.randint(40, 120))]
        for number in range(1, constituency.stations + 1):
            yield _station(rng, constituency, number, villages)


def write_scheme_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write the header and the rows as CSV (``out`` opened with ``newline=""``); return the row count."""
    writer = csv.writer(out)  # the "excel" dialect: CRLF line ends, quotes only where needed
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(["" if row[column] is None else row[column] for column in COLUMNS])
        count += 1
    return count


# --- the country -------------------------------------------------------------


def _country(rng: random.Random) -> list[_Constituency]:
    constituencies: list[_Constituency] = []
    for province in PROVINCES:
        districts = _district_names(rng, province)
        centres = [_point_in(rng, province.box, margin=0.15) for _ in districts]
        seats = [("NA", f"NA-{n}") for n in range(province.na_first, province.na_last + 1)]
        seats += [("PA", f"{province.pa_prefix}-{n}") for n in range(1, province.pa_seats + 1)]
        for house in ("NA", "PA"):
            codes = [code for h, code in seats if h == house]
            # Consecutive seats share a district, as the real numbering mostly does.
            by_district = [i * len(districts) // len(codes) for i in range(len(codes))]
            for i, code in enumerate(codes):
                d = by_district[i]
                same = [j for j in range(len(codes)) if by_district[j] == d]
                name = districts[d] if len(same) == 1 else f"{districts[d]}-{_ROMAN[same.index(i) % len(_ROMAN)]}"
                lat, lon = centres[d]
                centre = _clamp(province.box, lat + rng.uniform(-0.2, 0.2), lon + rng.uniform(-0.2, 0.2))
                constituencies.append(_Constituency(province, code, house, districts[d], name, centre))
    return constituencies


def _district_names(rng: random.Random, province: ProvinceShape) -> list[str]:
    if province.village_style == "ict":
        return ["Islamabad"]
    names: list[str] = []
    while len(names) < province.districts:
        root, other = rng.sample(_ROOTS, 2)
        name = root + rng.choice(_PLACE_SUFFIXES) if rng.random() < 0.7 else f"{root} {other}"
        if name not in names:
            names.append(name)
    return names


def _village(rng: random.Random, province: ProvinceShape) -> str:
    root, other = rng.sample(_ROOTS, 2)
    suffixed = root + rng.choice(_PLACE_SUFFIXES)
    style = province.village_style
    if style == "punjab":
        return rng.choice(
            (
                f"Chak No. {rng.randint(1, 600)}/{rng.choice(_PUNJAB_CHAK_BLOCKS)}",
                suffixed,
                f"Kot {root}",
                f"Pind {root}",
            )
        )
    if style == "sindh":
        return rng.choice((f"Goth {root} {other}", suffixed, f"Goth {root}"))
    if style == "kp":
        return rng.choice((f"{root} Khel", f"Banda {root}", suffixed, f"Kalay {root} {other}"))
    if style == "balochistan":
        return rng.choice((f"Killi {root}", f"Killi {root} {other}", suffixed))
    return rng.choice((f"Sector {rng.choice('DEFGHI')}-{rng.randint(5, 16)}", f"Mohra {root}", suffixed))


def _apportion(constituencies: list[_Constituency], total: int) -> None:
    """Share ``total`` stations by weight, exactly (largest remainder, ties by order)."""
    weight = sum(c.weight for c in constituencies)
    if not constituencies or total == 0:
        return
    quotas = [c.weight / weight * total for c in constituencies]
    for c, quota in zip(constituencies, quotas, strict=True):
        c.stations = int(quota)
    short = total - sum(c.stations for c in constituencies)
    by_remainder = sorted(range(len(constituencies)), key=lambda i: (-(quotas[i] - int(quotas[i])), i))
    for i in by_remainder[:short]:
        constituencies[i].stations += 1


# --- one station ---------------------------------------------------------------


def _station(rng: random.Random, c: _Constituency, number: int, villages: list[str]) -> dict[str, Any]:
    draw = rng.random()
    station_type = "male" if draw < SHARE_MALE else "female" if draw < SHARE_MALE + SHARE_FEMALE else "combined"
    voters = rng.randint(VOTERS_MIN, VOTERS_MAX)
    if station_type == "male":
        male, female = voters, 0
    elif station_type == "female":
        male, female = 0, voters
    else:
        male = round(voters * rng.uniform(0.50, 0.58))
        female = voters - male
    lat: str | None = None
    lon: str | None = None
    if rng.random() >= SHARE_WITHOUT_COORDINATES:
        point = _clamp(c.province.box, c.centre[0] + rng.uniform(-0.1, 0.1), c.centre[1] + rng.uniform(-0.1, 0.1))
        lat, lon = f"{point[0]:.6f}", f"{point[1]:.6f}"
    return {
        "province": c.province.name,
        "district": c.district,
        "constituency_code": c.code,
        "constituency_name": c.name,
        "ps_number": number,
        "ps_name": _building(rng, station_type, rng.choice(villages)),
        "station_type": station_type,
        "male_voters": male,
        "female_voters": female,
        "male_booths": _booths(male),
        "female_booths": _booths(female),
        "lat": lat,
        "lon": lon,
    }


def _booths(voters: int) -> int:
    return max(1, round(voters / VOTERS_PER_BOOTH)) if voters else 0


def _building(rng: random.Random, station_type: str, village: str) -> str:
    """e.g. "Government Girls Primary School No. 3, Kot Fateh" (a comma, so the CSV quotes it)."""
    school_no = f" No. {rng.randint(1, 4)}" if rng.random() < 0.4 else ""
    level = rng.choice(_LEVELS)
    if station_type == "male":
        if rng.random() < 0.75:
            return f"Government Boys {level} School{school_no}, {village}"
        return f"{rng.choice(_MALE_BUILDINGS)}, {village} (Male)"
    if station_type == "female":
        if rng.random() < 0.75:
            return f"Government Girls {level} School{school_no}, {village}"
        return f"{rng.choice(_FEMALE_BUILDINGS)}, {village} (Female)"
    if rng.random() < 0.6:
        kind = rng.choice(("", "Boys ", "Girls "))
        return f"Government {kind}{level} School{school_no}, {village} (Combined)"
    return f"{rng.choice(_COMBINED_BUILDINGS)}, {village}"


def _point_in(rng: random.Random, box: tuple[float, float, float, float], margin: float) -> tuple[float, float]:
    lat_min, lat_max, lon_min, lon_max = box
    lat_margin = min(margin, (lat_max - lat_min) / 4)
    lon_margin = min(margin, (lon_max - lon_min) / 4)
    return (
        rng.uniform(lat_min + lat_margin, lat_max - lat_margin),
        rng.uniform(lon_min + lon_margin, lon_max - lon_margin),
    )


def _clamp(box: tuple[float, float, float, float], lat: float, lon: float) -> tuple[float, float]:
    lat_min, lat_max, lon_min, lon_max = box
    return min(max(lat, lat_min), lat_max), min(max(lon, lon_min), lon_max)
