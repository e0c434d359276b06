"""OMR reads for the screens (non-trivial queries live here, not in the views)."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Q, QuerySet

from .models import Batch, Exam, ExamCandidate, MeritEntry, MeritList, Sheet, SheetStatus

WAITING = (SheetStatus.QUEUED, SheetStatus.REVIEW)
SCORABLE = (SheetStatus.READ, SheetStatus.CONFIRMED)


def exam_list(q: str = "") -> QuerySet[Exam]:
    exams = Exam.objects.annotate(n_candidates=Count("candidates", distinct=True)).order_by("-held_on", "code")
    if q:
        exams = exams.filter(Q(code__icontains=q) | Q(title__icontains=q) | Q(title_ur__icontains=q))
    return exams


def sheet_counts_by_exam(exam_ids: list[int]) -> tuple[Counter, Counter]:
    """(sheets, sheets to review) per exam id, two grouped queries for a page of exams."""

    def grouped(qs) -> Counter:
        return Counter(dict(qs.order_by().values_list("batch__exam").annotate(n=Count("id"))))

    sheets = Sheet.objects.filter(batch__exam__in=exam_ids)
    return grouped(sheets), grouped(sheets.filter(status=SheetStatus.REVIEW))


def status_counts(sheets: QuerySet[Sheet]) -> dict[str, int]:
    """Sheets by status, every status present (0 when none)."""
    found = dict(sheets.order_by().values_list("status").annotate(n=Count("id")))
    return {status: found.get(status, 0) for status in SheetStatus.values}


def exam_sheets(exam: Exam) -> QuerySet[Sheet]:
    return Sheet.objects.filter(batch__exam=exam)


def centre_counts(exam: Exam) -> list[tuple[str, int]]:
    return list(
        ExamCandidate.objects.filter(exam=exam).order_by("centre").values_list("centre").annotate(n=Count("id"))
    )


def key_rows_by_series(exam: Exam) -> dict[str, int]:
    return dict(exam.key.order_by().values_list("series").annotate(n=Count("id")))


def latest_merit_list(exam: Exam) -> MeritList | None:
    return MeritList.objects.filter(exam=exam).order_by("-version").first()


def batches_with_counts(exam: Exam) -> list[Batch]:
    """The exam's batches, newest first, each with ``counts`` by status and ``total`` (two queries)."""
    batches = list(Batch.objects.filter(exam=exam).select_related("job", "created_by").order_by("-created_at"))
    counts: dict = {}
    for batch_id, status, n in exam_sheets(exam).order_by().values_list("batch_id", "status").annotate(n=Count("id")):
        counts.setdefault(batch_id, {})[status] = n
    for batch in batches:
        found = counts.get(batch.pk, {})
        batch.counts = {s: found.get(s, 0) for s in SheetStatus.values}  # type: ignore[attr-defined]
        batch.total = sum(found.values())  # type: ignore[attr-defined]
    return batches


def next_to_review(exam: Exam, *, after: int | None = None, batch: Batch | None = None) -> Sheet | None:
    """The oldest sheet to review (after ``after`` first, then from the start; within ``batch`` if given)."""
    queue = exam_sheets(exam).filter(status=SheetStatus.REVIEW).order_by("id")
    if batch is not None:
        queue = queue.filter(batch=batch)
    if after is not None:
        found = queue.filter(id__gt=after).first()
        if found is not None:
            return found
        queue = queue.exclude(id=after)
    return queue.first()


def waiting_count(exam: Exam) -> int:
    """Sheets not yet scorable: still queued or to review."""
    return exam_sheets(exam).filter(status__in=WAITING).count()


def scorable_count(exam: Exam) -> int:
    return exam_sheets(exam).filter(status__in=SCORABLE, candidate__isnull=False).count()


def merit_entries(merit: MeritList) -> QuerySet[MeritEntry]:
    return MeritEntry.objects.filter(merit_list=merit).select_related("result__candidate").order_by("rank")
