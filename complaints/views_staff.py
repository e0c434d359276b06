"""The desks' screens (issue 7): the inbox with its filters, search and bulk assign; the ticket page with both
SLA deadlines, the attachments, the full timeline and the actions the complaint's state allows (assign,
forward, ask the complainant, internal note, public reply with canned responses, resolve, close); the staff-only
attachment download.

Every view needs a verified staff session (``StaffRequiredMixin``: anyone else goes to the sign-in step they
are at) and a complaints role (desk officer or complaints supervisor, or an administrator: 403 otherwise). Only
complaints in the user's scope exist here (``selectors.complaint_for``): any other is a 404, the same as an
unknown one. Writes go through ``complaints.services``; a ``DomainError`` is shown beside the field it names,
with a 400 (409 for the wrong state), never a 500, and nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache

from core.exceptions import DomainError
from core.forms import add_domain_error
from core.models import Office
from core.permissions import StaffRequiredMixin, is_verified_staff

from . import selectors, services
from .forms_staff import (
    MINE,
    NO_DESK,
    AssignForm,
    BulkAssignForm,
    ForwardForm,
    InboxFilterForm,
    ReplyForm,
    ResolveForm,
    TextForm,
    local_name,
)
from .models import OPEN_STATUSES, Attachment, Category, Complaint, ComplaintEvent, Desk, EventKind, Status

PAGE_SIZE = 25
COUNT_CAP = 1_000  # the inbox counts its rows up to here, and says "more than 1,000" beyond
BULK_MAX = 100


# --- access -------------------------------------------------------------------------------------------------


def forbidden(request):
    message = _(
        "These screens are for complaints staff: desk officers and complaints supervisors. Ask an administrator "
        "for the role if you handle complaints."
    )
    return render(request, "complaints/staff/forbidden.html", {"message": message}, status=403)


@method_decorator(never_cache, name="dispatch")
class DeskView(StaffRequiredMixin, View):
    """A verified staff session with a complaints role (or an administrator)."""

    def dispatch(self, request, *args, **kwargs):
        if is_verified_staff(request.user) and not selectors.is_complaints_staff(request.user):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)


def _complaint_or_404(user, pk: int) -> Complaint:
    complaint = selectors.complaint_for(user, pk)
    if complaint is None:
        raise Http404
    return complaint


def _desks(user, office_id: int | None = None, *, scope: set[int] | None = None) -> QuerySet[Desk]:
    """Active desks of one office, or of every office in the user's scope (``scope``: those office ids, when
    the caller has them already), with their office and officer."""
    qs = Desk.objects.filter(is_active=True).select_related("office", "officer").order_by("office__name", "name")
    if office_id:
        return qs.filter(office_id=office_id)
    offices = scope if scope is not None else selectors.visible_office_ids(user)
    return qs if offices is None else qs.filter(office_id__in=offices)


def _assign_desks(user, complaint: Complaint) -> QuerySet[Desk]:
    """The desks a complaint may be given to from its page: its office's, those of the offices in the user's
    scope, and those of its neighbours in the hierarchy (parent, siblings, children): a desk of another office
    forwards the complaint there."""
    office = complaint.office
    near = Q(pk=office.pk) | Q(parent_id=office.pk)
    if office.parent_id:
        near |= Q(pk=office.parent_id) | Q(parent_id=office.parent_id)
    ids = set(Office.objects.filter(near, is_active=True).values_list("pk", flat=True))
    scope = selectors.visible_office_ids(user)
    if scope is not None:
        ids |= scope
    return Desk.objects.filter(is_active=True, office_id__in=ids).select_related("office", "officer")


# --- deadlines ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineState:
    """One SLA deadline as the screens show it. ``state``: overdue, warning (past 80 %), ok, paused (waiting on
    the complainant, ``left`` office time kept), met (``met_at``), missed (at the top, no deadline left), none."""

    which: str
    label: str
    state: str
    due: datetime | None = None
    left: timedelta | None = None
    met_at: datetime | None = None

    @property
    def state_label(self) -> str:
        return {
            "overdue": _("Overdue"),
            "warning": _("Past 80 %"),
            "ok": _("On time"),
            "paused": _("Paused"),
            "met": _("Met"),
            "missed": _("Missed"),
            "none": _("No deadline"),
        }[self.state]

    @property
    def left_text(self) -> str:
        return office_time(self.left) if self.left is not None else ""


def office_time(left: timedelta) -> str:
    minutes = max(int(left.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("%(h)s h %(m)s min of office time") % {"h": hours, "m": minutes}
    if hours:
        return _("%(h)s h of office time") % {"h": hours}
    return _("%(m)s min of office time") % {"m": minutes}


def _warn_at(complaint: Complaint, which: str) -> datetime | None:
    """The 80 % moment still ahead, or None once it passed (the warning given, or past it from the start)."""
    return None if getattr(complaint, f"{which}_warned") else getattr(complaint, f"{which}_warn_at")


def _running(which: str, label: str, due: datetime, warn_at: datetime | None, now: datetime) -> DeadlineState:
    if due <= now:
        state = "overdue"
    elif warn_at is None:
        state = "warning"  # the 80 % point has passed (the warning was given, or the clock restarted past it)
    else:
        state = "ok"
    return DeadlineState(which, label, state, due=due)


def deadlines(complaint: Complaint, now: datetime) -> list[DeadlineState]:
    """First response and resolution, each on its own."""
    c = complaint
    first_label, resolution_label = _("First response"), _("Resolution")
    if c.first_response_due is not None:
        first = _running("first_response", first_label, c.first_response_due, _warn_at(c, "first_response"), now)
    elif c.first_response_left is not None:
        first = DeadlineState("first_response", first_label, "paused", left=c.first_response_left)
    elif c.responded_at is not None:
        first = DeadlineState("first_response", first_label, "met", met_at=c.responded_at)
    else:
        first = DeadlineState("first_response", first_label, "missed" if c.breaches else "none")
    if c.resolution_due is not None:
        resolution = _running("resolution", resolution_label, c.resolution_due, _warn_at(c, "resolution"), now)
    elif c.resolution_left is not None:
        resolution = DeadlineState("resolution", resolution_label, "paused", left=c.resolution_left)
    elif c.resolved_at is not None:
        resolution = DeadlineState("resolution", resolution_label, "met", met_at=c.resolved_at)
    else:
        resolution = DeadlineState("resolution", resolution_label, "missed" if c.breaches else "none")
    return [first, resolution]


def nearest_deadline(complaint: Complaint, now: datetime) -> DeadlineState | None:
    """For the inbox: the running deadline that falls first, else a paused one, else a missed one, else
    nothing (met, or none set)."""
    states = deadlines(complaint, now)
    running = [d for d in states if d.due is not None]
    if running:
        return min(running, key=lambda d: d.due or now)
    for state in ("paused", "missed"):
        found = [d for d in states if d.state == state]
        if found:
            return found[0]
    return None


# --- the inbox ----------------------------------------------------------------------------------------------


@dataclass
class InboxPage:
    """A page of the inbox without a full COUNT over a million rows: the rows are read one past the page to
    know whether a next page exists, and counted only up to COUNT_CAP."""

    rows: list
    number: int
    has_next: bool
    count: int  # capped at COUNT_CAP + 1
    start: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def more_than_cap(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1

    @property
    def num_pages(self) -> int | None:
        return None if self.more_than_cap else max((self.count + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def inbox_page(qs: QuerySet[Complaint], number: int) -> InboxPage:
    offset = (number - 1) * PAGE_SIZE
    rows = list(qs[offset : offset + PAGE_SIZE + 1])
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if number == 1 and not has_next:
        count = len(rows)  # the whole list is on this page: no COUNT query
    else:
        count = qs.order_by()[: COUNT_CAP + 1].count()
    return InboxPage(rows=rows, number=number, has_next=has_next, count=count, start=offset + 1)


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < 100_000 else 1


DESK_LIST_OFFICES = 25


class InboxView(DeskView):
    def get(self, request):
        return self._render(request)

    def _render(self, request, bulk_data=None, status: int = 200):
        user = request.user
        own_desks = list(selectors.my_desks(user))
        offices = list(selectors.scope_offices(user).only("id", "name", "name_ur", "kind", "parent_id"))
        office_ids = {o.pk for o in offices}
        office_param = request.GET.get("office", "")
        office_id = int(office_param) if office_param.isdigit() and int(office_param) in office_ids else None
        # A national or provincial view lists the desks once an office is chosen (hundreds of them otherwise).
        desks_limited = office_id is None and len(office_ids) > DESK_LIST_OFFICES
        desks = own_desks if desks_limited else list(_desks(user, office_id, scope=office_ids))
        filters = InboxFilterForm(
            request.GET,
            offices=offices,
            desks=desks,
            categories=Category.objects.filter(is_active=True),
            has_own_desks=bool(own_desks),
        )
        filters.is_valid()  # an invalid filter is shown beside its field and not applied
        data = filters.cleaned_data
        desk_value = data.get("desk") or ""
        status_value = data.get("status", "open")  # an unknown status falls back to the default
        chosen = selectors.InboxFilters(
            office=int(data["office"]) if data.get("office") else None,
            desk=int(desk_value) if desk_value.isdigit() else None,
            status="" if status_value == "all" else status_value,
            category=int(data["category"]) if data.get("category") else None,
            sla=data.get("sla") or "",
            q=data.get("q") or "",
        )
        qs = selectors.inbox(user, chosen)
        if desk_value == MINE:
            qs = qs.filter(desk__in=[d.pk for d in own_desks])
        page = inbox_page(qs, _page_number(request.GET.get("page")))
        now = timezone.now()
        rows = [(c, nearest_deadline(c, now)) for c in page.rows]
        bulk = BulkAssignForm(bulk_data, ids=[c.pk for c in page.rows], desks=desks, first_office=office_id)
        filtered = any(request.GET.get(k) for k in ("q", "office", "desk", "category", "sla")) or (
            request.GET.get("status", "open") != "open"
        )
        context = {
            "filters": filters,
            "filtered": filtered,
            "page": page,
            "rows": rows,
            "bulk": bulk,
            "own_desks": own_desks,
            "desks_limited": desks_limited,
            "mine_url": "?" + urlencode({"desk": MINE, "status": "open"}),
            "unassigned_url": "?" + urlencode({"desk": NO_DESK, "status": "open"}),
            "query": request.GET.urlencode(),
        }
        return render(request, "complaints/staff/inbox.html", context, status=status)


class BulkAssignView(InboxView):
    """POST from the inbox (its filters in the query string): the ticked complaints to one desk."""

    def get(self, request):
        return redirect(_inbox_url(request))

    def post(self, request):
        ids = [v for v in request.POST.getlist("bulk-ids") if v.isdigit()][:BULK_MAX]
        form = BulkAssignForm(request.POST, ids=[int(v) for v in ids], desks=_desks(request.user))
        if not form.is_valid():
            return self._render(request, bulk_data=request.POST, status=400)
        done, refused = services.complaint_assign_many(
            actor=request.user, complaint_ids=form.cleaned_data["ids"], desk_id=form.cleaned_data["desk"]
        )
        if done:
            messages.success(
                request,
                ngettext("%(n)s complaint was given to the desk.", "%(n)s complaints were given to the desk.", done)
                % {"n": done},
            )
        if refused:
            messages.warning(
                request,
                ngettext("%(n)s complaint was not given:", "%(n)s complaints were not given:", len(refused))
                % {"n": len(refused)},
            )
            # Ticket numbers only for complaints the officer may see: a refusal never names another office's.
            tickets = dict(
                selectors.complaints_for(request.user)
                .filter(pk__in=[pk for pk, _m in refused])
                .values_list("pk", "ticket")
            )
            for pk, message in refused:
                messages.error(request, f"{tickets.get(pk, '—')}: {message}")
        return redirect(_inbox_url(request))


def _inbox_url(request) -> str:
    query = request.GET.urlencode()
    return reverse("complaints:inbox") + (f"?{query}" if query else "")


# --- the ticket page ----------------------------------------------------------------------------------------

ACTIONS_OPEN = ("assign", "forward", "request_info", "note", "reply", "resolve")


def allowed_actions(complaint: Complaint) -> tuple[str, ...]:
    """Which forms the page offers (the services decide; this only hides what they would refuse)."""
    if complaint.status in OPEN_STATUSES:
        if complaint.status == Status.WAITING:
            return tuple(a for a in ACTIONS_OPEN if a != "request_info")
        return ACTIONS_OPEN
    if complaint.status == Status.RESOLVED:
        return ("close", "note")
    return ("note",)


def make_form(key: str, complaint: Complaint, user, data=None):
    language = complaint.language
    if key == "assign":
        return AssignForm(data, prefix="assign", desks=_assign_desks(user, complaint), office_id=complaint.office_id)
    if key == "forward":
        return ForwardForm(data, prefix="forward", offices=selectors.forward_targets())
    if key == "request_info":
        return TextForm(
            data,
            prefix="info",
            label=_("What the complainant should tell us"),
            help_text=_("Sent by SMS; the deadline stops until the answer arrives."),
            language=language,
        )
    if key == "note":
        return TextForm(data, prefix="note", label=_("Note"), help_text=_("Only staff see it; it is not sent."))
    if key == "reply":
        return ReplyForm(data, prefix="reply", canned=selectors.canned_responses(), language=language)
    if key == "resolve":
        return ResolveForm(data, prefix="resolve", language=language)
    raise ValueError(key)


def mask_tail(text: str, keep: int = 4) -> str:
    """Every digit but the last ``keep`` hidden, separators kept: 35202-1234567-3 → •••••-•••4567-3."""
    digits = sum(ch.isdigit() for ch in text)
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - keep else "•")
        else:
            out.append(ch)
    return "".join(out)


def _cnic_shown(cnic: str) -> str:
    return mask_tail(f"{cnic[:5]}-{cnic[5:12]}-{cnic[12:]}" if len(cnic) == 13 else cnic)


def render_ticket(
    request, complaint: Complaint, bound: dict | None = None, status: int = 200, focus: str = "", error: str = ""
):
    bound = bound or {}
    actions = allowed_actions(complaint)
    forms = {key: bound.get(key) or make_form(key, complaint, request.user) for key in actions if key != "close"}
    canned = list(selectors.canned_responses()) if "reply" in forms else []
    context = {
        "complaint": complaint,
        "actions": actions,
        "forms": forms,
        "canned_texts": {str(c.pk): (c.body_ur if complaint.language == "ur" else c.body) for c in canned},
        "deadlines": deadlines(complaint, timezone.now()),
        "cnic_shown": _cnic_shown(complaint.cnic),
        "mobile_shown": mask_tail(complaint.mobile),
        "attachments": list(complaint.attachments.all()),
        "timeline": timeline(complaint),
        "focus": focus,
        "error": error,
        "reopen_until": services.reopen_until(complaint),
        "category_name": local_name(complaint.category),
    }
    return render(request, "complaints/staff/ticket.html", context, status=status)


def timeline(complaint: Complaint) -> list[tuple[ComplaintEvent, str]]:
    """The full timeline, each event with the text to show: the SLA sweep's events name their deadlines by code,
    shown here by name."""
    names = {"first_response": _("first response"), "resolution": _("resolution")}
    rows = []
    for event in selectors.staff_timeline(complaint):
        text = event.text
        if event.kind in (EventKind.ESCALATED, EventKind.DEADLINE_MISSED, EventKind.SLA_WARNING) and text:
            which = ", ".join(str(names.get(code.strip(), code.strip())) for code in text.split(","))
            if event.kind == EventKind.SLA_WARNING:
                text = _("80 %% of the time for the %(which)s has passed") % {"which": which}
            else:
                text = _("Deadline missed: %(which)s") % {"which": which}
        rows.append((event, text))
    return rows


class TicketView(DeskView):
    def get(self, request, pk: int):
        return render_ticket(request, _complaint_or_404(request.user, pk))


class ActionView(DeskView):
    """POST one action form of the ticket page: success → back to the ticket (or to the inbox when the
    complaint left the user's scope) with a message; a refusal → the page again with the message beside the
    field, 400 or 409, nothing changed."""

    key = ""

    def get(self, request, pk: int):
        return redirect("complaints:ticket", pk=pk)

    def post(self, request, pk: int):
        complaint = _complaint_or_404(request.user, pk)
        form = make_form(self.key, complaint, request.user, data=request.POST)
        if self.key not in allowed_actions(complaint):
            return render_ticket(request, complaint, status=409, error=self.refusal(complaint))
        if form.is_valid():
            try:
                done = self.perform(request, complaint, form.cleaned_data)
            except DomainError as exc:
                if exc.status == 404:
                    raise Http404 from None
                add_domain_error(form, exc)
                status = exc.status
            else:
                if isinstance(done, HttpResponseRedirect):
                    return done
                messages.success(request, done)
                return self.back(request, complaint)
        else:
            status = 400
        complaint = _complaint_or_404(request.user, pk)
        return render_ticket(request, complaint, {self.key: form}, status=status, focus=self.key)

    def refusal(self, complaint: Complaint) -> str:
        return _("This complaint is %(status)s: this action is not possible now.") % {
            "status": complaint.get_status_display().lower()
        }

    def perform(self, request, complaint: Complaint, data: dict):
        raise NotImplementedError

    def back(self, request, complaint: Complaint):
        if selectors.complaint_for(request.user, complaint.pk) is None:
            messages.info(request, _("%(ticket)s has left your offices.") % {"ticket": complaint.ticket})
            return redirect("complaints:inbox")
        return redirect("complaints:ticket", pk=complaint.pk)


class AssignView(ActionView):
    key = "assign"

    def perform(self, request, complaint, data):
        done = services.complaint_assign(
            actor=request.user, complaint_id=complaint.pk, desk_id=data["desk"], note=data["note"]
        )
        return _("%(ticket)s is now at %(desk)s, %(office)s.") % {
            "ticket": done.ticket,
            "desk": local_name(done.desk) if done.desk else "—",
            "office": local_name(done.office),
        }


class ForwardView(ActionView):
    key = "forward"

    def perform(self, request, complaint, data):
        done = services.complaint_forward(
            actor=request.user, complaint_id=complaint.pk, office_id=data["office"], note=data["note"]
        )
        return _("%(ticket)s was forwarded to %(office)s.") % {"ticket": done.ticket, "office": local_name(done.office)}


class RequestInfoView(ActionView):
    key = "request_info"

    def perform(self, request, complaint, data):
        services.complaint_request_info(actor=request.user, complaint_id=complaint.pk, text=data["text"])
        return _("The complainant was asked by SMS; the deadline is paused until the answer arrives.")


class NoteView(ActionView):
    key = "note"

    def perform(self, request, complaint, data):
        services.complaint_note(actor=request.user, complaint_id=complaint.pk, text=data["text"])
        return _("The internal note was added.")


class ReplyView(ActionView):
    key = "reply"

    def post(self, request, pk: int):
        if "use" not in request.POST:
            return super().post(request, pk)
        # Without JavaScript: "Use" puts the canned response, in the complainant's language, into the box.
        complaint = _complaint_or_404(request.user, pk)
        if self.key not in allowed_actions(complaint):
            return redirect("complaints:ticket", pk=pk)
        data = request.POST.copy()
        text = services.canned_text(data.get("reply-canned"), complaint.language)
        if text:
            data["reply-text"] = text
        form = make_form(self.key, complaint, request.user, data=data)
        form.is_valid()
        return render_ticket(request, complaint, {self.key: form}, focus=self.key)

    def perform(self, request, complaint, data):
        services.complaint_reply(actor=request.user, complaint_id=complaint.pk, text=data["text"])
        return _("The reply was sent to the complainant.")


class ResolveView(ActionView):
    key = "resolve"

    def perform(self, request, complaint, data):
        services.complaint_resolve(actor=request.user, complaint_id=complaint.pk, text=data["text"])
        return _("%(ticket)s is resolved; the complainant was told.") % {"ticket": complaint.ticket}


class CloseView(DeskView):
    """GET: the confirmation page (closing ends the complaint); POST: close it."""

    def get(self, request, pk: int):
        complaint = _complaint_or_404(request.user, pk)
        return self._render(request, complaint)

    def post(self, request, pk: int):
        complaint = _complaint_or_404(request.user, pk)
        try:
            services.complaint_close(actor=request.user, complaint_id=complaint.pk)
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from None
            return self._render(request, complaint, error=exc.message, status=exc.status)
        messages.success(request, _("%(ticket)s is closed; the complainant was told.") % {"ticket": complaint.ticket})
        return redirect("complaints:ticket", pk=complaint.pk)

    def _render(self, request, complaint, error: str = "", status: int = 200):
        context = {"complaint": complaint, "error": error, "reopen_until": services.reopen_until(complaint)}
        if complaint.status != Status.RESOLVED and not error:
            context["error"] = _("Only a resolved complaint can be closed.")
            status = 409
        return render(request, "complaints/staff/close.html", context, status=status)


# --- attachments --------------------------------------------------------------------------------------------


class AttachmentView(DeskView):
    """A complaint's file, for staff who see the complaint: downloaded, or (pictures, ?inline=1) shown."""

    def get(self, request, pk: int):
        attachment = Attachment.objects.filter(
            pk=pk, complaint__in=selectors.complaints_for(request.user).values("pk")
        ).first()
        if attachment is None:
            raise Http404
        inline = request.GET.get("inline") == "1" and attachment.content_type.startswith("image/")
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404 from None
        response = FileResponse(
            handle, as_attachment=not inline, filename=attachment.name, content_type=attachment.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
        return response


urlpatterns = [
    path("staff/", InboxView.as_view(), name="inbox"),
    path("staff/assign/", BulkAssignView.as_view(), name="bulk_assign"),
    path("staff/<int:pk>/", TicketView.as_view(), name="ticket"),
    path("staff/<int:pk>/assign/", AssignView.as_view(), name="ticket_assign"),
    path("staff/<int:pk>/forward/", ForwardView.as_view(), name="ticket_forward"),
    path("staff/<int:pk>/request-info/", RequestInfoView.as_view(), name="ticket_request_info"),
    path("staff/<int:pk>/note/", NoteView.as_view(), name="ticket_note"),
    path("staff/<int:pk>/reply/", ReplyView.as_view(), name="ticket_reply"),
    path("staff/<int:pk>/resolve/", ResolveView.as_view(), name="ticket_resolve"),
    path("staff/<int:pk>/close/", CloseView.as_view(), name="ticket_close"),
    path("staff/attachment/<int:pk>/", AttachmentView.as_view(), name="attachment"),
]
