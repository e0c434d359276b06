"""Scan batches: every page a sheet read by the engine, one bad file never stopping the batch, rolls that are not
registered or appear twice sent to review, corrections kept with who and why; then scoring and a merit list
whose every entry leads back to the sheet, its bubbles' figures and its image. The worker test runs a real
Celery worker on the ``omr`` queue."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import cv2
import pytest

from core.exceptions import DomainError
from core.models import AuditEvent, Job, JobStatus
from omr import engine, services, synth
from omr.models import Correction, Sheet, SheetStatus
from tests.factories import UserFactory
from tests.workers import celery_worker, wait_for

ROLLS = ("100001", "100002", "100003")


@pytest.fixture
def actor(db):
    return UserFactory(username="omr-operator")


@pytest.fixture
def exam(actor):
    exam = services.exam_create(
        actor=actor, code="clerk-2026", title="Clerk written test", held_on=date(2026, 11, 29), questions=20,
        roll_digits=6, marks_wrong=Decimal("0.25"),
    )  # fmt: skip
    key = "question,options\n" + "".join(f"{q},{'ABCD'[q % 4]}\n" for q in range(1, 21))
    services.key_import(actor=actor, exam=exam, text=key)
    people = "".join(f"{roll},Candidate {n},200{n}-01-01\n" for n, roll in enumerate(ROLLS))
    services.candidates_import(actor=actor, exam=exam, text="roll,name,born\n" + people)
    return exam


def _png(exam, roll: str, seed: int, *, wrong: int = 0, **options) -> bytes:
    """A synthetic scan of a sheet filled for ``roll``: the key's answers, the first ``wrong`` of them wrong."""
    layout = exam.layout.layout
    answers = {q: ("ABCD"[(q + 1) % 4] if q <= wrong else "ABCD"[q % 4]) for q in range(1, 21)}
    truth = synth.Truth(roll=roll, answers=answers, sheet_id=f"S{seed:06d}")
    image, _truth = synth.make_sheet(layout, truth, 150, seed=seed, **options)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.django_db
def test_a_batch_is_read_sheet_by_sheet_and_a_bad_file_stops_nothing(exam, actor, committed):
    files = [
        ("scans.zip", _zip({"a.png": _png(exam, "100001", 1), "b.png": _png(exam, "100002", 2, wrong=3)})),
        ("turned.png", _png(exam, "100003", 3, degradations=[("rotate", {"angle": 180})])),
        ("stranger.png", _png(exam, "999999", 4)),
        ("notes.txt", b"not a scan"),
    ]
    batch = committed(services.batch_upload, actor=actor, exam=exam, name="Hall 1", files=files)
    sheets = {s.source: s for s in Sheet.objects.filter(batch=batch)}
    assert set(sheets) == {"scans.zip/a.png", "scans.zip/b.png", "turned.png", "stranger.png", "notes.txt"}
    assert sheets["notes.txt"].status == SheetStatus.REFUSED and "not a picture" in sheets["notes.txt"].refusal
    for source, roll in (("scans.zip/a.png", "100001"), ("scans.zip/b.png", "100002"), ("turned.png", "100003")):
        sheet = sheets[source]
        assert (sheet.status, sheet.roll, sheet.candidate.roll) == (SheetStatus.READ, roll, roll), sheet.review_reasons
        assert len(sheet.reading["bubbles"]) == 6 * 10 + 20 * 4 and sheet.confidence > Decimal("0.5")
    assert sheets["scans.zip/b.png"].answers["1"] == ["C"]  # read as marked, scored later
    # The review screen's overlay comes from what the sheet keeps: a green ring on each definite mark.
    sheet = sheets["scans.zip/b.png"]
    image = engine.decode(sheet.image.read())[0]
    drawn = engine.stored_overlay(image, sheet.reading)
    x, y = next(b[6:8] for b in sheet.reading["bubbles"] if b[:3] == ["q", 1, "C"])
    ring = drawn[int(y) - 25 : int(y) + 25, int(x) - 25 : int(x) + 25]
    assert ((ring[:, :, 1] > 150) & (ring[:, :, 2] < 100)).sum() > 20  # green, from the stored figures alone
    stranger = sheets["stranger.png"]
    assert stranger.status == SheetStatus.REVIEW and "roll not registered for this exam" in stranger.review_reasons
    job = Job.objects.get(pk=batch.job_id)
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 4, 4)
    assert AuditEvent.objects.filter(action="omr.sheet_read").count() == 4
    assert AuditEvent.objects.get(action="omr.batch_uploaded").data["unusable"] == [
        ["notes.txt", "not a picture, PDF or ZIP file"]
    ]


@pytest.mark.django_db
def test_a_roll_on_two_sheets_sends_both_to_review(exam, actor, committed):
    committed(services.batch_upload, actor=actor, exam=exam, name="Hall 2", files=[("a.png", _png(exam, "100001", 5))])
    committed(services.batch_upload, actor=actor, exam=exam, name="Hall 3", files=[("b.png", _png(exam, "100001", 6))])
    sheets = list(Sheet.objects.order_by("id"))
    assert [s.status for s in sheets] == [SheetStatus.REVIEW, SheetStatus.REVIEW]
    assert all("another sheet has this roll" in s.review_reasons for s in sheets)
    services.sheet_review(actor=actor, sheet_id=sheets[0].pk)
    with pytest.raises(DomainError) as refused:
        services.sheet_review(actor=actor, sheet_id=sheets[1].pk)
    assert refused.value.code == "duplicate_roll"
    assert Sheet.objects.get(pk=sheets[1].pk).status == SheetStatus.REVIEW


