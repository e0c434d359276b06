"""The OMR engine (omr/engine.py) on synthetic sheets (omr/synth.py). No database, no timing."""

from __future__ import annotations

import io
import json
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from omr import engine, synth
from omr.layout import build_layout

LAYOUT = build_layout(code="exam-test-100x4", questions=100, options=4, roll_digits=8, series=("A", "B", "C", "D"))
OTHER = build_layout(code="exam-other-40x5", questions=40, options=5, roll_digits=6)


def sheet(seed=1, *, dpi=150, degradations=(), marks="clean", layout=LAYOUT, printed_roll=False, truth=None):
    truth = truth or synth.random_truth(layout, seed, blank_rate=0.05, multi_rate=0.03)
    return synth.make_sheet(
        layout, truth, dpi, seed=seed, degradations=degradations, marks=marks, printed_roll=printed_roll
    )


def assert_exact(read, truth):
    """Read, nothing flagged, every answer, the roll and the series as marked."""
    assert read.status == "read", (read.refusal_code, read.review_reasons)
    assert read.roll == truth.roll and read.series == truth.series
    assert read.answers == {q: tuple(letters) for q, letters in truth.answers.items()}
    assert synth.compare(truth, read)["wrong"] == []


def assert_never_silently_wrong(read, truth):
    result = synth.compare(truth, read)
    assert result["silent"] == [], result["wrong"]
    assert result["status_ok"], (read.status, read.refusal_code, truth.expect_status)


# --- clean sheets --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dpi", [150, 200, 300])
def test_clean_sheets_read_exactly_at_every_resolution(dpi):
    for seed in (1, 2):
        img, truth = sheet(seed, dpi=dpi)
        read = engine.read_sheet(img, LAYOUT)
        assert_exact(read, truth)
        assert read.sheet_id == truth.sheet_id and read.layout_code == LAYOUT.code
        assert read.confidence > 0.9
        assert all(q.confidence > 0.9 for q in read.questions.values())


def test_a_layout_lookup_by_the_qr_code_reads_the_same():
    img, truth = sheet(3)
    asked = []

    def lookup(code, version):
        asked.append((code, version))
        return LAYOUT if (code, version) == (LAYOUT.code, LAYOUT.version) else None

    assert_exact(engine.read_sheet(img, lookup), truth)
    assert asked == [(LAYOUT.code, LAYOUT.version)]


def test_a_colour_image_is_read_too():
    img, truth = sheet(4)
    assert_exact(engine.read_sheet(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), LAYOUT), truth)


# --- rotation, orientation, perspective ----------------------------------------------------------------------------
@pytest.mark.parametrize("angle", [-10, -6, 3, 10])
def test_rotated_sheets_read_exactly(angle):
    img, truth = sheet(5, degradations=[("rotate", {"angle": angle})])
    read = engine.read_sheet(img, LAYOUT)
    assert_exact(read, truth)
    assert read.rotation == 0


@pytest.mark.parametrize("angle", [0, 8, -9])
def test_upside_down_sheets_read_exactly(angle):
    img, truth = sheet(6, degradations=["upside_down", ("rotate", {"angle": angle})])
    read = engine.read_sheet(img, LAYOUT)
    assert_exact(read, truth)
    assert read.rotation == 180


def test_a_sheet_turned_a_quarter_is_read_too():
    img, truth = sheet(7)
    read = engine.read_sheet(np.ascontiguousarray(np.rot90(img)), LAYOUT)
    assert_exact(read, truth)
    assert read.rotation in (90, 270)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_phone_photos_in_perspective_read_right(seed):
    img, truth = sheet(seed, degradations=[("perspective", {"strength": 0.06}), "lighting"])
    read = engine.read_sheet(img, LAYOUT)
    assert_exact(read, truth)


# --- each degradation alone ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["rotate", "upside_down", "perspective", "lighting", "blur", "noise", "speckle", "jpeg"]
)
def test_each_degradation_alone_reads_right_or_goes_to_review(name):
    for seed in range(4):
        img, truth = sheet(seed, degradations=[name], marks="hard")
        read = engine.read_sheet(img, LAYOUT)
        assert read.status in ("read", "review"), (read.refusal_code, read.refusal_message)
        assert_never_silently_wrong(read, truth)


