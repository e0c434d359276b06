"""The OMR staff screens (issue 8; English at /omr/…, Urdu at /ur/omr/…): the exams and a new exam, an exam's
page (its layout, figures, the answer key and candidates from CSV, printing the sheets). Scanning and review
are in views_scan.py, scores and merit lists in views_results.py.

Every view needs a verified staff session (``StaffRequiredMixin``: anyone else goes to the sign-in step they
are at) and the OMR operator's role (or an administrator's): 403 with a message otherwise. Writes go through
omr.services; a ``DomainError`` is shown beside the field it names with a 400 (409 for the wrong state), never
a 500, and nothing changed.
"""

from __future__ import annotations

import io
import re
import zipfile

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from core.exceptions import DomainError
from core.forms import add_domain_error
from core.permissions import StaffRequiredMixin, is_verified_staff
from core.selectors import has_role

from . import printing, selectors, services
from .forms import CsvUploadForm, ExamForm, PrintForm
from .models import Exam, ExamCandidate, ExamStatus, SheetStatus

ROLE = "omr_operator"
PAGE_SIZE = 25


# --- access -------------------------------------------------------------------------------------------------


def forbidden(request):
    message = _(
        "These screens are for OMR operators: they set up exams, scan answer sheets, review them and publish merit "
        "lists. Ask an administrator for the role if you do this work."
    )
    return render(request, "omr/forbidden.html", {"message": message}, status=403)


@method_decorator(never_cache, name="dispatch")
class OmrView(StaffRequiredMixin, View):
    """A verified staff session with the OMR operator's role (or an administrator)."""

    def dispatch(self, request, *args, **kwargs):
        if is_verified_staff(request.user) and not has_role(request.user, ROLE):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)


def exam_or_404(code: str) -> Exam:
    return get_object_or_404(Exam.objects.select_related("layout"), code=code)


def exam_title(exam: Exam) -> str:
    """The exam's title in the page's language (the Urdu one when it has one)."""
    return exam.title_ur if exam.title_ur and (get_language() or "").startswith("ur") else exam.title


def status_tiles(counts: dict[str, int]) -> list[dict]:
    labels = dict(SheetStatus.choices)
    order = (SheetStatus.READ, SheetStatus.REVIEW, SheetStatus.REFUSED, SheetStatus.CONFIRMED, SheetStatus.QUEUED)
    return [{"status": s.value, "label": labels[s], "n": counts.get(s, 0)} for s in order]


def error_status(exc: DomainError) -> int:
    return exc.status if exc.status in (400, 409) else 400


# --- exams --------------------------------------------------------------------------------------------------


