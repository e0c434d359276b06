"""SMS staff screens (SMS officers; administrators see everything too): dashboard, contacts and their CSV
import, campaigns with maker-checker and a live progress bar, message search, reports, the live counter."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.permissions import StaffRequiredMixin, staff_required
from core.phone import InvalidPhone, normalize_mobile
from core.selectors import has_role

from . import encoding, selectors, services
from .forms import CampaignForm, ContactImportForm, GroupForm, PhoneSearchForm, RejectForm, SendForm
from .models import Campaign, CampaignStatus, Contact, ContactGroup, InboundMessage, Message, MessageStatus, OptOut

PAGE = 25


def _officer(request: HttpRequest) -> None:
    if not has_role(request.user, "sms_officer"):
        raise PermissionDenied(_("Only SMS officers use these screens."))


class OfficerView(StaffRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _officer(request)
        return super().dispatch(request, *args, **kwargs)


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE).get_page(request.GET.get("page"))


def labelled(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(status, its label in the current language, count) for the count panels."""
    return [(status, str(MessageStatus(status).label), n) for status, n in counts.items()]


def _field_error(form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


class IndexView(OfficerView):
    def get(self, request):
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        context = {
            "waiting": selectors.campaigns_waiting_for(request.user)[:10],
            "recent": Campaign.objects.select_related("created_by")[:8],
            "today": labelled(selectors.status_counts(Message.objects.filter(created_at__gte=today))),
            "contacts": Contact.objects.count(),
            "opted_out": OptOut.objects.count(),
        }
        return render(request, "sms/index.html", context)


class ContactListView(OfficerView):
    def get(self, request):
        contacts = Contact.objects.prefetch_related("groups")
        q = request.GET.get("q", "").strip()
        if q:
            contacts = contacts.filter(Q(name__icontains=q) | Q(phone__contains=q) | Q(organisation__icontains=q))
        group = request.GET.get("group", "")
        if group.isdigit():
            contacts = contacts.filter(groups=int(group))
        context = {"page": _page(request, contacts), "q": q, "group": group, "groups": ContactGroup.objects.all()}
        context["group_form"] = GroupForm()
        return render(request, "sms/contacts.html", context)

    def post(self, request):  # a new group
        form = GroupForm(request.POST)
        if form.is_valid():
            name = form.cleaned_data["name"].strip()
            _group, made = ContactGroup.objects.get_or_create(
                name=name, defaults={"name_ur": form.cleaned_data["name_ur"]}
            )
            messages.success(request, _("Group “%s” added.") % name if made else _("Group “%s” exists already.") % name)
        else:
            messages.error(request, _("Give the group a name."))
        return redirect("sms:contacts")


class ContactImportView(OfficerView):
    def get(self, request):
        return render(request, "sms/contact_import.html", {"form": ContactImportForm()})

    def post(self, request):
        form = ContactImportForm(request.POST, request.FILES)
        report = None
        if form.is_valid():
            group = form.cleaned_data["group"]
            new_group = form.cleaned_data["new_group"].strip()
            try:
                if new_group:
                    group, _made = ContactGroup.objects.get_or_create(name=new_group)
                report = services.contacts_import(
                    actor=request.user,
                    text=form.cleaned_data["file"],
                    group=group,
                    file_name=request.FILES["file"].name,
                )
            except DomainError as exc:
                _field_error(form, exc)
        return render(request, "sms/contact_import.html", {"form": form, "report": report})


def sample_csv(request: HttpRequest) -> HttpResponse:
    rows = [
        ("name", "phone", "language", "organisation", "groups"),
        ("Ayesha Khan", "+923000000001", "ur", "Daily Example", "Media;Lahore"),
        ("Bilal Ahmed", "0300 0000002", "en", "Example Bar Council", "Lawyers"),
    ]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts-sample.csv"'
    csv.writer(response).writerows(rows)
    return response


class CampaignListView(OfficerView):
    def get(self, request):
        campaigns = Campaign.objects.select_related("created_by", "approved_by")
        q, status = request.GET.get("q", "").strip(), request.GET.get("status", "")
        if q:
            campaigns = campaigns.filter(title__icontains=q)
        if status in CampaignStatus.values:
            campaigns = campaigns.filter(status=status)
        context = {"page": _page(request, campaigns), "q": q, "status": status, "statuses": CampaignStatus.choices}
        return render(request, "sms/campaigns.html", context)


class CampaignCreateView(OfficerView):
    def get(self, request):
        return self._render(request, CampaignForm())

    def post(self, request):
        form = CampaignForm(request.POST)
        estimate = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                if "preview" in request.POST:
                    estimate = services.campaign_estimate(
                        audience_key=data["audience"], template_ur=data["template_ur"], template_en=data["template_en"]
                    )
                else:
                    campaign = services.campaign_create(
                        actor=request.user,
                        title=data["title"],
                        audience_key=data["audience"],
                        template_ur=data["template_ur"],
                        template_en=data["template_en"],
                        send_at=data["send_at"],
                        expires_at=data["expires_at"],
                    )
                    messages.success(
                        request, _("Campaign made. Another SMS officer must approve it before it is sent.")
                    )
                    return redirect("sms:campaign", campaign.pk)
            except DomainError as exc:
                _field_error(form, exc)
        return self._render(request, form, estimate)

    def _render(self, request, form, estimate=None):
        from . import audiences

        fields = {a.key: a.fields for _label, found in audiences.all_audiences() for a in found}
        return render(request, "sms/campaign_form.html", {"form": form, "estimate": estimate, "fields": fields})


class CampaignView(OfficerView):
    def get(self, request, pk: int):
        campaign = get_object_or_404(Campaign.objects.select_related("created_by", "approved_by", "job"), pk=pk)
        msgs = Message.objects.filter(campaign=campaign)
        context = {
            "campaign": campaign,
            "counts": labelled(selectors.campaign_counts(campaign)),
            "reasons": selectors.failure_reasons(msgs),
            "may_decide": campaign.status == CampaignStatus.PENDING and campaign.created_by_id != request.user.pk,
            "reject_form": RejectForm(),
        }
        return render(request, "sms/campaign.html", context)


@staff_required
def campaign_counts(request: HttpRequest, pk: int) -> JsonResponse:
    _officer(request)
    campaign = get_object_or_404(Campaign, pk=pk)
    return JsonResponse({"status": campaign.status, "counts": selectors.campaign_counts(campaign)})


ACTIONS = {
    "approve": services.campaign_approve,
    "pause": services.campaign_pause,
    "resume": services.campaign_resume,
    "cancel": services.campaign_cancel,
}
DONE = {
    "approve": _("Approved. Sending starts at the send time."),
    "pause": _("Paused: no more messages leave until you resume."),
    "resume": _("Resumed."),
    "cancel": _("Cancelled: its queued messages will not be sent."),
    "reject": _("Rejected."),
}


class CampaignActionView(OfficerView):
    """POST approve / reject / pause / resume / cancel. GET of cancel shows the confirmation step."""

    def get(self, request, pk: int, action: str):
        campaign = get_object_or_404(Campaign, pk=pk)
        if action != "cancel":
            return redirect("sms:campaign", pk)
        return render(
            request,
            "sms/campaign_cancel.html",
            {"campaign": campaign, "counts": labelled(selectors.campaign_counts(campaign))},
        )

    def post(self, request, pk: int, action: str):
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            if action == "reject":
                form = RejectForm(request.POST)
                services.campaign_reject(
                    actor=request.user, campaign=campaign, reason=form.data.get("reason", "") if form.data else ""
                )
            elif action in ACTIONS:
                ACTIONS[action](actor=request.user, campaign=campaign)
            else:
                raise DomainError("unknown_action", _("Unknown action."))
            messages.success(request, str(DONE[action]))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("sms:campaign", pk)


def _export_rows(campaign: Campaign) -> Iterator[list]:
    yield ["id", "to", "language", "segments", "status", "provider_id", "error_code", "error_message"] + [
        "created_at",
        "sent_at",
        "finished_at",
        "history",
    ]
    last = 0
    while True:
        batch = list(Message.objects.filter(campaign=campaign, pk__gt=last).order_by("pk")[:2000])
        if not batch:
            return
        history = selectors.events_of([m.pk for m in batch])
        for m in batch:
            trail = "; ".join(
                f"{e.at:%Y-%m-%dT%H:%M:%SZ} {e.status}" + (f" ({e.detail})" if e.detail else "") for e in history[m.pk]
            )
            yield [m.pk, m.to, m.language, m.segments, m.status, m.provider_id, m.error_code, m.error_message] + [
                m.created_at.isoformat(),
                m.sent_at.isoformat() if m.sent_at else "",
                m.finished_at.isoformat() if m.finished_at else "",
                trail,
            ]
        last = batch[-1].pk


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_required
def campaign_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    _officer(request)
    campaign = get_object_or_404(Campaign, pk=pk)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in _export_rows(campaign)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="sms-campaign-{campaign.pk}.csv"'
    return response


class MessageSearchView(OfficerView):
    def get(self, request):
        form = PhoneSearchForm(request.GET or None)
        context: dict = {"form": form, "send_form": SendForm()}
        if form.is_valid():
            try:
                phone = normalize_mobile(form.cleaned_data["phone"])
            except InvalidPhone as exc:
                form.add_error("phone", str(exc))
            else:
                page = _page(request, selectors.messages_to(phone))
                history = selectors.events_of([m.pk for m in page])
                for m in page:
                    m.history = history[m.pk]
                context.update(
                    phone=phone,
                    page=page,
                    inbound=InboundMessage.objects.filter(sender=phone)[:20],
                    opted_out=OptOut.objects.filter(phone=phone).first(),
                )
        return render(request, "sms/messages.html", context)

    def post(self, request):  # send one message
        form = SendForm(request.POST)
        if form.is_valid():
            try:
                message = services.message_send(**form.cleaned_data)
            except DomainError as exc:
                _field_error(form, exc)
            else:
                messages.success(request, _("Message queued (#%s).") % message.pk)
                return redirect(f"{request.path}?phone={message.to}")
        return render(request, "sms/messages.html", {"form": PhoneSearchForm(), "send_form": form})


class ReportsView(OfficerView):
    def get(self, request):
        days = request.GET.get("days", "30")
        days_n = int(days) if days.isdigit() and 1 <= int(days) <= 366 else 30
        by_day = selectors.delivery_by_day(days_n)
        peak = max((row["total"] for row in by_day), default=0)
        context = {
            "days": days_n,
            "by_day": by_day,
            "bars": _bars(by_day, peak),
            "chart_width": 50 + len(by_day) * (BAR_W + 6),
            "peak": peak,
            "by_provider": selectors.delivery_by_provider(days_n),
            "reasons": selectors.failure_reasons(
                Message.objects.filter(created_at__gte=timezone.now() - timedelta(days=days_n))
            ),
        }
        return render(request, "sms/reports.html", context)


CHART_H, BAR_W = 160, 18


def _bars(rows: list[dict], peak: int) -> list[dict]:
    """Stacked bars (delivered, sent, failed, other) for an inline SVG, in chart coordinates."""
    bars = []
    for i, row in enumerate(rows):
        parts, y = [], CHART_H
        other = row["total"] - row["delivered"] - row["sent"] - row["failed"]
        for kind, n in (
            ("delivered", row["delivered"]),
            ("sent", row["sent"]),
            ("failed", row["failed"]),
            ("other", other),
        ):
            h = round(CHART_H * n / peak) if peak else 0
            y -= h
            parts.append({"kind": kind, "y": y, "h": h, "n": n})
        bars.append({"x": 40 + i * (BAR_W + 6), "w": BAR_W, "parts": parts, "row": row})
    return bars


@require_POST
@staff_required
def segments(request: HttpRequest) -> JsonResponse:
    """The live counter under every compose box: characters, encoding, segments, units left."""
    _officer(request)
    text = request.POST.get("text", "")[:5000]
    return JsonResponse(encoding.as_dict(encoding.analyse(text)))
