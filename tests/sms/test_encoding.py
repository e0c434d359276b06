"""sms/encoding.py: GSM-7 / UCS-2 detection, unit counting and splitting as carriers count. No database."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms import encoding
from sms.encoding import GSM7, UCS2

URDU = "آپ کا ووٹ"  # "your vote"
EMOJI = "😀"  # outside the BMP: a surrogate pair in UTF-16


# A reference written the slow, obvious way, one character at a time.
def ref_is_gsm7(text):
    return all(c in encoding.GSM7_BASIC or c in encoding.GSM7_EXTENSION for c in text)


def ref_units(text, enc):
    if enc == GSM7:
        return sum(2 if c in encoding.GSM7_EXTENSION else 1 for c in text)
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


# --- the alphabet itself


def test_the_basic_table_has_127_characters_and_the_escape_is_not_one():
    assert len(encoding.GSM7_BASIC) == 127
    assert len(set(encoding.GSM7_BASIC)) == 127
    assert "\x1b" not in encoding.GSM7_BASIC
    assert set(encoding.GSM7_EXTENSION) == set("\f^{}\\[~]|€")
    assert not set(encoding.GSM7_BASIC) & set(encoding.GSM7_EXTENSION)


@pytest.mark.parametrize("char", list("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà\n\r "))
def test_special_basic_characters_are_gsm7_and_cost_one_septet(char):
    info = encoding.analyse(char)
    assert (info.encoding, info.units) == (GSM7, 1)


@pytest.mark.parametrize("char", list("\f^{}\\[~]|€"))
def test_extension_characters_are_gsm7_and_cost_two_septets(char):
    info = encoding.analyse(char)
    assert (info.encoding, info.units, info.characters) == (GSM7, 2, 1)


OHM_SIGN = "\u2126"  # looks like the GSM-7 Greek Ω (U+03A9) but is not in the table


@pytest.mark.parametrize("char", ["`", "\t", "\x1b", "ç", "á", OHM_SIGN, "ω", "ا", "€€€ ۱", EMOJI])
def test_characters_outside_the_tables_make_the_text_ucs2(char):
    assert not encoding.is_gsm7("hello " + char)
    assert encoding.analyse("hello " + char).encoding == UCS2


def test_euro_counts_two_septets():
    info = encoding.analyse("Fee: 10€")
    assert (info.encoding, info.characters, info.units) == (GSM7, 8, 9)


# --- GSM-7 boundaries


@pytest.mark.parametrize(
    ("length", "segments", "per_segment", "remaining"),
    [(1, 1, 160, 159), (160, 1, 160, 0), (161, 2, 153, 145), (306, 2, 153, 0), (307, 3, 153, 152)],
)
def test_plain_english_segment_boundaries(length, segments, per_segment, remaining):
    text = "a" * length
    info = encoding.analyse(text)
    assert (info.encoding, info.units, info.segments) == (GSM7, length, segments)
    assert (info.per_segment, info.remaining) == (per_segment, remaining)
    assert encoding.segments(text) == segments
    assert [len(p) for p in encoding.split(text)][:-1] == [153] * (segments - 1)


def test_multi_part_gsm7_is_split_in_153_septet_parts():
    assert [len(p) for p in encoding.split("x" * 400)] == [153, 153, 94]


def test_extension_characters_fill_a_single_message_at_their_double_cost():
    assert encoding.segments("€" * 80) == 1
    assert encoding.segments("€" * 80 + "a") == 2


def test_extension_character_at_a_153_boundary_moves_whole_to_the_next_part():
    text = "a" * 152 + "€" + "b" * 10
    parts = encoding.split(text)
    assert parts == ["a" * 152, "€" + "b" * 10]
    info = encoding.analyse(text)
    assert (info.units, info.segments, info.remaining) == (164, 2, 153 - 12)


def test_an_escape_pair_that_cannot_straddle_costs_an_extra_segment():
    text = "a" * 152 + "€" + "a" * 152  # 306 septets: 2 × 153, yet it needs three parts
    assert encoding.analyse(text).units == 306
    assert encoding.split(text) == ["a" * 152, "€" + "a" * 151, "a"]
    assert encoding.segments(text) == 3


# --- UCS-2


def test_urdu_is_ucs2():
    info = encoding.analyse(URDU)
    assert (info.encoding, info.characters, info.units, info.segments) == (UCS2, 9, 9, 1)
    assert (info.per_segment, info.remaining) == (70, 61)
    assert not encoding.is_gsm7(URDU)


@pytest.mark.parametrize(
    ("length", "segments", "per_segment", "remaining"),
    [(70, 1, 70, 0), (71, 2, 67, 63), (134, 2, 67, 0), (135, 3, 67, 66)],
)
def test_ucs2_segment_boundaries(length, segments, per_segment, remaining):
    text = ("ووٹ" * 100)[:length]
    info = encoding.analyse(text)
    assert (info.encoding, info.units, info.segments) == (UCS2, length, segments)
    assert (info.per_segment, info.remaining) == (per_segment, remaining)


def test_multi_part_ucs2_is_split_in_67_unit_parts():
    text = "ا" * 200
    assert [len(p) for p in encoding.split(text)] == [67, 67, 66]


def test_one_ucs2_character_makes_the_whole_text_ucs2():
    text = "a" * 100 + "ç"  # would be one GSM-7 message; as UCS-2 it is two parts
    info = encoding.analyse(text)
    assert (info.encoding, info.segments, info.per_segment) == (UCS2, 2, 67)


def test_emoji_is_two_utf16_units():
    info = encoding.analyse(EMOJI)
    assert (info.encoding, info.characters, info.units) == (UCS2, 1, 2)
    assert encoding.segments(EMOJI * 35) == 1
    assert encoding.segments(EMOJI * 35 + "a") == 2


@pytest.mark.parametrize("before", [65, 66])
def test_emoji_at_the_67_unit_boundary_is_not_split(before):
    text = "a" * before + EMOJI + "b" * 10
    parts = encoding.split(text)
    first = "a" * before + (EMOJI if before == 65 else "")
    assert parts == [first, text[len(first) :]]
    for part in parts:
        part.encode("utf-16-le")  # each part is valid UTF-16 on its own
        assert ref_units(part, UCS2) <= 67


# --- empty text and the live counter


def test_empty_text_is_zero_segments_and_nothing_to_send():
    info = encoding.analyse("")
    assert info == encoding.SmsInfo(GSM7, 0, 0, 0, 160, 160)
    assert encoding.split("") == []
    assert encoding.segments("") == 0
    assert encoding.is_gsm7("")


def test_a_lone_surrogate_counts_one_unit_and_rejoins():
    text = "a" * 80 + "\ud800"  # never produced by decoding, but must not crash the counter
    info = encoding.analyse(text)
    assert (info.encoding, info.units, info.segments) == (UCS2, 81, 2)
    assert "".join(encoding.split(text)) == text


def test_as_dict_is_json_safe_for_the_live_counter():
    data = encoding.as_dict(encoding.analyse(URDU + EMOJI))
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "encoding": "UCS-2",
        "characters": 10,
        "units": 11,
        "segments": 1,
        "per_segment": 70,
        "remaining": 59,
    }


# --- properties

gsm_chars = st.sampled_from(encoding.GSM7_BASIC + encoding.GSM7_EXTENSION)
extension_chars = st.sampled_from(encoding.GSM7_EXTENSION)
astral = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)
any_char = st.characters(exclude_categories=["Cs"])  # lone surrogates are not decoded text
# Long runs, so that multi-part texts with two-unit characters near the part boundaries are common.
gsm_runs = st.builds(lambda char, n: char * n, st.sampled_from(["a", " "]), st.integers(1, 160))
runs = st.builds(lambda char, n: char * n, st.sampled_from(["a", " ", "ا"]), st.integers(1, 160))
pieces = st.one_of(runs, gsm_chars, extension_chars, astral, any_char)
texts = st.one_of(
    st.lists(st.one_of(gsm_runs, gsm_chars, extension_chars), max_size=25).map("".join),  # GSM-7
    st.lists(st.one_of(runs, astral), max_size=25).map("".join),  # UCS-2 with surrogate pairs
    st.lists(pieces, max_size=25).map("".join),  # mostly UCS-2
    st.text(any_char, max_size=200),
)


@given(texts)
def test_split_rejoins_to_the_text_and_counts_the_segments(text):
    parts = encoding.split(text)
    assert "".join(parts) == text
    assert len(parts) == encoding.segments(text) == encoding.analyse(text).segments
    assert all(parts)


@given(texts)
def test_every_part_fits_its_limit_and_is_valid_utf16_on_its_own(text):
    info = encoding.analyse(text)
    for part in encoding.split(text):
        assert ref_units(part, info.encoding) <= info.per_segment
        assert part.encode("utf-16-le").decode("utf-16-le") == part


@given(texts)
def test_parts_are_filled_greedily(text):
    """A part ends early only because the next character would not fit whole."""
    info = encoding.analyse(text)
    parts = encoding.split(text)
    for part, following in zip(parts, parts[1:], strict=False):
        assert ref_units(part, info.encoding) + ref_units(following[0], info.encoding) > info.per_segment


@given(texts)
def test_analyse_agrees_with_the_slow_reference(text):
    info = encoding.analyse(text)
    parts = encoding.split(text)
    assert encoding.is_gsm7(text) == ref_is_gsm7(text)
    assert (info.encoding == GSM7) == encoding.is_gsm7(text)
    assert info.characters == len(text)
    assert info.units == ref_units(text, info.encoding)
    if info.encoding == UCS2:
        assert info.units == len(text.encode("utf-16-le")) // 2
    single, multi = (160, 153) if info.encoding == GSM7 else (70, 67)
    assert info.per_segment == (single if info.units <= single else multi)
    last = ref_units(parts[-1], info.encoding) if parts else 0
    assert info.remaining == info.per_segment - last
    assert encoding.as_dict(info)["segments"] == info.segments


@given(st.text(gsm_chars, max_size=300))
def test_text_from_the_tables_is_always_gsm7(text):
    assert encoding.is_gsm7(text)
    assert encoding.analyse(text).encoding == GSM7
