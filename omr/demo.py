"""omr's demo data: one written test set up through the services (layout, sections, negative marking, a key for
booklet series A and B, 40 candidates in two centres with quota buckets), then one scan batch of 25 synthetic
scans made with omr.synth — clean ones, a few degraded ones (turned, upside down, a phone photo, light pencil, a
multiple mark), a roll that is not registered, a roll on two sheets, a torn sheet and a text file — read by the
engine, the unsure ones confirmed by the demo operator, and the exam scored. Three sheets are left in the review
queue and the merit list is not published: the operator does both on the screens."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date
from decimal import Decimal

import cv2
from django.contrib.auth import get_user_model

from core.demo import Printer, register

from . import services, synth
from .models import Batch, Exam, Result, Sheet, SheetStatus

EXAM_CODE = "assistant-bps16-2026"
TITLE = "Assistant (BPS-16) written test"
TITLE_UR = "اسسٹنٹ (بی پی ایس-16) تحریری امتحان"
HELD_ON = date(2026, 11, 29)
QUESTIONS = 50
SERIES = ("A", "B")
SECTIONS = (("General knowledge", 1, 30), ("English and arithmetic", 31, 50))
BATCH_NAME = "Hall 1 — Government College University, Lahore"
DPI = 150
CANDIDATES = 40
FIRST_ROLL = 260_001
UNREGISTERED_ROLL = "269999"
CENTRES = ("Government College University, Lahore", "Gordon College, Rawalpindi")
MEN = ("Muhammad Bilal", "Ahmed Raza", "Usman Tariq", "Hamza Iqbal", "Zubair Khan", "Faisal Mehmood", "Ali Haider")
WOMEN = ("Fatima Noor", "Ayesha Siddiqui", "Zainab Akhtar", "Maryam Javed", "Sana Butt", "Rabia Aslam", "Hina Shah")
REVIEW_REASON = "Checked against the scan by the demo operator."


def _rolls() -> list[str]:
    return [str(FIRST_ROLL + n) for n in range(CANDIDATES)]


def _key(rng: random.Random) -> dict[str, dict[int, str]]:
    return {series: {q: rng.choice("ABCD") for q in range(1, QUESTIONS + 1)} for series in SERIES}


def _candidates_csv() -> str:
    lines = ["roll,name,born,centre,buckets"]
    for n, roll in enumerate(_rolls()):
        woman = n % 3 == 1
        name = (WOMEN if woman else MEN)[n % 7]
        born = date(1994 + n % 9, 1 + n % 12, 1 + (n * 5) % 28).isoformat()
        province = ("punjab", "punjab", "kpk", "sindh", "balochistan")[n % 5]
        buckets = ";".join(["merit", province] + (["women"] if woman else []))
        lines.append(f"{roll},{name},{born},{CENTRES[n // 20]},{buckets}")
    return "\n".join(lines) + "\n"


def _answers(key: dict[int, str], rng: random.Random, right: float) -> dict[int, str]:
    """A candidate's answers: right with probability ``right``, otherwise another letter or (4 %) blank."""
    answers = {}
    for q, letter in key.items():
        u = rng.random()
        if u < 0.04:
            answers[q] = ""
        elif u < 0.04 + right:
            answers[q] = letter
        else:
            answers[q] = rng.choice([x for x in "ABCD" if x != letter])
    return answers


