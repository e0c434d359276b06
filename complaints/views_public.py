"""The complainant's pages (English at /complaints/, Urdu at /ur/complaints/): filing in two steps and tracking.

Filing. Step 1 checks the whole complaint (nothing is stored) and texts a code to the mobile; the typed values
wait in the session and the files in MEDIA_ROOT/complaints-pending/<random>/ (only their names in the session).
Step 2 checks the code (sms.services.otp_verify, outside any transaction: it commits its tries) and files the
complaint (complaints.services.complaint_file), which texts the ticket number. A filled-in honeypot gets the
step-2 page as if all were well, with nothing stored and nothing sent. Code requests are limited per address
(COMPLAINTS_FILINGS_PER_IP_HOUR an hour) besides the per-number limit of otp_send.

Tracking. The ticket number and the mobile's last four digits show the public timeline; an unknown or forged
ticket and wrong digits get one and the same 404. Attempts are limited per address (COMPLAINTS_TRACKING_PER_IP
in 10 minutes). A match authorises that one complaint in the session for 30 minutes, for the answer and reopen
forms. Every page is Cache-Control: no-store.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import View

from core.exceptions import DomainError
from core.middleware import client_ip
from core.phone import InvalidPhone, mask, normalize_mobile
from evp.views import no_store
from sms.services import otp_send, otp_verify
from sms.throttle import window_count

from . import selectors, services
from .forms import AnswerForm, CodeForm, FilingForm, ReopenForm, TrackForm, local_name
from .models import OPEN_STATUSES, Complaint, EventKind, Status

PENDING = "complaints:pending"  # session: step 1's values, the challenge id, the pending files' folder
FILED = "complaints:filed"  # session: the ticket just filed, for the confirmation page
TRACKED = "complaints:tracked"  # session: the one complaint a tracking match authorises, and until when
PENDING_DIR = "complaints-pending"
PENDING_MAX_AGE = 24 * 60 * 60  # abandoned step-1 files are deleted after this long
TRACK_SECONDS = 30 * 60
TRACK_WINDOW = 10 * 60
FILING_WINDOW = 60 * 60
_TOKEN = re.compile(r"[0-9a-f]{32}")

NO_MATCH = gettext_lazy("No complaint matches this ticket number and mobile number.")


def language() -> str:
    return "ur" if (get_language() or "").startswith("ur") else "en"


# --- limits ----------------------------------------------------------------------------------------------------


def code_requests_exceeded(request) -> bool:
    """Count one request for a code from this address; True when over the hour's limit (shared with the API)."""
    key = f"complaints:codes:{client_ip(request) or 'unknown'}"
    return window_count(key, FILING_WINDOW) > settings.COMPLAINTS_FILINGS_PER_IP_HOUR


def tracking_exceeded(request) -> bool:
    """Count one tracking attempt from this address; True when over the limit (shared with the API)."""
    key = f"complaints:track:{client_ip(request) or 'unknown'}"
    return window_count(key, TRACK_WINDOW) > settings.COMPLAINTS_TRACKING_PER_IP


def codes_refused_message() -> str:
    return _("Too many complaints were started from this connection. Please try again in an hour.")


def tracking_refused_message() -> str:
    return _("Too many tracking attempts from this connection. Please try again in 10 minutes.")


# --- uploads ---------------------------------------------------------------------------------------------------


def read_uploads(files) -> list[tuple[str, bytes]]:
    """(name, bytes) of the uploaded files. A file is read only up to one byte past the size limit (enough to
    refuse it), and none is read when there are too many of them (the count is refused first)."""
    if len(files) > settings.COMPLAINTS_MAX_ATTACHMENTS:
        return [(f.name, b"") for f in files]
    return [(f.name, f.read(settings.COMPLAINTS_ATTACHMENT_MAX_BYTES + 1)) for f in files]


def _pending_root() -> Path:
    return Path(settings.MEDIA_ROOT) / PENDING_DIR


def _pending_folder(pending: dict) -> Path | None:
    token = str(pending.get("folder") or "")
    return _pending_root() / token if _TOKEN.fullmatch(token) else None


def _pending_save(uploads: list[tuple[str, bytes]]) -> tuple[str, list[str]]:
    """Keep checked files between the steps: a random folder, the files numbered in it; the names to show."""
    token = secrets.token_hex(16)
    folder = _pending_root() / token
    folder.mkdir(parents=True, exist_ok=False)
    names = []
    for n, (name, data) in enumerate(uploads):
        (folder / str(n)).write_bytes(data)
        names.append((name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:100])
    return token, names


