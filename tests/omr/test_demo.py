"""omr's demo seeder: one exam through the services, a batch of 25 synthetic scans read by the engine, the unsure
sheets confirmed except the three that need the operator, the exam scored and not published; run twice, it
adds nothing."""

from __future__ import annotations

import pytest

from core.models import AuditEvent
from omr.demo import EXAM_CODE, UNREGISTERED_ROLL, seed_omr
from omr.models import Batch, Correction, Exam, ExamStatus, MeritList, Result, Sheet, SheetStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_exam_is_seeded_once_with_sheets_in_every_state():
    UserFactory(username="omr")
    lines: list[str] = []
    seed_omr(lines.append)

    exam = Exam.objects.get(code=EXAM_CODE)
    assert exam.status != ExamStatus.PUBLISHED and not MeritList.objects.exists()
    assert exam.candidates.count() == 40 and exam.key.count() == 100 and exam.sections.count() == 2
    batch = Batch.objects.get()
    sheets = Sheet.objects.filter(batch=batch)
    by_status = {s: sheets.filter(status=s).count() for s in SheetStatus.values}
    assert sheets.count() == 25 and by_status["queued"] == 0
    assert by_status["review"] == 3  # the roll nobody registered and the two sheets of one roll
    assert by_status["refused"] == 2  # the torn sheet and the text file
    assert by_status["read"] + by_status["confirmed"] == 20 and by_status["read"] >= 15
    review = sheets.filter(status=SheetStatus.REVIEW)
    assert {s.roll for s in review} == {UNREGISTERED_ROLL, "260005"}
    refused = {s.source: s.refusal for s in sheets.filter(status=SheetStatus.REFUSED)}
    assert set(refused) == {"scan-0024-torn.png", "notes.txt"} and "not a picture" in refused["notes.txt"]
    assert sheets.get(source="scan-0021-two-marks.png").answers["7"] == ["A", "C"]
    assert Result.objects.filter(exam=exam).count() == 20
    assert all(c.reason for c in Correction.objects.all())
    assert "/omr/" in lines[-1] and "omr" in lines[-1]

    audit_events = AuditEvent.objects.count()
    again: list[str] = []
    seed_omr(again.append)
    assert Exam.objects.count() == 1 and Batch.objects.count() == 1 and Sheet.objects.count() == 25
    assert AuditEvent.objects.count() == audit_events
    assert again[-1] == lines[-1]
