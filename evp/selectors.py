"""Reads of the roll. ``elector_voting_details`` is the 8300 lookup: one query on the CNIC's unique index, joined
to the block, its district and tehsil, the station range that holds the elector's serial, the station, its
constituency and the other house's constituency (through the station's counterpart). On PostgreSQL the query
runs inside the function evp_voting_details (migration 0002), which keeps its plan: planning the join costs
more than running it. Change both together."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from core.models import CensusBlock, Constituency, District, PollingStation, Tehsil

from .models import AbuseBlock, Elector, LookupCount, StationRange


@dataclass(frozen=True)
class VotingDetails:
    """The 8300 fields: no name, no address, no date of birth."""

    status: str
    block_code: str
    roll: str
    serial: int
    family_number: int
    area: str
    area_ur: str
    tehsil: str
    tehsil_ur: str
    district: str
    district_ur: str
    station_number: int | None
    station_name: str
    station_name_ur: str
    constituencies: tuple[str, ...]  # NA first, then PA; empty when no station range holds the serial


def _sql() -> str:
    e, b, d, t = (m._meta.db_table for m in (Elector, CensusBlock, District, Tehsil))
    r, s, c = (m._meta.db_table for m in (StationRange, PollingStation, Constituency))
    return (
        "SELECT e.status, b.code, e.roll, e.serial, e.family_number, b.electoral_area, b.electoral_area_ur,"
        " t.name, t.name_ur, d.name, d.name_ur, s.number, s.name, s.name_ur, c.code, c.house, c2.code, c2.house"
        f" FROM {e} e JOIN {b} b ON b.id = e.block_id JOIN {d} d ON d.id = b.district_id"
        f" LEFT JOIN {t} t ON t.id = b.tehsil_id"
        f" LEFT JOIN {r} r ON r.block_id = e.block_id AND r.roll = e.roll AND r.serial_from <= e.serial"
        " AND (r.serial_to IS NULL OR r.serial_to >= e.serial)"
        f" LEFT JOIN {s} s ON s.id = r.station_id LEFT JOIN {c} c ON c.id = s.constituency_id"
        f" LEFT JOIN {s} s2 ON s2.id = s.counterpart_id OR s2.counterpart_id = s.id"
        f" LEFT JOIN {c} c2 ON c2.id = s2.constituency_id"
        " WHERE e.cnic = %s ORDER BY r.serial_from DESC LIMIT 1"
    )


_SQL: str | None = None


def elector_voting_details(cnic: str | int) -> VotingDetails | None:
    """The 8300 details of the elector with this CNIC (13 digits, already normalised), or None."""
    global _SQL
    if _SQL is None:
        _SQL = "SELECT * FROM evp_voting_details(%s)" if connection.vendor == "postgresql" else _sql()
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [int(cnic)])
        row = cursor.fetchone()
    if row is None:
        return None
    (status, code, roll, serial, family, area, area_ur, tehsil, tehsil_ur, district, district_ur, number,
     name, name_ur, c1, h1, c2, h2) = row  # fmt: skip
    houses = sorted(((h, c) for h, c in ((h1, c1), (h2, c2)) if c), key=lambda hc: hc[0] != "NA")
    return VotingDetails(
        status=status,
        block_code=code,
        roll=roll,
        serial=serial,
        family_number=family,
        area=area,
        area_ur=area_ur or area,
        tehsil=tehsil or "",
        tehsil_ur=tehsil_ur or tehsil or "",
        district=district,
        district_ur=district_ur or district,
        station_number=number,
        station_name=name or "",
        station_name_ur=name_ur or name or "",
        constituencies=tuple(c for _h, c in houses),
    )


@dataclass(frozen=True)
class HourCounts:
    hour: datetime.datetime
    by_channel: dict[str, int]
    total: int


def lookup_counts(*, hours: int = 48, now: datetime.datetime | None = None) -> list[HourCounts]:
    """Lookups per hour and channel over the last ``hours`` hours (every hour present, oldest first)."""
    now = now or timezone.now()
    last = now.replace(minute=0, second=0, microsecond=0)
    first = last - datetime.timedelta(hours=hours - 1)
    sums: dict[datetime.datetime, dict[str, int]] = {}
    for hour, channel, total in (
        LookupCount.objects.filter(hour__gte=first, hour__lte=last)
        .values_list("hour", "channel")
        .annotate(total=Sum("count"))
        .order_by()
    ):
        sums.setdefault(hour, {})[channel] = total
    out = []
    for i in range(hours):
        hour = first + datetime.timedelta(hours=i)
        channels = sums.get(hour, {})
        out.append(HourCounts(hour, channels, sum(channels.values())))
    return out


def lookup_totals(*, since: datetime.datetime) -> dict[tuple[str, str], int]:
    """{(channel, outcome): lookups} since a time."""
    return {
        (channel, outcome): total
        for channel, outcome, total in LookupCount.objects.filter(hour__gte=since)
        .values_list("channel", "outcome")
        .annotate(total=Sum("count"))
        .order_by()
    }


def abuse_block_list(*, active_only: bool = False):
    blocks = AbuseBlock.objects.select_related("lifted_by")
    if active_only:
        blocks = blocks.filter(lifted_at__isnull=True, until__gt=timezone.now())
    return blocks
