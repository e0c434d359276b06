"""Layouts: built from an exam's parameters, every bubble inside the fiducials' rectangle and apart from every
other, a JSON round trip that changes nothing, the limits refused with the reason, and the QR text read back."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omr.layout import MAX_QUESTIONS, Layout, build_layout, parse_qr, qr_payload


@given(
    questions=st.integers(1, 120),
    options=st.sampled_from([4, 5]),
    digits=st.integers(4, 10),
    series=st.sampled_from([(), ("A", "B"), ("A", "B", "C", "D")]),
)
def test_every_bubble_is_inside_the_fiducials_and_apart_from_the_others(questions, options, digits, series):
    layout = build_layout(code="t", questions=questions, options=options, roll_digits=digits, series=series)
    bubbles = layout.bubbles()
    assert len(bubbles) == digits * 10 + len(series) + questions * options
    assert layout.questions == questions
    left, top = layout.fiducials[0].center
    right, bottom = layout.fiducials[2].center
    for b in bubbles:
        assert left + 20 < b.x < right - 20 and top + 20 < b.y < bottom - 20
    for a, b in itertools.combinations(bubbles, 2):
        assert (a.x - b.x) ** 2 + (a.y - b.y) ** 2 >= (2 * a.r + 2) ** 2  # at least 2 pt of paper between
    for b in bubbles:  # and none under the QR code or the orientation mark
        for box in (layout.qr, layout.orientation):
            assert not (box.x - b.r < b.x < box.x + box.w + b.r and box.y - b.r < b.y < box.y + box.h + b.r)
    assert Layout.from_json(layout.to_json()) == layout


def test_the_largest_sheets_fit_and_larger_ones_are_refused():
    assert build_layout(code="t", questions=MAX_QUESTIONS, options=4).questions == 150
    assert build_layout(code="t", questions=120, options=5).questions == 120
    for kwargs, reason in (
        ({"questions": 151}, "questions must be"),
        ({"questions": 121, "options": 5}, "do not fit"),
        ({"questions": 10, "options": 3}, "options must be"),
        ({"questions": 10, "roll_digits": 11}, "roll_digits"),
        ({"questions": 10, "series": ("A", "A")}, "series"),
        ({"questions": 10, "series": ("E",)}, "series"),
    ):
        with pytest.raises(ValueError, match=reason):
            build_layout(code="t", **kwargs)


def test_the_qr_text_names_layout_sheet_and_roll():
    layout = build_layout(code="ps-2026-a", questions=50, version=3)
    text = qr_payload(layout, "S000123", "20260417")
    assert text == "ECP-OMR|ps-2026-a|3|S000123|20260417"
    read = parse_qr(text)
    assert (read.layout_code, read.layout_version, read.sheet, read.roll) == ("ps-2026-a", 3, "S000123", "20260417")
    assert parse_qr(qr_payload(layout, "S1")).roll == ""
    for other in ("", "hello", "ECP-OMR|x|y|S1|-", "XYZ|a|1|S|-"):
        assert parse_qr(other) is None
    with pytest.raises(ValueError, match="cannot contain"):
        qr_payload(layout, "S|1")
