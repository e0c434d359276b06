"""One-time codes: sent through message_send, kept only as a hash, verified once, within their life and tries;
a number cannot be flooded with codes. Refusals change nothing but the count of tries."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from core.exceptions import DomainError
from sms import services
from sms.encoding import segments
from sms.models import Message, OtpChallenge
from tests.sms.conftest import fake_phone

pytestmark = pytest.mark.django_db


def _code(memory) -> str:
    return re.search(r"\d{6}", memory.sent()[-1].body)[0]


def _refused(error_code: str, /, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as refused:
        services.otp_verify(**kwargs)
    assert refused.value.code == error_code and list(refused.value.fields) == ["code"]
    return refused.value


@pytest.mark.parametrize("language", ["ur", "en"])
def test_a_code_is_texted_and_kept_only_as_a_hash(committed, memory, language):
    challenge = committed(services.otp_send, phone=fake_phone(20), purpose="complaint", language=language)
    code = _code(memory)
    message = Message.objects.get()
    assert message.purpose == "otp" and message.language == language and segments(message.body) == 1
    stored = OtpChallenge.objects.get()
    assert stored.pk == challenge.pk and code not in stored.code_hash and stored.verified_at is None


def test_the_right_code_verifies_once(committed, memory):
    challenge = committed(services.otp_send, phone=fake_phone(21), purpose="complaint")
    verified = services.otp_verify(challenge_id=challenge.pk, code=f" {_code(memory)} ", purpose="complaint")
    assert verified.verified_at is not None and verified.attempts == 1
    error = _refused("otp_used", challenge_id=challenge.pk, code=_code(memory), purpose="complaint")
    assert error.status == 409


def test_wrong_codes_are_counted_then_the_challenge_locks(committed, memory, settings):
    settings.SMS_OTP_MAX_ATTEMPTS = 3
    challenge = committed(services.otp_send, phone=fake_phone(22), purpose="complaint")
    right = _code(memory)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for tries in (1, 2, 3):
        _refused("otp_wrong", challenge_id=challenge.pk, code=wrong, purpose="complaint")
        assert OtpChallenge.objects.get().attempts == tries
    _refused("otp_locked", challenge_id=challenge.pk, code=right, purpose="complaint")
    stored = OtpChallenge.objects.get()
    assert stored.attempts == 3 and stored.verified_at is None


def test_an_expired_code_another_purpose_or_an_unknown_id_is_refused(committed, memory):
    challenge = committed(services.otp_send, phone=fake_phone(23), purpose="complaint")
    code = _code(memory)
    _refused("otp_unknown", challenge_id=challenge.pk, code=code, purpose="verification")
    _refused("otp_unknown", challenge_id="not-a-uuid", code=code, purpose="complaint")
    OtpChallenge.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    _refused("otp_expired", challenge_id=challenge.pk, code=code, purpose="complaint")
    assert OtpChallenge.objects.get().attempts == 0


def test_a_number_gets_only_a_few_codes_and_a_bad_number_none(committed, memory, settings):
    settings.SMS_OTP_PER_PHONE = 2
    for _ in range(2):
        committed(services.otp_send, phone=fake_phone(24), purpose="complaint")
    with pytest.raises(DomainError) as refused:
        services.otp_send(phone=fake_phone(24), purpose="complaint")
    assert refused.value.code == "otp_rate_limited" and refused.value.status == 429
    with pytest.raises(DomainError) as bad:
        services.otp_send(phone="12345", purpose="complaint")
    assert bad.value.code == "bad_phone" and list(bad.value.fields) == ["mobile"]
    assert OtpChallenge.objects.count() == 2 and len(memory.sent()) == 2


def test_the_code_never_reaches_the_log(committed, memory, caplog):
    with caplog.at_level("DEBUG"):
        challenge = committed(services.otp_send, phone=fake_phone(25), purpose="complaint")
        services.otp_verify(challenge_id=challenge.pk, code=_code(memory), purpose="complaint")
    assert _code(memory) not in caplog.text