def test_worst_jpeg_blur_and_noise_together_are_never_silently_wrong():
    degradations = [("blur", {"sigma": 1.4}), ("noise", {"sigma": 14}), ("jpeg", {"quality": 30}), "speckle"]
    for seed in range(3):
        img, truth = sheet(seed, degradations=degradations, marks="hard")
        assert_never_silently_wrong(engine.read_sheet(img, LAYOUT), truth)


# --- marks ---------------------------------------------------------------------------------------------------------
def marked(kind, question=1, letter="B", seed=1):
    """A clean sheet with one mark of ``kind`` drawn on question 1, B (the rest as synth fills them)."""
    truth = synth.random_truth(LAYOUT, seed)
    answers = dict(truth.answers)
    answers[question] = ""
    img, truth = synth.make_sheet(
        LAYOUT, synth.Truth(roll=truth.roll, series=truth.series, answers=answers), 150, seed=seed
    )
    pen = synth._pen(np.random.default_rng(seed))
    reflect = img.astype(np.float32) / 255
    b = next(b for b in LAYOUT.bubbles() if (b.field, b.index, b.value) == ("q", question, letter))
    synth._mark(reflect, kind, b.x, b.y, LAYOUT, 150 / 72, pen, np.random.default_rng(seed))
    return (reflect * 255 + 0.5).astype(np.uint8), b


@pytest.mark.parametrize("seed", range(6))
def test_light_pencil_and_partial_fills_read_definite_or_marginal_never_blank(seed):
    for kind in ("light", "partial"):
        img, b = marked(kind, seed=seed)
        read = engine.read_sheet(img, LAYOUT)
        bubble = next(x for x in read.bubbles if (x.field, x.index, x.value) == ("q", 1, "B"))
        assert bubble.mark in ("definite", "marginal"), (kind, bubble.fill, read.thresholds)
        if bubble.mark == "marginal" or bubble.confidence < 0.55:  # just above the threshold: review too
            assert read.questions[1].status == "uncertain" and read.status == "review"
        else:
            assert read.answers[1] == ("B",)


@pytest.mark.parametrize("kind", ["tick", "cross"])
def test_ticks_and_crosses_are_marginal_and_go_to_review(kind):
    for seed in range(4):
        img, _b = marked(kind, seed=seed)
        read = engine.read_sheet(img, LAYOUT)
        assert read.questions[1].status == "uncertain", read.bubbles[80:84]
        assert 1 not in read.answers and read.status == "review"


def test_erased_marks_are_not_read_as_answers():
    for seed in range(6):
        img, _b = marked("erased", seed=seed)
        read = engine.read_sheet(img, LAYOUT)
        bubble = next(x for x in read.bubbles if (x.field, x.index, x.value) == ("q", 1, "B"))
        assert bubble.mark != "definite"
        assert read.answers.get(1, ()) == ()


def test_multiple_marks_and_blank_questions_are_told_apart():
    truth = synth.random_truth(LAYOUT, 8)
    answers = {**truth.answers, 1: "AC", 2: "", 3: "ABCD"}
    img, truth = synth.make_sheet(LAYOUT, synth.Truth(truth.roll, truth.series, answers), 150, seed=8)
    read = engine.read_sheet(img, LAYOUT)
    assert_exact(read, truth)
    assert read.questions[1].status == "multiple" and read.answers[1] == ("A", "C")
    assert read.questions[2].status == "blank" and read.answers[2] == ()
    assert read.questions[3].status == "multiple"


def test_stray_marks_outside_bubbles_change_nothing():
    img, truth = sheet(9)
    reflect = img.astype(np.float32) / 255
    synth._strays(reflect, LAYOUT, 150 / 72, synth._Pen(0.9, 1.2, False), np.random.default_rng(9), 12)
    assert_exact(engine.read_sheet((reflect * 255 + 0.5).astype(np.uint8), LAYOUT), truth)


