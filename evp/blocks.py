"""Synthetic census blocks and station ranges for polling stations that have none (demo data and the
benchmark), and the shapes of the existing blocks that evp.synth fills with electors.

In each constituency a male and a female station are paired (the same building, usually) and share their
blocks: a block's male list votes at the male station, its female list at the female one; a combined station
takes both lists of its own blocks. About one block in seven is split by serial range with the next group of
stations, as big blocks are in real schemes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from itertools import zip_longest

from django.db import transaction
from django.db.models import Max

from core.models import CensusBlock, PollingStation, StationType

from .models import RollList, StationRange
from .synth import BlockShape

PROVINCE_DIGIT = {"kp": "1", "fata": "2", "punjab": "3", "sindh": "4", "balochistan": "5", "ict": "6", "gb": "7"}
VOTERS_PER_BLOCK = 1_400
SPLIT_SHARE = 1 / 7


def _place(name: str, separator: str) -> str:
    return name.rsplit(separator, 1)[-1].strip() if separator in name else name


def _groups(stations: list[PollingStation]) -> list[tuple[PollingStation, PollingStation]]:
    """(station of the male list, station of the female list) for every station of one constituency."""
    males = [s for s in stations if s.station_type == StationType.MALE]
    females = [s for s in stations if s.station_type == StationType.FEMALE]
    combined = [s for s in stations if s.station_type == StationType.COMBINED]
    groups = [(s, s) for s in combined]
    fallback = combined or stations
    for i, (male, female) in enumerate(zip_longest(males, females)):
        groups.append((male or fallback[i % len(fallback)], female or fallback[i % len(fallback)]))
    return sorted(groups, key=lambda g: min(g[0].number, g[1].number))


@transaction.atomic
def synthetic_blocks(seed: int = 0) -> int:
    """Create blocks and their station ranges for every station that has no range yet; returns blocks made."""
    rng = random.Random(seed)
    taken = set(StationRange.objects.values_list("station_id", flat=True).distinct())
    stations = (
        PollingStation.objects.exclude(id__in=taken)
        .select_related("constituency__district", "constituency__province")
        .order_by("constituency_id", "number")
    )
    by_constituency: dict[int, list[PollingStation]] = defaultdict(list)
    for station in stations:
        if station.constituency.district_id is not None:
            by_constituency[station.constituency_id].append(station)
    last = CensusBlock.objects.aggregate(m=Max("code"))["m"]
    next_code = max(int(last) + 1 if last else 0, 100_000_001)
    blocks: list[CensusBlock] = []
    ranges: list[tuple[int, str, int, int | None, PollingStation]] = []  # (block index, list, from, to, station)
    for members in by_constituency.values():
        groups = _groups(members)
        for g, (male_station, female_station) in enumerate(groups):
            voters = male_station.male_voters + female_station.female_voters
            for _ in range(max(1, round(voters / VOTERS_PER_BLOCK))):
                district = male_station.constituency.district
                blocks.append(
                    CensusBlock(
                        code=f"{next_code:09d}",
                        electoral_area=_place(male_station.name, ","),
                        electoral_area_ur=_place(male_station.name_ur, "،"),
                        district=district,
                    )
                )
                next_code += 1
                index = len(blocks) - 1
                split = g + 1 < len(groups) and rng.random() < SPLIT_SHARE
                cut = rng.randint(300, 600)
                for roll, station in ((RollList.MALE, male_station), (RollList.FEMALE, female_station)):
                    if split:
                        nxt = groups[g + 1][0 if roll == RollList.MALE else 1]
                        ranges += [(index, roll, 1, cut, station), (index, roll, cut + 1, None, nxt)]
                    else:
                        ranges.append((index, roll, 1, None, station))
    made = CensusBlock.objects.bulk_create(blocks, batch_size=5_000)
    StationRange.objects.bulk_create(
        [StationRange(block=made[i], roll=roll, serial_from=a, serial_to=b, station=s) for i, roll, a, b, s in ranges],
        batch_size=5_000,
    )
    return len(made)


def block_shapes() -> list[BlockShape]:
    """Every block that has a station range, weighted by the voters of the stations its lists go to."""
    weights: dict[int, float] = defaultdict(float)
    share: dict[tuple[int, str], int] = defaultdict(int)
    rows = list(
        StationRange.objects.values_list(
            "block_id", "roll", "station_id", "station__male_voters", "station__female_voters"
        )
    )
    for _block, roll, station, _m, _f in rows:
        share[(station, roll)] += 1
    for block, roll, station, male, female in rows:
        weights[block] += (male if roll == RollList.MALE else female) / share[(station, roll)]
    shapes = []
    for cb in CensusBlock.objects.filter(id__in=weights).select_related("district__province").order_by("code"):
        digit = PROVINCE_DIGIT.get(cb.district.province.code, "3")
        shapes.append(
            BlockShape(
                code=cb.code,
                cnic_prefix=f"{digit}{cb.district_id % 10_000:04d}",
                area=cb.electoral_area,
                area_ur=cb.electoral_area_ur or cb.electoral_area,
                weight=max(weights[cb.id], 1.0),
            )
        )
    return shapes
