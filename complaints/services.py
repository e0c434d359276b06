"""Complaint use cases. Built so far: filing (``complaint_file``). Desks, movements, replies, SLAs and
escalation are issue 7's next steps."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from core import audit
from core.cnic import InvalidCNIC
from core.cnic import normalize as normalize_cnic
from core.exceptions import DomainError
from core.models import Office
from core.phone import InvalidPhone, normalize_mobile
from sms.services import message_send, otp_verified

from .models import Category, Complaint, ComplaintEvent, EventKind, TicketCounter
from .ticket import ticket_number

FILED = audit.register("complaints.filed", "A complaint was filed")
OTP_PURPOSE = "complaint"
MAX_DESCRIPTION = 5_000
VERIFIED_FOR = timedelta(minutes=30)  # a verified number files within this long


def _ticket_key() -> bytes:
    return (settings.COMPLAINTS_TICKET_KEY or settings.SECRET_KEY).encode()


def _checked(data: dict) -> dict:
    """The clean fields, or one DomainError naming every field that breaks a rule."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    name = (data.get("name") or "").strip()
    if not name or len(name) > 100:
        fail("name", _("Enter your name (at most 100 characters)."))
    clean["name"] = name
    try:
        clean["cnic"] = normalize_cnic(data.get("cnic") or "")
    except InvalidCNIC:
        fail("cnic", _("A CNIC has 13 digits, for example 12345-1234567-1."))
    try:
        clean["mobile"] = normalize_mobile(data.get("mobile") or "")
    except InvalidPhone as exc:
        fail("mobile", str(exc))
    email = (data.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            fail("email", _("Enter a valid email address, or leave it empty."))
    clean["email"] = email
    choices = (
        ("office", Office, _("Choose the office from the list.")),
        ("category", Category, _("Choose a category from the list.")),
    )
    for field, model, message in choices:
        value = str(data.get(field) or "")
        found = model.objects.filter(pk=int(value), is_active=True).first() if value.isdigit() else None
        if found is None:
            fail(field, message)
        clean[field] = found
    subject = (data.get("subject") or "").strip()
    if not subject or len(subject) > 200:
        fail("subject", _("Enter a subject (at most 200 characters)."))
    clean["subject"] = subject
    description = (data.get("description") or "").strip()
    if not description or len(description) > MAX_DESCRIPTION:
        fail("description", _("Describe the complaint (at most %(n)s characters).") % {"n": f"{MAX_DESCRIPTION:,}"})
    clean["description"] = description
    lat, lon = data.get("latitude"), data.get("longitude")
    clean["latitude"] = clean["longitude"] = None
    if lat not in (None, "") or lon not in (None, ""):
        try:
            clean["latitude"], clean["longitude"] = Decimal(str(lat)), Decimal(str(lon))
            if not (-90 <= clean["latitude"] <= 90 and -180 <= clean["longitude"] <= 180):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            fail("latitude", _("Give a latitude and a longitude in degrees, or neither."))
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError("invalid", first, fields=errors)
    return clean


@transaction.atomic(durable=True)
def complaint_file(*, data: dict, otp_challenge_id: uuid.UUID | str, language: str = "ur") -> Complaint:
    """File a complaint whose mobile number was verified by a one-time code (sms.services.otp_verify, purpose
    "complaint"); the complainant gets the ticket number by SMS. Nothing is stored when any rule is broken."""
    clean = _checked(data)
    challenge = otp_verified(
        challenge_id=otp_challenge_id, purpose=OTP_PURPOSE, phone=clean["mobile"], within=VERIFIED_FOR
    )
    if challenge is None:
        raise DomainError("otp_required", _("Confirm your mobile number with the code we send you."), field="mobile")
    now = timezone.now()
    if Complaint.objects.filter(otp=challenge).exists():
        raise DomainError("otp_used", _("This code was already used for a complaint. Ask for a new one."), field="code")
    sequence = _next_sequence(now.year)
    complaint = Complaint.objects.create(
        ticket=ticket_number(now.year, sequence, _ticket_key()),
        year=now.year,
        sequence=sequence,
        language=language if language in ("ur", "en") else "ur",
        addressed_to=clean["office"],
        office=clean["office"],
        otp=challenge,
        created_at=now,
        **{k: v for k, v in clean.items() if k not in ("office",)},
    )
    ComplaintEvent.objects.create(complaint=complaint, at=now, kind=EventKind.FILED, office=complaint.office)
    with override(complaint.language):
        body = _("ECP: your complaint is registered as %(ticket)s. Keep this number to follow it.") % {
            "ticket": complaint.ticket
        }
    message_send(
        to=complaint.mobile, body=body, language=complaint.language, idempotency_key=f"complaint:{complaint.ticket}"
    )
    audit.record(
        action=FILED,
        target=complaint,
        data={"ticket": complaint.ticket, "office": complaint.office.code, "category": complaint.category.code},
    )
    return complaint


def _next_sequence(year: int) -> int:
    """The year's next running number (0-based), under a lock on the year's counter row."""
    table = TicketCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (year, last) VALUES (%s, 0) ON CONFLICT (year) DO NOTHING", [year])  # noqa: S608
    counter = TicketCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last - 1
