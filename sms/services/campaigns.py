"""Campaigns: one officer makes, another approves (maker-checker); at the send time the messages are made
for every recipient of the audience (opt-outs and invalid numbers skipped and counted), and dispatchers
send them (services/dispatch.py). Pause, resume and cancel take effect at the next chunk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ConflictError, DomainError, PermissionDeniedError
from core.models import Job, JobStatus
from core.phone import InvalidPhone, normalize_mobile

from .. import audiences, encoding
from ..models import Campaign, CampaignStatus, Language, Message, MessageStatus, OptOut, Purpose
from .common import (
    CAMPAIGN_APPROVED,
    CAMPAIGN_CANCELLED,
    CAMPAIGN_CREATED,
    CAMPAIGN_PAUSED,
    CAMPAIGN_REJECTED,
    CAMPAIGN_RESUMED,
    CAMPAIGN_STARTED,
    add_events,
    require_officer,
)
from .messages import check_body, render, template_check

SAMPLE = 300  # recipients rendered for an estimate


@dataclass(frozen=True)
class Estimate:
    recipients: int
    segments: int  # estimated for the whole campaign from a sample of rendered messages
    cost: Decimal
    sample: str  # the message as the first recipient gets it
    info: encoding.SmsInfo | None


def _audience(key: str) -> audiences.Audience:
    found = audiences.get(key)
    if found is None:
        raise DomainError("unknown_audience", _("Choose who the campaign goes to."), field="audience")
    return found


def _templates(template_ur: str, template_en: str, audience: audiences.Audience) -> None:
    if not template_ur.strip() and not template_en.strip():
        raise DomainError("empty_template", _("Write the message in Urdu, in English or in both."), field="template_ur")
    for field, text in (("template_ur", template_ur), ("template_en", template_en)):
        if text.strip():
            template_check(text, audience.fields, field=field)
            check_body(text, field=field)


def _pick(template_ur: str, template_en: str, language: str) -> tuple[str, str]:
    if language == Language.ENGLISH and template_en.strip() or not template_ur.strip():
        return template_en, Language.ENGLISH
    return template_ur, Language.URDU


def campaign_estimate(*, audience_key: str, template_ur: str, template_en: str) -> Estimate:
    """Recipients, segments and cost of a campaign before it is made (rendered for a sample of recipients)."""
    audience = _audience(audience_key)
    _templates(template_ur, template_en, audience)
    count = audience.count()
    segments, first, rendered = 0, "", 0
    for recipient in audience.recipients():
        text = render(*_pick(template_ur, template_en, recipient.language)[:1], recipient.fields)
        first = first or text
        segments += encoding.segments(text)
        rendered += 1
        if rendered >= SAMPLE:
            break
    total = round(segments * count / rendered) if rendered else 0
    price = Decimal(settings.SMS_PRICE_PER_SEGMENT)
    return Estimate(count, total, price * total, first, encoding.analyse(first) if first else None)


def campaign_create(
    *,
    actor,
    title: str,
    audience_key: str,
    template_ur: str = "",
    template_en: str = "",
    send_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Campaign:
    """A new campaign, waiting for another SMS officer's approval. Refuses unknown placeholders, an empty
    audience, a send time in the past and an expiry before the send time."""
    require_officer(actor)
    title = title.strip()
    if not title:
        raise DomainError("empty_title", _("Give the campaign a title."), field="title")
    audience = _audience(audience_key)
    _templates(template_ur, template_en, audience)
    now = timezone.now()
    if send_at is not None and send_at < now - timedelta(minutes=1):
        raise DomainError("send_at_past", _("The send time has passed; choose a later time or “now”."), field="send_at")
    start = send_at or now
    expires_at = expires_at or start + timedelta(hours=settings.SMS_EXPIRY_HOURS)
    if expires_at <= start:
        raise DomainError(
            "expiry_before_send", _("“Too old to send after” must be after the send time."), field="expires_at"
        )
    if audience.count() == 0:
        raise DomainError("empty_audience", _("This audience has nobody in it."), field="audience")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            title=title[:150],
            template_ur=template_ur.strip(),
            template_en=template_en.strip(),
            audience=audience.key,
            audience_label=audience.label[:200],
            send_at=send_at,
            expires_at=expires_at,
            created_by=actor,
        )
        audit.record(actor=actor, action=CAMPAIGN_CREATED, target=campaign, data={"audience": audience.key})
    return campaign


def _locked(campaign_id: int) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign_id)


def _expect(campaign: Campaign, *allowed: str) -> None:
    if campaign.status not in allowed:
        raise ConflictError(
            "wrong_state",
            _("The campaign is “%(status)s”; this cannot be done now.") % {"status": campaign.get_status_display()},
        )


def campaign_approve(*, actor, campaign: Campaign) -> Campaign:
    """The checker's approval: another SMS officer than the maker. Sending starts at the send time."""
    require_officer(actor)
    with transaction.atomic():
        campaign = _locked(campaign.pk)
        _expect(campaign, CampaignStatus.PENDING)
        if campaign.created_by_id == actor.pk:
            raise PermissionDeniedError("maker_checker", _("Another SMS officer must approve a campaign you made."))
        campaign.status, campaign.approved_by, campaign.decided_at = CampaignStatus.APPROVED, actor, timezone.now()
        campaign.save(update_fields=["status", "approved_by", "decided_at"])
        audit.record(actor=actor, action=CAMPAIGN_APPROVED, target=campaign)
        if campaign.send_at is None or campaign.send_at <= timezone.now():
            from ..tasks import campaign_start_task

            pk = campaign.pk
            transaction.on_commit(lambda: campaign_start_task.delay(pk))
    return campaign