@pytest.mark.django_db
def test_a_correction_needs_a_reason_and_is_kept_with_who_and_why(exam, actor, committed):
    committed(services.batch_upload, actor=actor, exam=exam, name="Hall 4", files=[("c.png", _png(exam, "999999", 7))])
    sheet = Sheet.objects.get()
    before = (sheet.status, sheet.roll, dict(sheet.answers))
    with pytest.raises(DomainError, match="why"):
        services.sheet_review(actor=actor, sheet_id=sheet.pk, roll="100003")
    with pytest.raises(DomainError, match="not registered"):
        services.sheet_review(actor=actor, sheet_id=sheet.pk, roll="123456", reason="typo")
    with pytest.raises(DomainError, match="letters among"):
        services.sheet_review(actor=actor, sheet_id=sheet.pk, answers={2: "Z"}, reason="x")
    sheet.refresh_from_db()
    assert (sheet.status, sheet.roll, dict(sheet.answers)) == before and not Correction.objects.exists()
    services.sheet_review(
        actor=actor, sheet_id=sheet.pk, roll="100003", answers={2: ""}, reason="Roll written in the boxes is 100003"
    )
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.CONFIRMED and sheet.candidate.roll == "100003" and sheet.answers["2"] == []
    fixes = list(Correction.objects.values_list("field", "before", "after", "actor__username"))
    assert fixes == [("roll", "999999", "100003", "omr-operator"), ("q2", "C", "", "omr-operator")]
    assert AuditEvent.objects.get(action="omr.sheet_reviewed").data["changes"] == [list(f[:3]) for f in fixes]


@pytest.mark.django_db
def test_from_the_merit_list_back_to_the_bubbles_and_the_image(exam, actor, committed):
    files = [(f"{roll}.png", _png(exam, roll, 10 + n, wrong=n)) for n, roll in enumerate(ROLLS)]
    committed(services.batch_upload, actor=actor, exam=exam, name="Hall 5", files=files)
    services.exam_score(actor=actor, exam=exam)
    merit = services.merit_list_publish(actor=actor, exam=exam, tie_breaks=["older"])
    entries = list(merit.entries.select_related("result__sheet", "result__candidate").order_by("rank"))
    assert [(e.result.candidate.roll, e.result.total) for e in entries] == [
        ("100001", Decimal(20)), ("100002", Decimal("18.75")), ("100003", Decimal("17.50")),
    ]  # fmt: skip
    last = entries[-1].result
    sheet = last.sheet
    assert last.per_question["1"] == "-0.25" and sheet.answers["1"] == ["C"]  # the mark behind the minus
    fill = next(b for b in sheet.reading["bubbles"] if b[:3] == ["q", 1, "C"])
    assert fill[4] == "definite" and fill[3] > 0.5  # and the bubble's own figure
    read = AuditEvent.objects.get(action="omr.sheet_read", target_id=str(sheet.pk))
    assert read.data["reading_sha256"] == hashlib.sha256(json.dumps(sheet.reading, sort_keys=True).encode()).hexdigest()
    assert read.data["image_sha256"] == hashlib.sha256(sheet.image.read()).hexdigest()


@pytest.mark.postgres
@pytest.mark.django_db
def test_reading_a_sheet_locks_only_its_own_rows(exam, actor):
    """Reading locks the sheet and the candidate, never the exam: a batch upload's commit checks its foreign
    key to the exam row, and a reader holding that row while waiting for the audit lock deadlocked with it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.batch_upload(actor=actor, exam=exam, name="Locks", files=[("a.png", _png(exam, "100001", 30))])
    sheet = Sheet.objects.get()
    with CaptureQueriesContext(connection) as captured:
        services.sheet_read(sheet_id=sheet.pk)
    locks = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) >= 2 and not any('"omr_exam"' in sql.split("FROM", 1)[1] for sql in locks), locks


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_batch_is_read_by_a_real_worker_on_the_omr_queue(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # shared with the worker through MEDIA_ROOT below
    actor = UserFactory(username="omr-worker-test")
    exam = services.exam_create(
        actor=actor, code="w-2026", title="Worker test", held_on=date(2026, 11, 29), questions=20, roll_digits=6
    )
    services.candidates_import(actor=actor, exam=exam, text="roll,name\n" + "".join(f"{r},C {r}\n" for r in ROLLS))
    files = [(f"{roll}.png", _png(exam, roll, 20 + n)) for n, roll in enumerate(ROLLS)] + [("x.bin", b"\x00\x01")]
    with celery_worker(queues="omr", env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)}) as worker:
        batch = services.batch_upload(actor=actor, exam=exam, name="Hall W", files=files)
        job = wait_for(
            lambda: Job.objects.filter(pk=batch.job_id, status=JobStatus.SUCCEEDED).first(), what="the batch"
        )
        assert "omr.sheet_read" in worker.log
    assert (job.done, job.total) == (3, 3)
    statuses = dict(Sheet.objects.filter(batch=batch).values_list("source", "status"))
    assert statuses == {"100001.png": "read", "100002.png": "read", "100003.png": "read", "x.bin": "refused"}
    assert AuditEvent.objects.filter(action="omr.sheet_read", actor_label="task:omr.sheet_read").count() == 3
