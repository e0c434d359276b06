"""Handing messages to the provider, exactly once.

A dispatcher **claims** a chunk of due messages (``select_for_update(skip_locked=True)``; queued → sending,
with a lease token and a lease time, committed), **hands them over** (several in flight on a small thread
pool, each carrying our message id, under the shared messages-per-second bucket), then **records** the
outcomes in one transaction guarded by its lease token: sent, queued again with backoff (transient error),
or failed (permanent error, too many errors, too old to send). Each chunk's digest goes into the audit chain.

A worker that dies mid-chunk (SIGKILL, power loss) leaves its messages in "sending" under a lease that
runs out. The **sweep** (Celery beat, every 30 s) asks the provider what became of each one — accepted
(marked sent, not resent), never received (queued again), or unknown for providers that cannot be asked
(failed with ``outcome_unknown``: never sent twice) — and restarts campaigns whose dispatchers are gone.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Min
from django.utils import timezone

from core import audit
from core.models import Job, JobStatus

from .. import providers, throttle
from ..models import Campaign, CampaignStatus, Message, MessageStatus
from ..providers.base import (
    LookupUnsupported,
    OutgoingSms,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from .common import BATCH_HANDED_OVER, CAMPAIGN_COMPLETED, LEASES_RECOVERED, add_events, status_callback

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    id: int
    to: str
    body: str
    error_count: int


@dataclass(frozen=True)
class Outcome:
    message: Claimed
    kind: str  # sent | transient | permanent | released (never handed over)
    provider_id: str = ""
    code: str = ""
    text: str = ""


@dataclass(frozen=True)
class Batch:
    token: uuid.UUID
    provider: str
    messages: list[Claimed]
    deadline: float  # time.monotonic() by which every hand-over must have started (well inside the lease)


def claim(*, campaign_id: int | None = None, message_id: int | None = None, limit: int = 0) -> Batch:
    """Take up to ``limit`` due queued messages of a campaign (or the one single message) for this worker."""
    now = timezone.now()
    token, provider = uuid.uuid4(), providers.current_name()
    lease = settings.SMS_LEASE_SECONDS
    with transaction.atomic():
        qs = Message.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now)
        qs = qs.filter(pk=message_id) if message_id is not None else qs.filter(campaign=campaign_id)
        rows = list(
            qs.select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .values_list("id", "to", "body", "expires_at", "error_count")[: limit or settings.SMS_CHUNK_SIZE]
        )
        expired = [r[0] for r in rows if r[3] < now]
        live = [Claimed(r[0], r[1], r[2], r[4]) for r in rows if r[3] >= now]
        if expired:
            Message.objects.filter(pk__in=expired).update(
                status=MessageStatus.FAILED,
                error_code="expired",
                error_message="Too old to send: its time to be sent had passed.",
                finished_at=now,
            )
            add_events([(pk, MessageStatus.FAILED, "dispatcher", "expired") for pk in expired], at=now)
            _count_done(campaign_id, len(expired))
        if live:
            Message.objects.filter(pk__in=[m.id for m in live]).update(
                status=MessageStatus.SENDING,
                lease_token=token,
                lease_until=now + timedelta(seconds=lease),
                provider=provider,
            )
            add_events([(m.id, MessageStatus.SENDING, "dispatcher", provider) for m in live], at=now)
    return Batch(token, provider, live, time.monotonic() + lease * 0.5)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:  # made lazily, so each forked worker process has its own threads
            _pool = ThreadPoolExecutor(max(1, settings.SMS_SEND_THREADS), thread_name_prefix="sms-send")
        return _pool


def _hand_over_one(batch: Batch, message: Claimed) -> Outcome:
    if time.monotonic() > batch.deadline:
        return Outcome(message, "released")
    throttle.acquire(batch.provider, 1)
    sms = OutgoingSms(message.id, message.to, message.body, status_callback(message.id))
    provider = providers.get()
    started = timezone.now() - timedelta(seconds=60)
    try:
        result = provider.send(sms)
    except TransientProviderError as exc:
        if exc.code == "network":  # a timeout may hide an acceptance: ask before trying again
            found = _ask(provider, sms, started)
            if found is not None:
                return Outcome(message, "sent", provider_id=found.provider_id)
        return Outcome(message, "transient", code=exc.code, text=exc.message)
    except PermanentProviderError as exc:
        return Outcome(message, "permanent", code=exc.code, text=exc.message)
    return Outcome(message, "sent", provider_id=result.provider_id)


def _ask(provider, sms: OutgoingSms, since: datetime):
    """The provider's record of ``sms`` after an unclear hand-over; None when absent or it cannot say."""
    try:
        return provider.find(sms, since=since)
    except (LookupUnsupported, ProviderError):
        return None


