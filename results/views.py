"""Staff screens of the Result Management System (and its public index).

- ``IndexView`` (/results/): a staff user's contests with their progress; a
  short public page for everyone else.
- ``EntryView`` (/results/contests/<id>/entry/): one operator keys one
  Form-45 per screen (double entry; ``services.form45_entry_submit``).
- ``MismatchListView`` / ``MismatchDetailView`` (…/mismatches/): the RO
  settles two entries that differ (``services.form45_decide``).
- ``DashboardView`` and ``dashboard_json`` (…/ and …/dashboard.json): the
  contest's figures, refreshed in place by static/js/results-dashboard.js.

Scoping: every contest page loads its contest through
``selectors.contest_get_for`` (the DEOs and RO of its constituency, and
administrators), so anyone else gets 404; the supervisor screens also need
the RO role there (403 for a DEO of the constituency).
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, Sum
from django.http import Http404, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.decorators import method_decorator
from django.utils.http import quote_etag
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core.exceptions import DomainError, PermissionDeniedError
from core.http import if_none_match
from core.permissions import StaffRequiredMixin, is_verified_staff, login_step_url
from core.selectors import constituency_scope

from . import selectors, services, tally
from .forms import FIGURE_FIELDS, DecisionForm, Form45EntryForm, new_idempotency_key, vote_field_name
from .messages import finding_text
from .models import Candidate, Contest, ContestStation, Flag, Form45, Form45Entry
from .views_forms import forms_panel_context

KARACHI = ZoneInfo("Asia/Karachi")
RECENT_ENTRIES = 10
Status = Form45Entry.Status


# --- scoping ----------------------------------------------------------------------


def _is_supervisor(user, contest: Contest) -> bool:
    allowed = constituency_scope(user, services.SUPERVISOR_ROLES)
    return allowed is None or contest.constituency_id in allowed


class ContestMixin(StaffRequiredMixin):
    """Loads ``self.contest`` for a staff user who may work on it; 404 for anyone else signed in.

    ``supervisor_only``: the RO of the constituency (or an administrator); a DEO gets 403."""

    supervisor_only = False

    def dispatch(self, request, *args, **kwargs):
        if is_verified_staff(request.user):
            self.contest = selectors.contest_get_for(user=request.user, contest_id=kwargs["contest_id"])
            if self.contest is None:
                raise Http404
            self.is_supervisor = _is_supervisor(request.user, self.contest)
            if self.supervisor_only and not self.is_supervisor:
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def contest_context(self, active: str) -> dict[str, Any]:
        return {"contest": self.contest, "is_supervisor": self.is_supervisor, "active_tab": active}


def _candidates(contest: Contest) -> list[Candidate]:
    return list(Candidate.objects.filter(contest=contest).order_by("ballot_order"))


# --- index --------------------------------------------------------------------------


class IndexView(View):
    """Staff: the contests they may work on. Anyone else: what the RMS is, and where staff sign in."""

    def get(self, request):
        if is_verified_staff(request.user):
            return render(request, "results/index.html", self._staff_context(request.user))
        if request.user.is_authenticated:  # password given, second factor not yet
            return redirect(login_step_url(request, request.get_full_path()))
        return redirect("results:live_start")

    @staticmethod
    def _staff_context(user) -> dict[str, Any]:
        contests = list(selectors.contest_list_for(user=user))
        ids = [c.pk for c in contests]
        totals = dict(
            ContestStation.objects.filter(contest_id__in=ids).values_list("contest_id").annotate(n=Count("pk"))
        )
        reported = dict(
            Form45.objects.filter(contest_station__contest_id__in=ids)
            .values_list("contest_station__contest_id")
            .annotate(n=Count("pk"))
        )
        waiting = dict(
            ContestStation.objects.filter(contest_id__in=ids, form45__isnull=True, entries__status=Status.MISMATCHED)
            .values_list("contest_id")
            .annotate(n=Count("pk", distinct=True))
        )
        supervised = constituency_scope(user, services.SUPERVISOR_ROLES)
        rows = [
            {
                "contest": c,
                "stations_total": totals.get(c.pk, 0),
                "stations_reported": reported.get(c.pk, 0),
                "mismatches": waiting.get(c.pk, 0),
                "is_supervisor": supervised is None or c.constituency_id in supervised,
            }
            for c in contests
        ]
        return {"rows": rows}


# --- Form-45 entry ------------------------------------------------------------------

ENTRY_OUTCOMES = {
    Status.WAITING: (messages.SUCCESS, "waiting"),
    Status.MATCHED: (messages.SUCCESS, "accepted"),
    Status.MISMATCHED: (messages.WARNING, "mismatch"),
    Status.CHOSEN: (messages.INFO, "decided"),
    Status.SET_ASIDE: (messages.INFO, "decided"),
}


def _outcome_text(kind: str) -> str:
    return {
        "waiting": _("Saved: waiting for the second entry."),
        "accepted": _("Accepted: both entries match."),
        "mismatch": _("The two entries differ: sent to the supervisor."),
        "decided": _("Decided by the supervisor."),
    }[kind]


def stations_to_key(*, contest: Contest, user):
    """Stations this operator may still key: not accepted, not with the supervisor, not keyed by them."""
    return (
        selectors.station_list(contest=contest)
        .filter(form45__isnull=True, mismatched=0)
        .exclude(entries__operator=user)
    )


@method_decorator(never_cache, name="dispatch")
class EntryView(ContestMixin, View):
    template_name = "results/entry.html"

    def get(self, request, contest_id: int):
        return self._render(request, self._form())

    def post(self, request, contest_id: int):
        form = self._form(data=request.POST)
        if form.is_valid():
            station: ContestStation = form.cleaned_data["station"]
            try:
                result = services.form45_entry_submit(
                    actor=request.user,
                    contest_station_id=station.pk,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    figures=form.figures(),
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied from exc
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                self._report(request, station, result)
                return redirect("results:entry", contest_id=self.contest.pk)
        return self._render(request, form)

    def _form(self, data=None) -> Form45EntryForm:
        return Form45EntryForm(
            data=data,
            contest=self.contest,
            candidates=_candidates(self.contest),
            initial={"idempotency_key": new_idempotency_key()},
        )

    @staticmethod
    def _report(request, station: ContestStation, result: services.EntryResult) -> None:
        level, kind = ENTRY_OUTCOMES[result.status]
        text = _outcome_text(kind)
        if result.replayed:
            text = _("Already received (the same form was sent twice). %(outcome)s") % {"outcome": text}
        messages.add_message(
            request, level, f"PS-{station.number} · {text}", extra_tags=f"rms-outcome rms-outcome--{kind}"
        )
        for warning in result.warnings:
            messages.warning(
                request, f"PS-{station.number} · {finding_text(warning.rule, warning.data, warning.message)}"
            )

    def _render(self, request, form: Form45EntryForm):
        stations = list(stations_to_key(contest=self.contest, user=request.user))
        # Focus: the first input with an error (the first candidate when only their sum is wrong);
        # on a fresh form, the station number.
        focus = "station"
        if form.is_bound:
            with_errors = [name for name in form.fields if name in form.errors]
            if with_errors:
                focus = with_errors[0]
            elif form.votes_errors and form.candidates:
                focus = vote_field_name(form.candidates[0].ballot_order)
        form.fields[focus].widget.attrs["autofocus"] = True
        recent = (
            Form45Entry.objects.filter(operator=request.user, contest_station__contest=self.contest)
            .select_related("contest_station")
            .order_by("-submitted_at", "-pk")[:RECENT_ENTRIES]
        )
        station_data = {
            str(s.number): {
                "name": s.polling_station.name,
                "name_ur": s.polling_station.name_ur,
                "type": s.station_type,
                "type_text": str(s.get_station_type_display()),
                "male": s.male_voters,
                "female": s.female_voters,
                "registered": s.registered_voters,
                "waiting": s.entry_count > 0,
            }
            for s in stations
        }
        chosen = None
        if form.is_bound:
            typed = str(form.data.get("station", "")).strip()
            chosen = station_data.get(typed)
        sums = form.live_sums()
        registered = chosen["registered"] if chosen else None
        ctx = {
            **self.contest_context("entry"),
            "form": form,
            "candidate_fields": form.candidate_fields(),
            "stations": stations,
            "station_data": station_data,
            "chosen": chosen,
            "waiting_count": sum(1 for s in stations if s.entry_count),
            "recent": recent,
            "sums": sums,
            "turnout": _percent_text(sums["total"], registered) if sums["total"] is not None and registered else "",
            "is_locked": self.contest.is_locked,
        }
        return render(request, self.template_name, ctx)


# --- supervisor -------------------------------------------------------------------------


class MismatchListView(ContestMixin, TemplateView):
    template_name = "results/mismatch_list.html"
    supervisor_only = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        stations = list(selectors.mismatch_list(contest=self.contest))
        entries: dict[int, list[Form45Entry]] = {}
        for entry in (
            Form45Entry.objects.filter(contest_station__in=stations, status=Status.MISMATCHED)
            .select_related("operator")
            .order_by("submitted_at", "pk")
        ):
            entries.setdefault(entry.contest_station_id, []).append(entry)
        ctx.update(self.contest_context("mismatches"))
        ctx["rows"] = [{"station": s, "entries": entries.get(s.pk, [])} for s in stations]
        return ctx


def _figure_rows(entries: list[Form45Entry], candidates: list[Candidate], form: DecisionForm) -> list[dict]:
    """The rows of the side-by-side table: label, the two entries' figures, whether they differ, the input."""
    labels = {
        "polled_male": _("Votes polled: male"),
        "polled_female": _("Votes polled: female"),
        "polled_total": _("Votes polled: total"),
        "excluded": _("Excluded (rejected) ballots"),
    }
    rows: list[dict] = []
    for name in FIGURE_FIELDS:
        values = [getattr(e, name) for e in entries]
        rows.append(
            {"label": labels[name], "values": values, "differs": len(set(values)) > 1, "field": form[name], "key": name}
        )
    for c in candidates:
        values = [e.votes.get(str(c.ballot_order)) for e in entries]
        rows.append(
            {
                "candidate": c,
                "values": values,
                "differs": len(set(values)) > 1,
                "field": form[vote_field_name(c.ballot_order)],
                "key": vote_field_name(c.ballot_order),
            }
        )
    return rows


