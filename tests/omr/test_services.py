"""OMR services so far: an exam with its layout and sections; the key and the candidates from CSV, all or
nothing with every bad line named; scoring the confirmed sheets; publishing a merit list with a trail from each
entry to the sheet and its per-question marks. Each step audited; refusals change nothing."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from core.exceptions import DomainError
from core.models import AuditEvent
from omr import services
from omr.models import Batch, ExamCandidate, KeyAnswer, MeritList, Result, Sheet, SheetLayout, SheetStatus
from tests.factories import UserFactory

KEY = "series,question,options,status\n" + "".join(
    f"{s},{q},{'ABCD'[(q + (s == 'B')) % 4]},\n" for s in "AB" for q in range(1, 11)
)


@pytest.fixture
def actor(db):
    return UserFactory(username="omr-officer")


@pytest.fixture
def exam(actor):
    return services.exam_create(
        actor=actor,
        code="asst-2026",
        title="Assistant (BPS-16) written test",
        held_on=date(2026, 11, 29),
        questions=10,
        roll_digits=6,
        series=("A", "B"),
        sections=[("General", 1, 5), ("English", 6, 10)],
        marks_correct=Decimal(1),
        marks_wrong=Decimal("0.25"),
    )


def _audits(action):
    return AuditEvent.objects.filter(action=action).count()


def test_an_exam_stores_its_layout_and_sections(exam):
    assert exam.layout.layout.questions == 10 and exam.layout.layout.series == ("A", "B")
    assert [(s.name, s.first, s.last) for s in exam.sections.all()] == [("General", 1, 5), ("English", 6, 10)]
    assert _audits("omr.exam_created") == 1


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"questions": 0}, "bad_exam", "questions"),
        ({"questions": 130, "options": 5}, "bad_exam", "questions"),
        ({"roll_digits": 3}, "bad_exam", "roll_digits"),
        ({"series": ("A", "E")}, "bad_exam", "series"),
        ({"sections": [("A", 1, 5), ("B", 5, 10)]}, "bad_exam", "sections"),
        ({"sections": [("A", 1, 11)]}, "bad_exam", "sections"),
        ({"marks_correct": Decimal(0)}, "bad_exam", "marks_correct"),
        ({"marks_wrong": Decimal(-1)}, "bad_exam", "marks_wrong"),
        ({"code": "asst-2026"}, "exam_exists", "code"),
    ],
)
def test_a_bad_exam_is_refused_and_nothing_is_stored(exam, actor, changes, code, field):
    args = {"actor": actor, "code": "other", "title": "T", "held_on": date(2026, 12, 1), "questions": 10, **changes}
    layouts = SheetLayout.objects.count()
    with pytest.raises(DomainError) as refused:
        services.exam_create(**args)
    assert refused.value.code == code and list(refused.value.fields) == [field]
    assert SheetLayout.objects.count() == layouts


def test_the_key_replaces_the_old_one_and_a_bad_file_changes_nothing(exam, actor):
    assert services.key_import(actor=actor, exam=exam, text=KEY) == 20
    before = list(KeyAnswer.objects.values_list("series", "question", "options"))
    bad = KEY.replace("A,3,", "A,3,Z").replace("B,7,", "C,7,") + "A,1,B,\n"
    with pytest.raises(DomainError) as refused:
        services.key_import(actor=actor, exam=exam, text=bad)
    message = refused.value.message
    assert "line 4" in message and "line 18" in message and "line 22" in message and "3 lines" in message
    assert list(KeyAnswer.objects.values_list("series", "question", "options")) == before
    with pytest.raises(DomainError, match="lacks questions"):
        services.key_import(actor=actor, exam=exam, text="\n".join(KEY.splitlines()[:-1]))
    assert _audits("omr.key_imported") == 1


def test_candidates_are_added_then_updated(exam, actor):
    text = (
        "roll,name,born,centre,buckets\n"
        "100001,Asma Rauf,2000-01-31,Islamabad,merit;punjab\n"
        "100002,Bilal Khan,,Lahore,\n"
    )
    assert services.candidates_import(actor=actor, exam=exam, text=text) == 2
    services.candidates_import(actor=actor, exam=exam, text="roll,name\n100002,Bilal Ahmed Khan\n")
    rows = {c.roll: (c.name, c.born, c.buckets) for c in ExamCandidate.objects.all()}
    assert rows == {
        "100001": ("Asma Rauf", date(2000, 1, 31), ["merit", "punjab"]),
        "100002": ("Bilal Ahmed Khan", None, []),
    }
    with pytest.raises(DomainError) as refused:
        services.candidates_import(
            actor=actor, exam=exam, text="roll,name,born\n12,X,\n100003,,\n100004,Y,31-01-2000\n"
        )
    assert refused.value.message.count("line") >= 3 and ExamCandidate.objects.count() == 2


def _sheet(exam, candidate, series, answers, status=SheetStatus.CONFIRMED):
    batch = Batch.objects.get_or_create(exam=exam, name="Batch 1")[0]
    return Sheet.objects.create(
        batch=batch, source=f"scan-{candidate.roll}.png", image="omr/x.png", sha256=uuid.uuid4().hex,
        status=status, roll=candidate.roll, series=series, answers=answers, candidate=candidate,
    )  # fmt: skip


def test_scoring_and_the_merit_list_with_a_trail_back_to_the_sheet(exam, actor):
    services.key_import(actor=actor, exam=exam, text=KEY)
    services.candidates_import(
        actor=actor,
        exam=exam,
        text="roll,name,born\n100001,Asma Rauf,2001-01-01\n100002,Bilal Khan,1999-05-05\n100003,Chand Bibi,\n",
    )
    a, b, c = ExamCandidate.objects.order_by("roll")
    key_a = {str(q): ["ABCD"[q % 4]] for q in range(1, 11)}
    key_b = {str(q): ["ABCD"[(q + 1) % 4]] for q in range(1, 11)}
    _sheet(exam, a, "A", {**key_a, "10": []})  # 9 right, 1 blank: 9
    _sheet(exam, b, "B", {**key_b, "10": ["A"]})  # 9 right, 1 wrong: 8.75
    _sheet(exam, c, "A", key_a, status=SheetStatus.REVIEW)  # not scored yet
    report = services.exam_score(actor=actor, exam=exam)
    assert (report.scored, report.waiting) == (2, 1)
    totals = {r.candidate.roll: r.total for r in Result.objects.all()}
    assert totals == {"100001": Decimal("9"), "100002": Decimal("8.75")}
    assert Result.objects.get(candidate=b).per_question["10"] == "-0.25"
    merit = services.merit_list_publish(actor=actor, exam=exam, tie_breaks=["older"])
    entries = list(merit.entries.select_related("result__sheet", "result__candidate"))
    assert [(e.rank, e.result.candidate.roll, e.result.sheet.source) for e in entries] == [
        (1, "100001", "scan-100001.png"),
        (2, "100002", "scan-100002.png"),
    ]
    assert _audits("omr.scored") == 1 and _audits("omr.merit_published") == 1
    with pytest.raises(DomainError, match="published"):
        services.exam_score(actor=actor, exam=exam)
    assert MeritList.objects.count() == 1 and Result.objects.count() == 2


def test_a_bad_policy_is_refused_and_nothing_is_published(exam, actor):
    services.key_import(actor=actor, exam=exam, text=KEY)
    services.candidates_import(actor=actor, exam=exam, text="roll,name\n100001,Asma Rauf\n")
    _sheet(exam, ExamCandidate.objects.get(), "A", {})
    services.exam_score(actor=actor, exam=exam)
    with pytest.raises(DomainError, match="tie-breaker"):
        services.merit_list_publish(actor=actor, exam=exam, tie_breaks=["height"])
    assert not MeritList.objects.exists() and _audits("omr.merit_published") == 0
    assert services.exam_score(actor=actor, exam=exam).scored == 1  # still open for scoring