def hand_over(batch: Batch) -> list[Outcome]:
    if len(batch.messages) == 1:
        return [_hand_over_one(batch, batch.messages[0])]
    return list(_executor().map(lambda m: _hand_over_one(batch, m), batch.messages))


def backoff_seconds(error_count: int) -> float:
    """30 s, 1 min, 2 min, 4 min… (at most an hour), with ±25 % jitter so retries don't arrive together."""
    return min(3600.0, 30.0 * 2**error_count) * random.uniform(0.75, 1.25)


def _mark_sent(token: uuid.UUID, outcomes: list[Outcome], now: datetime) -> list[int]:
    """Sent outcomes still under our lease → "sent" (a delivery report may already have moved one further)."""
    if not outcomes:
        return []
    if connection.vendor == "postgresql":
        values = ", ".join(["(%s::bigint, %s)"] * len(outcomes))
        params: list = [p for o in outcomes for p in (o.message.id, o.provider_id[:64])]
        sql = f"""
            UPDATE sms_message m SET
                status = CASE WHEN m.status = 'sending' THEN 'sent' ELSE m.status END,
                provider_id = COALESCE(NULLIF(m.provider_id, ''), v.pid),
                sent_at = COALESCE(m.sent_at, %s), lease_token = NULL, lease_until = NULL
            FROM (VALUES {values}) AS v(id, pid)
            WHERE m.id = v.id AND m.lease_token = %s
            RETURNING m.id"""  # noqa: S608 (the f-string adds placeholders only)
        with connection.cursor() as cursor:
            cursor.execute(sql, [now, *params, token])
            return [row[0] for row in cursor.fetchall()]
    done = []
    for o in outcomes:
        mine = Message.objects.filter(pk=o.message.id, lease_token=token)
        if (
            mine.filter(status=MessageStatus.SENDING).update(status=MessageStatus.SENT, provider_id=o.provider_id)
            or mine.exists()
        ):
            done.append(o.message.id)
        mine.update(sent_at=now, lease_token=None, lease_until=None)
    return done


def record(batch: Batch, outcomes: list[Outcome], *, campaign_id: int | None = None) -> dict[str, int]:
    """Write a chunk's outcomes (only where our lease still holds), its events, progress and audit digest."""
    now = timezone.now()
    counts = {"sent": 0, "retry": 0, "failed": 0, "released": 0}
    events: list[tuple[int, str, str, str]] = []
    with transaction.atomic():
        sent_ids = set(_mark_sent(batch.token, [o for o in outcomes if o.kind == "sent"], now))
        for o in outcomes:
            if o.kind == "sent":
                if o.message.id in sent_ids:
                    counts["sent"] += 1
                    events.append((o.message.id, MessageStatus.SENT, "dispatcher", o.provider_id))
                continue
            mine = Message.objects.filter(pk=o.message.id, lease_token=batch.token, status=MessageStatus.SENDING)
            clear = {"lease_token": None, "lease_until": None}
            if o.kind == "released":
                if mine.update(status=MessageStatus.QUEUED, **clear):
                    counts["released"] += 1
                    events.append((o.message.id, MessageStatus.QUEUED, "dispatcher", "not handed over in time"))
                continue
            errors = o.message.error_count + 1
            error = {"error_count": errors, "error_code": o.code[:30], "error_message": o.text[:300], **clear}
            if o.kind == "transient" and errors < settings.SMS_MAX_ATTEMPTS:
                retry_at = now + timedelta(seconds=backoff_seconds(errors - 1))
                if mine.update(status=MessageStatus.QUEUED, next_attempt_at=retry_at, **error):
                    counts["retry"] += 1
                    events.append((o.message.id, MessageStatus.QUEUED, "dispatcher", f"retry: {o.code} {o.text}"))
            elif mine.update(status=MessageStatus.FAILED, finished_at=now, **error):
                counts["failed"] += 1
                reason = "too many errors" if o.kind == "transient" else "refused"
                events.append((o.message.id, MessageStatus.FAILED, "dispatcher", f"{reason}: {o.code} {o.text}"))
        add_events(events, at=now)
        _count_done(campaign_id, counts["sent"] + counts["failed"])
        if counts["sent"] or counts["failed"]:
            audit.record(action=BATCH_HANDED_OVER, target=_target(campaign_id, outcomes), data=_digest(outcomes))
    return counts


