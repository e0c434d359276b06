"""Screens of the Form-45 pictures (``results.photos``).

- ``PhotoUploadView`` (/results/photos/upload/): the Presiding Officer's
  page, mobile-first. Without JavaScript it is a plain multipart form posted
  here; with static/js/photo-upload.js it sends the same fields to the API
  with a progress bar and safe automatic retries (one idempotency key per
  picture).
- ``PhotoListView`` / ``PhotoDetailView`` (/results/contests/<id>/photos/…):
  the Returning Officer's list (filters, pagination) and the picture beside
  the accepted figures, with Accept / Query.
- ``LiveStationView`` (/results/live/<election>/<constituency>/ps/<n>/) and
  ``PhotoFileView`` (/results/photos/<id>.<ext>): public, no login: the
  station's accepted figures, its pictures with their SHA-256 and received
  time, and the original bytes.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core.exceptions import DomainError, PermissionDeniedError
from core.permissions import StaffRequiredMixin, is_verified_staff
from core.selectors import constituency_scope

from . import photos
from .api_photos import request_device
from .forms import new_idempotency_key
from .models import Contest, ContestStation, Form45Photo
from .views import ContestMixin

PAGE_SIZE = 20
RECENT = 10  # the PO's own latest pictures, under the form


# --- the Presiding Officer's upload -------------------------------------------------------------------


class PhotoUploadForm(forms.Form):
    contest = forms.IntegerField(widget=forms.HiddenInput)
    contest_station = forms.TypedChoiceField(label=gettext_lazy("Polling station"), coerce=int)
    photo = forms.FileField(
        label=gettext_lazy("Take the picture"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png", "capture": "environment"}),
    )
    photo_gallery = forms.FileField(
        label=gettext_lazy("or choose a picture already taken"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    idempotency_key = forms.RegexField(regex=photos.IDEMPOTENCY_KEY, widget=forms.HiddenInput)
    device_id = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, stations: list[ContestStation], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["contest_station"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose the polling station"))] + [(s.pk, station_choice_label(s)) for s in stations]

    def clean(self):
        cleaned = super().clean()
        picture = cleaned.get("photo") or cleaned.get("photo_gallery")
        if not picture and "photo" not in self.errors:
            self.add_error("photo", _("Take or choose the picture of the signed Form-45."))
        cleaned["picture"] = picture
        return cleaned

    def add_domain_error(self, exc: DomainError) -> None:
        if not exc.fields:
            self.add_error(None, exc.message)
        for name, errors in exc.fields.items():
            for error in errors:
                self.add_error(name if name in self.fields else None, error)


def station_choice_label(station: ContestStation) -> str:
    label = f"PS-{station.number} · {station.polling_station.name}"
    count = getattr(station, "photo_count", 0)
    if count:
        label += " · " + _("pictures sent: %(n)s") % {"n": count}
    return label


@method_decorator(never_cache, name="dispatch")
class PhotoUploadView(StaffRequiredMixin, View):
    """The Presiding Officer chooses the station, takes or picks the picture, and sends it."""

    template_name = "results/photos/upload.html"

    def dispatch(self, request, *args, **kwargs):
        if is_verified_staff(request.user) and constituency_scope(request.user, photos.UPLOAD_ROLES) == set():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _contests(self) -> list[Contest]:
        return list(photos.upload_contests(user=self.request.user))

    @staticmethod
    def _chosen(contests: list[Contest], wanted: Any) -> Contest | None:
        if len(contests) == 1:
            return contests[0]
        try:
            wanted_id = int(wanted)
        except (TypeError, ValueError):
            return None
        return next((c for c in contests if c.pk == wanted_id), None)

    def get(self, request):
        contests = self._contests()
        contest = self._chosen(contests, request.GET.get("contest"))
        form = None
        if contest is not None:
            form = self._form(contest, initial={"contest": contest.pk, "idempotency_key": new_idempotency_key()})
        return self._render(request, contests, contest, form)

    def post(self, request):
        contests = self._contests()
        contest = self._chosen(contests, request.POST.get("contest"))
        if contest is None:
            messages.error(request, _("Choose the contest first."))
            return redirect("results:photo_upload")
        form = self._form(contest, data=request.POST, files=request.FILES)
        if form.is_valid():
            try:
                result = photos.photo_upload(
                    actor=request.user,
                    contest_station_id=form.cleaned_data["contest_station"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    content=form.cleaned_data["picture"],
                    device=request_device(request, form.cleaned_data.get("device_id") or ""),
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied from exc
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                if result.replayed:
                    messages.info(request, _("This picture had already been received: it was not stored twice."))
                else:
                    messages.success(request, _("Picture received."))
                query = urlencode({"contest": contest.pk, "sent": result.photo.pk})
                return redirect(f"{reverse('results:photo_upload')}?{query}")
        return self._render(request, contests, contest, form, status=400)

    def _form(self, contest: Contest, **kwargs) -> PhotoUploadForm:
        return PhotoUploadForm(stations=list(photos.upload_stations(contest=contest)), **kwargs)

    def _render(self, request, contests, contest, form, status: int = 200):
        sent_id = request.GET.get("sent", "")
        sent = photos.uploads_of(user=request.user).filter(pk=int(sent_id)).first() if sent_id.isdigit() else None
        ctx = {
            "contests": contests,
            "contest": contest,
            "form": form,
            "sent": sent,
            "sent_findings": photos.findings_shown(sent.findings) if sent else [],
            "recent": [
                {"photo": p, "findings": photos.findings_shown(p.findings)}
                for p in photos.uploads_of(user=request.user)[:RECENT]
            ],
            "api_url": reverse("results-form45-photo-list"),
            "max_mb": f"{settings.RESULTS_PHOTO_MAX_BYTES / 1048576:g}",
        }
        return render(request, self.template_name, ctx, status=status)


# --- the Returning Officer's screens -----------------------------------------------------------------


class PhotoListView(ContestMixin, TemplateView):
    template_name = "results/photos/list.html"
    supervisor_only = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        show = self.request.GET.get("show", "all")
        if show not in photos.PHOTO_FILTERS:
            show = "all"
        page = Paginator(photos.photo_list(contest=self.contest, show=show), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        labels = {
            "all": _("All"),
            "flagged": _("Flagged"),
            "received": _("Waiting"),
            "queried": _("Queried"),
            "accepted": _("Accepted"),
        }
        counts = photos.photo_counts(contest=self.contest)
        ctx.update(self.contest_context("photos"))
        ctx.update(
            {
                "show": show,
                "filters": [{"key": k, "label": labels[k], "count": counts[k]} for k in photos.PHOTO_FILTERS],
                "page": page,
                "rows": [{"photo": p, "findings": photos.findings_shown(p.findings)} for p in page.object_list],
            }
        )
        return ctx


class PhotoDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            (Form45Photo.Status.ACCEPTED, gettext_lazy("Accept")),
            (Form45Photo.Status.QUERIED, gettext_lazy("Query")),
        ]
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required to query: say what is wrong. Kept with the decision."),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I have compared the picture with the figures and read its flags."),
        error_messages={"required": gettext_lazy("Tick the box to confirm that you looked at the picture.")},
    )


class PhotoDetailView(ContestMixin, View):
    template_name = "results/photos/detail.html"
    supervisor_only = True

    def _load(self, photo_id: int) -> Form45Photo:
        photo = photos.photo_get(contest=self.contest, photo_id=photo_id)
        if photo is None:
            raise Http404
        return photo

    def get(self, request, contest_id: int, photo_id: int):
        return self._render(request, self._load(photo_id), PhotoDecisionForm())

    def post(self, request, contest_id: int, photo_id: int):
        photo = self._load(photo_id)
        form = PhotoDecisionForm(data=request.POST)
        if form.is_valid():
            try:
                photos.photo_decide(
                    actor=request.user,
                    photo_id=photo.pk,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"],
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied from exc
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                if form.cleaned_data["decision"] == Form45Photo.Status.ACCEPTED:
                    messages.success(request, _("PS-%(n)s: picture accepted.") % {"n": photo.contest_station.number})
                else:
                    messages.warning(request, _("PS-%(n)s: picture queried.") % {"n": photo.contest_station.number})
                return redirect("results:photo_detail", contest_id=self.contest.pk, photo_id=photo.pk)
        return self._render(request, photo, form, status=400)

    def _render(self, request, photo: Form45Photo, form: PhotoDecisionForm, status: int = 200):
        station = photo.contest_station
        figures = photos.station_figures(station=station)
        others = [p for p in photos.station_photos(station=station) if p.pk != photo.pk]
        own = {f.get("rule") for f in photo.findings}
        flags = [f for f in photos.station_flags(station=station) if f.rule not in own]  # e.g. raised by another upload
        ctx = {
            **self.contest_context("photos"),
            "photo": photo,
            "station": station,
            "figures": figures,
            "findings": photos.findings_shown(photo.findings),
            "flags": photos.findings_shown(
                {"rule": f.rule, "severity": f.severity, "message": f.message, "data": f.data} for f in flags
            ),
            "others": others,
            "is_latest": all(p.received_at <= photo.received_at for p in others),
            "form": form,
            "may_decide": photo.status != Form45Photo.Status.ACCEPTED,
            "public_url": live_station_url(station),
        }
        return render(request, self.template_name, ctx, status=status)


# --- public -----------------------------------------------------------------------------------------


def live_station_url(station: ContestStation) -> str:
    contest = station.contest
    return reverse(
        "results:live_station",
        kwargs={
            "election_code": contest.election.code,
            "constituency_code": contest.constituency.code,
            "number": station.number,
        },
    )


class LiveStationView(TemplateView):
    """A station's accepted Form-45 and its pictures, for everyone (no login)."""

    template_name = "results/photos/live_station.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        station = photos.public_station_get(
            election_code=kwargs["election_code"],
            constituency_code=kwargs["constituency_code"],
            number=kwargs["number"],
        )
        if station is None:
            raise Http404
        pictures = photos.station_photos(station=station)
        flags = photos.station_flags(station=station)
        figures = photos.station_figures(station=station)
        ctx.update(
            {
                "station": station,
                "contest": station.contest,
                "figures": figures,
                "latest": pictures[0] if pictures else None,
                "earlier": pictures[1:],
                "flags": photos.findings_shown(
                    {"rule": f.rule, "severity": f.severity, "message": f.message, "data": f.data} for f in flags
                ),
            }
        )
        return ctx


class PhotoFileView(View):
    """The original bytes of a picture, as received: anyone can compare their own copy's SHA-256."""

    def get(self, request, photo_id: int, ext: str):
        photo = Form45Photo.objects.filter(pk=photo_id).only("file", "sha256", "content_type").first()
        if photo is None or ext != photo.extension:
            raise Http404
        etag = f'"{photo.sha256}"'
        response: HttpResponseBase
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponseNotModified()
        else:
            try:
                handle = photo.file.open("rb")
            except FileNotFoundError as exc:
                raise Http404 from exc
            name = f"form45-{photo.sha256[:16]}.{photo.extension}"
            response = FileResponse(handle, content_type=photo.content_type, as_attachment=False, filename=name)
        response["ETag"] = etag
        # The bytes behind an id never change: cache for a year. Never sniffed as anything but the picture.
        response["Cache-Control"] = "public, max-age=31536000, immutable"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
