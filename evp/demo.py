"""evp's demo data: census blocks with station ranges for the demo stations (NA-120 and PP-150 share their
Lahore buildings), a small synthetic roll imported through the real importer (a few entries deleted or
shifted), a few lookups on each channel and one sender blocked for asking for too many CNICs, so the public
page and the staff dashboard have something to show. Prints CNICs to try."""

from __future__ import annotations

import os
import tempfile

from django.conf import settings
from django.db import transaction

from core.cnic import format_cnic
from core.demo import Printer, register
from core.models import PollingStation

from . import services
from .blocks import block_shapes, synthetic_blocks
from .importer import roll_import
from .models import Channel, Elector, ElectorStatus
from .synth import generate, write_csv

ELECTORS = 3_000
SEED = 8300
STATUS_EXAMPLES = {7: ElectorStatus.DELETED, 11: ElectorStatus.SHIFTED, 13: ElectorStatus.DECEASED}


def _pair_lahore_stations() -> None:
    """The demo's NA-120 and PP-150 stations are the same buildings: link them so a reply names both seats."""
    with transaction.atomic():
        na = {s.number: s for s in PollingStation.objects.filter(constituency__code="NA-120")}
        for pa in PollingStation.objects.filter(constituency__code="PP-150", counterpart__isnull=True):
            if pa.number in na and pa.station_type == na[pa.number].station_type:
                pa.counterpart = na[pa.number]
                pa.save(update_fields=["counterpart"])


def _roll() -> None:
    if not block_shapes():
        synthetic_blocks(SEED)
    rows = list(generate(block_shapes(), ELECTORS, SEED))
    for index, status in STATUS_EXAMPLES.items():
        rows[index][13] = status
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "demo-roll.csv")
        with open(path, "w", encoding="utf-8", newline="") as out:
            write_csv(iter(rows), out)
        roll_import(path=path)


def _lookups(examples: list[int]) -> None:
    """Real lookups through the service: a few per channel, and one address that asks for too many CNICs."""
    for i, cnic in enumerate(examples[:6]):
        channel = (Channel.SMS, Channel.WEB, Channel.API)[i % 3]
        services.voting_details_lookup(cnic_text=str(cnic), channel=channel, sender=f"+92300000{200 + i:04d}")
    many = Elector.objects.order_by("block__code", "roll", "serial").values_list("cnic", flat=True)[
        : settings.EVP_ABUSE_DISTINCT_CNICS + 2
    ]
    for cnic in many:
        services.voting_details_lookup(cnic_text=str(cnic), channel=Channel.WEB, sender="203.0.113.77")
    services.lookup_counts_flush()


@register(order=40, name="evp")
def seed_roll(out: Printer) -> None:
    _pair_lahore_stations()
    fresh = not Elector.objects.exists()
    if fresh:
        _roll()
    active = Elector.objects.filter(status=ElectorStatus.ACTIVE)
    examples = [
        active.filter(block__station_ranges__station__constituency__code="NA-120", gender="M")
        .order_by("block__code", "roll", "serial")
        .first(),
        active.filter(gender="F").order_by("block__code", "roll", "serial").first(),
        Elector.objects.filter(status=ElectorStatus.DELETED).order_by("block__code", "roll", "serial").first(),
    ]
    found = [e.cnic for e in examples if e is not None]
    if fresh:
        _lookups(found)
    labels = ["a man in Lahore (NA-120, PP-150)", "a woman", "a deleted entry"]
    tries = "; ".join(f"{format_cnic(str(c))} ({label})" for c, label in zip(found, labels, strict=False))
    out(
        f"Check your vote: {Elector.objects.count():,} electors on the demo roll. Open /evp/ and try {tries}; "
        "12345-1234567-1 is not on the roll. By SMS: send one of them to the inbound webhook (docs/evp.md). "
        "Staff dashboard: /evp/staff/ (log in as sms)."
    )
