"""Consolidation screens of the RO: produce Forms 47/48/49, record postal
ballots, read a produced form and download its PDFs (English, Urdu)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from core import selectors as core_selectors
from core.exceptions import DomainError
from core.permissions import StaffRequiredMixin

from . import consolidation, selectors
from .models import Candidate, Contest, FormVersion, PostalBallots
from .services import SUPERVISOR_ROLES


class ContestScopedMixin(StaffRequiredMixin):
    """Loads ``self.contest`` if the user may see it (404 otherwise); ``ro_only`` → 403 for DEOs."""

    ro_only = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            contest = selectors.contest_get_for(user=request.user, contest_id=kwargs["contest_id"])
            if contest is None:
                raise Http404
            if self.ro_only and not is_supervisor(request.user, contest):
                raise PermissionDenied
            self.contest = contest
        return super().dispatch(request, *args, **kwargs)


def is_supervisor(user, contest: Contest) -> bool:
    """The RO of the contest's constituency (or an administrator)."""
    allowed = core_selectors.constituency_scope(user, SUPERVISOR_ROLES)
    return allowed is None or contest.constituency_id in allowed


def forms_panel_context(user, contest: Contest) -> dict:
    """What templates/results/_forms_panel.html needs (the dashboard includes it)."""
    versions = list(FormVersion.objects.filter(contest=contest).order_by("form", "-version"))
    return {
        "form_versions": versions,
        "postal": PostalBallots.objects.filter(contest=contest).first(),
        "may_produce": is_supervisor(user, contest) and not contest.is_locked,
        "has_form48": any(v.form == "48" for v in versions),
    }


class ProduceFormView(ContestScopedMixin, View):
    """POST only: produce Form-47 or Form-48, or sign Form-49 (with a confirmation box)."""

    ro_only = True
    http_method_names = ["post"]
    services = {
        "47": consolidation.form47_produce,
        "48": consolidation.form48_produce,
        "49": consolidation.form49_finalize,
    }

    def post(self, request, contest_id: int, form: str):
        if form not in self.services:
            raise Http404
        if form == "49" and request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm that you sign Form-49; the contest then locks."))
            return redirect("results:dashboard", contest_id=contest_id)
        try:
            version = self.services[form](actor=request.user, contest_id=contest_id)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("results:dashboard", contest_id=contest_id)
        messages.success(
            request, _("Form-%(form)s version %(v)d produced.") % {"form": version.form, "v": version.version}
        )
        return redirect("results:form_version", version_id=version.pk)


class PostalForm(forms.Form):
    rejected = forms.IntegerField(label=gettext_lazy("Rejected postal ballots"), min_value=0, initial=0)

    def __init__(self, *args, candidates: list[Candidate], **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        for c in candidates:
            self.fields[f"votes_{c.ballot_order}"] = forms.IntegerField(
                label=f"{c.ballot_order}. {c.name}" + (f" — {c.name_ur}" if c.name_ur else ""),
                min_value=0,
                initial=0,
            )

    def votes(self) -> dict[int, int]:
        return {c.ballot_order: self.cleaned_data[f"votes_{c.ballot_order}"] for c in self.candidates}


class PostalBallotsView(ContestScopedMixin, FormView):
    ro_only = True
    template_name = "results/postal.html"
    form_class = PostalForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["candidates"] = list(self.contest.candidates.order_by("ballot_order"))
        postal = PostalBallots.objects.filter(contest=self.contest).first()
        if postal is not None and self.request.method == "GET":
            existing = dict(postal.votes.values_list("candidate__ballot_order", "votes"))
            kwargs["initial"] = {"rejected": postal.rejected, **{f"votes_{k}": v for k, v in existing.items()}}
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(contest=self.contest, **kwargs)

    def form_valid(self, form):
        try:
            consolidation.postal_ballots_record(
                actor=self.request.user,
                contest_id=self.contest.pk,
                votes=form.votes(),
                rejected=form.cleaned_data["rejected"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            for name, errors in exc.fields.items():
                key = f"votes_{name.split('.', 1)[1]}" if name.startswith("votes.") else name
                for error in errors:
                    form.add_error(key if key in form.fields else None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Postal ballots recorded."))
        return redirect("results:dashboard", contest_id=self.contest.pk)


def _version_for(user, version_id: int) -> FormVersion:
    version = get_object_or_404(
        FormVersion.objects.select_related("contest__constituency", "contest__election"), pk=version_id
    )
    if selectors.contest_get_for(user=user, contest_id=version.contest_id) is None:
        raise Http404
    return version


class FormVersionView(StaffRequiredMixin, TemplateView):
    template_name = "results/form_version.html"

    def get_context_data(self, **kwargs):
        version = _version_for(self.request.user, kwargs["version_id"])
        figures = version.figures
        order = [c["ballot_order"] for c in figures["candidates"]]
        stations = [{**s, "cells": [s["votes"].get(str(k), 0) for k in order]} for s in figures.get("stations", [])]
        return super().get_context_data(version=version, figures=figures, stations=stations, **kwargs)


class FormPdfView(StaffRequiredMixin, View):
    def get(self, request, version_id: int, language: str):
        version = _version_for(request.user, version_id)
        if language not in ("en", "ur"):
            raise Http404
        field = version.pdf_en if language == "en" else version.pdf_ur
        name = f"form{version.form}-{version.contest.constituency.code}-v{version.version}-{language}.pdf"
        return FileResponse(field.open("rb"), as_attachment=False, filename=name, content_type="application/pdf")
