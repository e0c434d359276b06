"""The OMR scanning screens: an exam's batches and the upload, a batch's page (the live progress bar, the counts
by outcome, its sheets), the review queue, and a sheet's page: the scan with what the engine saw drawn over it,
the review form (roll number, series, the unclear questions — or all of them), the corrections with who and
why, and, once scored, the marks question by question with the bubbles' figures (the trail from a merit list).
Access as in views.py."""

from __future__ import annotations

import cv2
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.forms import add_domain_error

from . import engine, selectors, services
from .forms import BatchForm, ReviewForm, SheetFilterForm
from .layout import OPTION_LETTERS
from .models import Batch, Exam, ExamStatus, Result, Sheet, SheetStatus
from .views import OmrView, error_status, exam_or_404, exam_title, status_tiles

SHEETS_PAGE = 50
QUEUE_PAGE = 50
REFUSED_SHOWN = 100
OVERLAY_WIDTH = 1400  # pixels: wide enough to see every bubble, small enough to load quickly
REVIEWABLE = (SheetStatus.READ, SheetStatus.REVIEW, SheetStatus.CONFIRMED)


# --- batches ------------------------------------------------------------------------------------------------


class BatchListView(OmrView):
    def get(self, request, code):
        exam = exam_or_404(code)
        return self._render(request, exam, BatchForm())

    def post(self, request, code):
        exam = exam_or_404(code)
        form = BatchForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            uploads = request.FILES.getlist("files")
            files = [(upload.name, upload.read()) for upload in uploads]
            try:
                batch = services.batch_upload(
                    actor=request.user, exam=exam, name=form.cleaned_data["name"], files=files
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Batch uploaded: its sheets are being read."))
                return redirect("omr:batch", exam.code, batch.pk)
        return self._render(request, exam, form, status=status)

    def _render(self, request, exam, form, status=200):
        context = {
            "exam": exam,
            "title": exam_title(exam),
            "form": form,
            "batches": selectors.batches_with_counts(exam),
            "published": exam.status == ExamStatus.PUBLISHED,
        }
        return render(request, "omr/batches.html", context, status=status)


def _batch_or_404(exam: Exam, pk) -> Batch:
    return get_object_or_404(Batch.objects.select_related("job", "created_by"), pk=pk, exam=exam)


class BatchView(OmrView):
    def get(self, request, code, pk):
        exam = exam_or_404(code)
        batch = _batch_or_404(exam, pk)
        filters = SheetFilterForm(request.GET)
        sheets = (
            Sheet.objects.filter(batch=batch)
            .only(
                "id", "batch_id", "source", "page", "status", "roll", "confidence", "review_reasons", "refusal", "image"
            )
            .order_by("id")
        )
        chosen = filters.cleaned_data.get("status") if filters.is_valid() else ""
        if chosen:
            sheets = sheets.filter(status=chosen)
        counts = selectors.status_counts(Sheet.objects.filter(batch=batch))
        page = Paginator(sheets, SHEETS_PAGE).get_page(request.GET.get("page"))
        context = {
            "exam": exam,
            "title": exam_title(exam),
            "batch": batch,
            "job": batch.job,
            "tiles": status_tiles(counts),
            "total": sum(counts.values()),
            "to_review": counts[SheetStatus.REVIEW],
            "filters": filters,
            "chosen": chosen,
            "page": page,
            "rows": list(page.object_list),
        }
        return render(request, "omr/batch.html", context)


class BatchProgressView(OmrView):
    """The batch page's live figures: its job in core:job_progress's shape (which serves only the job's
    starter; any OMR operator watches a batch here) and its sheets by status."""

    def get(self, request, code, pk):
        exam = exam_or_404(code)
        batch = _batch_or_404(exam, pk)
        counts = selectors.status_counts(Sheet.objects.filter(batch=batch))
        data: dict = {"counts": counts, "finished": counts[SheetStatus.QUEUED] == 0}
        job = batch.job
        if job is not None:
            data.update(
                id=str(job.id),
                title=job.title,
                status=job.status,
                status_display=str(job.get_status_display()),
                total=job.total,
                done=job.done,
                percent=job.percent,
                error_count=job.error_count,
                errors=job.errors[:20],
                message=job.message,
                finished=job.is_finished,
            )
        return JsonResponse(data)


# --- review -------------------------------------------------------------------------------------------------


class ReviewQueueView(OmrView):
    def get(self, request, code):
        exam = exam_or_404(code)
        queue = (
            Sheet.objects.filter(batch__exam=exam, status=SheetStatus.REVIEW)
            .select_related("batch")
            .only("id", "source", "page", "roll", "confidence", "review_reasons", "batch__id", "batch__name")
            .order_by("id")
        )
        page = Paginator(queue, QUEUE_PAGE).get_page(request.GET.get("page"))
        refused = (
            Sheet.objects.filter(batch__exam=exam, status=SheetStatus.REFUSED)
            .select_related("batch")
            .only("id", "source", "page", "refusal", "image", "batch__id", "batch__name")
            .order_by("id")
        )
        context = {
            "exam": exam,
            "title": exam_title(exam),
            "page": page,
            "rows": list(page.object_list),
            "refused": list(refused[:REFUSED_SHOWN]),
            "refused_total": refused.count(),
            "published": exam.status == ExamStatus.PUBLISHED,
        }
        return render(request, "omr/review_queue.html", context)


class ReviewNextView(OmrView):
    """Straight to the oldest sheet to review (of one batch with ``?batch=``), or back to the queue."""

    def get(self, request, code):
        exam = exam_or_404(code)
        batch = None
        if request.GET.get("batch"):
            try:
                batch = Batch.objects.filter(exam=exam, pk=request.GET["batch"]).first()
            except ValidationError:  # not a batch id
                batch = None
        sheet = selectors.next_to_review(exam, batch=batch)
        if sheet is None:
            messages.info(request, _("Nothing is waiting for review."))
            if batch is not None:
                return redirect("omr:batch", exam.code, batch.pk)
            return redirect("omr:review", exam.code)
        return redirect("omr:sheet", exam.code, sheet.pk)


def _sheet_or_404(exam: Exam, pk: int) -> Sheet:
    return get_object_or_404(Sheet.objects.select_related("batch", "candidate", "reviewed_by"), pk=pk, batch__exam=exam)


def _questions_to_show(sheet: Sheet, layout, show_all: bool) -> list[int]:
    if show_all:
        return list(range(1, layout.questions + 1))
    read = sheet.reading.get("questions", {})
    unclear = [int(q) for q, (status, _letters, _conf) in read.items() if status != "answered"]
    return sorted(unclear)


def question_status_label(status: str) -> str:
    return {
        "answered": _("clear"),
        "multiple": _("several marks"),
        "blank": _("no mark"),
        "uncertain": _("unsure"),
    }.get(status, status)


def _question_rows(sheet: Sheet, layout, result: Result | None, key: dict) -> list[dict]:
    """Every question: what the engine saw (status, confidence, each option's fill and class), what counts now
    (the sheet's answers, after corrections), the key and the marks."""
    fills: dict[int, dict[str, tuple[float, str]]] = {}
    for field, index, value, fill, mark, _conf, _x, _y in sheet.reading.get("bubbles", []):
        if field == "q":
            fills.setdefault(int(index), {})[value] = (fill, mark)
    read = sheet.reading.get("questions", {})
    marks = result.per_question if result is not None else {}
    letters = OPTION_LETTERS[: layout.options]
    rows = []
    for q in range(1, layout.questions + 1):
        status, read_letters, confidence = read.get(str(q), ["", [], None])
        answer = "".join(sheet.answers.get(str(q), []))
        rows.append(
            {
                "q": q,
                "status": status,
                "status_label": question_status_label(status),
                "confidence": confidence,
                "read": "".join(read_letters),
                "answer": answer,
                "changed": answer != "".join(read_letters) and bool(status),
                "options": [
                    {
                        "letter": letter,
                        "fill": fills.get(q, {}).get(letter, (None, ""))[0],
                        "mark": fills.get(q, {}).get(letter, (None, ""))[1],
                    }
                    for letter in letters
                ],  # fmt: skip
                "key": key.get(q, ""),
                "marks": marks.get(str(q)),
            }
        )
    return rows


def _roll_figures(sheet: Sheet) -> list[dict]:
    """The roll grid as read: each digit's column, the darkest bubble and its fill."""
    columns: dict[int, list[tuple[float, str, str]]] = {}
    for field, index, value, fill, mark, _conf, _x, _y in sheet.reading.get("bubbles", []):
        if field == "roll":
            columns.setdefault(int(index), []).append((fill, value, mark))
    out = []
    for index in sorted(columns):
        ranked = sorted(columns[index], reverse=True)
        best = ranked[0]
        out.append({"position": index + 1, "value": best[1], "fill": best[0], "mark": best[2],
                    "second": ranked[1][0] if len(ranked) > 1 else None})  # fmt: skip
    return out


class SheetView(OmrView):
    """A sheet: the scan with the overlay, why it is here, the review form (when it can still be confirmed), the
    corrections and, once scored, its marks question by question."""

    def get(self, request, code, pk):
        exam = exam_or_404(code)
        sheet = _sheet_or_404(exam, pk)
        return self._render(request, exam, sheet, self._form(request, exam, sheet, None))

    def post(self, request, code, pk):
        exam = exam_or_404(code)
        sheet = _sheet_or_404(exam, pk)
        form = self._form(request, exam, sheet, request.POST)
        if form is None:
            messages.error(request, _("This sheet cannot be confirmed."))
            return redirect("omr:sheet", exam.code, sheet.pk)
        status = 400
        if form.is_valid():
            layout = exam.layout.layout
            try:
                services.sheet_review(
                    actor=request.user,
                    sheet_id=sheet.pk,
                    reason=form.cleaned_data["reason"],
                    roll=form.cleaned_data["roll"].strip(),
                    series=form.cleaned_data.get("series") if layout.series else None,
                    answers=form.answers(),
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Sheet %(id)s confirmed.") % {"id": sheet.pk})
                after = selectors.next_to_review(exam, after=sheet.pk)
                if after is not None:
                    return redirect("omr:sheet", exam.code, after.pk)
                messages.info(request, _("That was the last sheet waiting for review."))
                return redirect("omr:review", exam.code)
        sheet = _sheet_or_404(exam, pk)  # as stored: the failed attempt changed nothing
        return self._render(request, exam, sheet, form, status=status)

    @staticmethod
    def _form(request, exam, sheet, data) -> ReviewForm | None:
        if sheet.status not in REVIEWABLE or exam.status == ExamStatus.PUBLISHED or not sheet.reading:
            return None
        layout = exam.layout.layout
        show_all = request.GET.get("all") == "1"
        return ReviewForm(data, layout=layout, questions=_questions_to_show(sheet, layout, show_all), sheet=sheet)

    def _render(self, request, exam, sheet, form, status=200):
        layout = exam.layout.layout
        result = Result.objects.filter(sheet=sheet).select_related("candidate").first()
        key = {}
        if result is not None or sheet.status in REVIEWABLE:
            key = {k.question: k.options + (" *" if k.bonus else " –" if k.dropped else "")
                   for k in exam.key.filter(series=sheet.series if layout.series else "")}  # fmt: skip
        nxt = selectors.next_to_review(exam, after=sheet.pk)
        questions = _question_rows(sheet, layout, result, key) if sheet.reading else []
        by_q = {row["q"]: row for row in questions}
        review_rows = [(form[f"q{q}"], by_q.get(q, {})) for q in form.questions] if form is not None else []
        context = {
            "exam": exam,
            "title": exam_title(exam),
            "layout": layout,
            "sheet": sheet,
            "form": form,
            "show_all": request.GET.get("all") == "1",
            "corrections": list(sheet.corrections.select_related("actor").order_by("at", "id")),
            "result": result,
            "sections": sorted((result.sections or {}).items()) if result else [],
            "questions": questions,
            "review_rows": review_rows,
            "roll_figures": _roll_figures(sheet) if sheet.reading else [],
            "reading": sheet.reading,
            "next_sheet": nxt if nxt is not None and nxt.pk != sheet.pk else None,
            "published": exam.status == ExamStatus.PUBLISHED,
            "overlay_url": reverse("omr:overlay", args=[exam.code, sheet.pk]) if sheet.image else "",
        }
        return render(request, "omr/sheet.html", context, status=status)


class OverlayView(OmrView):
    """The scan as PNG with what the engine read drawn over it (engine.stored_overlay), at most 1,400 px wide."""

    def get(self, request, code, pk):
        exam = exam_or_404(code)
        sheet = get_object_or_404(Sheet, pk=pk, batch__exam=exam)
        if not sheet.image:
            raise Http404
        try:
            with sheet.image.open("rb") as handle:
                image = engine.decode(handle.read())[0]
        except (engine.Refused, OSError):
            raise Http404 from None
        if sheet.reading.get("bubbles") or sheet.reading.get("status"):
            image = engine.stored_overlay(image, sheet.reading)
        height, width = image.shape[:2]
        if width > OVERLAY_WIDTH:
            image = cv2.resize(
                image, (OVERLAY_WIDTH, round(height * OVERLAY_WIDTH / width)), interpolation=cv2.INTER_AREA
            )
        ok, png = cv2.imencode(".png", image)
        if not ok:
            raise Http404
        response = HttpResponse(png.tobytes(), content_type="image/png")
        response["Cache-Control"] = "no-store, private"
        return response
