"""Inbound messages: logged once per provider id (a webhook retried by the provider answers nothing twice),
rate-limited per sender, routed by the keyword router (sms.inbound), answered through message_send — or, with
SMS_INBOUND_REPLY=twiml, in the webhook's own answer (the reply is kept on the inbound row)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.cnic import redact
from core.exceptions import DomainError
from core.phone import InvalidPhone, normalize_mobile

from .. import inbound
from ..models import InboundMessage, Purpose
from ..throttle import window_count
from .messages import message_send

MAX_BODY = 1600  # Twilio's limit for one (concatenated) message


def _over_limit(sender: str) -> bool:
    count = window_count(f"sms:inbound:{sender}", settings.SMS_INBOUND_WINDOW_SECONDS)
    return count > settings.SMS_INBOUND_PER_SENDER


def inbound_receive(*, provider_id: str, sender: str, recipient: str, body: str) -> InboundMessage:
    """Log an inbound message and answer it (once, whatever the number of deliveries of the webhook)."""
    if not provider_id:
        raise DomainError("missing_id", _("The message has no id."), field="MessageSid")
    if len(body) > MAX_BODY:
        raise DomainError("too_long", _("The message is longer than %s characters.") % MAX_BODY, field="Body")
    try:
        phone = normalize_mobile(sender)
    except InvalidPhone:
        phone = ""
    if settings.SMS_INBOUND_REPLY == "twiml":
        return _receive_answering_inline(provider_id, phone, sender, recipient, body)
    found = InboundMessage.objects.filter(provider_id=provider_id).first()
    if found is not None:
        return found
    limited = _over_limit(phone or sender)
    try:
        with transaction.atomic():
            row = InboundMessage.objects.create(
                provider_id=provider_id[:64],
                sender=(phone or sender)[:32],
                recipient=recipient[:32],
                body=redact(body),  # a CNIC sent to 8300 is not kept in full
                rate_limited=limited,
            )
            if limited or not phone:  # no answer to a flood, nor to a sender we cannot text back
                return row
            name, reply = inbound.route(inbound.parse(phone, body))
            row.handler = name
            row.reply = message_send(to=phone, body=reply.text, purpose=Purpose.REPLY, language=reply.language)
            row.save(update_fields=["handler", "reply"])
    except IntegrityError:  # the same webhook delivered twice at once: the other one answered
        return InboundMessage.objects.get(provider_id=provider_id)
    return row


def _receive_answering_inline(provider_id: str, phone: str, sender: str, recipient: str, body: str) -> InboundMessage:
    """Route first, then log the message with its answer in one INSERT (no transaction, no worker). A second
    delivery of the same webhook gets the first answer back; its handler may have run again (handlers are
    idempotent: opt-outs, lookups)."""
    row = InboundMessage(
        provider_id=provider_id[:64],
        sender=(phone or sender)[:32],
        recipient=recipient[:32],
        body=redact(body),
        rate_limited=_over_limit(phone or sender),
        received_at=timezone.now(),
    )
    if phone and not row.rate_limited:
        row.handler, reply = inbound.route(inbound.parse(phone, body))
        row.reply_text = reply.text
    columns = ("provider_id", "sender", "recipient", "body", "handler", "rate_limited", "reply_text", "received_at")
    values = [getattr(row, c) for c in columns[:-1]] + [connection.ops.adapt_datetimefield_value(row.received_at)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {InboundMessage._meta.db_table} ({', '.join(columns)})"  # noqa: S608 (our column names)
            f" VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT (provider_id) DO NOTHING RETURNING id",
            values,
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return InboundMessage.objects.get(provider_id=row.provider_id)
    row.pk = inserted[0]
    return row
