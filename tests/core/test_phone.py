import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import phone


@pytest.mark.parametrize(
    "text",
    ["03001234567", "0300-1234567", "0300 1234567", "+92 300 1234567", "923001234567", "00923001234567", "۰۳۰۰۱۲۳۴۵۶۷"],
)
def test_accepts_pakistani_mobiles_in_every_common_shape(text):
    assert phone.normalize_mobile(text) == "+923001234567"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("hello", "unparseable"),
        ("0300123", "invalid"),
        ("0512345678", "not_mobile"),  # an Islamabad landline
        ("+447911123456", "not_pakistan"),
    ],
)
def test_refuses_with_a_reason(text, reason):
    with pytest.raises(phone.InvalidPhone) as err:
        phone.normalize_mobile(text)
    assert err.value.reason == reason


def test_display_helpers():
    assert phone.format_national("+923001234567") == "0300 1234567"
    assert phone.mask("+923001234567") == "+92300•••4567"


@given(st.sampled_from(["300", "301", "321", "333", "345", "312"]), st.from_regex(r"[0-9]{7}", fullmatch=True))
def test_every_national_form_round_trips_to_the_same_e164(prefix, rest):
    e164 = phone.normalize_mobile(f"0{prefix}{rest}")
    assert e164 == f"+92{prefix}{rest}"
    assert phone.normalize_mobile(phone.format_national(e164)) == e164