def campaign_reject(*, actor, campaign: Campaign, reason: str) -> Campaign:
    require_officer(actor)
    reason = reason.strip()
    if not reason:
        raise DomainError("reason_required", _("Say why the campaign is rejected."), field="reason")
    with transaction.atomic():
        campaign = _locked(campaign.pk)
        _expect(campaign, CampaignStatus.PENDING)
        if campaign.created_by_id == actor.pk:
            raise PermissionDeniedError("maker_checker", _("Another SMS officer must decide on a campaign you made."))
        campaign.status, campaign.approved_by = CampaignStatus.REJECTED, None
        campaign.decided_at, campaign.rejection_reason = timezone.now(), reason[:300]
        campaign.save(update_fields=["status", "approved_by", "decided_at", "rejection_reason"])
        audit.record(actor=actor, action=CAMPAIGN_REJECTED, target=campaign, data={"reason": reason[:300]})
    return campaign


def _rows(campaign: Campaign, audience: audiences.Audience, now: datetime, counts: dict[str, int]):
    """(to, body, language, encoding, segments) for every recipient, skipping opt-outs, bad and repeated numbers."""
    opted_out = set(OptOut.objects.values_list("phone", flat=True))
    seen: set[str] = set()
    for r in audience.recipients():
        phone = r.phone
        if not (phone.startswith("+92") and len(phone) == 13 and phone[1:].isdigit()):
            try:
                phone = normalize_mobile(phone)
            except InvalidPhone:
                counts["invalid"] += 1
                continue
        if phone in seen:
            continue
        seen.add(phone)
        if phone in opted_out:
            counts["opted_out"] += 1
            continue
        template, language = _pick(campaign.template_ur, campaign.template_en, r.language)
        body = render(template, r.fields)
        info = encoding.analyse(body)
        counts["segments"] += info.segments
        yield phone, body, language, info.encoding, info.segments


_COLUMNS = (
    'campaign_id, "to", body, language, purpose, status, encoding, segments, error_count, next_attempt_at, '
    "expires_at, provider, provider_id, error_code, error_message, despite_opt_out, created_at"
)


def _insert(campaign: Campaign, rows, now: datetime) -> int:
    """Store the rows in buffers of 5,000: COPY on PostgreSQL (the audience's cursor is read between two
    COPYs, never during one), bulk_create elsewhere."""
    start, expires = campaign.send_at or now, campaign.expires_at
    n, buffer = 0, []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= 5000:
            n += _store(campaign, buffer, start, expires, now)
            buffer = []
    return n + _store(campaign, buffer, start, expires, now)


def _store(campaign: Campaign, rows: list, start: datetime, expires: datetime, now: datetime) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY sms_message ({_COLUMNS}) FROM STDIN") as copy:
            for to, body, language, enc, segments in rows:
                copy.write_row(
                    (campaign.pk, to, body, language, Purpose.CAMPAIGN, MessageStatus.QUEUED, enc, segments, 0)
                    + (start, expires, "", "", "", "", False, now)
                )
        return len(rows)
    made = [
        Message(
            campaign=campaign,
            to=to,
            body=body,
            language=language,
            purpose=Purpose.CAMPAIGN,
            encoding=enc,
            segments=segments,
            next_attempt_at=start,
            expires_at=expires,
            created_at=now,
        )
        for to, body, language, enc, segments in rows
    ]
    return len(Message.objects.bulk_create(made, batch_size=2000))


