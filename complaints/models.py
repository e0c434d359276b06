"""Complaints (issue 7, being built): categories, the yearly ticket counter, complaints and their timeline.
Filing works (services.complaint_file); desks, movements, SLAs, tracking and the screens are not built yet."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
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


class TicketCounter(models.Model):
    """The year's running number of tickets; the row is locked while a complaint takes the next one."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("ticket counter")
        verbose_name_plural = _("ticket counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


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
    addressed_to = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("addressed to"))
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("office holding it")
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
        indexes = [models.Index(fields=["office", "status", "-created_at"], name="complaint_inbox")]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return self.ticket


class EventKind(models.TextChoices):
    FILED = "filed", _("Filed")


class ComplaintEvent(models.Model):
    """The complaint's timeline, desk by desk. Append-only (a PostgreSQL trigger)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("what"), max_length=20, choices=EventKind.choices)
    is_public = models.BooleanField(_("shown to the complainant"), default=True)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("text"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