def _target(campaign_id: int | None, outcomes: list[Outcome]):
    return ("sms.campaign", campaign_id) if campaign_id else ("sms.message", outcomes[0].message.id)


def _digest(outcomes: list[Outcome]) -> dict:
    lines = "".join(f"{o.message.id}:{o.message.to}:{o.kind}:{o.provider_id}:{o.code}\n" for o in outcomes)
    return {
        "messages": len(outcomes),
        "first_id": min(o.message.id for o in outcomes),
        "last_id": max(o.message.id for o in outcomes),
        "sha256": hashlib.sha256(lines.encode()).hexdigest(),
    }


def _count_done(campaign_id: int | None, n: int) -> None:
    if campaign_id and n:
        job = Campaign.objects.filter(pk=campaign_id).values("job_id")
        Job.objects.filter(pk__in=job).update(done=F("done") + n)


# --- the loops the tasks run ------------------------------------------------------------------------------


def _alive_key(campaign_id: int) -> str:
    return f"sms:dispatching:{campaign_id}"


def message_dispatch_run(*, message_id: int) -> str:
    """Send one single message if it is due (a retry comes back through the sweep or the countdown)."""
    batch = claim(message_id=message_id, limit=1)
    if not batch.messages:
        return "nothing due"
    counts = record(batch, hand_over(batch))
    return next(k for k, v in counts.items() if v) if any(counts.values()) else "lost lease"


def campaign_dispatch_run(*, campaign_id: int, slice_seconds: float = 60.0) -> str:
    """Claim, hand over and record chunks of a sending campaign for about ``slice_seconds``, then hand the
    rest to a fresh task (so pause, cancel and new deploys take effect). Returns what it stopped on."""

    try:
        return _dispatch_loop(campaign_id, time.monotonic() + slice_seconds)
    finally:  # the sweep restarts a sending campaign nobody works on (an extra dispatcher is harmless)
        cache.delete(_alive_key(campaign_id))


def _dispatch_loop(campaign_id: int, stop_at: float) -> str:
    from ..tasks import campaign_dispatch_task

    while True:
        status = Campaign.objects.filter(pk=campaign_id).values_list("status", flat=True).first()
        if status != CampaignStatus.SENDING:
            return f"campaign is {status}"
        cache.set(_alive_key(campaign_id), 1, timeout=settings.SMS_LEASE_SECONDS)
        batch = claim(campaign_id=campaign_id)
        if not batch.messages:
            if campaign_finish_if_done(campaign_id=campaign_id):
                return "completed"
            due = Message.objects.filter(campaign_id=campaign_id, status=MessageStatus.QUEUED).aggregate(
                at=Min("next_attempt_at")
            )["at"]
            if due is not None and not campaign_dispatch_task.app.conf.task_always_eager:  # retries wait their time
                campaign_dispatch_task.apply_async(
                    (campaign_id,), countdown=max(1, int((due - timezone.now()).total_seconds()))
                )
                return "waiting for retries"
            return "others are sending the rest" if due is None else "retries left to the sweep"
        record(batch, hand_over(batch), campaign_id=campaign_id)
        if time.monotonic() > stop_at:
            campaign_dispatch_task.delay(campaign_id)
            return "continued in a new task"


