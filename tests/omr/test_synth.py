"""Synthetic sheets (omr/synth.py): exact geometry, a readable QR code, deterministic marks and files. No database."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import zxingcpp

from omr import synth
from omr.layout import build_layout, parse_qr, qr_payload

LAYOUT = build_layout(code="synth-test", questions=60, options=4, roll_digits=6, series=("A", "B"))


@pytest.mark.parametrize("dpi", [150, 300])
def test_fiducials_and_orientation_square_sit_at_the_layouts_coordinates(dpi):
    img = synth.render_blank(LAYOUT, dpi)
    s = dpi / 72
    assert img.shape == (round(LAYOUT.page[1] * s), round(LAYOUT.page[0] * s))
    for box in (*LAYOUT.fiducials, LAYOUT.orientation):
        x0, y0 = int(box.x * s) - 4, int(box.y * s) - 4
        x1, y1 = int((box.x + box.w) * s) + 5, int((box.y + box.h) * s) + 5
        dark = (255 - img[y0:y1, x0:x1].astype(np.float64)) / 255
        ys, xs = np.mgrid[y0:y1, x0:x1]
        # pixel i covers [i, i+1): its centre is i + 0.5 in page pixels
        cx, cy = (dark * (xs + 0.5)).sum() / dark.sum(), (dark * (ys + 0.5)).sum() / dark.sum()
        assert cx == pytest.approx(box.center[0] * s, abs=0.35)
        assert cy == pytest.approx(box.center[1] * s, abs=0.35)
        assert dark.sum() == pytest.approx(box.w * box.h * s * s, rel=0.06)


def test_bubble_outlines_are_drawn_at_the_layouts_radius():
    s = 300 / 72
    img = synth.render_blank(LAYOUT, 300).astype(np.float32)
    for b in LAYOUT.bubbles()[::37]:
        angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)

        def ring(radius, b=b, angles=angles):
            xs = b.x * s - 0.5 + radius * b.r * s * np.cos(angles)
            ys = b.y * s - 0.5 + radius * b.r * s * np.sin(angles)
            return cv2.remap(img, xs[None].astype(np.float32), ys[None].astype(np.float32), cv2.INTER_LINEAR).mean()

        assert ring(1.0) < 170 < ring(0.8)
        assert ring(1.0) < 170 < ring(1.25)


def test_the_qr_code_holds_the_payload_with_a_quiet_zone_inside_the_box():
    img = synth.render_blank(LAYOUT, 150, sheet_id="S-42", roll="123456")
    s = 150 / 72
    box = LAYOUT.qr
    crop = np.ascontiguousarray(
        img[int(box.y * s) : int((box.y + box.h) * s), int(box.x * s) : int((box.x + box.w) * s)]
    )
    found = zxingcpp.read_barcodes(crop, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [qr_payload(LAYOUT, "S-42", "123456")]
    assert parse_qr(found[0].text).roll == "123456"
    edge = 3  # the box's outer pixels are quiet zone
    assert crop[:edge].min() == 255 and crop[:, :edge].min() == 255


def test_random_truth_is_deterministic_and_follows_the_rates():
    a = synth.random_truth(LAYOUT, 7, blank_rate=0.2, multi_rate=0.1)
    assert a == synth.random_truth(LAYOUT, 7, blank_rate=0.2, multi_rate=0.1)
    assert len(a.roll) == LAYOUT.roll_digits and a.series in LAYOUT.series
    assert set(a.answers) == set(range(1, 61))
    many = [synth.random_truth(LAYOUT, seed, blank_rate=0.2, multi_rate=0.1) for seed in range(20)]
    answers = [v for t in many for v in t.answers.values()]
    assert 0.1 < sum(v == "" for v in answers) / len(answers) < 0.3
    assert 0.04 < sum(len(v) > 1 for v in answers) / len(answers) < 0.18


def test_make_sheet_is_deterministic_and_records_each_marks_kind():
    truth = synth.random_truth(LAYOUT, 3)
    one, t1 = synth.make_sheet(LAYOUT, truth, 150, seed=3, degradations=["noise", ("rotate", {"angle": 4})])
    two, t2 = synth.make_sheet(LAYOUT, truth, 150, seed=3, degradations=["noise", ("rotate", {"angle": 4})])
    assert np.array_equal(one, two) and t1 == t2
    assert t1.degradations == ("rotate", "noise")
    marked = {k for k, kind in t1.marks.items() if kind == "fill"}
    expected = {("q", q, letter) for q, letters in truth.answers.items() for letter in letters}
    expected |= {("roll", d, v) for d, v in enumerate(truth.roll)} | {("series", 0, truth.series)}
    assert marked == expected
    assert t1.expect(("q", 1, "Z")) == ("blank",)


def test_marks_darken_their_bubbles_and_nothing_else():
    truth = synth.Truth(roll="000000", series="A", answers={1: "B", 2: ""})
    img, truth = synth.make_sheet(LAYOUT, truth, 150, seed=1)
    blank = synth.render_blank(LAYOUT, 150, sheet_id=truth.sheet_id)
    changed = np.argwhere(np.abs(img.astype(int) - blank.astype(int)) > 20)
    s = 150 / 72
    centres = np.array([(b.y * s, b.x * s) for b in LAYOUT.bubbles() if (b.field, b.index, b.value) in truth.marks])
    nearest = np.sqrt(((changed[:, None, :] - centres[None]) ** 2).sum(-1)).min(1)
    assert nearest.max() < 1.45 * LAYOUT.bubble_radius * s  # a fill may spill a little over the outline


def test_a_cut_sheet_must_be_refused_and_a_crumpled_one_refused_or_flagged():
    truth = synth.random_truth(LAYOUT, 1)
    _, cut = synth.make_sheet(LAYOUT, truth, 150, seed=1, degradations=["cut"])
    _, crumpled = synth.make_sheet(LAYOUT, truth, 150, seed=1, degradations=["crumple"])
    assert cut.expect_status == ("refused",)
    assert crumpled.expect_status == ("refused", "review")


def test_unknown_degradation_is_refused():
    with pytest.raises(ValueError, match="unknown degradation"):
        synth.make_sheet(LAYOUT, synth.random_truth(LAYOUT, 1), 150, degradations=["fold"])


def test_write_set_writes_images_with_their_truth(tmp_path):
    paths = synth.write_set(tmp_path, 6, LAYOUT, preset="hard", seed=5)
    assert len(paths) == 6
    for path in paths:
        assert path.suffix in (".png", ".jpg")
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        assert img is not None and img.ndim == 2
        data = json.loads(path.with_suffix(".json").read_text())
        assert data["image"] == path.name and data["layout"] == LAYOUT.code
        truth = synth.truth_from_json(data)
        assert truth.roll == data["roll"] and len(truth.answers) == 60
        assert truth.to_json()["marks"] == data["marks"]


def test_compare_counts_a_wrong_bubble_in_an_unflagged_question_as_silent():
    truth = synth.Truth(roll="0", answers={1: "A"}, marks={("q", 1, "A"): "fill"}, expect_status=("read",))

    class Bubble:
        def __init__(self, value, mark):
            self.field, self.index, self.value, self.mark, self.fill = "q", 1, value, mark, 0.5

    class Question:
        status = "answered"

    class Read:
        status = "read"
        bubbles = [Bubble("A", "blank"), Bubble("B", "definite")]
        questions = {1: Question()}
        roll_status = series_status = "ok"

    result = synth.compare(truth, Read())
    assert result["bubbles"] == 2 and result["bubbles_right"] == 0
    assert result["silent"] == [("q", 1, "A"), ("q", 1, "B")]
    Read.questions[1].status = "uncertain"
    assert synth.compare(truth, Read())["silent"] == []
