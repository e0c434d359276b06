"""SMS staff screens, for SMS officers (administrators too): the dashboard, contacts and their CSV import,
campaigns (preview, maker-checker, pause/resume/cancel, live progress, CSV export), the messages of one
number with the single-message form, delivery reports, and the live segment counter's endpoint.

Every view needs a verified staff session (``StaffRequiredMixin`` / ``staff_required``: anyone else goes to
the sign-in step they are at) and the ``sms_officer`` role (403 otherwise). Writes go through
``sms.services``; a ``DomainError`` is shown beside the field it names, never as a 500.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.charts import stacked_bar_chart
from core.exceptions import DomainError, PermissionDeniedError
from core.forms import add_domain_error
from core.http import csv_cell
from core.permissions import StaffRequiredMixin, is_verified_staff, staff_required
from core.selectors import has_role

from . import encoding, selectors, services
from .forms import (
    CampaignFilterForm,
    CampaignForm,
    ContactFilterForm,
    ContactImportForm,
    GroupForm,
    PhoneSearchForm,
    RejectForm,
    ReportForm,
    SendForm,
    audience_fields,
)
from .models import Campaign, CampaignStatus, ContactGroup, MessageStatus, OptOut
from .services.messages import MAX_SEGMENTS

ROLE = "sms_officer"
PAGE_SIZE = 25
COUNTER_MAX_CHARS = 10_000  # the counter's endpoint refuses longer text (ten UCS-2 SMS are 670 characters)
IMPORT_ERRORS_SHOWN = 500

# Campaign states in which each action may be offered (the services decide; this only hides buttons).
MAY_PAUSE = {CampaignStatus.SENDING}
MAY_RESUME = {CampaignStatus.PAUSED}
MAY_CANCEL = {CampaignStatus.PENDING, CampaignStatus.APPROVED, CampaignStatus.SENDING, CampaignStatus.PAUSED}
LIVE = {CampaignStatus.APPROVED, CampaignStatus.SENDING, CampaignStatus.PAUSED}  # the counts may still move


# --- access -------------------------------------------------------------------------------------------------


def is_officer(user) -> bool:
    return has_role(user, ROLE)


def _refuse() -> PermissionDenied:
    return PermissionDenied(_("These screens are for SMS officers."))


@method_decorator(never_cache, name="dispatch")
class OfficerView(StaffRequiredMixin, View):
    """A verified staff session with the SMS officer role (or an administrator)."""

    def dispatch(self, request, *args, **kwargs):
        if is_verified_staff(request.user) and not is_officer(request.user):
            raise _refuse()
        return super().dispatch(request, *args, **kwargs)


def officer_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The same rule for function views (JSON endpoints, downloads)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_officer(request.user):
            raise _refuse()
        return view(request, *args, **kwargs)

    return never_cache(staff_required(wrapped))


# --- helpers ------------------------------------------------------------------------------------------------


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _campaign_or_404(pk: int) -> Campaign:
    campaign = selectors.campaign_get(pk)
    if campaign is None:
        raise Http404
    return campaign


def message_count_panels(counts: dict[str, int]) -> list[dict]:
    return [{"status": s, "label": MessageStatus(s).label, "n": n} for s, n in counts.items()]


def campaign_count_panels(counts: dict[str, int]) -> list[dict]:
    return [{"status": s, "label": CampaignStatus(s).label, "n": n} for s, n in counts.items()]


def counter_text(text: str) -> dict:
    """What the live counter shows before any script runs (and without JavaScript)."""
    return encoding.as_dict(encoding.analyse(text or ""))


# --- dashboard ----------------------------------------------------------------------------------------------


class IndexView(OfficerView):
    def get(self, request):
        waiting = selectors.campaigns_waiting_for(request.user)
        context = {
            "campaign_counts": campaign_count_panels(selectors.campaign_status_counts()),
            "today": message_count_panels(selectors.messages_today_counts()),
            "waiting": list(waiting[:10]),
            "waiting_total": waiting.count(),
            "mine_waiting": Campaign.objects.filter(status=CampaignStatus.PENDING, created_by=request.user).count(),
            "recent": list(selectors.campaign_list()[:8]),
            "contacts_total": selectors.contact_list().count(),
            "groups_total": ContactGroup.objects.count(),
            "opted_out_total": OptOut.objects.count(),
        }
        return render(request, "sms/index.html", context)


# --- contacts -----------------------------------------------------------------------------------------------


def _group_create(data: dict) -> ContactGroup:
    """A new contact group. (Not audited: sms.services offers no group service yet.)"""
    with transaction.atomic():
        return ContactGroup.objects.create(
            name=data["name"], name_ur=data.get("name_ur", ""), description=data.get("description", "")
        )


class ContactListView(OfficerView):
    def get(self, request):
        return self._render(request, GroupForm())

    def post(self, request):  # a new group
        form = GroupForm(request.POST)
        if form.is_valid():
            try:
                group = _group_create(form.cleaned_data)
            except IntegrityError:
                form.add_error("name", _("A group with this name exists already."))
            else:
                messages.success(request, _("Group “%(name)s” added.") % {"name": group.name})
                return redirect("sms:contacts")
        return self._render(request, form)

    def _render(self, request, group_form: GroupForm):
        filters = ContactFilterForm(request.GET or None)
        query, group = "", None
        if filters.is_valid():
            query, group = filters.cleaned_data["q"].strip(), filters.cleaned_data["group"]
        contacts = selectors.contact_list(query=query, group_id=group.pk if group else None)
        context = {
            "filters": filters,
            "filtered": bool(query or group),
            "page": _page(request, contacts),
            "groups": list(selectors.group_list()),
            "group_form": group_form,
        }
        return render(request, "sms/contacts.html", context)


class ContactImportView(OfficerView):
    def get(self, request):
        return self._render(request, ContactImportForm())

    def post(self, request):
        form = ContactImportForm(request.POST, request.FILES)
        report = None
        if form.is_valid():
            data = form.cleaned_data
            new_group = " ".join(data["new_group"].split())
            try:
                # The new group and the import are one change: a refused file leaves no empty group behind.
                with transaction.atomic():
                    group = data["group"]
                    if new_group:
                        group, _made = ContactGroup.objects.get_or_create(name=new_group)
                    report = services.contacts_import(
                        actor=request.user, text=data["file"], group=group, file_name=request.FILES["file"].name
                    )
            except PermissionDeniedError as exc:
                raise _refuse() from exc
            except DomainError as exc:
                add_domain_error(form, exc)
            except csv.Error:  # e.g. an unclosed quote that swallows the rest of a large file
                form.add_error("file", _('The file is not a readable CSV file: check its quotes (").'))
            else:
                level = messages.SUCCESS if not report.errors else messages.WARNING
                messages.add_message(
                    request,
                    level,
                    _("Imported: %(created)s added, %(updated)s updated, %(bad)s rows skipped.")
                    % {"created": report.created, "updated": report.updated, "bad": len(report.errors)},
                )
        return self._render(request, form, report)

    def _render(self, request, form, report=None):
        context = {
            "form": form,
            "report": report,
            "errors_shown": report.errors[:IMPORT_ERRORS_SHOWN] if report else [],
            "errors_hidden": max(0, len(report.errors) - IMPORT_ERRORS_SHOWN) if report else 0,
            "max_rows": settings.SMS_CONTACTS_MAX_ROWS,
        }
        return render(request, "sms/contact_import.html", context)


SAMPLE_ROWS = [
    ("name", "phone", "language", "organisation", "groups"),
    ("Ayesha Khan", "+923000000001", "en", "Daily Example News", "Media"),
    ("بلال احمد", "+923000000002", "ur", "روزنامہ مثال", "Media;Lahore"),
    ("Sana Malik", "03000000003", "en", "Example Bar Association", "Lawyers"),
    ("عثمان قریشی", "0300 0000004", "ur", "", "Staff"),
]


@officer_required
def sample_csv(request: HttpRequest) -> HttpResponse:
    """A sample import file: the columns, both languages, and generated numbers (+92300 000 000x) that
    belong to nobody."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so that a spreadsheet opens the Urdu names as UTF-8
    csv.writer(buffer, lineterminator="\r\n").writerows(SAMPLE_ROWS)
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, "sms-contacts-sample.csv")
    return response


