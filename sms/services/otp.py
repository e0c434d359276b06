"""One-time codes to a mobile number: ``otp_send`` texts a code (through message_send, purpose "otp") and
returns the challenge whose id a form carries; ``otp_verify`` checks a typed code against it. For issue 7's
complaint filing and the elector verification to come.

- The code is random (``secrets``), six digits by default, and kept only as an HMAC keyed with SECRET_KEY and
  the challenge's id; it never goes into a log (the console provider of development prints every message).
- A challenge expires (SMS_OTP_TTL_SECONDS), allows SMS_OTP_MAX_ATTEMPTS wrong codes, and verifies once.
  Wrong tries are counted even though the call is refused (the count is committed before the refusal).
- A number gets at most SMS_OTP_PER_PHONE codes in SMS_OTP_WINDOW_SECONDS (one round trip to Redis).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from core.exceptions import ConflictError, DomainError
from core.phone import InvalidPhone, normalize_mobile

from ..models import Language, OtpChallenge, Purpose
from ..throttle import window_count
from .messages import message_send


def _hash(challenge_id: uuid.UUID, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"otp:{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def otp_send(*, phone: str, purpose: str, language: str = Language.URDU) -> OtpChallenge:
    """Text a new code to ``phone`` for ``purpose``; the challenge to verify it against."""
    try:
        mobile = normalize_mobile(phone)
    except InvalidPhone as exc:
        raise DomainError("bad_phone", str(exc), field="mobile") from exc
    if window_count(f"sms:otp:{mobile}", settings.SMS_OTP_WINDOW_SECONDS) > settings.SMS_OTP_PER_PHONE:
        raise DomainError(
            "otp_rate_limited",
            _("Too many codes were sent to this number. Try again in a few minutes."),
            field="mobile",
            status=429,
        )
    code = f"{secrets.randbelow(10**settings.SMS_OTP_DIGITS):0{settings.SMS_OTP_DIGITS}d}"
    now = timezone.now()
    challenge = OtpChallenge(
        id=uuid.uuid4(),
        phone=mobile,
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SMS_OTP_TTL_SECONDS),
    )
    challenge.code_hash = _hash(challenge.id, code)
    minutes = max(1, settings.SMS_OTP_TTL_SECONDS // 60)
    with override(language):
        body = _("ECP code: %(code)s. It expires in %(minutes)s minutes. Do not share it.") % {
            "code": code,
            "minutes": minutes,
        }
    with transaction.atomic():
        challenge.save(force_insert=True)
        challenge.message = message_send(
            to=mobile, body=body, purpose=Purpose.OTP, language=language, idempotency_key=f"otp:{challenge.id}"
        )
        challenge.save(update_fields=["message"])
    return challenge


def otp_verify(*, challenge_id: uuid.UUID | str, code: str, purpose: str) -> OtpChallenge:
    """The verified challenge, or a DomainError naming the field "code" (wrong, expired, too many tries, used).
    Call it outside a transaction (it commits the count of tries itself), before the write it guards."""
    try:
        key = uuid.UUID(str(challenge_id))
    except ValueError:
        raise DomainError("otp_unknown", _("Ask for a new code."), field="code") from None
    typed = "".join(ch for ch in (code or "") if not ch.isspace())
    with transaction.atomic():
        challenge = OtpChallenge.objects.select_for_update().filter(pk=key, purpose=purpose).first()
        if challenge is None:
            raise DomainError("otp_unknown", _("Ask for a new code."), field="code")
        if challenge.verified_at is not None:
            raise ConflictError("otp_used", _("This code was already used. Ask for a new one."), field="code")
        if timezone.now() >= challenge.expires_at:
            raise DomainError("otp_expired", _("The code has expired. Ask for a new one."), field="code")
        if challenge.attempts >= settings.SMS_OTP_MAX_ATTEMPTS:
            raise DomainError("otp_locked", _("Too many wrong codes. Ask for a new one."), field="code")
        challenge.attempts += 1
        right = hmac.compare_digest(challenge.code_hash, _hash(challenge.id, typed))
        if right:
            challenge.verified_at = timezone.now()
        challenge.save(update_fields=["attempts", "verified_at"])
    if not right:  # the try is counted (committed above) and the call refused
        raise DomainError("otp_wrong", _("The code is not right. Check the SMS and try again."), field="code")
    return challenge


def otp_verified(*, challenge_id: uuid.UUID | str, purpose: str, phone: str, within: timedelta) -> OtpChallenge | None:
    """The challenge if it verified ``phone`` for ``purpose`` no longer ago than ``within``, locked for the rest
    of the caller's transaction (so one verification guards one write); else None."""
    try:
        key = uuid.UUID(str(challenge_id))
    except ValueError:
        return None
    challenge = OtpChallenge.objects.select_for_update().filter(pk=key, purpose=purpose, phone=phone).first()
    if challenge is None or challenge.verified_at is None or challenge.verified_at < timezone.now() - within:
        return None
    return challenge
