"""evp's use cases: the 8300 lookup (any channel) with its limits, counts and abuse blocks; lifting a block;
writing the lookup counts to the database.

Personal data stays out of logs and Redis: a CNIC appears as core.cnic.log_token, a sender as a keyed hash.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.cnic import InvalidCNIC, log_token, mask, normalize
from core.exceptions import ConflictError

from . import limits
from .models import AbuseBlock, Channel, ElectorStatus, LookupCount, Outcome
from .selectors import VotingDetails, elector_voting_details

logger = logging.getLogger("evp.lookup")

SENDER_BLOCKED = audit.register("evp.sender_blocked", "A sender asking for many different CNICs was blocked")
BLOCK_LIFTED = audit.register("evp.block_lifted", "An officer lifted a block on a sender")


@dataclass(frozen=True)
class Lookup:
    outcome: str  # models.Outcome
    details: VotingDetails | None = None
    reason: str = ""  # invalid: core.cnic's reason; refused: "blocked", "client_limit" or "cnic_limit"
    cnic_masked: str = ""  # 12345-•••••••-1 when the CNIC was valid
    digits: int = 0  # how many digits an invalid CNIC had

    @property
    def status(self) -> str:
        """found, not_found, invalid, refused, or the elector's status (shifted, deceased, deleted)."""
        if self.outcome == Outcome.NOT_ACTIVE and self.details is not None:
            return self.details.status
        return self.outcome


def _key() -> bytes:
    return (settings.EVP_HASH_KEY or settings.SECRET_KEY).encode()


def sender_token(channel: str, sender: str) -> str:
    return hmac.new(_key(), f"{channel}:{sender}".encode(), hashlib.sha256).hexdigest()[:32]


def _shown(channel: str, sender: str) -> str:
    """A sender as staff may see it: the ends of a phone number, the network of an IP address."""
    if channel == Channel.SMS:
        return f"{sender[:6]}•••{sender[-2:]}" if len(sender) > 8 else "•••"
    if ":" in sender:
        return ":".join(sender.split(":")[:3]) + ":…"
    return ".".join(sender.split(".")[:3]) + ".x"


def voting_details_lookup(*, cnic_text: str, channel: str, sender: str) -> Lookup:
    """Look a CNIC up for a sender (phone number, IP address) on a channel, within the limits, and count it."""
    sender_hash = sender_token(channel, sender)
    try:
        cnic = normalize(cnic_text)
    except InvalidCNIC as exc:
        limits.check(sender=sender_hash, cnic="invalid")
        digits = sum(ch.isdigit() for ch in cnic_text or "")
        return _done(Lookup(Outcome.INVALID, reason=exc.reason, digits=digits), channel, sender_hash, "-")
    token = log_token(cnic, _key())
    hits = limits.check(sender=sender_hash, cnic=token)
    masked = mask(cnic)
    if hits.blocked or hits.distinct > settings.EVP_ABUSE_DISTINCT_CNICS:
        if hits.distinct == settings.EVP_ABUSE_DISTINCT_CNICS + 1:
            _block(channel=channel, sender=sender, sender_hash=sender_hash, distinct=hits.distinct)
        return _done(Lookup(Outcome.REFUSED, reason="blocked", cnic_masked=masked), channel, sender_hash, token)
    if hits.client > settings.EVP_CLIENT_LIMIT:
        return _done(Lookup(Outcome.REFUSED, reason="client_limit", cnic_masked=masked), channel, sender_hash, token)
    if hits.cnic > settings.EVP_CNIC_LIMIT:
        return _done(Lookup(Outcome.REFUSED, reason="cnic_limit", cnic_masked=masked), channel, sender_hash, token)
    details = elector_voting_details(cnic)
    if details is None:
        result = Lookup(Outcome.NOT_FOUND, cnic_masked=masked)
    elif details.status != ElectorStatus.ACTIVE:
        result = Lookup(Outcome.NOT_ACTIVE, details=details, cnic_masked=masked)
    else:
        result = Lookup(Outcome.FOUND, details=details, cnic_masked=masked)
    return _done(result, channel, sender_hash, token)


def _done(result: Lookup, channel: str, sender_hash: str, token: str) -> Lookup:
    limits.count(channel=channel, outcome=result.outcome)
    logger.info(
        "lookup channel=%s sender=%s cnic=%s outcome=%s reason=%s",
        channel,
        sender_hash[:12],
        token,
        result.outcome,
        result.reason or "-",
    )
    return result


def _block(*, channel: str, sender: str, sender_hash: str, distinct: int) -> None:
    now = timezone.now()
    seconds = settings.EVP_ABUSE_BLOCK_SECONDS
    limits.block(sender=sender_hash, seconds=seconds)
    with transaction.atomic():
        row = AbuseBlock.objects.create(
            channel=channel,
            sender_hash=sender_hash,
            sender_shown=_shown(channel, sender),
            distinct_cnics=distinct,
            blocked_at=now,
            until=now + datetime.timedelta(seconds=seconds),
        )
        audit.record(
            action=SENDER_BLOCKED,
            target=row,
            data={"channel": channel, "sender": row.sender_shown, "distinct_cnics": distinct, "until": row.until},
        )
    logger.warning("blocked sender=%s channel=%s distinct_cnics=%s", sender_hash[:12], channel, distinct)


@transaction.atomic(durable=True)
def abuse_block_lift(*, actor, block_id: int) -> AbuseBlock:
    row = AbuseBlock.objects.select_for_update().get(pk=block_id)
    if row.lifted_at is not None:
        raise ConflictError("already_lifted", _("This block was already lifted."))
    row.lifted_at = timezone.now()
    row.lifted_by = actor
    row.save(update_fields=["lifted_at", "lifted_by"])
    audit.record(action=BLOCK_LIFTED, target=row, actor=actor, data={"sender": row.sender_shown})
    sender_hash = row.sender_hash
    transaction.on_commit(lambda: limits.unblock(sender=sender_hash))
    return row


def lookup_counts_flush(*, hours: int = 3) -> int:
    """Write the counters of the last ``hours`` hours to LookupCount (never lowering a stored count: the
    counters live in Redis, which keeps nothing on disk). Returns the rows written."""
    limits.push()
    current = int(timezone.now().timestamp() // 3600)
    rows = []
    for hour, fields in limits.counts([current - i for i in range(hours)]).items():
        at = datetime.datetime.fromtimestamp(hour * 3600, tz=datetime.UTC)
        for field, value in fields.items():
            channel, _sep, outcome = field.partition(":")
            rows.append((connection.ops.adapt_datetimefield_value(at), channel, outcome, value))
    if not rows:
        return 0
    table = LookupCount._meta.db_table
    larger = "GREATEST" if connection.vendor == "postgresql" else "max"
    marks = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (hour, channel, outcome, count) VALUES {marks}"
            f" ON CONFLICT (hour, channel, outcome) DO UPDATE SET count = {larger}({table}.count, excluded.count)",
            [value for row in rows for value in row],
        )
    return len(rows)
