"""evp's pages: the public "Check your vote" page (English at /evp/, Urdu at /ur/evp/) and the staff dashboard
of lookups, abuse blocks and roll imports."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from core.charts import stacked_bar_chart
from core.exceptions import DomainError
from core.middleware import client_ip
from core.permissions import StaffRequiredMixin, is_verified_staff
from core.selectors import has_role

from . import replies, selectors, services
from .forms import CheckVoteForm
from .models import AbuseBlock, Channel, Outcome, RollImport

STAFF_ROLES = ("sms_officer", "facilitation_operator")
CHART_HOURS = 48


def no_store(response):
    """Nobody's browser, proxy or back button keeps a lookup: Cache-Control no-store (and never_cache's rest)."""
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0, private"
    return response


class CheckVoteView(View):
    template_name = "evp/check.html"

    def get(self, request):
        return no_store(render(request, self.template_name, {"form": CheckVoteForm()}))

    def post(self, request):
        form = CheckVoteForm(request.POST)
        context: dict = {"form": form}
        status = 200
        if form.is_valid():
            lookup = services.voting_details_lookup(
                cnic_text=form.cleaned_data["cnic"], channel=Channel.WEB, sender=client_ip(request) or "unknown"
            )
            if lookup.outcome == Outcome.INVALID:
                form.add_error("cnic", replies.message(lookup))
                status = 400
            elif lookup.outcome == Outcome.REFUSED:
                context["refused"] = replies.message(lookup)
                status = 429
            else:
                context["lookup"] = lookup
                if lookup.outcome != Outcome.FOUND:
                    context["notice"] = replies.message(lookup)
                context["form"] = CheckVoteForm()  # the next lookup starts empty: no CNIC stays on the page
        else:
            status = 400
        return no_store(render(request, self.template_name, context, status=status))


# --- staff ----------------------------------------------------------------------------------------------------

CHANNEL_PARTS = tuple((c.value, c.label) for c in Channel)
OUTCOME_LABELS = dict(Outcome.choices)


@method_decorator(never_cache, name="dispatch")
class StaffView(StaffRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if is_verified_staff(request.user) and not has_role(request.user, *STAFF_ROLES):
            raise PermissionDenied(_("These screens are for SMS officers and facilitation-centre operators."))
        return super().dispatch(request, *args, **kwargs)


class DashboardView(StaffView):
    def get(self, request):
        services.lookup_counts_flush()
        hours = selectors.lookup_counts(hours=CHART_HOURS)
        rows = [
            {"hour": h.hour, "total": h.total, **{c: h.by_channel.get(c, 0) for c, _l in CHANNEL_PARTS}} for h in hours
        ]
        since = timezone.now() - datetime.timedelta(hours=24)
        totals = selectors.lookup_totals(since=since)
        table = [
            {
                "channel": label,
                "cells": [totals.get((channel, outcome), 0) for outcome in OUTCOME_LABELS],
                "total": sum(totals.get((channel, outcome), 0) for outcome in OUTCOME_LABELS),
            }
            for channel, label in CHANNEL_PARTS
        ]
        context = {
            "chart": stacked_bar_chart(
                rows,
                CHANNEL_PARTS,
                label=lambda row: timezone.localtime(row["hour"]).strftime("%H:00"),
                caption=lambda row: timezone.localtime(row["hour"]).strftime("%Y-%m-%d %H:00"),
            ),
            "active_hours": [r for r in rows if r["total"]],
            "outcomes": list(OUTCOME_LABELS.values()),
            "table": table,
            "day_total": sum(r["total"] for r in table),
            "blocks": Paginator(selectors.abuse_block_list(), 20).get_page(request.GET.get("page")),
            "active_blocks": selectors.abuse_block_list(active_only=True).count(),
            "imports": RollImport.objects.select_related("actor")[:10],
            "now": timezone.now(),
        }
        return render(request, "evp/dashboard.html", context)


class BlockLiftView(StaffView):
    """GET: the confirmation page; POST: lift the block."""

    def get(self, request, pk: int):
        # Not "block": Django's templates use that name for {{ block.super }}.
        return render(request, "evp/block_lift.html", {"abuse_block": get_object_or_404(AbuseBlock, pk=pk)})

    def post(self, request, pk: int):
        block = get_object_or_404(AbuseBlock, pk=pk)
        try:
            services.abuse_block_lift(actor=request.user, block_id=block.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The block on %(sender)s was lifted.") % {"sender": block.sender_shown})
        return redirect("evp:dashboard")
