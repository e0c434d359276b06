"""Pakistani mobile numbers: pure helpers over the phonenumbers library (no Django).

People write 0300 1234567, 0300-1234567, 92 300 1234567, +923001234567 or
00923001234567, sometimes in Urdu digits. We store E.164 (+923001234567)
and accept mobiles only: landlines cannot receive SMS.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from .cnic import to_ascii_digits

REGION = "PK"
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidPhone(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def normalize_mobile(text: str, *, region: str = REGION, pakistan_only: bool = True) -> str:
    """Return the E.164 form of a mobile number, or raise InvalidPhone."""
    raw = to_ascii_digits((text or "").strip())
    if not raw:
        raise InvalidPhone("empty", "Enter a mobile number, for example 0300 1234567.")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        raise InvalidPhone("unparseable", "This is not a phone number: use digits, like 0300 1234567.") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("invalid", "This number does not exist in the numbering plan; check the digits.")
    if pakistan_only and number.country_code != 92:
        raise InvalidPhone("not_pakistan", "Give a Pakistani mobile number (+92 3xx xxxxxxx).")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidPhone("not_mobile", "This is a landline; give a mobile number that can receive SMS.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_valid_mobile(text: str) -> bool:
    try:
        normalize_mobile(text)
    except InvalidPhone:
        return False
    return True


def format_national(e164: str) -> str:
    """0300 1234567 for display to Pakistani users."""
    return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.NATIONAL)


def mask(e164: str) -> str:
    """+92300•••4567 — enough for a person to recognise their own number."""
    return e164[:6] + "•" * (len(e164) - 10) + e164[-4:]