def _scans(exam: Exam) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """The 25 files of the demo batch, and the roll each scan was filled for (by the file's name)."""
    layout = exam.layout.layout
    rng = random.Random(2026)
    key = _key(random.Random(8))
    rolls = _rolls()

    def scan(n: int, roll: str, *, extension: str = "png", answers: dict | None = None, **options) -> bytes:
        series = SERIES[n % 2]
        truth = synth.Truth(
            roll=roll, series=series, answers=answers or _answers(key[series], rng, rng.uniform(0.45, 0.9)),
            sheet_id=f"D{n:05d}",
        )  # fmt: skip
        image, _truth = synth.make_sheet(layout, truth, DPI, seed=n, **options)
        params = [cv2.IMWRITE_JPEG_QUALITY, 85] if extension == "jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
        ok, data = cv2.imencode(f".{extension}", image, params)
        assert ok
        return data.tobytes()

    truths: dict[str, str] = {}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as members:
        for n in range(10):  # a ZIP of ten clean scans, as a scanner's software makes them
            members.writestr(f"hall-1/sheet-{n + 1:02d}.png", scan(n, rolls[n]))
            truths[f"hall-1.zip/hall-1/sheet-{n + 1:02d}.png"] = rolls[n]
    files = [("hall-1.zip", archive.getvalue())]

    def add(name: str, n: int, roll: str, **options) -> None:
        files.append((name, scan(n, roll, **options)))
        truths[name] = roll

    for n in range(10, 16):
        add(f"scan-{n + 1:04d}.png", n, rolls[n])
    add("scan-0017-turned.png", 16, rolls[16], degradations=[("rotate", {"angle": 7})])
    add("scan-0018-upside-down.png", 17, rolls[17], degradations=["upside_down"])
    add("phone-photo-0019.jpg", 18, rolls[18], degradations=["perspective", "lighting"], extension="jpg")
    add("scan-0020-pencil.png", 19, rolls[19], marks="hard")  # light pencil, partial fills, an erasure…
    add("scan-0021-two-marks.png", 20, rolls[20], answers=_answers(key["A"], rng, 0.8) | {7: "AC"})
    add("scan-0022.png", 21, UNREGISTERED_ROLL)  # a roll nobody registered
    add("scan-0023.png", 22, rolls[4])  # the same roll as hall-1/sheet-05
    add("scan-0024-torn.png", 23, rolls[23], degradations=["cut"])  # a corner torn off: refused
    files.append(("notes.txt", b"Hall 1: 24 sheets scanned, 2 candidates absent.\n"))  # not a scan: refused
    return files, truths


def _set_up(actor) -> Exam:
    exam = Exam.objects.filter(code=EXAM_CODE).first()
    if exam is None:
        exam = services.exam_create(
            actor=actor, code=EXAM_CODE, title=TITLE, title_ur=TITLE_UR, held_on=HELD_ON, questions=QUESTIONS,
            options=4, roll_digits=6, series=SERIES, sections=SECTIONS, marks_correct=Decimal(1),
            marks_wrong=Decimal("0.25"),
        )  # fmt: skip
    if not exam.key.exists():
        key = _key(random.Random(8))
        lines = ["series,question,options"] + [f"{s},{q},{a}" for s in SERIES for q, a in key[s].items()]
        services.key_import(actor=actor, exam=exam, text="\n".join(lines) + "\n")
    if not exam.candidates.exists():
        services.candidates_import(actor=actor, exam=exam, text=_candidates_csv())
    return exam


def _scan_and_review(actor, exam: Exam) -> None:
    files, truths = _scans(exam)
    batch = services.batch_upload(actor=actor, exam=exam, name=BATCH_NAME, files=files)
    # With a broker (REDIS_URL) the workers read the sheets; the demo reads any still queued itself, so the
    # screens have something to show at once (a worker finding a sheet read leaves it as it is).
    for sheet_id in Sheet.objects.filter(batch=batch, status=SheetStatus.QUEUED).values_list("pk", flat=True):
        services.sheet_read(sheet_id=sheet_id)
    # Confirm what the engine was unsure of, except the three sheets that need the operator: the roll nobody
    # registered and the two sheets with the same roll.
    left = ("roll not registered for this exam", "another sheet has this roll")
    for sheet in Sheet.objects.filter(batch=batch, status=SheetStatus.REVIEW).order_by("pk"):
        if any(reason in sheet.review_reasons for reason in left):
            continue
        roll = None if sheet.candidate_id else truths.get(sheet.source) or None
        services.sheet_review(actor=actor, sheet_id=sheet.pk, reason=REVIEW_REASON, roll=roll)
    services.exam_score(actor=actor, exam=exam)


@register(order=50, name="omr")
def seed_omr(out: Printer) -> None:
    actor = get_user_model().objects.filter(username="omr").first()
    if actor is None:
        out("OMR: no demo user omr (the core seeder makes it); skipped.")
        return
    exam = _set_up(actor)
    if not Batch.objects.filter(exam=exam).exists():
        _scan_and_review(actor, exam)
    counts = {s: Sheet.objects.filter(batch__exam=exam, status=s).count() for s in SheetStatus.values}
    out(
        f"OMR: log in as omr and open /omr/. Exam “{exam.title}” ({QUESTIONS} questions, series A and B, "
        f"{exam.candidates.count()} candidates); batch “{BATCH_NAME}”: {counts['read']} read, "
        f"{counts['confirmed']} confirmed by a reviewer, {counts['review']} to review (a roll nobody registered, "
        f"one roll on two sheets), {counts['refused']} refused (a torn sheet, a text file). "
        f"{Result.objects.filter(exam=exam).count()} candidates scored; the merit list is not published yet."
    )
