"""Complaints for the mobile app (anonymous, like the public pages, with the same per-address limits):

- POST /api/v1/complaints/code/ {"mobile"} → 201 {"challenge_id", "expires_at"}: a code by SMS.
- POST /api/v1/complaints/ (multipart/form-data with up to COMPLAINTS_MAX_ATTACHMENTS files under
  "attachments", or JSON without files): the complaint's fields, "challenge_id" and "code" → 201
  {"ticket", "status"}. The fields are checked before the code, so a mistake does not use the code up.
- GET or POST /api/v1/complaints/track/ {"ticket", "last4"} → 200 with the status and the public timeline
  (exactly what the tracking page shows); 404 with one and the same message for an unknown or forged ticket
  and for wrong digits.
- GET /api/v1/complaints/categories/ → the active categories (ids for the filing).

Errors: {"code", "message", "fields"}, 400 (409 for a used code), 429 over a limit. Every answer is
Cache-Control: no-store. The services' DomainError becomes that shape in core.api_base.exception_handler.

Routes (ecp_portal/api_urls.py): complaints/, complaints/code/, complaints/track/, complaints/categories/.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_base import error_body
from evp.views import no_store
from sms.services import otp_send, otp_verify

from . import selectors, services
from .models import Category
from .services import MAX_DESCRIPTION
from .views_public import (
    NO_MATCH,
    PublicStatus,
    code_requests_exceeded,
    codes_refused_message,
    public_status,
    read_uploads,
    tracking_exceeded,
    tracking_refused_message,
)

ERRORS = {
    400: OpenApiResponse(description='invalid input: {"code", "message", "fields"} naming each field'),
    429: OpenApiResponse(description="too many requests from this address (or codes to this number)"),
}


class PublicApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []  # public: no session (and so no CSRF), no token needed
    throttle_classes: list = []  # the limits are the public pages' own (per address), shared with them

    def finalize_response(self, request, response, *args, **kwargs):
        return no_store(super().finalize_response(request, response, *args, **kwargs))


def _language(request: Request, value: str = "") -> str:
    value = (value or getattr(request, "LANGUAGE_CODE", "") or "ur")[:2]
    return value if value in ("ur", "en") else "ur"


# --- the code --------------------------------------------------------------------------------------------------


class CodeRequestSerializer(serializers.Serializer):
    mobile = serializers.CharField(max_length=40, help_text="a Pakistani mobile number, e.g. 0300 1234567")
    language = serializers.ChoiceField(choices=["ur", "en"], required=False, help_text="of the SMS (default ur)")


class CodeResponseSerializer(serializers.Serializer):
    challenge_id = serializers.UUIDField()
    expires_at = serializers.DateTimeField()


class ComplaintCodeApi(PublicApi):
    @extend_schema(
        request=CodeRequestSerializer,
        responses={201: CodeResponseSerializer, **ERRORS},
        summary="Text a one-time code to the complainant's mobile",
        tags=["complaints"],
    )
    def post(self, request: Request) -> Response:
        serializer = CodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if code_requests_exceeded(request):
            return Response(error_body("rate_limited", codes_refused_message()), status=429)
        challenge = otp_send(
            phone=serializer.validated_data["mobile"],
            purpose=services.OTP_PURPOSE,
            language=_language(request, serializer.validated_data.get("language", "")),
        )
        return Response({"challenge_id": str(challenge.pk), "expires_at": challenge.expires_at}, status=201)


# --- filing ----------------------------------------------------------------------------------------------------


class FileRequestSerializer(serializers.Serializer):
    """Shapes only; the rules are complaints.services' (their messages name the fields)."""

    name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    cnic = serializers.CharField(max_length=40, allow_blank=True, required=False, help_text="13 digits")
    mobile = serializers.CharField(max_length=40, allow_blank=True, required=False)
    email = serializers.CharField(max_length=254, allow_blank=True, required=False)
    office = serializers.CharField(max_length=12, allow_blank=True, required=False, help_text="an office id")
    category = serializers.CharField(max_length=12, allow_blank=True, required=False, help_text="a category id")
    subject = serializers.CharField(max_length=200, allow_blank=True, required=False)
    description = serializers.CharField(max_length=MAX_DESCRIPTION, allow_blank=True, required=False)
    latitude = serializers.CharField(max_length=20, allow_blank=True, required=False, allow_null=True)
    longitude = serializers.CharField(max_length=20, allow_blank=True, required=False, allow_null=True)
    language = serializers.ChoiceField(choices=["ur", "en"], required=False)
    challenge_id = serializers.CharField(max_length=40, help_text="from /api/v1/complaints/code/")
    code = serializers.CharField(max_length=12, help_text="the digits of the SMS")
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=f"multipart only: up to {settings.COMPLAINTS_MAX_ATTACHMENTS} JPEG, PNG or PDF files",
    )


class FileResponseSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    status = serializers.CharField()


COMPLAINT_FIELDS = ("name", "cnic", "mobile", "email", "office", "category", "subject", "description")


