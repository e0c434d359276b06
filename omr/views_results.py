"""The OMR results screens: scoring the exam (with a confirmation), its results, publishing the merit list (the
policy, then a confirmation: publishing ends the exam) and the published list as HTML, CSV and PDF, each entry
leading to its sheet's page (marks by question, the bubbles' figures, the scan, the corrections). Access as in
views.py; publishing needs the same role, and the publisher is recorded."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.exceptions import DomainError
from core.forms import add_domain_error
from core.http import csv_cell

from . import exports, selectors, services
from .forms import MeritSearchForm, PublishForm, ScoreForm, tie_break_choices
from .models import Exam, ExamStatus, MeritList, Result
from .views import OmrView, error_status, exam_or_404, exam_title

RESULTS_PAGE = 50
MERIT_PAGE = 50


# --- scoring and results ------------------------------------------------------------------------------------


def _results_context(request, exam: Exam, publish_form: PublishForm | None = None) -> dict:
    sections = list(exam.sections.all())
    results = Result.objects.filter(exam=exam).select_related("candidate").order_by("-total", "candidate__roll")
    page = Paginator(results, RESULTS_PAGE).get_page(request.GET.get("page"))
    rows = []
    for offset, result in enumerate(page.object_list):
        rows.append(
            {
                "rank": page.start_index() + offset,
                "result": result,
                "sections": [result.sections.get(s.name, "") for s in sections],
            }
        )
    return {
        "exam": exam,
        "title": exam_title(exam),
        "sections": sections,
        "page": page,
        "rows": rows,
        "n_results": page.paginator.count,
        "waiting": selectors.waiting_count(exam),
        "has_key": exam.key.exists(),
        "published": exam.status == ExamStatus.PUBLISHED,
        "merit": selectors.latest_merit_list(exam),
        "publish_form": publish_form or PublishForm(sections=sections),
    }


class ResultsView(OmrView):
    def get(self, request, code):
        exam = exam_or_404(code)
        return render(request, "omr/results.html", _results_context(request, exam))


class ScoreView(OmrView):
    """GET: what scoring does, and a button; POST: score (every confirmed or cleanly read sheet)."""

    def get(self, request, code):
        exam = exam_or_404(code)
        return self._confirm(request, exam)

    def _confirm(self, request, exam, error: str = "", status: int = 200):
        context = {
            "exam": exam,
            "title": exam_title(exam),
            "form": ScoreForm(),
            "waiting": selectors.waiting_count(exam),
            "ready": selectors.scorable_count(exam),
            "n_results": exam.results.count(),
            "published": exam.status == ExamStatus.PUBLISHED,
            "error": error,
        }
        return render(request, "omr/score_confirm.html", context, status=status)

    def post(self, request, code):
        exam = exam_or_404(code)
        if not ScoreForm(request.POST).is_valid():
            return self._confirm(request, exam, _("Press the button to score the exam."), status=400)
        try:
            report = services.exam_score(actor=request.user, exam=exam)
        except DomainError as exc:
            return self._confirm(request, exam, exc.message, status=error_status(exc))
        text = ngettext("%(n)s sheet scored.", "%(n)s sheets scored.", report.scored) % {"n": report.scored}
        if report.waiting:
            text += " " + ngettext(
                "%(n)s sheet is still waiting (to be read or reviewed): score again once it is done.",
                "%(n)s sheets are still waiting (to be read or reviewed): score again once they are done.",
                report.waiting,
            ) % {"n": report.waiting}
            messages.warning(request, text)
        else:
            messages.success(request, text)
        return redirect("omr:results", exam.code)


class PublishView(OmrView):
    """POST the policy: first a confirmation page (publishing ends the exam), then, confirmed, the merit list."""

    def get(self, request, code):
        return redirect("omr:results", code)

    def post(self, request, code):
        exam = exam_or_404(code)
        sections = list(exam.sections.all())
        form = PublishForm(request.POST, sections=sections)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            if not data["confirm"]:
                labels = dict(form.fields["tie1"].choices)
                context = {
                    "exam": exam,
                    "title": exam_title(exam),
                    "form": form,
                    "tie_labels": [labels.get(t, t) for t in data["tie_breaks"]],
                    "quotas": data["quotas"],
                    "n_results": exam.results.count(),
                    "waiting": selectors.waiting_count(exam),
                }
                return render(request, "omr/publish_confirm.html", context)
            try:
                merit = services.merit_list_publish(
                    actor=request.user, exam=exam, tie_breaks=data["tie_breaks"], quotas=data["quotas"]
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Merit list version %(v)s published.") % {"v": merit.version})
                return redirect("omr:merit", exam.code)
        context = _results_context(request, exam, publish_form=form)
        context["open_publish"] = True
        return render(request, "omr/results.html", context, status=status)


# --- the published merit list -------------------------------------------------------------------------------


def _merit_or_404(exam: Exam, version: int | None) -> MeritList:
    lists = MeritList.objects.filter(exam=exam).select_related("published_by").order_by("-version")
    merit = lists.filter(version=version).first() if version is not None else lists.first()
    if merit is None:
        raise Http404
    return merit


class MeritView(OmrView):
    def get(self, request, code, version=None):
        exam = exam_or_404(code)
        if version is None and not MeritList.objects.filter(exam=exam).exists():
            context = {"exam": exam, "title": exam_title(exam), "n_results": exam.results.count()}
            return render(request, "omr/merit_none.html", context)
        merit = _merit_or_404(exam, version)
        sections = list(exam.sections.all())
        search = MeritSearchForm(request.GET)
        entries = selectors.merit_entries(merit)
        q = search.cleaned_data.get("q", "").strip() if search.is_valid() else ""
        if q:
            entries = entries.filter(result__candidate__roll__startswith=q)
        page = Paginator(entries, MERIT_PAGE).get_page(request.GET.get("page"))
        labels = dict(tie_break_choices(sections))
        rows = [
            {"entry": e, "sections": [e.result.sections.get(s.name, "") for s in sections]} for e in page.object_list
        ]
        context = {
            "exam": exam,
            "title": exam_title(exam),
            "merit": merit,
            "versions": list(
                MeritList.objects.filter(exam=exam).order_by("-version").values_list("version", flat=True)
            ),
            "sections": sections,
            "search": search,
            "q": q,
            "page": page,
            "rows": rows,
            "quotas": merit.policy.get("quotas", []),
            "tie_breaks": [labels.get(t, t) for t in merit.policy.get("tie_breaks", [])],
            "has_buckets": bool(merit.policy.get("quotas")),
        }
        return render(request, "omr/merit.html", context)


class MeritCsvView(OmrView):
    def get(self, request, code, version):
        exam = exam_or_404(code)
        merit = _merit_or_404(exam, version)
        names = [s.name for s in exam.sections.all()]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([csv_cell(h) for h in ("rank", "roll", "name", "total", *names, "selected_in")])
        for entry in selectors.merit_entries(merit).iterator(chunk_size=2_000):
            result = entry.result
            writer.writerow(
                [
                    entry.rank,
                    csv_cell(result.candidate.roll),
                    csv_cell(result.candidate.name),
                    result.total,
                    *[csv_cell(result.sections.get(name, "")) for name in names],
                    csv_cell(entry.selected_in),
                ]
            )
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{exam.code}-merit-v{merit.version}.csv"'
        return response


class MeritPdfView(OmrView):
    def get(self, request, code, version):
        exam = exam_or_404(code)
        merit = _merit_or_404(exam, version)
        pdf = exports.merit_pdf(exam, merit)
        return FileResponse(
            io.BytesIO(pdf), as_attachment=True, filename=f"{exam.code}-merit-v{merit.version}.pdf",
            content_type="application/pdf",
        )  # fmt: skip