def campaign_start_run(*, campaign_id: int) -> str:
    """Make an approved, due campaign's messages (one transaction: all or none) and start its dispatchers."""
    from ..tasks import campaign_dispatch_task

    with transaction.atomic():
        campaign = _locked(campaign_id)
        now = timezone.now()
        if campaign.status != CampaignStatus.APPROVED or (campaign.send_at and campaign.send_at > now):
            return f"not due ({campaign.status})"
        if campaign.expires_at <= now:
            campaign.status, campaign.finished_at = CampaignStatus.CANCELLED, now
            campaign.save(update_fields=["status", "finished_at"])
            audit.record(action=CAMPAIGN_CANCELLED, target=campaign, data={"reason": "too old to send"})
            return "expired before it started"
        counts = {"invalid": 0, "opted_out": 0, "segments": 0}
        made = _insert(campaign, _rows(campaign, _audience(campaign.audience), now, counts), now)
        job = Job.objects.create(
            kind="sms.campaign",
            title=campaign.title[:200],
            status=JobStatus.RUNNING,
            total=made,
            created_by=campaign.approved_by,
            started_at=now,
        )
        campaign.status, campaign.started_at, campaign.job = CampaignStatus.SENDING, now, job
        campaign.recipients, campaign.segments = made, counts["segments"]
        campaign.skipped_opted_out, campaign.skipped_invalid = counts["opted_out"], counts["invalid"]
        campaign.provider = settings.SMS_PROVIDER
        campaign.save()
        audit.record(action=CAMPAIGN_STARTED, target=campaign, data={"messages": made, **counts})
        pk = campaign.pk
        transaction.on_commit(lambda: [campaign_dispatch_task.delay(pk) for _n in range(settings.SMS_DISPATCHERS)])
    return f"{made} messages"


def campaign_pause(*, actor, campaign: Campaign) -> Campaign:
    require_officer(actor)
    with transaction.atomic():
        campaign = _locked(campaign.pk)
        _expect(campaign, CampaignStatus.SENDING)
        campaign.status = CampaignStatus.PAUSED
        campaign.save(update_fields=["status"])
        audit.record(actor=actor, action=CAMPAIGN_PAUSED, target=campaign)
    return campaign


def campaign_resume(*, actor, campaign: Campaign) -> Campaign:
    from ..tasks import campaign_dispatch_task

    require_officer(actor)
    with transaction.atomic():
        campaign = _locked(campaign.pk)
        _expect(campaign, CampaignStatus.PAUSED)
        campaign.status = CampaignStatus.SENDING
        campaign.save(update_fields=["status"])
        audit.record(actor=actor, action=CAMPAIGN_RESUMED, target=campaign)
        pk = campaign.pk
        transaction.on_commit(lambda: [campaign_dispatch_task.delay(pk) for _n in range(settings.SMS_DISPATCHERS)])
    return campaign


def _cancel_events(campaign_id: int, now: datetime) -> int:
    """One statement for the events of every queued message (a 300,000-message campaign cancels in seconds)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sms_messageevent (message_id, at, status, source, detail) "
            "SELECT id, %s, 'cancelled', 'staff', 'campaign cancelled' FROM sms_message "
            "WHERE campaign_id = %s AND status = 'queued'",
            [now, campaign_id],
        )
        return cursor.rowcount


def campaign_cancel(*, actor, campaign: Campaign) -> Campaign:
    """Stop for good: a pending or approved campaign sends nothing; a sending or paused one cancels its queued
    messages (those already with a worker finish their hand-over)."""
    require_officer(actor)
    with transaction.atomic():
        campaign = _locked(campaign.pk)
        _expect(
            campaign, CampaignStatus.PENDING, CampaignStatus.APPROVED, CampaignStatus.SENDING, CampaignStatus.PAUSED
        )
        now = timezone.now()
        queued = Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED)
        cancelled = _cancel_events(campaign.pk, now) if connection.vendor == "postgresql" else None
        if cancelled is None:
            ids = list(queued.values_list("pk", flat=True))
            add_events([(pk, MessageStatus.CANCELLED, "staff", "campaign cancelled") for pk in ids], at=now)
            cancelled = len(ids)
        queued.update(status=MessageStatus.CANCELLED, finished_at=now)
        campaign.status, campaign.finished_at = CampaignStatus.CANCELLED, now
        campaign.save(update_fields=["status", "finished_at"])
        if campaign.job_id:
            Job.objects.filter(pk=campaign.job_id).update(
                status=JobStatus.CANCELLED, finished_at=now, message=_("Cancelled by an SMS officer.")
            )
        audit.record(actor=actor, action=CAMPAIGN_CANCELLED, target=campaign, data={"cancelled_messages": cancelled})
    return campaign
