"""Complaint use cases: filing, the desks' movements and replies, the complainant's answers and reopening, and
the SLA sweep (warnings and escalation). Each locks the complaint row, checks the state and the actor's scope,
appends timeline events, audits, and texts the complainant at every public change. A refusal changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from core import audit
from core.cnic import InvalidCNIC
from core.cnic import normalize as normalize_cnic
from core.exceptions import ConflictError, DomainError
from core.models import Office
from core.models.offices import SECRETARIAT_KINDS
from core.phone import InvalidPhone, normalize_mobile
from sms.services import message_send, otp_verified

from . import attachments as files
from . import selectors, sla
from .models import (
    OPEN_STATUSES,
    Attachment,
    CannedResponse,
    Category,
    Complaint,
    ComplaintEvent,
    Desk,
    EventKind,
    Status,
    TicketCounter,
)
from .ticket import ticket_number

FILED = audit.register("complaints.filed", "A complaint was filed")
ASSIGNED = audit.register("complaints.assigned", "A complaint was given to a desk")
FORWARDED = audit.register("complaints.forwarded", "A complaint was forwarded to another office")
INFO_REQUESTED = audit.register("complaints.info_requested", "The complainant was asked for information")
INFO_RECEIVED = audit.register("complaints.info_received", "The complainant gave information")
NOTED = audit.register("complaints.noted", "An internal note was added to a complaint")
REPLIED = audit.register("complaints.replied", "A public reply was given on a complaint")
RESOLVED = audit.register("complaints.resolved", "A complaint was resolved")
CLOSED = audit.register("complaints.closed", "A complaint was closed")
REOPENED = audit.register("complaints.reopened", "The complainant reopened a complaint")
ESCALATED = audit.register("complaints.escalated", "Complaints past a deadline were escalated one office up")
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


ATTACHMENT_REFUSALS = {
    "empty": gettext_lazy("%(name)s is empty."),
    "too_large": gettext_lazy("%(name)s is larger than %(limit)s."),
    "wrong_type": gettext_lazy("%(name)s is not a JPEG or PNG picture or a PDF document."),
    "too_many_pixels": gettext_lazy("%(name)s has more pixels than a picture may have (%(limit)s megapixels)."),
    "unreadable": gettext_lazy("%(name)s is damaged or incomplete and cannot be read."),
}


def _checked_attachments(uploads: list[tuple[str, bytes]]) -> list[tuple[str, files.Checked, bytes]]:
    limit = settings.COMPLAINTS_MAX_ATTACHMENTS
    if len(uploads) > limit:
        raise DomainError("too_many_files", _("Attach at most %(n)s files.") % {"n": limit}, field="attachments")
    checked = []
    for name, data in uploads:
        shown = (name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:100]
        try:
            result = files.check(
                data,
                max_bytes=settings.COMPLAINTS_ATTACHMENT_MAX_BYTES,
                max_pixels=settings.COMPLAINTS_ATTACHMENT_MAX_PIXELS,
            )
        except files.Refused as refused:
            limit_shown = (
                f"{settings.COMPLAINTS_ATTACHMENT_MAX_PIXELS / 1e6:g}"
                if refused.code == "too_many_pixels"
                else filesizeformat(settings.COMPLAINTS_ATTACHMENT_MAX_BYTES)
            )
            message = str(ATTACHMENT_REFUSALS[refused.code]) % {"name": shown, "limit": limit_shown}
            raise DomainError(f"attachment_{refused.code}", message, field="attachments") from None
        checked.append((shown, result, data))
    return checked


def complaint_check(*, data: dict, attachments: list[tuple[str, bytes]] = ()) -> None:  # type: ignore[assignment]
    """What complaint_file would refuse in the fields and files, before a code is sent: one DomainError naming
    every field that breaks a rule. Stores nothing."""
    fields: dict[str, list[str]] = {}
    try:
        _checked(data)
    except DomainError as exc:
        fields.update(exc.fields)
    try:
        _checked_attachments(list(attachments))
    except DomainError as exc:
        fields.update(exc.fields)
    if fields:
        raise DomainError("invalid", next(iter(fields.values()))[0], fields=fields)


@transaction.atomic(durable=True)
def complaint_file(
    *,
    data: dict,
    otp_challenge_id: uuid.UUID | str,
    language: str = "ur",
    attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
) -> Complaint:
    """File a complaint whose mobile number was verified by a one-time code (sms.services.otp_verify, purpose
    "complaint"), with up to COMPLAINTS_MAX_ATTACHMENTS files (name, bytes); the complainant gets the ticket
    number by SMS. Nothing is stored when any rule is broken."""
    clean = _checked(data)
    uploads = _checked_attachments(list(attachments))
    challenge = otp_verified(
        challenge_id=otp_challenge_id, purpose=OTP_PURPOSE, phone=clean["mobile"], within=VERIFIED_FOR
    )
    if challenge is None:
        raise DomainError("otp_required", _("Confirm your mobile number with the code we send you."), field="mobile")
    now = timezone.now()
    if Complaint.objects.filter(otp=challenge).exists():
        raise DomainError("otp_used", _("This code was already used for a complaint. Ask for a new one."), field="code")
    sequence = _next_sequence(now.year)
    calendar, plans = selectors.sla_context()
    plan = sla.plan_for(plans, clean["category"].pk, "normal")
    first = sla.start(calendar, now, plan.first_response)
    resolution = sla.start(calendar, now, plan.resolution)
    complaint = Complaint.objects.create(
        ticket=ticket_number(now.year, sequence, _ticket_key()),
        year=now.year,
        sequence=sequence,
        language=language if language in ("ur", "en") else "ur",
        addressed_to=clean["office"],
        office=clean["office"],
        otp=challenge,
        created_at=now,
        updated_at=now,
        first_response_due=first.due,
        first_response_warn_at=first.warn_at,
        resolution_due=resolution.due,
        resolution_warn_at=resolution.warn_at,
        **{k: v for k, v in clean.items() if k not in ("office",)},
    )
    for name, checked, content in uploads:
        attachment = Attachment(
            complaint=complaint, name=name, content_type=checked.content_type, size=checked.size, sha256=checked.sha256
        )
        attachment.file.save(f"upload.{attachment.extension}", ContentFile(content), save=False)
        attachment.save()
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
        data={
            "ticket": complaint.ticket,
            "office": complaint.office.code,
            "category": complaint.category.code,
            "attachments": [u[1].sha256 for u in uploads],
        },
    )
    return complaint


def _next_sequence(year: int, count: int = 1) -> int:
    """The year's next running number (0-based; the first of ``count``), under a lock on the year's counter."""
    table = TicketCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (year, last) VALUES (%s, 0) ON CONFLICT (year) DO NOTHING", [year])  # noqa: S608
    counter = TicketCounter.objects.select_for_update().get(year=year)
    counter.last += count
    counter.save(update_fields=["last"])
    return counter.last - count


# --- the desks ------------------------------------------------------------------------------------------------

MAX_TEXT = 5_000
SMS_EXCERPT = 120


def _locked(actor, complaint_id: int) -> Complaint:
    """The complaint, locked for this transaction, if it is in the actor's scope; refused otherwise (and for an
    unknown id alike: no hint whether it exists)."""
    offices = selectors.visible_office_ids(actor)
    qs = Complaint.objects.select_for_update().filter(pk=complaint_id)
    if offices is not None:
        qs = qs.filter(office_id__in=offices)
    complaint = qs.first()
    if complaint is None:
        raise DomainError("not_found", _("This complaint is not in your offices."), status=404)
    return complaint


def _text(text: str, *, required: bool = True, field: str = "text") -> str:
    text = (text or "").strip()
    if required and not text:
        raise DomainError("text_required", _("Write the text first."), field=field)
    if len(text) > MAX_TEXT:
        raise DomainError("text_too_long", _("At most %(n)s characters.") % {"n": f"{MAX_TEXT:,}"}, field=field)
    return text


def _require_open(complaint: Complaint) -> None:
    if complaint.status not in OPEN_STATUSES:
        raise ConflictError(
            "not_open",
            _("This complaint is %(status)s: reopen it first.") % {"status": complaint.get_status_display().lower()},
            status=409,
        )


def _event(complaint: Complaint, kind: str, *, now, actor=None, text: str = "", public: bool = True):
    return ComplaintEvent.objects.create(
        complaint=complaint,
        at=now,
        kind=kind,
        is_public=public,
        office_id=complaint.office_id,
        desk_id=complaint.desk_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        text=text,
    )


def _tracking_url() -> str:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}/complaints/track/" if base else ""


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SMS_EXCERPT else text[: SMS_EXCERPT - 1] + "…"


def _tell(complaint: Complaint, event: ComplaintEvent, message: str, text: str = "") -> None:
    """Text the complainant about a public change (in the complaint's language), once per event."""
    with override(complaint.language):
        body = message % {"ticket": complaint.ticket}
        if text:
            body += "\n" + _excerpt(text)
        url = _tracking_url()
        if url:
            body += "\n" + _("Follow it: %(url)s") % {"url": url}
    message_send(
        to=complaint.mobile, body=body, language=complaint.language, idempotency_key=f"complaint:event:{event.pk}"
    )


def _set_deadline(complaint: Complaint, which: str, deadline: sla.Deadline | None) -> None:
    """Start (or, with None, clear) one of the complaint's deadlines: due, the 80 % moment, no warning yet."""
    setattr(complaint, f"{which}_due", deadline.due if deadline else None)
    setattr(complaint, f"{which}_warn_at", deadline.warn_at if deadline else None)
    setattr(complaint, f"{which}_warned", False)
    setattr(complaint, f"{which}_left", None)


def _mark_responded(complaint: Complaint, now) -> None:
    if complaint.responded_at is None:
        complaint.responded_at = now
    _set_deadline(complaint, "first_response", None)


def _save(complaint: Complaint, now) -> None:
    complaint.updated_at = now
    complaint.save()


def _audit(action: str, complaint: Complaint, actor, **data) -> None:
    audit.record(action=action, target=complaint, actor=actor, data={"ticket": complaint.ticket, **data})


@transaction.atomic
def complaint_assign(*, actor, complaint_id: int, desk_id: int, note: str = "") -> Complaint:
    """Give the complaint to a desk of any office in the actor's scope (a desk of another office moves it there:
    a forward). A new complaint is then in progress, and the complainant is told."""
    complaint = _locked(actor, complaint_id)
    _require_open(complaint)
    note = _text(note, required=False, field="note")
    desk = Desk.objects.filter(pk=desk_id, is_active=True).select_related("office").first()
    if desk is None:
        raise DomainError("bad_desk", _("Choose a desk from the list."), field="desk")
    if desk.office_id != complaint.office_id:
        return _forward(actor, complaint, desk.office, desk, note)
    if desk.pk == complaint.desk_id:
        raise ConflictError("same_desk", _("The complaint is already at this desk."), field="desk", status=409)
    now = timezone.now()
    complaint.desk = desk
    was_new = complaint.status == Status.NEW
    if was_new:
        complaint.status = Status.IN_PROGRESS
    _save(complaint, now)
    event = _event(complaint, EventKind.ASSIGNED, now=now, actor=actor, text=note)
    if was_new:
        _tell(complaint, event, _("ECP: your complaint %(ticket)s is now being handled."))
    _audit(ASSIGNED, complaint, actor, office=complaint.office.code, desk=desk.pk)
    return complaint


@transaction.atomic
def complaint_forward(*, actor, complaint_id: int, office_id: int, note: str) -> Complaint:
    """Send the complaint to another office's inbox, with a note saying why (kept internal)."""
    complaint = _locked(actor, complaint_id)
    _require_open(complaint)
    note = _text(note, field="note")
    office = Office.objects.filter(pk=office_id, is_active=True).first()
    if office is None:
        raise DomainError("bad_office", _("Choose the office from the list."), field="office")
    if office.pk == complaint.office_id:
        raise ConflictError("same_office", _("The complaint is already at this office."), field="office", status=409)
    return _forward(actor, complaint, office, None, note)


def _forward(actor, complaint: Complaint, office: Office, desk: Desk | None, note: str) -> Complaint:
    now = timezone.now()
    source = complaint.office.code
    complaint.office, complaint.desk = office, desk
    _save(complaint, now)
    _event(complaint, EventKind.FORWARDED, now=now, actor=actor)
    if note:
        _event(complaint, EventKind.NOTE, now=now, actor=actor, text=note, public=False)
    _audit(FORWARDED, complaint, actor, source=source, office=office.code, desk=desk.pk if desk else None)
    return complaint


@transaction.atomic
def complaint_request_info(*, actor, complaint_id: int, text: str) -> Complaint:
    """Ask the complainant for information: the SLA clock stops until the answer arrives."""
    complaint = _locked(actor, complaint_id)
    _require_open(complaint)
    if complaint.status == Status.WAITING:
        raise ConflictError(
            "already_waiting", _("The complainant was already asked and has not answered yet."), status=409
        )
    text = _text(text)
    now = timezone.now()
    _mark_responded(complaint, now)
    if complaint.resolution_due is not None:
        calendar = selectors.business_calendar()
        left = sla.left_at(calendar, now, complaint.resolution_due)
        _set_deadline(complaint, "resolution", None)
        complaint.resolution_left = left
    complaint.status = Status.WAITING
    _save(complaint, now)
    event = _event(complaint, EventKind.INFO_REQUESTED, now=now, actor=actor, text=text)
    _tell(complaint, event, _("ECP: about your complaint %(ticket)s we need more information:"), text)
    _audit(INFO_REQUESTED, complaint, actor)
    return complaint


@transaction.atomic
def complaint_answer(*, complaint_id: int, text: str) -> Complaint:
    """The complainant's answer (from the tracking page): the complaint is in progress again and the SLA clock
    restarts with the office time that was left."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint_id)
    if complaint.status != Status.WAITING:
        raise ConflictError(
            "not_waiting", _("Nothing was asked: write to the office through a new complaint."), status=409
        )
    text = _text(text)
    now = timezone.now()
    calendar, plans = selectors.sla_context()
    plan = sla.plan_for(plans, complaint.category_id, complaint.priority)
    if complaint.resolution_left is not None:
        left = complaint.resolution_left
        _set_deadline(complaint, "resolution", sla.start(calendar, now, plan.resolution, left=left))
    complaint.status = Status.IN_PROGRESS
    _save(complaint, now)
    event = _event(complaint, EventKind.INFO_RECEIVED, now=now, text=text)
    _tell(complaint, event, _("ECP: thank you, your answer on %(ticket)s was received."))
    _audit(INFO_RECEIVED, complaint, None)
    return complaint


@transaction.atomic
def complaint_note(*, actor, complaint_id: int, text: str) -> ComplaintEvent:
    """An internal note: never shown to the complainant."""
    complaint = _locked(actor, complaint_id)
    text = _text(text)
    now = timezone.now()
    _save(complaint, now)
    event = _event(complaint, EventKind.NOTE, now=now, actor=actor, text=text, public=False)
    _audit(NOTED, complaint, actor)
    return event


def canned_text(canned_id: int | str | None, language: str) -> str:
    key = str(canned_id or "")
    if not key.isdigit():
        return ""
    canned = CannedResponse.objects.filter(pk=int(key), is_active=True).first()
    if canned is None:
        return ""
    return canned.body_ur if language == "ur" else canned.body


@transaction.atomic
def complaint_reply(*, actor, complaint_id: int, text: str) -> Complaint:
    """A public reply: shown on the tracking page and texted; it meets the first-response deadline."""
    complaint = _locked(actor, complaint_id)
    _require_open(complaint)
    text = _text(text)
    now = timezone.now()
    _mark_responded(complaint, now)
    _save(complaint, now)
    event = _event(complaint, EventKind.REPLY, now=now, actor=actor, text=text)
    _tell(complaint, event, _("ECP replied on your complaint %(ticket)s:"), text)
    _audit(REPLIED, complaint, actor)
    return complaint


@transaction.atomic
def complaint_resolve(*, actor, complaint_id: int, text: str) -> Complaint:
    """Resolved, with the answer for the complainant, who may reopen it within COMPLAINTS_REOPEN_DAYS."""
    complaint = _locked(actor, complaint_id)
    _require_open(complaint)
    text = _text(text)
    now = timezone.now()
    _mark_responded(complaint, now)
    _set_deadline(complaint, "resolution", None)
    complaint.status, complaint.resolved_at = Status.RESOLVED, now
    _save(complaint, now)
    event = _event(complaint, EventKind.RESOLVED, now=now, actor=actor, text=text)
    _tell(complaint, event, _("ECP: your complaint %(ticket)s is resolved:"), text)
    _audit(RESOLVED, complaint, actor, office=complaint.office.code)
    return complaint


@transaction.atomic
def complaint_close(*, actor, complaint_id: int) -> Complaint:
    complaint = _locked(actor, complaint_id)
    if complaint.status != Status.RESOLVED:
        raise ConflictError("not_resolved", _("Only a resolved complaint can be closed."), status=409)
    now = timezone.now()
    complaint.status, complaint.closed_at = Status.CLOSED, now
    _save(complaint, now)
    event = _event(complaint, EventKind.CLOSED, now=now, actor=actor)
    _tell(complaint, event, _("ECP: your complaint %(ticket)s is closed."))
    _audit(CLOSED, complaint, actor)
    return complaint


def reopen_until(complaint: Complaint):
    if complaint.resolved_at is None:
        return None
    return complaint.resolved_at + timedelta(days=settings.COMPLAINTS_REOPEN_DAYS)


@transaction.atomic
def complaint_reopen(*, complaint_id: int, reason: str) -> Complaint:
    """The complainant reopens a resolved or closed complaint (within COMPLAINTS_REOPEN_DAYS of its
    resolution): back in progress at the same office and desk, with a fresh resolution deadline."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint_id)
    until = reopen_until(complaint)
    if complaint.status not in (Status.RESOLVED, Status.CLOSED) or until is None:
        raise ConflictError("not_resolved", _("Only a resolved complaint can be reopened."), status=409)
    now = timezone.now()
    if now > until:
        raise ConflictError(
            "reopen_expired",
            _("A complaint can be reopened for %(n)s days after it was resolved: file a new complaint.")
            % {"n": settings.COMPLAINTS_REOPEN_DAYS},
            status=409,
        )
    reason = _text(reason, field="reason")
    calendar, plans = selectors.sla_context()
    plan = sla.plan_for(plans, complaint.category_id, complaint.priority)
    _set_deadline(complaint, "resolution", sla.start(calendar, now, plan.resolution))
    complaint.status, complaint.resolved_at, complaint.closed_at = Status.IN_PROGRESS, None, None
    _save(complaint, now)
    event = _event(complaint, EventKind.REOPENED, now=now, text=reason)
    _tell(complaint, event, _("ECP: your complaint %(ticket)s is reopened."))
    _audit(REOPENED, complaint, None)
    return complaint


def complaint_assign_many(*, actor, complaint_ids: list[int], desk_id: int) -> tuple[int, list[tuple[int, str]]]:
    """Bulk assign: each complaint in its own transaction; the count assigned and (id, message) per refusal."""
    done, refused = 0, []
    for complaint_id in complaint_ids:
        try:
            complaint_assign(actor=actor, complaint_id=complaint_id, desk_id=desk_id)
        except DomainError as exc:
            refused.append((complaint_id, exc.message))
        else:
            done += 1
    return done, refused


# --- the SLA sweep (Celery beat: complaints.sla_sweep) -------------------------------------------------------

SWEEP_CHUNK = 20_000
DEADLINES = ("first_response", "resolution")
TABLE = Complaint._meta.db_table


@dataclass
class SweepResult:
    warned: int = 0
    escalated: int = 0
    missed_at_top: int = 0


def sla_sweep(*, now=None, chunk: int = SWEEP_CHUNK) -> SweepResult:
    """Warn at 80 % of a deadline; past a deadline, move the complaint one office up (DEC → REC → PEC → the
    Secretariat) with a fresh deadline there, or, at the Secretariat, record the miss. Set-based: chunks of rows
    locked with SKIP LOCKED (two sweeps never act on one complaint twice), each written with one UPDATE."""
    now = now or timezone.now()
    result = SweepResult()
    for which in DEADLINES:
        while n := _warn_chunk(which, now, chunk):
            result.warned += n
    calendar, plans = selectors.sla_context()
    # The sweep has one "now": a fresh deadline depends only on the plan, so each is computed once.
    fresh: dict[tuple[int | None, str], dict[str, sla.Deadline]] = {}

    def fresh_for(category_id: int | None, priority: str) -> dict[str, sla.Deadline]:
        key = (category_id, priority)
        if key not in fresh:
            plan = sla.plan_for(plans, category_id, priority)
            fresh[key] = {which: sla.start(calendar, now, plan.target(which)) for which in DEADLINES}
        return fresh[key]

    offices = {o.pk: o for o in Office.objects.only("id", "code", "kind", "parent_id")}
    while True:
        escalated, missed = _breach_chunk(now, chunk, fresh_for, offices)
        if not escalated and not missed:
            break
        result.escalated += escalated
        result.missed_at_top += missed
    return result


def _skip_locked() -> str:
    return " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""


def _events(rows: list[tuple], now, kind: str, *, public: bool) -> None:
    """Timeline events for the sweep: rows of (complaint id, office id, desk id, text), actor none. On
    PostgreSQL by COPY (a sweep may write a hundred thousand)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        columns = "complaint_id, office_id, desk_id, text, at, kind, is_public"
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {ComplaintEvent._meta.db_table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row((*row, now, kind, public))
        return
    ComplaintEvent.objects.bulk_create(
        (
            ComplaintEvent(
                complaint_id=pk, at=now, kind=kind, is_public=public, office_id=office, desk_id=desk, text=text
            )
            for pk, office, desk, text in rows
        ),
        batch_size=5_000,
    )


@transaction.atomic
def _warn_chunk(which: str, now, chunk: int) -> int:
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET {which}_warned = %s WHERE id IN "  # noqa: S608 — names are ours, values parameters
            f"(SELECT id FROM {TABLE} WHERE {which}_warn_at <= %s AND NOT {which}_warned LIMIT %s{_skip_locked()}) "
            "RETURNING id, office_id, desk_id",
            [True, moment, chunk],
        )
        rows = cursor.fetchall()
    _events([(pk, office, desk, which) for pk, office, desk in rows], now, EventKind.SLA_WARNING, public=False)
    return len(rows)


def _escalates_to(office: Office | None) -> int | None:
    if office is None or office.kind in SECRETARIAT_KINDS or office.parent_id is None:
        return None
    return office.parent_id


# One row of the breach UPDATE: (id, office, moved, first response missed, its new due, its new warning,
# resolution missed, its new due, its new warning). A missed deadline gets a fresh one when the complaint moves
# up, and is emptied at the top.
_BREACH_SET = f"""
    office_id = v.office_id,
    desk_id = CASE WHEN v.moved THEN NULL ELSE {TABLE}.desk_id END,
    first_response_due = CASE WHEN v.fr THEN v.fr_due ELSE {TABLE}.first_response_due END,
    first_response_warn_at = CASE WHEN v.fr THEN v.fr_warn ELSE {TABLE}.first_response_warn_at END,
    first_response_warned = CASE WHEN v.fr THEN FALSE ELSE {TABLE}.first_response_warned END,
    resolution_due = CASE WHEN v.res THEN v.res_due ELSE {TABLE}.resolution_due END,
    resolution_warn_at = CASE WHEN v.res THEN v.res_warn ELSE {TABLE}.resolution_warn_at END,
    resolution_warned = CASE WHEN v.res THEN FALSE ELSE {TABLE}.resolution_warned END,
    breaches = {TABLE}.breaches + 1,
    first_response_missed = {TABLE}.first_response_missed OR v.fr,
    escalations = {TABLE}.escalations + CASE WHEN v.moved THEN 1 ELSE 0 END,
    updated_at = %s
"""
_COLUMNS = "id, office_id, moved, fr, fr_due, fr_warn, res, res_due, res_warn"


def _write_breaches(values: list[tuple], now) -> None:
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement for the whole chunk: the rows as arrays, unnested.
            types = ("bigint", "bigint", "boolean", "boolean", "timestamptz", "timestamptz", "boolean",
                     "timestamptz", "timestamptz")  # fmt: skip
            columns = [list(column) for column in zip(*values, strict=True)]
            unnest = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"UPDATE {TABLE} SET {_BREACH_SET} FROM unnest({unnest}) AS v({_COLUMNS}) "  # noqa: S608
                f"WHERE {TABLE}.id = v.id",
                [moment, *columns],
            )
        else:
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                f"UPDATE {TABLE} SET {_BREACH_SET} FROM (SELECT %s AS id, %s AS office_id, %s AS moved, "  # noqa: S608
                f"%s AS fr, %s AS fr_due, %s AS fr_warn, %s AS res, %s AS res_due, %s AS res_warn) AS v "
                f"WHERE {TABLE}.id = v.id",
                [[moment, *(adapt(x) if isinstance(x, datetime) else x for x in row)] for row in values],
            )


@transaction.atomic
def _breach_chunk(now, chunk: int, fresh_for, offices: dict[int, Office]) -> tuple[int, int]:
    rows = list(
        Complaint.objects.select_for_update(skip_locked=True)
        .filter(Q(first_response_due__lte=now) | Q(resolution_due__lte=now))
        .order_by()
        .values_list(
            "id", "ticket", "office_id", "desk_id", "category_id", "priority", "first_response_due", "resolution_due"
        )[:chunk]  # fmt: skip
    )
    if not rows:
        return 0, 0
    values, escalated, missed_at_top, moves = [], [], [], []
    for pk, ticket, office_id, desk_id, category_id, priority, first_due, resolution_due in rows:
        fr, res = bool(first_due and first_due <= now), bool(resolution_due and resolution_due <= now)
        missed = ",".join(which for which, late in zip(DEADLINES, (fr, res), strict=True) if late)
        target = _escalates_to(offices.get(office_id))
        if target is None:
            values.append((pk, office_id, False, fr, None, None, res, None, None))
            missed_at_top.append((pk, office_id, desk_id, missed))
        else:
            new = fresh_for(category_id, priority)
            first, resolution = new["first_response"], new["resolution"]
            values.append((pk, target, True, fr, first.due, first.warn_at, res, resolution.due, resolution.warn_at))
            escalated.append((pk, target, None, missed))
            moves.append([ticket, offices[office_id].code, offices[target].code])
    _write_breaches(values, now)
    _events(escalated, now, EventKind.ESCALATED, public=True)
    _events(missed_at_top, now, EventKind.DEADLINE_MISSED, public=False)
    if moves:
        audit.record(action=ESCALATED, data={"at": now, "count": len(moves), "moves": moves})
    return len(escalated), len(missed_at_top)
