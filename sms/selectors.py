"""Reads for the SMS screens: counts by status, failure reasons, per-day delivery figures, message history."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Campaign, Message, MessageEvent, MessageStatus

KARACHI = ZoneInfo("Asia/Karachi")


def status_counts(messages: QuerySet[Message]) -> dict[str, int]:
    found = dict(messages.order_by().values_list("status").annotate(n=Count("id")))
    return {status: found.get(status, 0) for status in MessageStatus.values}


def campaign_counts(campaign: Campaign) -> dict[str, int]:
    return status_counts(Message.objects.filter(campaign=campaign))


def failure_reasons(messages: QuerySet[Message], limit: int = 10) -> list[dict]:
    return list(
        messages.filter(status=MessageStatus.FAILED)
        .order_by()
        .values("error_code")
        .annotate(n=Count("id"))
        .order_by("-n", "error_code")[:limit]
    )


def campaigns_waiting_for(user) -> QuerySet[Campaign]:
    return Campaign.objects.filter(status="pending").exclude(created_by=user)


def delivery_by_day(days: int) -> list[dict]:
    since = timezone.now() - timedelta(days=days)
    rows = (
        Message.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=KARACHI))
        .values("day")
        .annotate(
            total=Count("id"),
            sent=Count("id", filter=Q(status=MessageStatus.SENT)),
            delivered=Count("id", filter=Q(status=MessageStatus.DELIVERED)),
            failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
        )
        .order_by("day")
    )
    out = []
    for row in rows:
        finished = row["delivered"] + row["failed"]
        row["rate"] = round(100 * row["delivered"] / finished) if finished else None
        out.append(row)
    return out


def delivery_by_provider(days: int) -> list[dict]:
    since = timezone.now() - timedelta(days=days)
    return list(
        Message.objects.filter(created_at__gte=since)
        .exclude(provider="")
        .values("provider")
        .annotate(
            total=Count("id"),
            delivered=Count("id", filter=Q(status=MessageStatus.DELIVERED)),
            failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
        )
        .order_by("provider")
    )


def messages_to(phone: str) -> QuerySet[Message]:
    return Message.objects.filter(to=phone).select_related("campaign").order_by("-id")


def events_of(message_ids: list[int]) -> dict[int, list[MessageEvent]]:
    history: dict[int, list[MessageEvent]] = {pk: [] for pk in message_ids}
    for event in MessageEvent.objects.filter(message_id__in=message_ids).order_by("message_id", "id"):
        history[event.message_id].append(event)
    return history