def test_roll_number_problems_send_the_sheet_to_review():
    truth = synth.random_truth(LAYOUT, 10)
    img, _ = synth.make_sheet(LAYOUT, synth.Truth(roll="", series="A", answers=truth.answers), 150, seed=10)
    read = engine.read_sheet(img, LAYOUT)
    assert read.status == "review" and read.roll is None and read.roll_status == "blank"


def test_a_pre_printed_roll_is_read_and_checked_against_the_grid():
    img, truth = sheet(11, printed_roll=True)
    read = engine.read_sheet(img, LAYOUT)
    assert_exact(read, truth)
    assert read.printed_roll == truth.roll
    # a candidate who also marks another digit in a column: two marks → review
    reflect = img.astype(np.float32) / 255
    other = str((int(truth.roll[0]) + 1) % 10)
    b = next(b for b in LAYOUT.bubbles() if (b.field, b.index, b.value) == ("roll", 0, other))
    synth._mark(reflect, "fill", b.x, b.y, LAYOUT, 150 / 72, synth._Pen(0.9, 1.2, False), np.random.default_rng(1))
    read = engine.read_sheet((reflect * 255 + 0.5).astype(np.uint8), LAYOUT)
    assert read.status == "review" and read.roll_status == "uncertain"


# --- refusals ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("corner", [0, 1, 2, 3])
def test_a_sheet_with_a_corner_cut_off_is_refused(corner):
    img, _ = sheet(12, degradations=[("cut", {"corner": corner, "size_mm": 45})])
    read = engine.read_sheet(img, LAYOUT)
    assert read.status == "refused" and read.refusal_code in ("fiducial_missing", "no_fiducials")
    assert read.refusal_message


@pytest.mark.parametrize("seed", range(5))
def test_a_crumpled_sheet_is_refused_or_flagged_never_read_silently(seed):
    img, truth = sheet(seed, degradations=["crumple"])
    read = engine.read_sheet(img, LAYOUT)
    assert read.status in ("refused", "review")
    assert_never_silently_wrong(read, truth)
    if read.status == "refused":
        assert read.refusal_code in ("misregistered", "geometry", "no_fiducials", "fiducial_missing")


def test_an_empty_page_is_refused():
    rng = np.random.default_rng(1)
    page = np.clip(rng.normal(245, 3, (1754, 1240)), 0, 255).astype(np.uint8)
    read = engine.read_sheet(page, LAYOUT)
    assert (read.status, read.refusal_code) == ("refused", "blank_page")
    assert engine.read_sheet(np.zeros((800, 600), np.uint8), LAYOUT).refusal_code == "blank_page"


def test_a_photo_of_something_else_is_refused():
    rng = np.random.default_rng(2)
    for _ in range(3):
        photo = cv2.resize(rng.integers(0, 256, (40, 30), dtype=np.uint8), (1240, 1754), interpolation=cv2.INTER_CUBIC)
        for _ in range(30):  # dark squares and blobs of all sizes
            x, y, s = int(rng.integers(0, 1200)), int(rng.integers(0, 1700)), int(rng.integers(10, 80))
            cv2.rectangle(photo, (x, y), (x + s, y + s), int(rng.integers(0, 60)), -1)
        read = engine.read_sheet(photo, LAYOUT)
        assert read.status == "refused", read.status


def test_a_sheet_of_another_layout_is_refused():
    img, _ = sheet(13, layout=OTHER)
    read = engine.read_sheet(img, LAYOUT)
    assert (read.status, read.refusal_code) == ("refused", "unknown_layout")
    read = engine.read_sheet(img, lambda code, version: None)
    assert (read.status, read.refusal_code) == ("refused", "unknown_layout")
    # …and read with its own layout when the lookup knows it
    assert engine.read_sheet(img, lambda code, version: OTHER).status == "read"


def test_an_unreadable_qr_code_is_refused_without_a_layout_and_flagged_with_one():
    img, truth = sheet(14)
    s = 150 / 72
    box = LAYOUT.qr
    img[int(box.y * s) : int((box.y + box.h) * s), int(box.x * s) : int((box.x + box.w) * s)] = 255
    assert engine.read_sheet(img, lambda c, v: LAYOUT).refusal_code == "qr_unreadable"
    read = engine.read_sheet(img, LAYOUT)
    assert read.status == "review" and read.answers == {q: tuple(v) for q, v in truth.answers.items()}