class ExamListView(OmrView):
    def get(self, request):
        q = (request.GET.get("q") or "").strip()[:100]
        exams = selectors.exam_list(q)
        page = Paginator(exams, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        sheets, review = selectors.sheet_counts_by_exam([e.pk for e in rows])
        for exam in rows:
            exam.n_sheets, exam.n_review, exam.local_title = sheets[exam.pk], review[exam.pk], exam_title(exam)
        return render(request, "omr/exams.html", {"page": page, "rows": rows, "q": q})


class ExamCreateView(OmrView):
    def get(self, request):
        return render(request, "omr/exam_form.html", {"form": ExamForm()})

    def post(self, request):
        form = ExamForm(request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                exam = services.exam_create(
                    actor=request.user,
                    code=data["code"],
                    title=data["title"],
                    title_ur=data["title_ur"],
                    held_on=data["held_on"],
                    questions=data["questions"],
                    options=data["options"],
                    roll_digits=data["roll_digits"],
                    series=tuple(sorted(data["series"])),
                    sections=data["sections"],
                    marks_correct=data["marks_correct"],
                    marks_wrong=data["marks_wrong"],
                    multiple=data["multiple"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(
                    request, _("Exam %(code)s is set up. Next: its answer key and candidates.") % {"code": exam.code}
                )
                return redirect("omr:exam", exam.code)
        return render(request, "omr/exam_form.html", {"form": form}, status=status)


def exam_context(exam: Exam, **forms) -> dict:
    layout = exam.layout.layout
    counts = selectors.status_counts(selectors.exam_sheets(exam))
    centres = selectors.centre_counts(exam)
    key_series = selectors.key_rows_by_series(exam)
    return {
        "exam": exam,
        "title": exam_title(exam),
        "layout": layout,
        "sections": list(exam.sections.all()),
        "n_candidates": sum(n for _c, n in centres),
        "centres": centres,
        "n_key": sum(key_series.values()),
        "key_series": sorted(key_series.items()),
        "key_complete": bool(key_series) and all(n == layout.questions for n in key_series.values()),
        "n_batches": exam.batches.count(),
        "sheet_counts": status_tiles(counts),
        "n_sheets": sum(counts.values()),
        "n_results": exam.results.count(),
        "merit": selectors.latest_merit_list(exam),
        "published": exam.status == ExamStatus.PUBLISHED,
        "key_form": forms.get("key_form") or CsvUploadForm(prefix="key"),
        "candidates_form": forms.get("candidates_form") or CsvUploadForm(prefix="candidates"),
        "print_form": forms.get("print_form") or PrintForm(),
        "key_sample": key_sample(exam, rows=4),
        "candidates_sample": candidates_sample(exam),
    }


class ExamView(OmrView):
    def get(self, request, code):
        exam = exam_or_404(code)
        return render(request, "omr/exam.html", exam_context(exam))


class CsvImportView(OmrView):
    """POST an answer key (``kind`` "key") or the candidates ("candidates") as CSV; errors on the exam page."""

    kind = "key"

    def get(self, request, code):
        return redirect("omr:exam", code)

    def post(self, request, code):
        exam = exam_or_404(code)
        form = CsvUploadForm(request.POST, request.FILES, prefix=self.kind)
        status = 400
        if form.is_valid():
            service = services.key_import if self.kind == "key" else services.candidates_import
            try:
                n = service(actor=request.user, exam=exam, text=form.cleaned_data["file"])
            except DomainError as exc:
                add_domain_error(form, exc)  # a bad file: one error per bad line, beside the file field
                if exc.code == "csv_rows":
                    form.add_error(None, _("Nothing was imported: correct these lines and upload the file again."))
                status = error_status(exc)
            else:
                if self.kind == "key":
                    text = ngettext("Answer key imported: %(n)s row.", "Answer key imported: %(n)s rows.", n)
                else:
                    text = ngettext("Candidates imported: %(n)s row.", "Candidates imported: %(n)s rows.", n)
                messages.success(request, text % {"n": n})
                return redirect("omr:exam", exam.code)
        context = exam_context(exam, **{f"{self.kind}_form": form})
        context["open_form"] = self.kind
        return render(request, "omr/exam.html", context, status=status)


def key_sample(exam: Exam, rows: int | None = None) -> str:
    layout = exam.layout.layout
    letters = "ABCDE"[: layout.options]
    lines = ["series,question,options,status" if layout.series else "question,options,status"]
    for series in layout.series or ("",):
        for q in range(1, (rows or layout.questions) + 1):
            if q > layout.questions:
                break
            prefix = f"{series}," if layout.series else ""
            status = "bonus" if q == 3 and rows else ""
            lines.append(f"{prefix}{q},{letters[(q - 1) % len(letters)]},{status}")
        if rows:
            break
    return "\n".join(lines) + "\n"


def candidates_sample(exam: Exam) -> str:
    digits = exam.layout.layout.roll_digits
    return (
        "roll,name,born,centre,buckets\n"
        f"{'1'.zfill(digits)},Ayesha Khan,2001-04-17,Islamabad Model College,women;open\n"
        f"{'2'.zfill(digits)},Muhammad Ali,1999-11-02,Lahore Government College,open\n"
    )


def _csv_download(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class SampleView(OmrView):
    kind = "key"

    def get(self, request, code):
        exam = exam_or_404(code)
        if self.kind == "key":
            return _csv_download(key_sample(exam), f"{exam.code}-key-sample.csv")
        return _csv_download(candidates_sample(exam), f"{exam.code}-candidates-sample.csv")


# --- printing -----------------------------------------------------------------------------------------------


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "sheets"


def sheet_id(exam: Exam, n: int, *, blank: bool = False) -> str:
    """A printed sheet's id: the exam's code and the candidate's place in roll-number order; blank sheets are
    numbered apart (B000001…), so a blank and a personalised sheet never share an id."""
    return f"{exam.code}-{'B' if blank else ''}{n:06d}"


class PrintView(OmrView):
    """GET: the sheets as PDF: blank ones (``count``), or one personalised sheet per candidate grouped by centre
    (one PDF; a ZIP of one PDF per centre when there are several). Sheet ids are the exam's code and a number:
    the candidate's place in roll-number order, or B1…B<count> for blank sheets."""

    def get(self, request, code):
        exam = exam_or_404(code)
        form = PrintForm(request.GET)
        if not form.is_valid():
            return render(
                request, "omr/exam.html", {**exam_context(exam, print_form=form), "open_form": "print"}, status=400
            )
        layout = exam.layout.layout
        if form.cleaned_data["kind"] == PrintForm.BLANK:
            count = form.cleaned_data["count"]
            pdf = printing.sheet_pdf(
                layout,
                [printing.SheetSpec(sheet_id(exam, n, blank=True)) for n in range(1, count + 1)],
                exam_title=exam.title,
            )
            return _pdf_response(pdf, f"{exam.code}-blank-{count}.pdf")
        candidates = list(
            ExamCandidate.objects.filter(exam=exam).order_by("roll").values_list("roll", "name", "centre")
        )
        if not candidates:
            form.add_error("kind", _("Import the candidates first: there is nobody to print a sheet for."))
            return render(
                request, "omr/exam.html", {**exam_context(exam, print_form=form), "open_form": "print"}, status=400
            )
        by_centre: dict[str, list[printing.SheetSpec]] = {}
        for n, (roll, name, centre) in enumerate(candidates, start=1):
            by_centre.setdefault(centre, []).append(printing.SheetSpec(sheet_id(exam, n), roll, name))
        pdfs = printing.centre_pdfs(layout, dict(sorted(by_centre.items())), exam_title=exam.title)
        if len(pdfs) == 1:
            centre, pdf = next(iter(pdfs.items()))
            return _pdf_response(pdf, f"{exam.code}-{_file_name(centre) if centre else 'sheets'}.pdf")
        out = io.BytesIO()
        used: set[str] = set()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for number, (centre, pdf) in enumerate(pdfs.items(), start=1):
                name = _file_name(centre) if centre else "no-centre"
                if name in used:
                    name = f"{name}-{number}"
                used.add(name)
                archive.writestr(f"{exam.code}-{name}.pdf", pdf)
        out.seek(0)
        return FileResponse(
            out, as_attachment=True, filename=f"{exam.code}-sheets-by-centre.zip", content_type="application/zip"
        )


def _pdf_response(pdf: bytes, filename: str, *, inline: bool = False) -> FileResponse:
    return FileResponse(io.BytesIO(pdf), as_attachment=not inline, filename=filename, content_type="application/pdf")


class LayoutPreviewView(OmrView):
    """One blank sheet, shown in the browser."""

    def get(self, request, code):
        exam = exam_or_404(code)
        pdf = printing.sheet_pdf(
            exam.layout.layout, [printing.SheetSpec(f"{exam.code}-PREVIEW")], exam_title=exam.title
        )
        return _pdf_response(pdf, f"{exam.code}-layout.pdf", inline=True)


def exam_url(exam: Exam) -> str:
    return reverse("omr:exam", args=[exam.code])