class ComplaintFileApi(PublicApi):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": FileRequestSerializer, "application/json": FileRequestSerializer},
        responses={
            201: FileResponseSerializer,
            **ERRORS,
            409: OpenApiResponse(description="the code was already used"),
        },
        summary="File a complaint with the code sent to the mobile",
        tags=["complaints"],
    )
    def post(self, request: Request) -> Response:
        fields = request.data.items() if hasattr(request.data, "items") else ()
        serializer = FileRequestSerializer(data={k: v for k, v in fields if k != "attachments"})
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        data = {name: values.get(name, "") for name in COMPLAINT_FIELDS}
        data["latitude"], data["longitude"] = values.get("latitude"), values.get("longitude")
        uploads = read_uploads(request.FILES.getlist("attachments")) if hasattr(request, "FILES") else []
        # The complaint first (a mistake must not use the code up), then the code, then the filing.
        services.complaint_check(data=data, attachments=uploads)
        otp_verify(challenge_id=values["challenge_id"], code=values["code"], purpose=services.OTP_PURPOSE)
        complaint = services.complaint_file(
            data=data,
            otp_challenge_id=values["challenge_id"],
            language=_language(request, values.get("language", "")),
            attachments=uploads,
        )
        return Response({"ticket": complaint.ticket, "status": complaint.status}, status=201)


# --- tracking --------------------------------------------------------------------------------------------------


class TrackRequestSerializer(serializers.Serializer):
    ticket = serializers.CharField(max_length=40, help_text="e.g. CMS-2026-4F7K9Q")
    last4 = serializers.CharField(max_length=8, help_text="the last four digits of the mobile number")


class NamesSerializer(serializers.Serializer):
    name = serializers.CharField()
    name_ur = serializers.CharField()


class DeadlineSerializer(serializers.Serializer):
    state = serializers.CharField(help_text="due, overdue, met, paused, missed or none")
    at = serializers.DateTimeField(allow_null=True, help_text="due by (due, overdue) or met at (met)")
    label = serializers.CharField()  # type: ignore[assignment]  # the JSON key; shadows Field.label


class StopSerializer(serializers.Serializer):
    office = NamesSerializer()
    desk = NamesSerializer(allow_null=True)
    arrived_at = serializers.DateTimeField()
    left_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.IntegerField()


class EventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the JSON key; shadows Field.label
    at = serializers.DateTimeField()
    office = NamesSerializer()
    text = serializers.CharField(help_text="the office's words (replies, questions, resolution); else empty")


class TrackResponseSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    category = NamesSerializer()
    subject = serializers.CharField()
    filed_at = serializers.DateTimeField()
    office = NamesSerializer(help_text="the office holding it now")
    first_response = DeadlineSerializer()
    resolution = DeadlineSerializer()
    stops = StopSerializer(many=True)
    events = EventSerializer(many=True)
    asked = serializers.CharField(help_text="while waiting: what the office asked")
    reopen_until = serializers.DateTimeField(allow_null=True, help_text="set while it may be reopened")


def _names(obj) -> dict | None:
    return None if obj is None else {"name": obj.name, "name_ur": obj.name_ur or obj.name}


def track_body(status: PublicStatus) -> dict:
    """The tracking page's content as JSON: nothing the page does not show (no notes, no officers)."""
    complaint = status.complaint
    timeline = selectors.public_timeline(complaint)
    return {
        "ticket": complaint.ticket,
        "status": complaint.status,
        "status_label": status.status_label,
        "category": _names(complaint.category),
        "subject": complaint.subject,
        "filed_at": complaint.created_at,
        "office": _names(complaint.office),
        "first_response": {**vars(status.first_response), "label": status.first_response.label},
        "resolution": {**vars(status.resolution), "label": status.resolution.label},
        "stops": [
            {
                "office": _names(stop.office),
                "desk": _names(stop.desk),
                "arrived_at": stop.arrived,
                "left_at": stop.left,
                "seconds": shown.seconds,
            }
            for stop, shown in zip(timeline.stops, status.stops, strict=True)
        ],
        "events": [
            {
                "kind": event.kind,
                "label": shown.label,
                "at": event.at,
                "office": _names(event.office),
                "text": shown.text,
            }
            for event, shown in zip(timeline.events, status.events, strict=True)
        ],
        "asked": status.asked,
        "reopen_until": status.reopen_until,
    }


class ComplaintTrackApi(PublicApi):
    def _track(self, request: Request, data) -> Response:
        serializer = TrackRequestSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        if tracking_exceeded(request):
            return Response(error_body("rate_limited", tracking_refused_message()), status=429)
        complaint = selectors.tracked(serializer.validated_data["ticket"], serializer.validated_data["last4"])
        if complaint is None:
            return Response(error_body("not_found", str(NO_MATCH)), status=404)
        return Response(track_body(public_status(complaint)))

    @extend_schema(
        parameters=[
            OpenApiParameter("ticket", str, required=True, description="e.g. CMS-2026-4F7K9Q"),
            OpenApiParameter("last4", str, required=True, description="the mobile number's last four digits"),
        ],
        responses={200: TrackResponseSerializer, 404: OpenApiResponse(description="no such complaint"), **ERRORS},
        summary="A complaint's status and public timeline",
        tags=["complaints"],
    )
    def get(self, request: Request) -> Response:
        return self._track(request, request.query_params)

    @extend_schema(
        request=TrackRequestSerializer,
        responses={200: TrackResponseSerializer, 404: OpenApiResponse(description="no such complaint"), **ERRORS},
        summary="A complaint's status and public timeline (the numbers in the body, not the URL)",
        tags=["complaints"],
    )
    def post(self, request: Request) -> Response:
        return self._track(request, request.data)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "name_ur"]


class ComplaintCategoriesApi(PublicApi):
    @extend_schema(responses=CategorySerializer(many=True), summary="The complaint categories", tags=["complaints"])
    def get(self, request: Request) -> Response:
        return Response(CategorySerializer(Category.objects.filter(is_active=True), many=True).data)