class MismatchDetailView(ContestMixin, View):
    template_name = "results/mismatch_detail.html"
    supervisor_only = True

    def _load(self, station_id: int):
        station = (
            ContestStation.objects.filter(pk=station_id, contest=self.contest).select_related("polling_station").first()
        )
        if station is None:
            raise Http404
        entries = list(
            Form45Entry.objects.filter(contest_station=station, status=Status.MISMATCHED)
            .select_related("operator")
            .order_by("submitted_at", "pk")
        )
        return station, entries

    def get(self, request, contest_id: int, station_id: int):
        station, entries = self._load(station_id)
        if len(entries) != 2:
            return self._nothing_to_decide(request, station)
        return self._render(request, station, entries, self._form())

    def post(self, request, contest_id: int, station_id: int):
        station, entries = self._load(station_id)
        if len(entries) != 2:
            return self._nothing_to_decide(request, station)
        form = self._form(data=request.POST)
        if form.is_valid():
            choice = form.cleaned_data["choice"]
            try:
                services.form45_decide(
                    actor=request.user,
                    contest_station_id=station.pk,
                    choice=choice,
                    note=form.cleaned_data["note"],
                    figures=form.figures() if choice == "corrected" else None,
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied from exc
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(
                    request,
                    _("PS-%(number)s decided: its Form-45 is accepted and counts in the results.")
                    % {"number": station.number},
                )
                return redirect("results:mismatches", contest_id=self.contest.pk)
        return self._render(request, station, entries, form)

    def _form(self, data=None) -> DecisionForm:
        return DecisionForm(data=data, contest=self.contest, candidates=_candidates(self.contest))

    def _nothing_to_decide(self, request, station: ContestStation):
        messages.info(
            request,
            _("PS-%(number)s has no mismatch waiting for a decision (it may have been decided already).")
            % {"number": station.number},
        )
        return redirect("results:mismatches", contest_id=self.contest.pk)

    def _render(self, request, station, entries, form: DecisionForm):
        candidates = form.candidates
        sums = [sum(int(v) for v in e.votes.values()) + e.excluded for e in entries]
        counted = [e.counted_at for e in entries]
        ctx = {
            **self.contest_context("mismatches"),
            "station": station,
            "entries": entries,
            "form": form,
            "rows": _figure_rows(entries, candidates, form),
            "sums": sums,
            "counted": counted,
            "counted_differs": len(set(counted)) > 1,
            "corrected_sums": form.live_sums(),
        }
        return render(request, self.template_name, ctx)


# --- dashboard ------------------------------------------------------------------------------


def _percent(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100 * part / whole, 1)


def _percent_text(part: int | None, whole: int | None) -> str:
    value = _percent(part, whole)
    return "—" if value is None else f"{value:.1f} %"


def _n(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _clock(due: datetime.datetime, now: datetime.datetime, *, all_reported: bool) -> dict[str, Any]:
    seconds = int((due - now).total_seconds())
    if all_reported:
        state, text = "met", _("All stations reported")
    else:
        minutes = abs(seconds) // 60
        hours, minutes = divmod(minutes, 60)
        if seconds > 0:
            state, text = "left", _("{h} h {m} min left").format(h=hours, m=minutes)
        else:
            state, text = "passed", _("Passed {h} h {m} min ago").format(h=hours, m=minutes)
    local = timezone.localtime(due, KARACHI)
    return {
        "due_at": due.isoformat(),
        "due_text": formats.date_format(local, "H:i · j M Y"),
        "seconds_left": seconds,
        "state": state,
        "text": text,
    }


def dashboard_data(contest: Contest, *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, as JSON-ready values: the page renders it, the JSON endpoint sends it.

    ``text`` holds each figure exactly as the page prints it in ``[data-field=<key>]``."""
    now = now or timezone.now()
    t = selectors.contest_tally(contest=contest)
    by_order = {c.ballot_order: c for c in t.candidates}
    valid = t.valid
    standings = t.standings()
    top = standings[0].votes if standings else 0
    rule = settings.RESULTS_RECOUNT_RULES[contest.constituency.house]
    recount_rule = tally.RecountRule(percent=rule["percent"], absolute=rule["absolute"])
    margin = tally.margin(t.votes) if t.stations_reported else None
    threshold = tally.recount_threshold(t.polled_total, recount_rule)
    recount_eligible = margin is not None and margin < threshold
    # Turnout is measured where the count is in: registered voters of the stations that have reported.
    reported_registered = ContestStation.objects.filter(contest=contest, form45__isnull=False).aggregate(
        male=Sum("male_voters", default=0), female=Sum("female_voters", default=0)
    )
    reg_male, reg_female = reported_registered["male"], reported_registered["female"]
    mismatches = selectors.mismatch_list(contest=contest).count()
    waiting_second = (
        ContestStation.objects.filter(contest=contest, form45__isnull=True, entries__status=Status.WAITING)
        .distinct()
        .count()
    )
    severity_text = {"error": _("Error"), "warning": _("Warning"), "info": _("Information")}
    findings = [
        {
            "rule": f.rule,
            "severity": f.severity,
            "severity_text": severity_text.get(f.severity, f.severity),
            "message": finding_text(f.rule, f.data, f.message),
            "station": None,
        }
        for f in t.findings(now=now)
    ]
    findings += [
        {
            "rule": flag.rule,
            "severity": flag.severity,
            "severity_text": severity_text.get(flag.severity, flag.severity),
            "message": finding_text(flag.rule, flag.data, flag.message),
            "station": flag.contest_station.number if flag.contest_station else None,
        }
        for flag in selectors.flag_list(contest=contest)
    ]
    all_reported = t.stations_total > 0 and t.stations_reported == t.stations_total
    election = contest.election
    women_share = _percent(t.polled_female, t.polled_total)
    return {
        "contest": contest.pk,
        "constituency": contest.constituency.code,
        "status": contest.status,
        "now": now.isoformat(),
        "stations_total": t.stations_total,
        "stations_reported": t.stations_reported,
        "registered": {"male": t.registered_male, "female": t.registered_female, "total": t.registered},
        "polled": {"male": t.polled_male, "female": t.polled_female, "total": t.polled_total},
        "excluded": t.excluded,
        "valid": valid,
        "votes": {str(k): v for k, v in t.votes.items()},
        "margin": margin,
        "recount_threshold": threshold,
        "recount_eligible": recount_eligible,
        "mismatches": mismatches,
        "waiting_second": waiting_second,
        "candidates": [
            {
                "ballot_order": s.key,
                "name": by_order[s.key].name,
                "name_ur": by_order[s.key].name_ur,
                "party": by_order[s.key].party,
                "party_ur": by_order[s.key].party_ur,
                "votes": s.votes,
                "votes_text": _n(s.votes),
                "rank": s.rank,
                "share_text": _percent_text(s.votes, valid),
                "bar": round(100 * s.votes / top, 1) if top else 0,
            }
            for s in standings
        ],
        "awaited": [
            {"number": s.number, "name": s.polling_station.name, "name_ur": s.polling_station.name_ur}
            for s in sorted(t.awaited, key=lambda s: s.number)
        ],
        "findings": findings,
        "deadlines": {
            "provisional": _clock(election.provisional_deadline_at, now, all_reported=all_reported),
            "complete": _clock(election.complete_deadline_at, now, all_reported=all_reported),
        },
        "text": {
            "stations_reported": _n(t.stations_reported),
            "stations_total": _n(t.stations_total),
            "stations_awaited": _n(t.stations_total - t.stations_reported),
            "stations_percent": _percent_text(t.stations_reported, t.stations_total),
            "mismatches": _n(mismatches),
            "waiting_second": _n(waiting_second),
            "registered_male": _n(t.registered_male),
            "registered_female": _n(t.registered_female),
            "registered_total": _n(t.registered),
            "reported_registered_male": _n(reg_male),
            "reported_registered_female": _n(reg_female),
            "reported_registered_total": _n(reg_male + reg_female),
            "polled_male": _n(t.polled_male),
            "polled_female": _n(t.polled_female),
            "polled_total": _n(t.polled_total),
            "turnout_male": _percent_text(t.polled_male, reg_male),
            "turnout_female": _percent_text(t.polled_female, reg_female),
            "turnout_total": _percent_text(t.polled_total, reg_male + reg_female),
            "women_share": "—" if women_share is None else f"{women_share:.1f} %",
            "excluded": _n(t.excluded),
            "valid": _n(valid),
            "margin": _n(margin),
            "recount_threshold": _n(threshold),
            "recount": (
                "—"
                if margin is None
                else (_("Eligible for a recount") if recount_eligible else _("Not eligible for a recount"))
            ),
            "excluded_vs_margin": (
                "—"
                if margin is None
                else (
                    _("Excluded ballots are at least the margin")
                    if t.excluded >= margin
                    else _("Excluded ballots are below the margin")
                )
            ),
            "provisional_clock": "",  # filled below
            "complete_clock": "",
        },
    }


def _fill_clock_text(data: dict[str, Any]) -> dict[str, Any]:
    data["text"]["provisional_clock"] = data["deadlines"]["provisional"]["text"]
    data["text"]["complete_clock"] = data["deadlines"]["complete"]["text"]
    return data


def dashboard_fingerprint(contest: Contest, *, now: datetime.datetime) -> str:
    """Cheap: changes when a form is accepted, a flag is raised, an entry arrives, the contest moves on,
    or the minute changes (the deadline findings depend on the time). Also keyed on the language."""
    forms = Form45.objects.filter(contest_station__contest=contest).aggregate(n=Count("pk"), last=Max("accepted_at"))
    flags = Flag.objects.filter(contest=contest).aggregate(n=Count("pk"), last=Max("raised_at"))
    entries = Form45Entry.objects.filter(contest_station__contest=contest).aggregate(
        n=Count("pk"), mismatched=Count("pk", filter=Q(status=Status.MISMATCHED))
    )
    parts = (
        contest.pk,
        contest.status,
        forms["n"],
        forms["last"],
        flags["n"],
        flags["last"],
        entries["n"],
        entries["mismatched"],
        now.replace(second=0, microsecond=0).isoformat(),
        translation.get_language(),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


class DashboardView(ContestMixin, TemplateView):
    template_name = "results/dashboard.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(self.contest_context("dashboard"))
        ctx["d"] = data = _fill_clock_text(dashboard_data(self.contest))
        text = data["text"]
        ctx["gender_rows"] = [
            {
                "label": label,
                "cells": [
                    (key, text[key])
                    for key in (f"registered_{g}", f"reported_registered_{g}", f"polled_{g}", f"turnout_{g}")
                ],
            }
            for g, label in (("male", _("Male")), ("female", _("Female")), ("total", _("Total")))
        ]
        ctx["json_url"] = reverse("results:dashboard_json", kwargs={"contest_id": self.contest.pk})
        ctx.update(forms_panel_context(self.request.user, self.contest))
        return ctx


class DashboardJsonView(ContestMixin, View):
    """The dashboard's figures as JSON, with an ETag: a poll that finds nothing new gets a 304 and no body."""

    def get(self, request, contest_id: int):
        now = timezone.now()
        etag = quote_etag(dashboard_fingerprint(self.contest, now=now))
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if if_none_match(request, etag):
            response = HttpResponseNotModified()
        else:
            response = JsonResponse(_fill_clock_text(dashboard_data(self.contest, now=now)))
        for key, value in headers.items():
            response[key] = value
        return response