# --- campaigns ----------------------------------------------------------------------------------------------


class CampaignListView(OfficerView):
    def get(self, request):
        filters = CampaignFilterForm(request.GET or None)
        query, status = "", ""
        if filters.is_valid():
            query, status = filters.cleaned_data["q"].strip(), filters.cleaned_data["status"]
        campaigns = selectors.campaign_list(query=query, status=status)
        context = {"filters": filters, "filtered": bool(query or status), "page": _page(request, campaigns)}
        return render(request, "sms/campaigns.html", context)


class CampaignCreateView(OfficerView):
    def get(self, request):
        initial = {}
        if request.GET.get("audience"):
            initial["audience"] = request.GET["audience"]
        return self._render(request, CampaignForm(initial=initial))

    def post(self, request):
        form = CampaignForm(request.POST)
        estimate = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                if "create" not in request.POST:  # "Preview" (and Enter in a text box) shows the estimate first
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
            except PermissionDeniedError as exc:
                raise _refuse() from exc
            except DomainError as exc:
                add_domain_error(form, exc)
        return self._render(request, form, estimate)

    def _render(self, request, form: CampaignForm, estimate=None):
        fields = audience_fields()
        context = {
            "form": form,
            "estimate": estimate,
            "price": Decimal(settings.SMS_PRICE_PER_SEGMENT),
            "audience_fields": fields,
            "selected_fields": fields.get(form["audience"].value() or "", []),
            "counters": {
                name: counter_text(form.data.get(name, "") if form.is_bound else "")
                for name in ("template_ur", "template_en")
            },
            "max_segments": MAX_SEGMENTS,
        }
        return render(request, "sms/campaign_form.html", context)