def _pending_files(pending: dict) -> list[tuple[str, bytes]] | None:
    names = pending.get("files") or []
    if not names:
        return []
    folder = _pending_folder(pending)
    if folder is None:
        return None
    try:
        return [(name, (folder / str(n)).read_bytes()) for n, name in enumerate(names)]
    except OSError:
        return None


def _pending_drop(request) -> None:
    pending = request.session.pop(PENDING, None)
    folder = _pending_folder(pending or {})
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _sweep_abandoned(now: float) -> None:
    """Delete the files of step-1 filings abandoned more than a day ago (their sessions are long gone)."""
    root = _pending_root()
    try:
        folders = list(root.iterdir())
    except OSError:
        return
    for folder in folders:
        try:
            if _TOKEN.fullmatch(folder.name) and now - folder.stat().st_mtime > PENDING_MAX_AGE:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _mobile_shown(text: str) -> str:
    try:
        return mask(normalize_mobile(text))
    except InvalidPhone:
        return ""


# --- filing ----------------------------------------------------------------------------------------------------


class FileView(View):
    """Step 1: the complaint. Valid: a code goes to the mobile and step 2 follows."""

    template_name = "complaints/public/file.html"

    def get(self, request):
        pending = request.session.get(PENDING)
        initial = pending["data"] if pending and request.GET.get("edit") else None
        form = FilingForm(initial=initial)
        return self._page(request, form, files_lost=bool(initial and pending.get("files")))

    def post(self, request):
        form = FilingForm(request.POST)
        if form.is_spam:  # the honeypot: as if the code was sent, with nothing stored and nothing sent
            context = {"form": CodeForm(), "mobile_shown": _mobile_shown(form.data.get("mobile", "")), "idle": True}
            return no_store(render(request, VerifyView.template_name, context))
        form.is_valid()
        files = request.FILES.getlist("attachments")
        uploads = read_uploads(files)
        try:
            services.complaint_check(data=form.kept(), attachments=uploads)
        except DomainError as exc:
            form.add_domain_error(exc)
        if form.errors:
            return self._page(request, form, status=400, files_lost=bool(files))
        if code_requests_exceeded(request):
            return self._page(request, form, status=429, refused=codes_refused_message(), files_lost=bool(files))
        data = form.kept()
        try:
            challenge = otp_send(phone=data["mobile"], purpose=services.OTP_PURPOSE, language=language())
        except DomainError as exc:
            form.add_domain_error(exc)
            return self._page(request, form, status=exc.status, files_lost=bool(files))
        now = time.time()
        _sweep_abandoned(now)
        _pending_drop(request)
        folder, names = _pending_save(uploads)
        request.session[PENDING] = {
            "data": data,
            "challenge": str(challenge.pk),
            "folder": folder,
            "files": names,
            "mobile_shown": mask(challenge.phone),
        }
        return redirect("complaints:verify")

    def _page(self, request, form, *, status=200, refused="", files_lost=False):
        context = {
            "form": form,
            "refused": refused,
            "files_lost": files_lost,
            "max_files": settings.COMPLAINTS_MAX_ATTACHMENTS,
        }
        return no_store(render(request, self.template_name, context, status=status))


def _pending(request) -> dict | None:
    pending = request.session.get(PENDING)
    return pending if isinstance(pending, dict) and pending.get("challenge") else None


def _start_again(request):
    messages.warning(request, _("Your complaint was not sent yet and this page has expired: please fill it in again."))
    return redirect("complaints:index")


