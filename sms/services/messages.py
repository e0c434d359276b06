"""Single messages (other apps' pipe: OTPs, notifications, required slips, replies), templates, and the
delivery reports that move a message to delivered or failed."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.phone import InvalidPhone, normalize_mobile

from .. import encoding, states
from ..models import Language, Message, MessageStatus, OptOut, Purpose
from .common import add_events

MAX_SEGMENTS = 10  # a longer text is refused: nobody reads it on a phone, and it costs ten messages
_FORMATTER = string.Formatter()
# Purposes that an opt-out stops; the others (OTPs, replies, messages the law requires) still go, marked.
OPT_OUT_STOPS = frozenset({Purpose.CAMPAIGN, Purpose.NOTIFICATION})


def template_placeholders(template: str, *, field: str = "template") -> list[str]:
    """The placeholder names of a template ("Dear {name}"); refuses what is not a plain {name}."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise DomainError(
            "template_braces",
            _("The message has an unmatched “{” or “}”; write {{ or }} for a brace itself."),
            field=field,
        ) from exc
    names = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise DomainError(
                "template_placeholder",
                _("“{%(name)s}” is not a placeholder: use a plain name such as {name}.") % {"name": name},
                field=field,
            )
        names.append(name)
    return names


def template_check(template: str, allowed: Iterable[str], *, field: str = "template") -> None:
    """Refuse a template with a placeholder its audience cannot fill, naming the ones it can."""
    allowed = set(allowed)
    unknown = [n for n in template_placeholders(template, field=field) if n not in allowed]
    if unknown:
        raise DomainError(
            "template_unknown_placeholder",
            _("Unknown placeholder {%(name)s}. This audience offers: %(allowed)s.")
            % {"name": unknown[0], "allowed": ", ".join("{" + a + "}" for a in sorted(allowed)) or _("none")},
            field=field,
        )


def render(template: str, values: Mapping[str, str]) -> str:
    """A checked template filled for one recipient (a missing value becomes empty text)."""
    return _FORMATTER.vformat(template, (), _Blank(values))


class _Blank(dict):
    def __init__(self, values: Mapping[str, str]):
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return ""


def check_body(body: str, *, field: str = "body") -> encoding.SmsInfo:
    if not body.strip():
        raise DomainError("empty_body", _("The message is empty."), field=field)
    info = encoding.analyse(body)
    if info.segments > MAX_SEGMENTS:
        raise DomainError(
            "too_long",
            _("The message is %(n)s SMS long; at most %(max)s are allowed.")
            % {"n": info.segments, "max": MAX_SEGMENTS},
            field=field,
        )
    return info


def message_send(
    *,
    to: str,
    body: str,
    purpose: str = Purpose.NOTIFICATION,
    language: str = Language.URDU,
    idempotency_key: str | None = None,
) -> Message:
    """Queue one message and hand it to a worker once the caller's transaction commits.

    ``purpose``: notification (stopped by an opt-out), otp, required (sent despite an opt-out, marked so),
    reply. A repeated ``idempotency_key`` returns the first message and sends nothing more. A number that
    opted out of a stoppable purpose gets a message recorded as failed with ``opted_out``, not sent."""
    if purpose not in Purpose.values or purpose == Purpose.CAMPAIGN:
        raise DomainError("bad_purpose", _("Unknown message purpose."), field="purpose")
    if language not in Language.values:
        raise DomainError("bad_language", _("The language is “ur” or “en”."), field="language")
    try:
        phone = normalize_mobile(to)
    except InvalidPhone as exc:
        raise DomainError("bad_phone", str(exc), field="to") from exc
    info = check_body(body)
    if idempotency_key:
        found = Message.objects.filter(idempotency_key=idempotency_key).first()
        if found is not None:
            return found
    now = timezone.now()
    opted_out = OptOut.objects.filter(phone=phone).exists()
    blocked = opted_out and purpose in OPT_OUT_STOPS
    message = Message(
        to=phone,
        body=body,
        language=language,
        purpose=purpose,
        status=MessageStatus.FAILED if blocked else MessageStatus.QUEUED,
        encoding=info.encoding,
        segments=info.segments,
        next_attempt_at=now,
        expires_at=now + timedelta(hours=settings.SMS_EXPIRY_HOURS),
        despite_opt_out=opted_out and not blocked,
        error_code="opted_out" if blocked else "",
        error_message=_("The number asked for no more messages (STOP).") if blocked else "",
        finished_at=now if blocked else None,
        idempotency_key=idempotency_key or None,
        created_at=now,
    )
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            detail = "opted out: not sent" if blocked else ("despite opt-out" if message.despite_opt_out else "")
            add_events([(message.pk, message.status, "system", detail)], at=now)
    except IntegrityError:
        if idempotency_key:  # a concurrent call with the same key won
            return Message.objects.get(idempotency_key=idempotency_key)
        raise
    if not blocked:
        from ..tasks import message_dispatch_task

        pk = message.pk
        transaction.on_commit(lambda: message_dispatch_task.delay(pk))
    return message


def delivery_report_apply(*, message_id: int, provider_id: str, status: str, error_code: str = "") -> bool:
    """Apply a provider's delivery report (Twilio's MessageStatus) to our message ``message_id``.

    Idempotent and order-safe: a report moves a message only forward (a late "sent" never overwrites
    "delivered"); returns whether it changed anything. A report naming another provider id is refused."""
    if status not in states.TWILIO_STATUS:
        raise DomainError("bad_status", _("Unknown message status “%s”.") % status[:30], field="MessageStatus")
    mapped = states.TWILIO_STATUS[status]
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise DomainError("unknown_message", _("No such message."), field="m", status=404)
        if message.provider_id and provider_id and message.provider_id != provider_id:
            raise DomainError("wrong_message", _("This report is about another message."), field="MessageSid")
        if mapped is None or not states.report_applies(message.status, mapped):
            return False
        now = timezone.now()
        message.status = mapped
        message.provider_id = message.provider_id or provider_id[:64]
        message.sent_at = message.sent_at or now
        fields = ["status", "provider_id", "sent_at"]
        if mapped in states.FINAL:
            message.finished_at = now
            fields.append("finished_at")
        if mapped == MessageStatus.FAILED:
            message.error_code = (error_code or status)[:30]
            message.error_message = _("The network reported the message %(status)s.") % {"status": status}
            fields += ["error_code", "error_message"]
        message.save(update_fields=fields)
        add_events([(message.pk, mapped, "report", f"{status} {error_code}".strip())], at=now)
    return True
