"""Inbound messages: logged once per provider id (a webhook retried by the provider answers nothing twice),
rate-limited per sender, routed by the keyword router (sms.inbound), answered through message_send."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.cnic import redact
from core.exceptions import DomainError
from core.phone import InvalidPhone, normalize_mobile

from .. import inbound
from ..models import InboundMessage, Purpose
from .messages import message_send

MAX_BODY = 1600  # Twilio's limit for one (concatenated) message


def _over_limit(sender: str) -> bool:
    key = f"sms:inbound:{sender}"
    cache.add(key, 0, timeout=settings.SMS_INBOUND_WINDOW_SECONDS)
    try:
        return cache.incr(key) > settings.SMS_INBOUND_PER_SENDER
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=settings.SMS_INBOUND_WINDOW_SECONDS)
        return False


def inbound_receive(*, provider_id: str, sender: str, recipient: str, body: str) -> InboundMessage:
    """Log an inbound message and answer it (once, whatever the number of deliveries of the webhook)."""
    if not provider_id:
        raise DomainError("missing_id", _("The message has no id."), field="MessageSid")
    if len(body) > MAX_BODY:
        raise DomainError("too_long", _("The message is longer than %s characters.") % MAX_BODY, field="Body")
    found = InboundMessage.objects.filter(provider_id=provider_id).first()
    if found is not None:
        return found
    try:
        phone = normalize_mobile(sender)
    except InvalidPhone:
        phone = ""
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
