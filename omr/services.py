"""OMR use cases (issue 8, being built). Built: exams with their layout and sections, the answer key and the
candidates from CSV (all or nothing, every bad line named), scoring the confirmed sheets, and publishing a merit
list. Each is audited. Scan batches and the engine's reads come next."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ConflictError, DomainError

from . import scoring
from .layout import Layout, build_layout
from .models import (
    Exam,
    ExamCandidate,
    ExamSection,
    ExamStatus,
    KeyAnswer,
    MeritEntry,
    MeritList,
    Result,
    Sheet,
    SheetLayout,
    SheetStatus,
)

EXAM_CREATED = audit.register("omr.exam_created", "An OMR exam was set up with its sheet layout")
KEY_IMPORTED = audit.register("omr.key_imported", "An exam's answer key was imported")
CANDIDATES_IMPORTED = audit.register("omr.candidates_imported", "An exam's candidates were imported")
SCORED = audit.register("omr.scored", "An exam's confirmed sheets were scored")
MERIT_PUBLISHED = audit.register("omr.merit_published", "An exam's merit list was published")

MAX_CSV_ROWS = 500_000
MAX_LISTED_ERRORS = 50


def layout_store(layout: Layout) -> SheetLayout:
    """The stored row for this layout; the same code and version with different content is refused (a printed
    sheet must always be read with the layout it was printed from)."""
    stored, created = SheetLayout.objects.get_or_create(
        code=layout.code, version=layout.version, defaults={"data": Layout.from_json(layout.to_json()).to_json()}
    )
    if not created and stored.layout != layout:
        raise ConflictError(
            "layout_changed",
            _("Layout %(code)s version %(v)s exists with other content: give the new one another version.")
            % {"code": layout.code, "v": layout.version},
            status=409,
        )
    return stored


@transaction.atomic
def exam_create(
    *,
    actor,
    code: str,
    title: str,
    held_on: date,
    questions: int,
    options: int = 4,
    roll_digits: int = 8,
    series: tuple[str, ...] = (),
    sections: Sequence[tuple[str, int, int]] = (),
    marks_correct: Decimal = Decimal(1),
    marks_wrong: Decimal = Decimal(0),
    multiple: str = scoring.MULTIPLE_IS_WRONG,
    title_ur: str = "",
) -> Exam:
    try:
        layout = build_layout(
            code=code, questions=questions, options=options, roll_digits=roll_digits, series=tuple(series),
            title=title, title_ur=title_ur,
        )  # fmt: skip
        scheme_sections = tuple(scoring.Section(name, first, last) for name, first, last in sections)
        scoring.MarkingScheme(
            correct=Decimal(marks_correct), wrong=Decimal(marks_wrong), multiple=multiple, sections=scheme_sections
        )
    except (ValueError, InvalidOperation) as exc:
        raise DomainError("bad_exam", str(exc)) from None
    outside = [s.name for s in scheme_sections if s.last > questions]
    if outside:
        raise DomainError("bad_exam", _("Sections beyond the last question: %s") % ", ".join(outside))
    if Exam.objects.filter(code=code).exists():
        raise DomainError("exam_exists", _("An exam with this code exists already."), field="code")
    exam = Exam.objects.create(
        code=code, title=title, title_ur=title_ur, held_on=held_on, layout=layout_store(layout),
        marks_correct=marks_correct, marks_wrong=marks_wrong, multiple=multiple,
    )  # fmt: skip
    ExamSection.objects.bulk_create(
        ExamSection(exam=exam, name=s.name, first=s.first, last=s.last) for s in scheme_sections
    )
    audit.record(
        action=EXAM_CREATED,
        target=exam,
        actor=actor,
        data={"code": code, "layout": f"{layout.code}/{layout.version}", "questions": questions, "options": options},
    )
    return exam


def _csv_rows(text: str, required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise DomainError(
                "csv_columns",
                _("The file has no column %(cols)s. The first line must name the columns.")
                % {"cols": ", ".join(missing)},
                field="file",
            )
        reader.fieldnames = header
        rows: list[tuple[int, dict[str, str]]] = []
        for raw in reader:
            if len(rows) >= MAX_CSV_ROWS:
                raise DomainError("csv_too_long", _("The file has too many rows."), field="file")
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in raw.items() if k}))
    except csv.Error as exc:
        raise DomainError("csv_unreadable", _("The file is not a readable CSV file: %s") % exc, field="file") from None
    return header, rows


def _refuse_lines(errors: list[dict]) -> None:
    if errors:
        shown = "; ".join(f"{_('line')} {e['line']}: {e['message']}" for e in errors[:MAX_LISTED_ERRORS])
        raise DomainError(
            "csv_rows",
            _("Nothing was imported: %(n)s lines break a rule. %(lines)s") % {"n": len(errors), "lines": shown},
            field="file",
        )


@transaction.atomic
def key_import(*, actor, exam: Exam, text: str) -> int:
    """Replace the exam's answer key with the file's (columns: series, question, options[, status]; status is
    empty, "dropped" or "bonus"). Every question of the sheet must be in the key of every series, once."""
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    if exam.status == ExamStatus.PUBLISHED:
        raise ConflictError("published", _("The merit list is published: the key cannot change."), status=409)
    layout = exam.layout.layout
    _header, rows = _csv_rows(text, ("question", "options"))
    series_expected = set(layout.series) or {""}
    letters = "ABCDE"[: layout.options]
    errors: list[dict] = []
    answers: list[KeyAnswer] = []
    seen: dict[tuple[str, int], int] = {}
    for line, row in rows:
        series = row.get("series", "").upper()
        question, options, status = row.get("question", ""), row.get("options", "").upper(), row.get("status", "")
        if series not in series_expected:
            errors.append({"line": line, "message": _("series %(s)r is not one of the sheet's") % {"s": series}})
        elif not question.isdigit() or not 1 <= int(question) <= layout.questions:
            errors.append({"line": line, "message": _("question must be 1–%(n)s") % {"n": layout.questions}})
        elif status.lower() not in ("", "dropped", "bonus"):
            errors.append({"line": line, "message": _("status is empty, dropped or bonus")})
        elif not options and not status or any(o not in letters for o in options) or len(set(options)) != len(options):
            errors.append({"line": line, "message": _("options are letters among %(l)s") % {"l": letters}})
        elif (series, int(question)) in seen:
            errors.append(
                {"line": line, "message": _("question repeated (line %(l)s)") % {"l": seen[(series, int(question))]}}
            )
        else:
            seen[(series, int(question))] = line
            answers.append(
                KeyAnswer(
                    exam=exam, series=series, question=int(question), options="".join(sorted(options)),
                    dropped=status.lower() == "dropped", bonus=status.lower() == "bonus",
                )
            )  # fmt: skip
    for series in sorted(series_expected):
        missing = [q for q in range(1, layout.questions + 1) if (series, q) not in seen]
        if missing and not errors:
            errors.append(
                {"line": "-", "message": _("series %(s)r lacks questions %(q)s") % {"s": series, "q": missing[:20]}}
            )
    _refuse_lines(errors)
    KeyAnswer.objects.filter(exam=exam).delete()
    KeyAnswer.objects.bulk_create(answers)
    audit.record(
        action=KEY_IMPORTED,
        target=exam,
        actor=actor,
        data={"rows": len(answers), "sha256": hashlib.sha256(text.encode()).hexdigest()},
    )
    return len(answers)


@transaction.atomic
def candidates_import(*, actor, exam: Exam, text: str) -> int:
    """Add or update the exam's candidates (columns: roll, name[, born (YYYY-MM-DD), centre, buckets (";")])."""
    layout = exam.layout.layout
    _header, rows = _csv_rows(text, ("roll", "name"))
    errors: list[dict] = []
    found: dict[str, dict] = {}
    seen: dict[str, int] = {}
    for line, row in rows:
        roll, name = row.get("roll", ""), row.get("name", "")
        born_text = row.get("born", "")
        try:
            born = date.fromisoformat(born_text) if born_text else None
        except ValueError:
            born = None
            errors.append({"line": line, "message": _("born is a date like 2001-04-17")})
            continue
        if not (roll.isdigit() and len(roll) == layout.roll_digits):
            errors.append({"line": line, "message": _("roll is %(n)s digits") % {"n": layout.roll_digits}})
        elif not name or len(name) > 120:
            errors.append({"line": line, "message": _("name is 1–120 characters")})
        elif roll in seen:
            errors.append({"line": line, "message": _("roll repeated (line %(l)s)") % {"l": seen[roll]}})
        else:
            seen[roll] = line
            buckets = sorted({b.strip() for b in row.get("buckets", "").split(";") if b.strip()})
            found[roll] = {"name": name, "born": born, "centre": row.get("centre", "")[:120], "buckets": buckets}
    _refuse_lines(errors)
    existing = {c.roll: c for c in ExamCandidate.objects.filter(exam=exam, roll__in=found)}
    for roll, fields in found.items():
        if roll in existing:
            candidate = existing[roll]
            for key, value in fields.items():
                setattr(candidate, key, value)
            candidate.save()
        else:
            ExamCandidate.objects.create(exam=exam, roll=roll, **fields)
    audit.record(
        action=CANDIDATES_IMPORTED,
        target=exam,
        actor=actor,
        data={"rows": len(found), "sha256": hashlib.sha256(text.encode()).hexdigest()},
    )
    return len(found)