HISTORY_LABELS = {
    "sms.campaign_created": gettext_lazy("Made"),
    "sms.campaign_approved": gettext_lazy("Approved"),
    "sms.campaign_rejected": gettext_lazy("Rejected"),
    "sms.campaign_started": gettext_lazy("Sending started"),
    "sms.campaign_paused": gettext_lazy("Paused"),
    "sms.campaign_resumed": gettext_lazy("Resumed"),
    "sms.campaign_cancelled": gettext_lazy("Cancelled"),
    "sms.campaign_completed": gettext_lazy("Every message handed over"),
}


def _history_detail(action: str, data: dict) -> str:
    if action == "sms.campaign_rejected":
        return str(data.get("reason", ""))
    if action == "sms.campaign_started":
        return _("%(n)s messages made") % {"n": data.get("messages", 0)}
    if action == "sms.campaign_cancelled":
        if "cancelled_messages" in data:
            return _("%(n)s waiting messages cancelled") % {"n": data["cancelled_messages"]}
        if data.get("reason") == "too old to send":
            return _("too old to send when its time came")
    return ""


def campaign_history_rows(campaign: Campaign) -> list[dict]:
    """The campaign's audit events as the page lists them: when, what, who (a person, or the system)."""
    rows = []
    for event in selectors.campaign_history(campaign):
        actor = event.actor
        who = (actor.get_full_name() or actor.get_username()) if actor is not None else _("automatic")
        rows.append(
            {
                "at": event.created_at,
                "action": event.action,
                "label": HISTORY_LABELS.get(event.action, event.action),
                "who": who,
                "actor": actor,
                "detail": _history_detail(event.action, event.data or {}),
            }
        )
    return rows


def _campaign_context(request: HttpRequest, campaign: Campaign, reject_form: RejectForm | None = None) -> dict:
    is_maker = campaign.created_by_id == request.user.pk
    pending = campaign.status == CampaignStatus.PENDING
    history = campaign_history_rows(campaign)
    rejected = [row["actor"] for row in history if row["action"] == "sms.campaign_rejected"]
    return {
        "campaign": campaign,
        "counts": message_count_panels(selectors.campaign_message_counts(campaign)),
        "reasons": selectors.failure_reasons(campaign.messages.all()),
        "history": history,
        "rejected_by": rejected[-1] if rejected else None,
        "is_maker": is_maker,
        "may_decide": pending and not is_maker,
        "may_pause": campaign.status in MAY_PAUSE,
        "may_resume": campaign.status in MAY_RESUME,
        "may_cancel": campaign.status in MAY_CANCEL,
        "is_live": campaign.status in LIVE,
        "reject_form": reject_form or RejectForm(),
    }


