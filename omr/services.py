"""OMR use cases (issue 8, being built): exams with their layout and sections; the answer key and the candidates
from CSV (all or nothing, every bad line named); scan batches (every page a sheet, every unusable file a refused
one) read by the engine on the ``omr`` queue; review with corrections; scoring the confirmed sheets; publishing
a merit list. Every step is audited, so a published mark leads back to its sheet, its bubbles and its image."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import cv2
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.exceptions import ConflictError, DomainError
from core.services import job_advance, job_create, job_finish, job_start

from . import engine, scoring, uploads
from . import layout as layout_module
from .layout import Layout, build_layout
from .models import (
    Batch,
    Correction,
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
BATCH_UPLOADED = audit.register("omr.batch_uploaded", "Scanned sheets were uploaded into a batch")
SHEET_READ = audit.register("omr.sheet_read", "The engine read a scanned sheet")
SHEET_REVIEWED = audit.register("omr.sheet_reviewed", "A reviewer confirmed or corrected a sheet")

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


def _check_exam(questions, options, roll_digits, series, sections, marks_correct, marks_wrong) -> None:
    """Every rule of an exam's shape, each named by its field (what build_layout and the marking scheme would
    refuse), so the screen can say it beside the field."""
    fields: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        fields.setdefault(field, []).append(message)

    if options not in (4, 5):
        fail("options", _("Questions have 4 or 5 options."))
    limit = layout_module.MAX_QUESTIONS if options == 4 else 120
    if not 1 <= questions <= limit:
        fail(
            "questions", _("From 1 to %(n)s questions fit on a sheet with %(o)s options.") % {"n": limit, "o": options}
        )
    if not 4 <= roll_digits <= 10:
        fail("roll_digits", _("A roll number has 4 to 10 digits."))
    if any(s not in layout_module.SERIES_LETTERS for s in series) or len(set(series)) != len(series):
        fail("series", _("Booklet series are distinct letters among A, B, C and D."))
    ordered = sorted(sections, key=lambda s: s[1])
    for name, first, last in ordered:
        if not name or not 1 <= first <= last <= questions:
            fail(
                "sections",
                _("Section %(name)s must run within questions 1–%(n)s.") % {"name": name or "?", "n": questions},
            )
    for (a, _f, a_last), (b, b_first, _l) in zip(ordered, ordered[1:], strict=False):
        if b_first <= a_last:
            fail("sections", _("Sections %(a)s and %(b)s overlap.") % {"a": a, "b": b})
    if len({name for name, _f, _l in sections}) != len(sections):
        fail("sections", _("Section names must be different."))
    try:
        correct, wrong = Decimal(marks_correct), Decimal(marks_wrong)
    except (InvalidOperation, TypeError, ValueError):
        correct = wrong = Decimal(-1)
    if correct <= 0:
        fail("marks_correct", _("Marks for a correct answer must be more than zero."))
    if wrong < 0:
        fail("marks_wrong", _("Negative marks are zero or more (the number taken away)."))
    if fields:
        raise DomainError("bad_exam", next(iter(fields.values()))[0], fields=fields)


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
    _check_exam(questions, options, roll_digits, tuple(series), sections, marks_correct, marks_wrong)
    layout = build_layout(
        code=code, questions=questions, options=options, roll_digits=roll_digits, series=tuple(series),
        title=title, title_ur=title_ur,
    )  # fmt: skip
    scheme_sections = tuple(scoring.Section(name, first, last) for name, first, last in sections)
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
            fields={"file": [f"{_('line')} {e['line']}: {e['message']}" for e in errors[:MAX_LISTED_ERRORS]]},
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
    sheets = Sheet.objects.filter(batch__exam=exam).select_related("candidate").defer("reading")
    report.waiting = sheets.filter(status__in=(SheetStatus.QUEUED, SheetStatus.REVIEW)).count()
    Result.objects.filter(exam=exam).delete()
    results: list[Result] = []
    scored_rolls: set[str] = set()
    confirmed = sheets.filter(status__in=(SheetStatus.READ, SheetStatus.CONFIRMED), candidate__isnull=False)
    for sheet in confirmed.iterator(chunk_size=2_000):
        series = sheet.series if sheet.series in key.keys else ""
        if series not in key.keys:  # a series the key lacks: not scored, and said
            report.waiting += 1
            continue
        candidate = sheet.candidate
        assert candidate is not None  # filtered above
        if candidate.roll in scored_rolls:
            raise ConflictError(
                "two_sheets",
                _("Roll %(roll)s has two confirmed sheets: review them first.") % {"roll": candidate.roll},
                status=409,
            )
        scored_rolls.add(candidate.roll)
        answers = {int(q): tuple(v) for q, v in sheet.answers.items()}
        result = scoring.score(answers, key.keys[series], key.schemes[series])
        results.append(
            Result(
                exam=exam,
                candidate=candidate,
                sheet=sheet,
                total=result.total,
                sections={k: str(v) for k, v in result.sections.items()},
                correct=result.correct,
                wrong=result.wrong,
                blank=result.blank,
                multiple=result.multiple,
                per_question={str(q): str(m) for q, m in result.per_question.items()},
                scored_at=now,
            )  # fmt: skip
        )
    Result.objects.bulk_create(results, batch_size=2_000)
    report.scored = len(results)
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


# --- scan batches --------------------------------------------------------------------------------------------

UNUSABLE = {
    "type": gettext_lazy("not a picture, PDF or ZIP file"),
    "empty": gettext_lazy("the file is empty"),
    "too_large": gettext_lazy("the file is too large"),
    "zip_bomb": gettext_lazy("the ZIP file unpacks to too much"),
    "nested_zip": gettext_lazy("a ZIP file inside a ZIP file"),
    "pdf": gettext_lazy("the PDF cannot be read"),
    "too_many_pages": gettext_lazy("too many pages in one upload"),
}


def _pages(files: list[tuple[str, bytes]]) -> tuple[list[tuple[str, int, bytes, str]], list[tuple[str, str]]]:
    """(source, page, image bytes, extension) for every page, and (source, reason) for every unusable item; a
    multi-page TIFF becomes one PNG a page."""
    pages: list[tuple[str, int, bytes, str]] = []
    unusable: list[tuple[str, str]] = []
    for item in uploads.expand(files):
        if isinstance(item, uploads.Unusable):
            unusable.append((item.source, str(UNUSABLE.get(item.code, item.code))))
            continue
        found = uploads.kind(item.data)
        if found != "tiff":
            pages.append((item.source, item.page, item.data, "jpg" if found == "jpeg" else "png"))
            continue
        try:
            images = engine.decode(item.data)
        except engine.Refused as exc:
            unusable.append((item.source, exc.message))
            continue
        for number, image in enumerate(images, start=1):
            ok, png = cv2.imencode(".png", image)
            if ok:
                pages.append((item.source, number, png.tobytes(), "png"))
    return pages, unusable


def batch_upload(*, actor, exam: Exam, name: str, files: list[tuple[str, bytes]]) -> Batch:
    """Store every page of the files as a sheet and hand each to a worker (queue ``omr``); a file that is not a
    sheet is kept as a refused sheet with the reason. A Job shows the batch's progress."""
    name = (name or "").strip()[:120]
    if not name:
        raise DomainError("name_required", _("Name the batch."), field="name")
    if not files:
        raise DomainError("no_files", _("Choose the scanned files."), field="files")
    if exam.status == ExamStatus.PUBLISHED:
        raise ConflictError("published", _("The merit list is published: no more sheets."), status=409)
    pages, unusable = _pages(files)  # before the transaction: rasterising PDFs takes time
    with transaction.atomic():
        Exam.objects.filter(pk=exam.pk, status=ExamStatus.SETUP).update(status=ExamStatus.SCANNING)
        batch = Batch.objects.create(exam=exam, name=name, created_by=actor)
        job = job_create(actor=actor, kind="omr.batch", title=_("Reading %(batch)s") % {"batch": name})
        batch.job = job
        batch.save(update_fields=["job"])
        sheets = []
        for source, page, data, extension in pages:
            sheet = Sheet(batch=batch, source=source[:200], page=page, sha256=hashlib.sha256(data).hexdigest())
            sheet.image.save(f"scan.{extension}", ContentFile(data), save=False)
            sheets.append(sheet)
        Sheet.objects.bulk_create(sheets, batch_size=1_000)
        Sheet.objects.bulk_create(
            Sheet(batch=batch, source=source[:200], status=SheetStatus.REFUSED, refusal=reason[:300])
            for source, reason in unusable
        )
        audit.record(
            action=BATCH_UPLOADED,
            target=batch,
            actor=actor,
            data={
                "exam": exam.code,
                "files": [[n[:200], hashlib.sha256(d).hexdigest()] for n, d in files],
                "pages": len(sheets),
                "unusable": [[source[:200], reason] for source, reason in unusable[:200]],
            },
        )
        job_start(job_id=job.pk, total=len(sheets))
        if not sheets:
            job_finish(job_id=job.pk, message=_("No page to read."))
        ids = [sheet.pk for sheet in sheets]
        transaction.on_commit(lambda: _enqueue(ids))
    return batch


