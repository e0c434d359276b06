"""Reads for the SMS staff screens: lists with their search and filters, counts by status, a campaign's
history, message histories in batches (the CSV export), and the delivery reports grouped by day in
Pakistan's time. Every SMS officer sees every campaign and contact (the role is not scoped), so these take
no actor; the views check the role first."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.cnic import to_ascii_digits
from core.models import AuditEvent

from .models import (
    Campaign,
    CampaignStatus,
    Contact,
    ContactGroup,
    InboundMessage,
    Message,
    MessageEvent,
    MessageStatus,
    OptOut,
)

KARACHI = ZoneInfo("Asia/Karachi")
EXPORT_BATCH = 2000


# --- counts -------------------------------------------------------------------------------------------------


def message_status_counts(messages: QuerySet[Message]) -> dict[str, int]:
    """Every message status (in the model's order) with its count among ``messages``; zeros included."""
    found = dict(messages.order_by().values_list("status").annotate(n=Count("id")))
    return {status: found.get(status, 0) for status in MessageStatus.values}


def campaign_status_counts() -> dict[str, int]:
    found = dict(Campaign.objects.order_by().values_list("status").annotate(n=Count("id")))
    return {status: found.get(status, 0) for status in CampaignStatus.values}


def today_start() -> datetime.datetime:
    """Midnight today in Pakistan (aware)."""
    now = timezone.localtime(timezone.now(), KARACHI)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def messages_today_counts() -> dict[str, int]:
    return message_status_counts(Message.objects.filter(created_at__gte=today_start()))


def campaign_message_counts(campaign: Campaign) -> dict[str, int]:
    return message_status_counts(Message.objects.filter(campaign=campaign))


def failure_reasons(messages: QuerySet[Message], *, limit: int = 10) -> list[dict]:
    """The commonest (error_code, error_message) pairs among the failed ``messages``, most frequent first."""
    return [
        dict(row)
        for row in messages.filter(status=MessageStatus.FAILED)
        .order_by()
        .values("error_code", "error_message")
        .annotate(n=Count("id"))
        .order_by("-n", "error_code", "error_message")[:limit]
    ]


# --- campaigns ----------------------------------------------------------------------------------------------


def campaigns_waiting_for(user) -> QuerySet[Campaign]:
    """Campaigns this officer may approve: waiting, and made by somebody else (maker-checker)."""
    return (
        Campaign.objects.filter(status=CampaignStatus.PENDING)
        .exclude(created_by=user)
        .select_related("created_by")
        .order_by("created_at", "id")
    )


def campaign_list(*, query: str = "", status: str = "") -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("created_by", "approved_by").order_by("-created_at", "-id")
    if query:
        campaigns = campaigns.filter(title__icontains=query)
    if status:
        campaigns = campaigns.filter(status=status)
    return campaigns


def campaign_get(pk: int) -> Campaign | None:
    return Campaign.objects.select_related("created_by", "approved_by", "job").filter(pk=pk).first()


def campaign_history(campaign: Campaign) -> list[AuditEvent]:
    """The campaign's own audit events (made, approved or rejected, started, paused, resumed, cancelled,
    completed), oldest first: who did what and when, including who rejected it (not kept on the row)."""
    return list(
        AuditEvent.objects.filter(target_type="sms.campaign", target_id=str(campaign.pk))
        .exclude(action="sms.batch_handed_over")
        .select_related("actor")
        .order_by("seq")[:100]
    )


# --- contacts -----------------------------------------------------------------------------------------------


def contact_list(*, query: str = "", group_id: int | None = None) -> QuerySet[Contact]:
    """Contacts whose name, number or organisation contains ``query``. A number is matched on its digits
    as people write them: "0300 1234567" finds +923001234567."""
    contacts = Contact.objects.prefetch_related("groups").order_by("name", "id")
    if query:
        found = Q(name__icontains=query) | Q(phone__contains=query) | Q(organisation__icontains=query)
        digits = "".join(c for c in to_ascii_digits(query) if c.isdigit()).lstrip("0")
        if len(digits) >= 4:
            found |= Q(phone__contains=digits)
        contacts = contacts.filter(found)
    if group_id is not None:
        contacts = contacts.filter(groups=group_id)
    return contacts


def group_list() -> QuerySet[ContactGroup]:
    return ContactGroup.objects.annotate(size=Count("contacts")).order_by("name")


# --- messages of one number ---------------------------------------------------------------------------------


def messages_to(phone: str) -> QuerySet[Message]:
    return Message.objects.filter(to=phone).select_related("campaign").order_by("-id")


def inbound_from(phone: str, *, limit: int = 50) -> list[InboundMessage]:
    return list(InboundMessage.objects.filter(sender=phone).order_by("-received_at")[:limit])


def optout_get(phone: str) -> OptOut | None:
    return OptOut.objects.filter(phone=phone).first()


def events_of(message_ids: list[int]) -> dict[int, list[MessageEvent]]:
    """The events of these messages (one query), each message's in order."""
    history: dict[int, list[MessageEvent]] = {pk: [] for pk in message_ids}
    for event in MessageEvent.objects.filter(message_id__in=message_ids).order_by("message_id", "id"):
        history[event.message_id].append(event)
    return history


@dataclass(frozen=True)
class ExportRow:
    message: Message
    events: list[MessageEvent]


def campaign_export_rows(campaign: Campaign, *, batch: int = EXPORT_BATCH) -> Iterator[ExportRow]:
    """Every message of the campaign in id order with its events, read ``batch`` messages at a time (keyset
    pagination: two queries a batch), so a 300,000-message campaign never sits in memory."""
    columns = ["id", "to", "language", "segments", "status", "provider_id", "error_code", "error_message"]
    columns += ["created_at", "sent_at", "finished_at"]
    last = 0
    while True:
        messages = list(Message.objects.filter(campaign=campaign, pk__gt=last).order_by("pk").only(*columns)[:batch])
        if not messages:
            return
        history = events_of([m.pk for m in messages])
        for message in messages:
            yield ExportRow(message, history[message.pk])
        last = messages[-1].pk


# --- reports ------------------------------------------------------------------------------------------------


def report_since(days: int) -> datetime.datetime:
    """Midnight in Pakistan ``days - 1`` days ago: the period is today and the days before it, whole."""
    return today_start() - datetime.timedelta(days=days - 1)


def _outcomes() -> dict:
    return {
        "total": Count("id"),
        "sent": Count("id", filter=Q(status=MessageStatus.SENT)),
        "delivered": Count("id", filter=Q(status=MessageStatus.DELIVERED)),
        "failed": Count("id", filter=Q(status=MessageStatus.FAILED)),
    }


def _with_rate(row: dict) -> dict:
    """Delivered % of the messages that left us (sent, delivered or failed); None when none did."""
    left = row["sent"] + row["delivered"] + row["failed"]
    row["other"] = row["total"] - left
    row["rate"] = round(100 * row["delivered"] / left, 1) if left else None
    return row


def delivery_by_day(days: int) -> list[dict]:
    """One row per day of the period (days without messages included, as zeros), oldest first: total, sent
    (no report yet), delivered, failed, other (queued, sending, cancelled) and the delivered %. Days are
    Pakistan's calendar days of the message's creation."""
    since = report_since(days)
    found = {
        row["day"]: row
        for row in Message.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=KARACHI))
        .order_by()
        .values("day")
        .annotate(**_outcomes())
    }
    first = since.date()
    rows = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        row = found.get(day) or {"day": day, "total": 0, "sent": 0, "delivered": 0, "failed": 0}
        rows.append(_with_rate(dict(row)))
    return rows


def delivery_by_provider(days: int) -> list[dict]:
    rows = (
        Message.objects.filter(created_at__gte=report_since(days))
        .exclude(provider="")
        .order_by()
        .values("provider")
        .annotate(**_outcomes())
        .order_by("provider")
    )
    return [_with_rate(dict(row)) for row in rows]


def failure_reasons_since(days: int, *, limit: int = 15) -> list[dict]:
    """Failures of the period by error code, most frequent first, with one of the code's messages as an
    example (one query)."""
    rows = (
        Message.objects.filter(created_at__gte=report_since(days), status=MessageStatus.FAILED)
        .order_by()
        .values("error_code")
        .annotate(n=Count("id"), example=Max("error_message"))
        .order_by("-n", "error_code")[:limit]
    )
    return [dict(row) for row in rows]