class CampaignView(OfficerView):
    def get(self, request, pk: int):
        return render(request, "sms/campaign.html", _campaign_context(request, _campaign_or_404(pk)))


ACTIONS: dict[str, Callable[..., Campaign]] = {
    "approve": services.campaign_approve,
    "pause": services.campaign_pause,
    "resume": services.campaign_resume,
    "cancel": services.campaign_cancel,
}
DONE = {
    "approve": gettext_lazy("Approved. Sending starts at the send time."),
    "reject": gettext_lazy("Rejected. The maker sees your reason on the campaign's page."),
    "pause": gettext_lazy("Paused: no more messages leave until you resume."),
    "resume": gettext_lazy("Resumed: sending goes on."),
    "cancel": gettext_lazy("Cancelled: its queued messages will not be sent."),
}


class CampaignActionView(OfficerView):
    """POST approve / reject / pause / resume / cancel. A GET of cancel is the confirmation step (it works
    without JavaScript); a GET of the others just goes back to the campaign."""

    def get(self, request, pk: int, action: str):
        if action not in DONE:
            raise Http404
        campaign = _campaign_or_404(pk)
        if action != "cancel":
            return redirect("sms:campaign", pk)
        if campaign.status not in MAY_CANCEL:
            messages.error(request, _("This campaign can no longer be cancelled."))
            return redirect("sms:campaign", pk)
        counts = message_count_panels(selectors.campaign_message_counts(campaign))
        return render(request, "sms/campaign_cancel.html", {"campaign": campaign, "counts": counts})

    def post(self, request, pk: int, action: str):
        if action not in DONE:
            raise Http404
        campaign = _campaign_or_404(pk)
        reject_form = None
        try:
            if action == "reject":
                reject_form = RejectForm(request.POST)
                if not reject_form.is_valid():
                    return self._again(request, campaign, reject_form)
                services.campaign_reject(
                    actor=request.user, campaign=campaign, reason=reject_form.cleaned_data["reason"]
                )
            else:
                ACTIONS[action](actor=request.user, campaign=campaign)
        except DomainError as exc:
            if reject_form is not None and exc.field == "reason":
                add_domain_error(reject_form, exc)
                return self._again(request, campaign, reject_form)
            messages.error(request, exc.message)
        else:
            messages.success(request, str(DONE[action]))
        return redirect("sms:campaign", pk)

    @staticmethod
    def _again(request, campaign: Campaign, reject_form: RejectForm) -> HttpResponse:
        return render(request, "sms/campaign.html", _campaign_context(request, campaign, reject_form))


@officer_required
def campaign_counts(request: HttpRequest, pk: int) -> JsonResponse:
    """The campaign page's live figures: its messages by status, and its job's progress in the shape of
    core:job_progress (which serves only the job's starter), so static/js/progress.js can poll it."""
    campaign = _campaign_or_404(pk)
    job = campaign.job
    data: dict[str, Any] = {
        "campaign": {"status": campaign.status, "status_display": str(campaign.get_status_display())},
        "counts": selectors.campaign_message_counts(campaign),
        "skipped": {"opted_out": campaign.skipped_opted_out, "invalid": campaign.skipped_invalid},
        "finished": campaign.status not in LIVE and campaign.status != CampaignStatus.PENDING,
    }
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


EXPORT_HEADER = ["id", "to", "language", "segments", "status", "provider_id", "error_code", "error_message"]
EXPORT_HEADER += ["created_at", "sent_at", "finished_at", "history"]