def _enqueue(sheet_ids: list[int]) -> None:
    from .tasks import sheet_read_task

    for sheet_id in sheet_ids:
        sheet_read_task.delay(sheet_id)


def _reading(read: engine.SheetRead) -> dict:
    """What the engine saw, kept with the sheet: every bubble's fill and class, each question's status and
    confidence, the thresholds, the page's position (homography) and the timings."""
    return {
        "status": read.status,
        "confidence": round(read.confidence, 4),
        # field, index, value, fill, class, confidence, and the bubble's centre in the image (for the overlay)
        "bubbles": [
            [b.field, b.index, b.value, round(b.fill, 4), b.mark, round(b.confidence, 3), round(b.x, 1), round(b.y, 1)]
            for b in read.bubbles
        ],
        "outlines_missing": [[b.field, b.index, b.value] for b in read.bubbles if not b.outline],
        "questions": {str(q): [r.status, list(r.letters), round(r.confidence, 3)] for q, r in read.questions.items()},
        "roll": read.roll,
        "roll_status": read.roll_status,
        "printed_roll": read.printed_roll,
        "series_status": read.series_status,
        "thresholds": {k: round(v, 4) for k, v in read.thresholds.items()},
        "rotation": read.rotation,
        "homography": read.homography,
        "image_size": list(read.image_size),
        "timings": {k: round(v, 2) for k, v in read.timings.items()},
    }