@dataclass(frozen=True)
class _ExamKey:
    keys: dict[str, dict[int, frozenset[str]]]  # series → question → accepted options
    schemes: dict[str, scoring.MarkingScheme]  # series → the scheme with that series' dropped and bonus questions


def _exam_key(exam: Exam) -> _ExamKey:
    keys: dict[str, dict[int, frozenset[str]]] = {}
    dropped: dict[str, set[int]] = {}
    bonus: dict[str, set[int]] = {}
    for answer in exam.key.all():
        keys.setdefault(answer.series, {})[answer.question] = frozenset(answer.options)
        if answer.dropped:
            dropped.setdefault(answer.series, set()).add(answer.question)
        if answer.bonus:
            bonus.setdefault(answer.series, set()).add(answer.question)
    sections = tuple(scoring.Section(s.name, s.first, s.last) for s in exam.sections.all())
    schemes = {
        series: scoring.MarkingScheme(
            correct=exam.marks_correct,
            wrong=exam.marks_wrong,
            multiple=exam.multiple,
            sections=sections,
            dropped=frozenset(dropped.get(series, ())),
            bonus=frozenset(bonus.get(series, ())),
        )  # fmt: skip
        for series in keys
    }
    return _ExamKey(keys, schemes)


@dataclass
class ScoreReport:
    scored: int = 0
    waiting: int = 0  # sheets still queued or to review