def _utc(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""


def export_chunks(campaign: Campaign, *, rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV as text chunks: byte order mark and header, then every message with its history."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(EXPORT_HEADER)
    for n, row in enumerate(selectors.campaign_export_rows(campaign), start=1):
        m = row.message
        history = "; ".join(f"{_utc(e.at)} {e.status}" + (f" ({e.detail})" if e.detail else "") for e in row.events)
        writer.writerow(
            [m.pk, m.to, m.language, m.segments, m.status, csv_cell(m.provider_id), csv_cell(m.error_code)]
            + [csv_cell(m.error_message), _utc(m.created_at), _utc(m.sent_at), _utc(m.finished_at), history]
        )
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@officer_required
def campaign_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    campaign = _campaign_or_404(pk)
    chunks = (chunk.encode("utf-8") for chunk in export_chunks(campaign))
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"sms-campaign-{campaign.pk}-messages.csv")
    return response


# --- messages of one number ---------------------------------------------------------------------------------


class MessageSearchView(OfficerView):
    def get(self, request):
        return self._render(request, self._send_form())

    def post(self, request):  # send one message
        form = SendForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                message = services.message_send(
                    to=data["to"],
                    body=data["body"],
                    purpose=data["purpose"],
                    language=data["language"],
                    idempotency_key=f"staff:{request.user.pk}:{data['key']}",
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                if message.status == MessageStatus.FAILED and message.error_code == "opted_out":
                    messages.warning(
                        request,
                        _("Not sent: %(phone)s opted out (STOP). Message #%(id)s is recorded as failed.")
                        % {"phone": message.to, "id": message.pk},
                    )
                else:
                    messages.success(request, _("Message #%(id)s queued.") % {"id": message.pk})
                return redirect(f"{reverse('sms:messages')}?{urlencode({'phone': message.to})}")
        return self._render(request, form, status=200)

    @staticmethod
    def _send_form() -> SendForm:
        return SendForm(initial={"key": uuid.uuid4().hex})

    def _render(self, request, send_form: SendForm, *, status: int = 200):
        search = PhoneSearchForm(request.GET if "phone" in request.GET else None)
        context: dict[str, Any] = {"form": search, "send_form": send_form, "max_segments": MAX_SEGMENTS}
        context["body_counter"] = counter_text(send_form.data.get("body", "") if send_form.is_bound else "")
        if search.is_valid():
            phone = search.cleaned_data["phone"]
            page = _page(request, selectors.messages_to(phone))
            history = selectors.events_of([m.pk for m in page])
            context.update(
                phone=phone,
                page=page,
                rows=[(m, history[m.pk]) for m in page],
                inbound=selectors.inbound_from(phone),
                opted_out=selectors.optout_get(phone),
            )
        return render(request, "sms/messages.html", context, status=status)


# --- reports ------------------------------------------------------------------------------------------------

PARTS = (
    ("delivered", gettext_lazy("Delivered")),
    ("sent", gettext_lazy("Sent, no report yet")),
    ("failed", gettext_lazy("Failed")),
    ("other", gettext_lazy("Queued, sending or cancelled")),
)


def day_chart(rows: list[dict]) -> dict:
    """The stacked-bar chart of messages per day by outcome (core.charts draws the geometry)."""
    return stacked_bar_chart(
        rows, PARTS, label=lambda row: row["day"].strftime("%d/%m"), caption=lambda row: row["day"].isoformat()
    )


class ReportsView(OfficerView):
    def get(self, request):
        form = ReportForm(request.GET or None)
        days = (form.cleaned_data["days"] if form.is_valid() else None) or 30
        by_day = selectors.delivery_by_day(days)
        total = {k: sum(row[k] for row in by_day) for k in ("total", "sent", "delivered", "failed")}
        left = total["sent"] + total["delivered"] + total["failed"]
        context = {
            "form": form,
            "days": days,
            "by_day": by_day,
            "active_days": [row for row in by_day if row["total"]],
            "total": total,
            "total_rate": round(100 * total["delivered"] / left, 1) if left else None,
            "chart": day_chart(by_day),
            "by_provider": selectors.delivery_by_provider(days),
            "reasons": selectors.failure_reasons_since(days),
        }
        return render(request, "sms/reports.html", context)


# --- the live counter ---------------------------------------------------------------------------------------


@require_POST
@officer_required
def segments(request: HttpRequest) -> JsonResponse:
    """Characters, encoding, segments and what is left in the last segment of ``text``, computed by
    sms/encoding.py as the dispatcher will: the counter under every compose box asks here."""
    text = request.POST.get("text", "")
    if len(text) > COUNTER_MAX_CHARS:
        return JsonResponse(
            {"code": "too_long", "message": _("The text is too long to count."), "fields": {}}, status=400
        )
    return JsonResponse(encoding.as_dict(encoding.analyse(text)))