def sheet_read(*, sheet_id: int) -> str:
    """Body of the ``omr.sheet_read`` task: read one queued sheet (idempotent: a sheet already read is left as it
    is). Flags a roll that is not registered for the exam, and every sheet of a roll that has another."""
    sheet = Sheet.objects.select_related("batch__exam__layout").filter(pk=sheet_id).first()
    if sheet is None or sheet.status != SheetStatus.QUEUED:
        return "skipped"
    exam = sheet.batch.exam
    layout = exam.layout.layout
    with sheet.image.open("rb") as handle:
        data = handle.read()
    try:
        read = engine.read_sheet(
            engine.decode(data)[0],
            lambda code, version: layout if (code, version) == (layout.code, layout.version) else None,
        )
    except engine.Refused as exc:
        read = engine.SheetRead(status="refused", refusal_code=exc.code, refusal_message=exc.message)
    with transaction.atomic():
        sheet = Sheet.objects.select_for_update().get(pk=sheet_id)
        if sheet.status != SheetStatus.QUEUED:
            return "skipped"
        reading = _reading(read)
        sheet.reading, sheet.read_at = reading, timezone.now()
        sheet.confidence = Decimal(str(round(read.confidence, 4)))
        if read.status == "refused":
            sheet.status, sheet.refusal = SheetStatus.REFUSED, f"{read.refusal_code}: {read.refusal_message}"[:300]
        else:
            reasons = list(read.review_reasons)
            sheet.roll, sheet.series, sheet.sheet_code = read.roll or "", read.series or "", read.sheet_id[:40]
            sheet.answers = {str(q): list(letters) for q, letters in read.answers.items()}
            candidate = None
            if sheet.roll:
                # of=self and no ordering: the lock is on the candidate row only (the model's ordering joins
                # the exam, whose row a batch upload's commit needs; locking it too deadlocked).
                candidate = (
                    ExamCandidate.objects.select_for_update(of=("self",))
                    .filter(exam=exam, roll=sheet.roll)
                    .order_by()
                    .first()
                )
                if candidate is None:
                    reasons.append("roll not registered for this exam")
            if candidate is not None:
                sheet.candidate = candidate
                others = list(
                    Sheet.objects.filter(candidate=candidate).exclude(pk=sheet.pk).exclude(status=SheetStatus.REFUSED)
                )
                if others:
                    reasons.append("another sheet has this roll")
                    for other in others:
                        if "another sheet has this roll" not in other.review_reasons:
                            other.review_reasons = [*other.review_reasons, "another sheet has this roll"]
                        if other.status == SheetStatus.READ:
                            other.status = SheetStatus.REVIEW
                        other.save(update_fields=["review_reasons", "status"])
            sheet.review_reasons = reasons
            sheet.status = SheetStatus.REVIEW if read.status == "review" or reasons else SheetStatus.READ
        sheet.save()
        audit.record(
            action=SHEET_READ,
            target=sheet,
            data={
                "status": sheet.status,
                "confidence": reading["confidence"],
                "roll": sheet.roll,
                "reasons": sheet.review_reasons or ([sheet.refusal] if sheet.refusal else []),
                "reading_sha256": hashlib.sha256(json.dumps(reading, sort_keys=True).encode()).hexdigest(),
                "image_sha256": sheet.sha256,
            },
        )
    batch = sheet.batch
    if batch.job_id:
        job_advance(job_id=batch.job_id)
        if not Sheet.objects.filter(batch=batch, status=SheetStatus.QUEUED).exists():
            job_finish(job_id=batch.job_id)
    return sheet.status