class VerifyView(View):
    """Step 2: the code. Right: the complaint is filed and the ticket number shown."""

    template_name = "complaints/public/verify.html"

    def get(self, request):
        pending = _pending(request)
        if pending is None:
            return _start_again(request)
        return self._page(request, pending, CodeForm())

    def post(self, request):
        pending = _pending(request)
        if pending is None:
            return _start_again(request)
        form = CodeForm(request.POST)
        if not form.is_valid():
            return self._page(request, pending, form, status=400)
        try:  # outside any transaction: a wrong code's try is committed
            otp_verify(challenge_id=pending["challenge"], code=form.cleaned_data["code"], purpose=services.OTP_PURPOSE)
        except DomainError as exc:
            form.add_error("code", exc.message)
            return self._page(request, pending, form, status=exc.status)
        attachments = _pending_files(pending)
        if attachments is None:
            _pending_drop(request)
            return _start_again(request)
        try:
            complaint = services.complaint_file(
                data=pending["data"],
                otp_challenge_id=pending["challenge"],
                language=language(),
                attachments=attachments,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            return self._page(request, pending, form, status=exc.status, refused_details=True)
        _pending_drop(request)
        request.session[FILED] = complaint.ticket
        authorise(request, complaint)
        return redirect("complaints:filed")

    def _page(self, request, pending, form, *, status=200, refused_details=False, refused=""):
        context = {
            "form": form,
            "refused": refused,
            "pending": pending,
            "mobile_shown": pending.get("mobile_shown", ""),
            "refused_details": refused_details,
        }
        return no_store(render(request, self.template_name, context, status=status))


class ResendView(View):
    """ "Send the code again" on step 2: a new code (the per-address and per-number limits apply)."""

    def post(self, request):
        pending = _pending(request)
        if pending is None:
            return _start_again(request)
        if code_requests_exceeded(request):
            return VerifyView()._page(request, pending, CodeForm(), status=429, refused=codes_refused_message())
        try:
            challenge = otp_send(phone=pending["data"]["mobile"], purpose=services.OTP_PURPOSE, language=language())
        except DomainError as exc:
            return VerifyView()._page(request, pending, CodeForm(), status=exc.status, refused=exc.message)
        pending["challenge"] = str(challenge.pk)
        request.session[PENDING] = pending
        messages.success(request, _("A new code was sent. Enter the newest code."))
        return redirect("complaints:verify")


class FiledView(View):
    def get(self, request):
        ticket = request.session.get(FILED)
        if not ticket:
            return redirect("complaints:index")
        return no_store(render(request, "complaints/public/filed.html", {"ticket": ticket}))


# --- tracking --------------------------------------------------------------------------------------------------


def authorise(request, complaint: Complaint) -> None:
    """The session may see this one complaint (and answer or reopen it) for the next 30 minutes."""
    request.session[TRACKED] = {"id": complaint.pk, "ticket": complaint.ticket, "until": time.time() + TRACK_SECONDS}


def authorised(request, ticket: str | None = None) -> Complaint | None:
    """The complaint this session matched (and, if given, with this ticket number), unless 30 minutes passed."""
    grant = request.session.get(TRACKED)
    if not isinstance(grant, dict) or float(grant.get("until") or 0) < time.time():
        return None
    if ticket is not None and ticket != grant.get("ticket"):
        return None
    return Complaint.objects.select_related("office", "category", "desk").filter(pk=int(grant.get("id") or 0)).first()


@dataclass(frozen=True)
class Deadline:
    state: str  # due, overdue, met, paused, missed, none
    at: datetime | None = None

    @property
    def label(self) -> str:
        return str(DEADLINE_LABELS[self.state])


DEADLINE_LABELS = {
    "due": gettext_lazy("Due"),
    "overdue": gettext_lazy("Overdue"),
    "met": gettext_lazy("Met"),
    "paused": gettext_lazy("Paused while we wait for your answer"),
    "missed": gettext_lazy("Missed: passed to the office above"),
    "none": gettext_lazy("—"),
}


def _deadline(due, met_at, *, paused: bool, is_open: bool, now) -> Deadline:
    if met_at is not None:
        return Deadline("met", met_at)
    if due is not None:
        return Deadline("overdue" if due < now else "due", due)
    if paused:
        return Deadline("paused")
    return Deadline("missed") if is_open else Deadline("none")


@dataclass
class PublicStop:
    office: str
    desk: str
    arrived: datetime
    left: datetime | None
    seconds: int
    is_current: bool


@dataclass
class PublicEvent:
    kind: str
    label: str
    at: datetime
    office: str
    text: str


@dataclass
class PublicStatus:
    """What the complainant may see of a complaint: the page and the API show exactly this."""

    complaint: Complaint
    status_label: str
    category: str
    office: str
    first_response: Deadline
    resolution: Deadline
    stops: list[PublicStop] = field(default_factory=list)
    events: list[PublicEvent] = field(default_factory=list)
    asked: str = ""  # the office's last question while waiting on the complainant
    reopen_until: datetime | None = None

    @property
    def may_answer(self) -> bool:
        return self.complaint.status == Status.WAITING

    @property
    def may_reopen(self) -> bool:
        return self.reopen_until is not None


def public_status(complaint: Complaint) -> PublicStatus:
    now = timezone.now()
    timeline = selectors.public_timeline(complaint)
    is_open = complaint.status in OPEN_STATUSES
    waiting = complaint.status == Status.WAITING
    resolved_at = None if is_open else (complaint.resolved_at or complaint.closed_at)
    stops = [
        PublicStop(
            office=local_name(stop.office),
            desk=local_name(stop.desk) if stop.desk else "",
            arrived=stop.arrived,
            left=stop.left,
            seconds=int(((stop.left or now) - stop.arrived).total_seconds()),
            is_current=stop.left is None,
        )
        for stop in timeline.stops
    ]
    events = [
        PublicEvent(
            kind=event.kind,
            label=event.get_kind_display(),
            at=event.at,
            office=local_name(event.office),
            text=event.text if event.kind in selectors.PUBLIC_TEXT_KINDS else "",
        )
        for event in timeline.events
    ]
    asked = next((e.text for e in reversed(events) if e.kind == EventKind.INFO_REQUESTED), "") if waiting else ""
    until = services.reopen_until(complaint) if complaint.status in (Status.RESOLVED, Status.CLOSED) else None
    return PublicStatus(
        complaint=complaint,
        status_label=complaint.get_status_display(),
        category=local_name(complaint.category),
        office=local_name(complaint.office),
        first_response=_deadline(
            complaint.first_response_due, complaint.responded_at, paused=waiting, is_open=is_open, now=now
        ),
        resolution=_deadline(
            complaint.resolution_due,
            resolved_at,
            paused=waiting or complaint.resolution_left is not None,
            is_open=is_open,
            now=now,
        ),
        stops=stops,
        events=events,
        asked=asked,
        reopen_until=until if until is not None and now <= until else None,
    )


class TrackView(View):
    template_name = "complaints/public/track.html"

    def get(self, request):
        form = TrackForm(initial={"ticket": (request.GET.get("ticket") or "")[:40]})
        return no_store(render(request, self.template_name, {"form": form}))

    def post(self, request):
        form = TrackForm(request.POST)
        if not form.is_valid():
            return no_store(render(request, self.template_name, {"form": form}, status=400))
        if tracking_exceeded(request):
            context = {"form": form, "refused": tracking_refused_message()}
            return no_store(render(request, self.template_name, context, status=429))
        complaint = selectors.tracked(form.cleaned_data["ticket"], form.cleaned_data["last4"])
        if complaint is None:
            # The same answer for an unknown, forged or mistyped ticket and for wrong digits.
            context = {"form": TrackForm(initial={"ticket": form.cleaned_data["ticket"]}), "no_match": NO_MATCH}
            return no_store(render(request, self.template_name, context, status=404))
        authorise(request, complaint)
        return redirect("complaints:track_status")


def _expired(request):
    messages.info(request, _("For your privacy the tracking page closes after 30 minutes: enter the numbers again."))
    return redirect("complaints:track")


class StatusView(View):
    template_name = "complaints/public/status.html"

    def get(self, request):
        complaint = authorised(request)
        if complaint is None:
            return _expired(request)
        return self.page(request, complaint)

    def page(self, request, complaint, *, answer=None, reopen=None, status=200):
        context = {
            "tracking": public_status(complaint),
            "answer_form": answer or AnswerForm(initial={"ticket": complaint.ticket}),
            "reopen_form": reopen or ReopenForm(initial={"ticket": complaint.ticket}),
            "reopen_days": settings.COMPLAINTS_REOPEN_DAYS,
        }
        return no_store(render(request, self.template_name, context, status=status))


class AnswerView(View):
    """The complainant sends the information the office asked for: the complaint is in progress again."""

    def post(self, request):
        form = AnswerForm(request.POST)
        complaint = authorised(request, request.POST.get("ticket", ""))
        if complaint is None:
            return _expired(request)
        if not form.is_valid():
            return StatusView().page(request, complaint, answer=form, status=400)
        try:
            services.complaint_answer(complaint_id=complaint.pk, text=form.cleaned_data["text"])
        except DomainError as exc:
            form.add_error("text" if "text" in exc.fields else None, exc.message)
            complaint.refresh_from_db()
            return StatusView().page(request, complaint, answer=form, status=exc.status)
        messages.success(request, _("Thank you: your answer was sent to the office."))
        return redirect("complaints:track_status")


class ReopenView(View):
    """The complainant reopens a resolved or closed complaint within COMPLAINTS_REOPEN_DAYS."""

    def post(self, request):
        form = ReopenForm(request.POST)
        complaint = authorised(request, request.POST.get("ticket", ""))
        if complaint is None:
            return _expired(request)
        if not form.is_valid():
            return StatusView().page(request, complaint, reopen=form, status=400)
        try:
            services.complaint_reopen(complaint_id=complaint.pk, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form.add_domain_error(exc)
            complaint.refresh_from_db()
            return StatusView().page(request, complaint, reopen=form, status=exc.status)
        messages.success(request, _("Your complaint is reopened and back with the office."))
        return redirect("complaints:track_status")


urlpatterns = [
    path("", FileView.as_view(), name="index"),
    path("verify/", VerifyView.as_view(), name="verify"),
    path("verify/resend/", ResendView.as_view(), name="resend"),
    path("filed/", FiledView.as_view(), name="filed"),
    path("track/", TrackView.as_view(), name="track"),
    path("track/status/", StatusView.as_view(), name="track_status"),
    path("track/answer/", AnswerView.as_view(), name="track_answer"),
    path("track/reopen/", ReopenView.as_view(), name="track_reopen"),
]
