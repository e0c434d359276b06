"""Complaints (issue 7): categories and their SLA plans, desks, canned responses, the yearly ticket counter,
complaints with their attachments and their timeline (append-only). Every change goes through services.py."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Office
from sms.models import OtpChallenge


class Category(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_ur = models.CharField(_("name in Urdu"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Desk(models.Model):
    """A desk of an office. The public timeline names the desk, never the officer sitting at it."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="desks", verbose_name=_("office"))
    name = models.CharField(_("name"), max_length=80)
    name_ur = models.CharField(_("name in Urdu"), max_length=80, blank=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaint_desks",
        verbose_name=_("officer"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["office", "name"]
        constraints = [models.UniqueConstraint(fields=["office", "name"], name="desk_unique_name_per_office")]
        verbose_name = _("desk")
        verbose_name_plural = _("desks")

    def __str__(self) -> str:
        return f"{self.office} — {self.name}"


class SlaPlan(models.Model):
    """Target times in office hours for a priority, for one category or (category empty) for all the others."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="sla_plans", verbose_name=_("category")
    )
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    first_response_hours = models.DecimalField(_("first response (office hours)"), max_digits=6, decimal_places=2)
    resolution_hours = models.DecimalField(_("resolution (office hours)"), max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["category", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "priority"], name="sla_unique_per_category", condition=Q(category__isnull=False)
            ),
            models.UniqueConstraint(fields=["priority"], name="sla_unique_default", condition=Q(category__isnull=True)),
            models.CheckConstraint(
                condition=Q(first_response_hours__gt=0) & Q(resolution_hours__gte=F("first_response_hours")),
                name="sla_hours_sensible",
                violation_error_message=_("Hours must be positive, and resolution no shorter than first response."),
            ),
        ]
        verbose_name = _("SLA plan")
        verbose_name_plural = _("SLA plans")

    def __str__(self) -> str:
        return f"{self.category or '*'} / {self.priority}: {self.first_response_hours} h, {self.resolution_hours} h"


class CannedResponse(models.Model):
    title = models.CharField(_("title"), max_length=120, unique=True)
    body = models.TextField(_("text in English"))
    body_ur = models.TextField(_("text in Urdu"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.title


class TicketCounter(models.Model):
    """The year's running number of tickets; the row is locked while a complaint takes the next one."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("ticket counter")
        verbose_name_plural = _("ticket counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for the complainant")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class Complaint(models.Model):
    ticket = models.CharField(_("ticket number"), max_length=16, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("number in the year"))
    name = models.CharField(_("name"), max_length=100)
    cnic = models.CharField(_("CNIC"), max_length=13)
    mobile = models.CharField(_("mobile (E.164)"), max_length=16)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(_("language"), max_length=2, default="ur")
    addressed_to = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("addressed to"), db_index=False
    )
    # db_index=False: the inbox index leads with the office (and the desk index with the desk).
    office = models.ForeignKey(
        Office,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("office holding it"),
        db_index=False,
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("category")
    )
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    desk = models.ForeignKey(
        Desk,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("desk"),
        db_index=False,
    )
    # SLA: each deadline is empty once met, and while the clock is paused (waiting on the complainant), when the
    # office time left is kept in *_left instead. *_warn_at is the 80 % moment (empty: already past it when the
    # clock started); *_warned says the warning was given. The flags are in no index, so the sweep's warnings
    # are HOT updates (with the table's fillfactor, migration 0004).
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_left = models.DurationField(null=True, blank=True, editable=False)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_left = models.DurationField(null=True, blank=True, editable=False)
    first_response_warned = models.BooleanField(default=False, db_default=False, editable=False)
    resolution_warned = models.BooleanField(default=False, db_default=False, editable=False)
    breaches = models.PositiveSmallIntegerField(_("deadlines missed"), default=0)
    first_response_missed = models.BooleanField(_("first response late"), default=False, db_default=False)
    escalations = models.PositiveSmallIntegerField(_("escalations"), default=0)
    responded_at = models.DateTimeField(_("first responded"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last change"), default=timezone.now)
    # The verified one-time code the complaint was filed with: one complaint per verification.
    otp = models.OneToOneField(OtpChallenge, on_delete=models.PROTECT, related_name="+", verbose_name=_("code"))
    created_at = models.DateTimeField(_("filed"))

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="complaint_unique_sequence_per_year"),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (Q(latitude__isnull=False) & Q(longitude__isnull=False)),
                name="complaint_lat_lon_together",
                violation_error_message=_("Give both latitude and longitude, or neither."),
            ),
        ]
        indexes = [
            models.Index(fields=["office", "status", "-created_at"], name="complaint_inbox"),
            models.Index(fields=["desk", "status", "-created_at"], name="complaint_desk_inbox"),
            # The reports read a period's complaints from these two alone (index-only scans on PostgreSQL).
            models.Index(
                fields=["created_at"],
                name="complaint_filed_report",
                include=[
                    "office",
                    "category",
                    "status",
                    "breaches",
                    "escalations",
                    "responded_at",
                    "first_response_missed",
                    "id",
                ],
            ),
            models.Index(
                fields=["resolved_at"],
                name="complaint_resolved_report",
                include=["office", "category", "desk", "created_at", "breaches", "id"],
            ),
            # The complaints open now (a few per cent of all), for ageing and workload.
            models.Index(
                fields=["office", "desk", "created_at", "id"],
                name="complaint_open",
                condition=Q(status__in=["new", "in_progress", "waiting"]),
            ),
            # The SLA sweep reads only the rows with a deadline set (open, not paused).
            models.Index(
                fields=["first_response_due"], name="complaint_fr_due", condition=Q(first_response_due__isnull=False)
            ),
            models.Index(
                fields=["resolution_due"], name="complaint_res_due", condition=Q(resolution_due__isnull=False)
            ),
            models.Index(
                fields=["first_response_warn_at"],
                name="complaint_fr_warn",
                condition=Q(first_response_warn_at__isnull=False),
            ),
            models.Index(
                fields=["resolution_warn_at"], name="complaint_res_warn", condition=Q(resolution_warn_at__isnull=False)
            ),
        ]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return self.ticket


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the uploaded name: a random one under the complaint's year.
    return f"complaints/{instance.complaint.year}/{uuid.uuid4().hex}.{instance.extension}"