@transaction.atomic
def sheet_review(
    *,
    actor,
    sheet_id: int,
    reason: str = "",
    roll: str | None = None,
    series: str | None = None,
    answers: Mapping[int, str] | None = None,
) -> Sheet:
    """Confirm a sheet, correcting what the engine read (each change kept with who, when and why): the roll
    number, the series, and answers (question → the letters, "" for none). A correction needs a reason."""
    sheet = Sheet.objects.select_for_update(of=("self",)).select_related("batch__exam__layout").get(pk=sheet_id)
    if sheet.status not in (SheetStatus.READ, SheetStatus.REVIEW, SheetStatus.CONFIRMED):
        raise ConflictError("not_reviewable", _("A refused sheet cannot be confirmed: scan it again."), status=409)
    exam = sheet.batch.exam
    if exam.status == ExamStatus.PUBLISHED:
        raise ConflictError("published", _("The merit list is published: sheets cannot change."), status=409)
    layout = exam.layout.layout
    reason = (reason or "").strip()[:300]
    changes: list[tuple[str, str, str]] = []
    if roll is not None and roll != sheet.roll:
        if not (roll.isdigit() and len(roll) == layout.roll_digits):
            raise DomainError(
                "bad_roll", _("A roll number has %(n)s digits.") % {"n": layout.roll_digits}, field="roll"
            )
        changes.append(("roll", sheet.roll, roll))
    if series is not None and series != sheet.series:
        if series not in layout.series:
            raise DomainError("bad_series", _("Choose one of the sheet's series."), field="series")
        changes.append(("series", sheet.series, series))
    letters = "ABCDE"[: layout.options]
    for question, value in sorted((answers or {}).items()):
        value = "".join(sorted(set(value.upper())))
        if not 1 <= int(question) <= layout.questions or any(v not in letters for v in value):
            raise DomainError(
                "bad_answer", _("Question %(q)s: letters among %(l)s.") % {"q": question, "l": letters}, field="answers"
            )
        before = "".join(sheet.answers.get(str(question), []))
        if value != before:
            changes.append((f"q{question}", before, value))
    if changes and not reason:
        raise DomainError("reason_required", _("Say why you correct the reading."), field="reason")
    new_roll = roll if roll is not None else sheet.roll
    candidate = ExamCandidate.objects.filter(exam=exam, roll=new_roll).first() if new_roll else None
    if candidate is None:
        raise DomainError(
            "unregistered",
            _("Roll number %(roll)s is not registered for this exam.") % {"roll": new_roll or "-"},
            field="roll",
        )
    if Sheet.objects.filter(candidate=candidate, status=SheetStatus.CONFIRMED).exclude(pk=sheet.pk).exists():
        raise ConflictError(
            "duplicate_roll",
            _("Another confirmed sheet has roll number %(roll)s.") % {"roll": new_roll},
            field="roll",
            status=409,
        )
    now = timezone.now()
    for field, before, after in changes:
        Correction.objects.create(
            sheet=sheet, actor=actor, at=now, field=field, before=before, after=after, reason=reason
        )
        if field == "roll":
            sheet.roll = after
        elif field == "series":
            sheet.series = after
        else:
            sheet.answers = {**sheet.answers, field[1:]: list(after)}
    sheet.candidate = candidate
    sheet.status, sheet.reviewed_by, sheet.reviewed_at = SheetStatus.CONFIRMED, actor, now
    sheet.save()
    audit.record(
        action=SHEET_REVIEWED,
        target=sheet,
        actor=actor,
        data={"changes": [list(c) for c in changes], "reason": reason, "roll": sheet.roll},
    )
    return sheet