@transaction.atomic
def exam_score(*, actor, exam: Exam) -> ScoreReport:
    """(Re)score every confirmed or cleanly read sheet matched to a candidate; sheets still queued or to review
    are counted, not scored. Each candidate has one result, from one sheet."""
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    if exam.status == ExamStatus.PUBLISHED:
        raise ConflictError("published", _("The merit list is published: scores cannot change."), status=409)
    key = _exam_key(exam)
    if not key.keys:
        raise DomainError("no_key", _("Import the answer key first."))
    report = ScoreReport()
    now = timezone.now()
    sheets = Sheet.objects.filter(batch__exam=exam).select_related("candidate")
    report.waiting = sheets.filter(status__in=(SheetStatus.QUEUED, SheetStatus.REVIEW)).count()
    Result.objects.filter(exam=exam).delete()
    for sheet in sheets.filter(status__in=(SheetStatus.READ, SheetStatus.CONFIRMED), candidate__isnull=False):
        series = sheet.series if sheet.series in key.keys else ""
        if series not in key.keys:
            continue
        candidate = sheet.candidate
        assert candidate is not None  # filtered above
        answers = {int(q): tuple(v) for q, v in sheet.answers.items()}
        result = scoring.score(answers, key.keys[series], key.schemes[series])
        try:
            Result.objects.create(
                exam=exam, candidate=candidate, sheet=sheet, total=result.total,
                sections={k: str(v) for k, v in result.sections.items()}, correct=result.correct,
                wrong=result.wrong, blank=result.blank, multiple=result.multiple,
                per_question={str(q): str(m) for q, m in result.per_question.items()}, scored_at=now,
            )  # fmt: skip
        except IntegrityError:
            raise ConflictError(
                "two_sheets",
                _("Roll %(roll)s has two confirmed sheets: review them first.") % {"roll": candidate.roll},
                status=409,
            ) from None
        report.scored += 1
    audit.record(action=SCORED, target=exam, actor=actor, data={"scored": report.scored, "waiting": report.waiting})
    return report


@transaction.atomic
def merit_list_publish(
    *,
    actor,
    exam: Exam,
    tie_breaks: Sequence[str] = (),
    quotas: Sequence[tuple[str, int, str]] = (),
) -> MeritList:
    """Rank the exam's results by the policy and publish them as the next version of its merit list."""
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    results = list(Result.objects.filter(exam=exam).select_related("candidate"))
    if not results:
        raise DomainError("no_results", _("Score the exam first: there are no results."))
    candidates = {
        r.candidate.roll: scoring.Candidate(
            roll=r.candidate.roll,
            total=r.total,
            sections={k: Decimal(v) for k, v in r.sections.items()},
            born=r.candidate.born,
            buckets=frozenset(r.candidate.buckets),
        )  # fmt: skip
        for r in results
    }
    try:
        ranked = scoring.merit_list(
            candidates.values(),
            [scoring.TieBreak(t) for t in tie_breaks],
            [scoring.Quota(bucket, seats, carry) for bucket, seats, carry in quotas],
        )
    except scoring.ScoringError as exc:
        raise DomainError("bad_policy", str(exc)) from None
    version = (MeritList.objects.filter(exam=exam).aggregate(v=Max("version"))["v"] or 0) + 1
    policy = {"tie_breaks": list(tie_breaks), "quotas": [list(q) for q in quotas]}
    merit = MeritList.objects.create(
        exam=exam, version=version, policy=policy, published_at=timezone.now(), published_by=actor
    )
    by_roll = {r.candidate.roll: r for r in results}
    MeritEntry.objects.bulk_create(
        MeritEntry(merit_list=merit, rank=r.rank, result=by_roll[r.candidate.roll], selected_in=r.selected_in)
        for r in ranked
    )
    exam.status = ExamStatus.PUBLISHED
    exam.save(update_fields=["status"])
    audit.record(
        action=MERIT_PUBLISHED,
        target=exam,
        actor=actor,
        data={"version": version, "entries": len(ranked), "policy": policy, "first": ranked[0].candidate.roll},
    )
    return merit