class Attachment(models.Model):
    """A file sent with the complaint: checked by content (complaints/attachments.py), served to staff only."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=120)
    name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}.get(self.content_type, "bin")


class EventKind(models.TextChoices):
    FILED = "filed", _("Filed")
    ASSIGNED = "assigned", _("Given to a desk")
    FORWARDED = "forwarded", _("Forwarded to another office")
    INFO_REQUESTED = "info_requested", _("Information asked for")
    INFO_RECEIVED = "info_received", _("Information given")
    NOTE = "note", _("Internal note")
    REPLY = "reply", _("Reply")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    SLA_WARNING = "sla_warning", _("Deadline near")
    ESCALATED = "escalated", _("Escalated")
    DEADLINE_MISSED = "deadline_missed", _("Deadline missed")
    PRIORITY = "priority", _("Priority changed")


# Events that move the complaint to another office or desk: the stops of the public timeline.
MOVEMENTS = (EventKind.FILED, EventKind.ASSIGNED, EventKind.FORWARDED, EventKind.ESCALATED)


class ComplaintEvent(models.Model):
    """The complaint's timeline, desk by desk. Append-only (a PostgreSQL trigger)."""

    # db_index=False: the timeline index leads with the complaint.
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events", db_index=False)
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("what"), max_length=20, choices=EventKind.choices)
    is_public = models.BooleanField(_("shown to the complainant"), default=True)
    # Where the complaint is after the event.
    # No single-column indexes on these (the timeline is read by complaint): events are written in bulk by the
    # sweep, and offices, desks and users are deactivated, not deleted.
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office"), db_index=False
    )
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    text = models.TextField(_("text"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["complaint", "at"], name="complaint_event_timeline")]
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
