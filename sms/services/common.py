"""What the sms services share: audited action names, the event writer, the status-callback address."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core import audit
from core.exceptions import PermissionDeniedError
from core.selectors import has_role

from ..models import MessageEvent

CONTACTS_IMPORTED = audit.register("sms.contacts_imported", "Contacts were imported from a CSV file")
OPTED_OUT = audit.register("sms.opted_out", "A number asked for no more campaign messages")
OPTED_IN = audit.register("sms.opted_in", "A number asked for campaign messages again")
CAMPAIGN_CREATED = audit.register("sms.campaign_created", "An SMS campaign was created (waits for approval)")
CAMPAIGN_APPROVED = audit.register("sms.campaign_approved", "An SMS campaign was approved by a second officer")
CAMPAIGN_REJECTED = audit.register("sms.campaign_rejected", "An SMS campaign was rejected")
CAMPAIGN_STARTED = audit.register("sms.campaign_started", "An SMS campaign's messages were made and sending began")
CAMPAIGN_PAUSED = audit.register("sms.campaign_paused", "An SMS campaign was paused")
CAMPAIGN_RESUMED = audit.register("sms.campaign_resumed", "An SMS campaign was resumed")
CAMPAIGN_CANCELLED = audit.register("sms.campaign_cancelled", "An SMS campaign was cancelled")
CAMPAIGN_COMPLETED = audit.register("sms.campaign_completed", "Every message of an SMS campaign was handed over")
BATCH_HANDED_OVER = audit.register(
    "sms.batch_handed_over", "A batch of messages was handed to the provider (digest of ids, numbers and outcomes)"
)
LEASES_RECOVERED = audit.register("sms.leases_recovered", "Messages held by a stopped worker were reconciled")


def require_officer(actor) -> None:
    if not has_role(actor, "sms_officer"):
        raise PermissionDeniedError("not_sms_officer", "Only an SMS officer may do this.")


def add_events(rows: Iterable[tuple[int, str, str, str]], *, at=None) -> None:
    """Append (message id, status, source, detail) events."""
    at = at or timezone.now()
    MessageEvent.objects.bulk_create(
        [MessageEvent(message_id=m, at=at, status=s, source=src, detail=d[:300]) for m, s, src, d in rows],
        batch_size=2000,
    )


@functools.cache
def _status_path() -> str:
    return reverse("sms_hooks:status")


def status_callback(message_id: int) -> str:
    """Where the provider reports delivery of our message ``message_id`` (only with a public address)."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{_status_path()}?m={message_id}" if base else ""