def test_a_tiny_image_is_refused():
    assert engine.read_sheet(np.full((100, 80), 255, np.uint8), LAYOUT).refusal_code == "too_small"


# --- decode --------------------------------------------------------------------------------------------------------
def encoded(img, ext, **params):
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def test_decode_reads_png_jpeg_and_every_page_of_a_tiff():
    img, _ = sheet(15)
    assert np.array_equal(engine.decode(encoded(img, ".png"))[0], img)
    assert engine.decode(encoded(img, ".jpg"))[0].shape == img.shape
    buf = io.BytesIO()
    pages = [Image.fromarray(img), Image.fromarray(255 - img)]
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    decoded = engine.decode(buf.getvalue())
    assert len(decoded) == 2 and np.array_equal(decoded[1], 255 - img)
    colour = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    assert engine.decode(encoded(colour, ".png"))[0].ndim == 2


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"hello, this is not an image at all", "not_an_image"),
        (b"%PDF-1.7\n...", "pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not_an_image"),
    ],
)
def test_decode_refuses_what_is_not_an_image(data, code):
    with pytest.raises(engine.Refused) as refused:
        engine.decode(data)
    assert refused.value.code == code


def test_decode_refuses_other_formats():
    buf = io.BytesIO()
    Image.new("L", (300, 300), 255).save(buf, format="BMP")
    with pytest.raises(engine.Refused) as refused:
        engine.decode(buf.getvalue())
    assert refused.value.code == "unsupported_format"


def png_header(width, height):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def test_a_huge_image_is_refused_from_its_header_before_decoding(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("decoded a huge image")

    monkeypatch.setattr(engine.cv2, "imdecode", never)
    for width, height in ((20_000, 20_000), (10_000, 7_000)):
        with pytest.raises(engine.Refused) as refused:
            engine.decode(png_header(width, height))
        assert refused.value.code == "too_large"
    with pytest.raises(engine.Refused) as refused:
        engine.decode(png_header(3000, 3000), max_pixels=1_000_000)
    assert refused.value.code == "too_large"


# --- the property: never a silent error on the hard preset ----------------------------------------------------------
def test_fifty_hard_sheets_have_no_silent_error():
    statuses = []
    for seed in range(50):
        truth = synth.random_truth(LAYOUT, 900 + seed, blank_rate=0.05, multi_rate=0.03)
        degradations = synth.preset_degradations("hard", 900 + seed)
        img, truth = synth.make_sheet(
            LAYOUT, truth, 150, seed=900 + seed, degradations=degradations, marks="hard", printed_roll=seed % 7 == 0
        )
        read = engine.read_sheet(img, LAYOUT)
        assert_never_silently_wrong(read, truth)
        statuses.append(read.status)
    assert statuses.count("refused") <= 5


# --- overlay and the event log -------------------------------------------------------------------------------------
def test_overlay_draws_marks_in_colour_and_the_read_serialises():
    truth = synth.random_truth(LAYOUT, 16)
    answers = {**truth.answers, 1: "AB"}
    img, truth = synth.make_sheet(LAYOUT, synth.Truth(truth.roll, truth.series, answers), 150, seed=16)
    read = engine.read_sheet(img, LAYOUT)
    out = engine.overlay(img, read)
    assert out.shape == (*img.shape, 3)
    b = next(x for x in read.bubbles if (x.field, x.index, x.value) == ("q", 1, "A"))
    r = int(LAYOUT.bubble_radius * 150 / 72 * 1.25)
    ring = out[int(b.y) - r - 2 : int(b.y) + r + 3, int(b.x) - r - 2 : int(b.x) + r + 3].reshape(-1, 3)
    assert any(tuple(p) == engine.RED for p in ring)  # multiple: red
    data = json.loads(json.dumps(read.to_dict()))
    assert len(data["bubbles"]) == len(LAYOUT.bubbles()) and data["status"] == "read"
    assert engine.overlay(
        np.full((400, 300), 255, np.uint8), engine.read_sheet(np.full((400, 300), 255, np.uint8), LAYOUT)
    ).shape == (400, 300, 3)
