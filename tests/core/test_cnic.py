import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import cnic

URDU_DIGITS = "۰۱۲۳۴۵۶۷۸۹"


@pytest.mark.parametrize(
    "text",
    ["3520212345671", "35202-1234567-1", " 35202 1234567 1 ", "35202–1234567–1", "۳۵۲۰۲-۱۲۳۴۵۶۷-۱", "٣٥٢٠٢١٢٣٤٥٦٧١"],
)
def test_accepts_every_common_shape(text):
    assert cnic.normalize(text) == "3520212345671"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("35202-123456-1", "length"),
        ("352021234567123", "length"),
        ("35202A1234567", "not_digits"),
        ("0520212345671", "leading_zero"),
        ("1111111111111", "repeated"),
        ("35202-1234567-1 😀", "not_digits"),
    ],
)
def test_refuses_with_a_reason(text, reason):
    with pytest.raises(cnic.InvalidCNIC) as err:
        cnic.normalize(text)
    assert err.value.reason == reason
    assert str(err.value)  # a sentence a person can read


def test_format_and_mask():
    assert cnic.format_cnic("3520212345671") == "35202-1234567-1"
    assert cnic.mask("35202-1234567-1") == "35202-•••••••-1"


def test_log_token_is_stable_keyed_and_hides_the_digits():
    token = cnic.log_token("35202-1234567-1", "k1")
    assert token == cnic.log_token("3520212345671", "k1")
    assert token != cnic.log_token("3520212345671", "k2")
    assert "1234567" not in token


cnic_digits = st.from_regex(r"[1-9][0-9]{12}", fullmatch=True).filter(lambda d: len(set(d)) > 1)


@given(cnic_digits, st.sampled_from(["plain", "dashed", "spaced", "urdu"]))
def test_normalize_inverts_every_display_shape(digits, shape):
    shown = {
        "plain": digits,
        "dashed": f"{digits[:5]}-{digits[5:12]}-{digits[12]}",
        "spaced": f"{digits[:5]} {digits[5:12]} {digits[12]}",
        "urdu": digits.translate(str.maketrans("0123456789", URDU_DIGITS)),
    }[shape]
    assert cnic.normalize(shown) == digits
    assert cnic.normalize(cnic.format_cnic(shown)) == digits


@given(st.text(max_size=30))
def test_any_text_either_normalizes_to_13_digits_or_raises_invalid(text):
    try:
        result = cnic.normalize(text)
    except cnic.InvalidCNIC:
        return
    assert len(result) == 13 and result.isascii() and result.isdigit()
