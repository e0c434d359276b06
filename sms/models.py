"""SMS tables: contacts and their groups, opt-outs, campaigns, messages with their event history, and
inbound messages. Workflows live in services.py; message states follow sms/states.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    URDU = "ur", _("Urdu")
    ENGLISH = "en", _("English")


class ContactGroup(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    name_ur = models.CharField(_("name in Urdu"), max_length=80, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact group")
        verbose_name_plural = _("contact groups")

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("mobile (E.164)"), max_length=16, unique=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.URDU)
    organisation = models.CharField(_("organisation"), max_length=120, blank=True)
    groups = models.ManyToManyField(ContactGroup, related_name="contacts", blank=True, verbose_name=_("groups"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})"


class OptOut(models.Model):
    """A number that asked for no more campaign messages (STOP / بند). START removes the row; both are audited."""

    phone = models.CharField(_("mobile (E.164)"), max_length=16, unique=True)
    keyword = models.CharField(_("keyword"), max_length=30, blank=True)
    created_at = models.DateTimeField(_("opted out at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")

    def __str__(self) -> str:
        return self.phone


class CampaignStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved, scheduled")
    REJECTED = "rejected", _("Rejected")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(models.Model):
    title = models.CharField(_("title"), max_length=150)
    # Each recipient gets the template of their language, or the other one when theirs is empty.
    template_ur = models.TextField(_("message in Urdu"), blank=True)
    template_en = models.TextField(_("message in English"), blank=True)
    audience = models.CharField(_("audience"), max_length=120)  # a key of sms.audiences, e.g. "group:7"
    audience_label = models.CharField(_("audience"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.PENDING
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)  # None: as soon as approved
    expires_at = models.DateTimeField(_("too old to send after"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    decided_at = models.DateTimeField(_("approved or rejected at"), null=True, blank=True)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)
    job = models.OneToOneField(
        "core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("progress")
    )
    provider = models.CharField(_("provider"), max_length=20, blank=True)
    recipients = models.PositiveIntegerField(_("messages created"), default=0)
    skipped_opted_out = models.PositiveIntegerField(_("skipped: opted out"), default=0)
    skipped_invalid = models.PositiveIntegerField(_("skipped: invalid number"), default=0)
    segments = models.PositiveBigIntegerField(_("segments"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(template_ur="", template_en=""),
                name="sms_campaign_has_a_template",
                violation_error_message=_("Write the message in Urdu, in English or in both."),
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("created_by")),
                name="sms_campaign_maker_is_not_checker",
                violation_error_message=_("A campaign is approved by another officer than the one who made it."),
            ),
        ]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.title


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Purpose(models.TextChoices):
    CAMPAIGN = "campaign", _("Campaign")
    NOTIFICATION = "notification", _("Notification")  # a status change the person asked to follow
    OTP = "otp", _("One-time code")
    REQUIRED = "required", _("Required by law")  # e.g. a roll-number slip: sent even after STOP
    REPLY = "reply", _("Reply to an inbound message")


class Message(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="messages", verbose_name=_("campaign")
    )
    to = models.CharField(_("to"), max_length=16, db_index=True)
    body = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.URDU)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    status = models.CharField(_("status"), max_length=9, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    encoding = models.CharField(_("encoding"), max_length=5)
    segments = models.PositiveSmallIntegerField(_("segments"))
    error_count = models.PositiveSmallIntegerField(_("errors"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    expires_at = models.DateTimeField(_("too old to send after"))
    # Who holds a message in "sending", and until when (a dead worker's lease runs out; see services.recover).
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(_("provider"), max_length=20, blank=True)
    provider_id = models.CharField(_("provider's id"), max_length=64, blank=True)
    error_code = models.CharField(_("error code"), max_length=30, blank=True)
    error_message = models.CharField(_("error"), max_length=300, blank=True)
    despite_opt_out = models.BooleanField(_("sent despite an opt-out"), default=False)
    # Callers of message_send may name the message (e.g. "complaint:42:resolved"): a repeat returns the first.
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    finished_at = models.DateTimeField(_("delivered or failed"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "to"],
                condition=Q(campaign__isnull=False),
                name="sms_message_once_per_campaign",
                violation_error_message=_("A campaign sends one message to a number."),
            ),
            models.CheckConstraint(condition=Q(segments__gte=1), name="sms_message_has_text"),
        ]
        indexes = [
            # The dispatcher's claim: the next due messages of a campaign (or the single ones).
            models.Index(
                fields=["campaign", "next_attempt_at"], condition=Q(status="queued"), name="sms_message_queued"
            ),
            # The sweep: leases that ran out.
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="sms_message_sending"),
            models.Index(fields=["campaign", "status"], name="sms_message_campaign_status"),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"#{self.pk} → {self.to} ({self.status})"


class MessageEvent(models.Model):
    """One transition of one message: the audit trail of every message (append-only on PostgreSQL).
    Campaign decisions and each dispatched batch's digest go through core.audit as well."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("at"))
    status = models.CharField(_("status"), max_length=9, choices=MessageStatus.choices)
    source = models.CharField(_("source"), max_length=12)  # dispatcher, report, sweep, staff, system
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        ordering = ["message_id", "id"]
        verbose_name = _("message event")
        verbose_name_plural = _("message events")

    def __str__(self) -> str:
        return f"{self.message_id} {self.status} {self.at:%Y-%m-%d %H:%M:%S}"


class InboundMessage(models.Model):
    provider_id = models.CharField(_("provider's id"), max_length=64, unique=True)
    sender = models.CharField(_("from"), max_length=32, db_index=True)
    recipient = models.CharField(_("to"), max_length=32, blank=True)
    body = models.TextField(_("text"))
    handler = models.CharField(_("answered by"), max_length=40, blank=True)
    rate_limited = models.BooleanField(_("rate limited"), default=False)
    reply = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound", verbose_name=_("reply")
    )
    # The answer given in the webhook's response (SMS_INBOUND_REPLY=twiml), when there is no reply Message.
    reply_text = models.TextField(_("reply given in the webhook's answer"), blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")

    def __str__(self) -> str:
        return f"{self.sender}: {self.body[:30]}"


class OtpChallenge(models.Model):
    """A one-time code sent to a mobile number for a purpose (filing a complaint, signing in to verify an
    entry). Only a keyed hash of the code is kept; the public id is what a form carries between the two steps."""

    id = models.UUIDField(primary_key=True, editable=False)
    phone = models.CharField(_("mobile (E.164)"), max_length=16, db_index=True)
    purpose = models.SlugField(_("purpose"), max_length=40)
    code_hash = models.CharField(_("code (hash)"), max_length=64)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("message")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")

    def __str__(self) -> str:
        return f"{self.purpose} {self.phone} {self.created_at:%Y-%m-%d %H:%M}"