def campaign_finish_if_done(*, campaign_id: int) -> bool:
    """Mark a sending campaign completed once none of its messages is queued or being handed over."""
    if Message.objects.filter(
        campaign_id=campaign_id, status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]
    ).exists():
        return False
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != CampaignStatus.SENDING:
            return campaign.status == CampaignStatus.COMPLETED
        now = timezone.now()
        campaign.status, campaign.finished_at = CampaignStatus.COMPLETED, now
        campaign.save(update_fields=["status", "finished_at"])
        if campaign.job_id:
            Job.objects.filter(pk=campaign.job_id).update(
                status=JobStatus.SUCCEEDED, done=F("total"), finished_at=now, message="All messages handed over."
            )
        counts = dict(Message.objects.filter(campaign_id=campaign_id).values_list("status").annotate(n=Count("id")))
        audit.record(action=CAMPAIGN_COMPLETED, target=campaign, data={"by_status": counts})
    return True


# --- recovery -----------------------------------------------------------------------------------------------


def recover_expired_leases(*, limit: int = 500) -> dict[str, int]:
    """Reconcile messages whose worker's lease ran out: ask their provider whether it accepted each one."""
    now = timezone.now()
    counts = {"found_sent": 0, "requeued": 0, "unknown": 0, "deferred": 0}
    with transaction.atomic():
        stale = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.SENDING, lease_until__lt=now)
            .order_by("lease_until")[:limit]
        )
        if not stale:
            return counts
        events = []
        by_campaign: dict[int | None, int] = {}
        for m in stale:
            since = (m.lease_until or now) - timedelta(seconds=settings.SMS_LEASE_SECONDS + 60)
            sms = OutgoingSms(m.pk, m.to, m.body, status_callback(m.pk))
            try:
                found = providers.build(m.provider or providers.current_name()).find(sms, since=since)
            except LookupUnsupported:
                m.status, m.finished_at = MessageStatus.FAILED, now
                m.error_code = "outcome_unknown"
                m.error_message = "A worker stopped while handing it over and the provider cannot be asked; not resent."
                counts["unknown"] += 1
                by_campaign[m.campaign_id] = by_campaign.get(m.campaign_id, 0) + 1
            except ProviderError as exc:
                counts["deferred"] += 1
                log.warning("Could not ask %s about message %s: %s", m.provider, m.pk, exc)
                continue
            else:
                if found is not None:
                    m.status, m.provider_id, m.sent_at = MessageStatus.SENT, found.provider_id[:64], now
                    counts["found_sent"] += 1
                    by_campaign[m.campaign_id] = by_campaign.get(m.campaign_id, 0) + 1
                else:
                    m.status, m.next_attempt_at = MessageStatus.QUEUED, now
                    counts["requeued"] += 1
            m.lease_token = m.lease_until = None
            m.save()
            detail = {
                MessageStatus.SENT: "recovered: the provider had accepted it",
                MessageStatus.QUEUED: "recovered: the provider never received it; queued again",
                MessageStatus.FAILED: "recovered: outcome unknown, not resent",
            }[m.status]
            events.append((m.pk, m.status, "sweep", detail))
        add_events(events, at=now)
        for campaign_id, n in by_campaign.items():
            _count_done(campaign_id, n)
        audit.record(action=LEASES_RECOVERED, data=counts)
    return counts


def sweep() -> dict[str, object]:
    """The beat task's body: start due campaigns, reconcile dead workers' messages, restart stalled campaigns,
    send single messages whose retry time came, finish campaigns with nothing left."""
    from ..tasks import campaign_dispatch_task, campaign_start_task, message_dispatch_task

    now = timezone.now()
    report: dict[str, object] = {}
    due = Campaign.objects.filter(status=CampaignStatus.APPROVED).exclude(send_at__gt=now)
    report["started"] = [campaign_start_task.delay(pk) and pk for pk in due.values_list("pk", flat=True)]
    report["leases"] = recover_expired_leases()
    restarted = []
    for pk in Campaign.objects.filter(status=CampaignStatus.SENDING).values_list("pk", flat=True):
        if campaign_finish_if_done(campaign_id=pk):
            continue
        if not cache.get(_alive_key(pk)):
            for _n in range(settings.SMS_DISPATCHERS):
                campaign_dispatch_task.delay(pk)
            restarted.append(pk)
    report["restarted"] = restarted
    singles = Message.objects.filter(
        campaign__isnull=True, status=MessageStatus.QUEUED, next_attempt_at__lte=now - timedelta(seconds=10)
    ).values_list("pk", flat=True)[:1000]
    report["singles"] = len([message_dispatch_task.delay(pk) for pk in singles])
    return report
