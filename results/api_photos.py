"""The Form-45 picture API (/api/v1/results/form45-photos/), registered from ``results.api.register``.

``POST`` (multipart): a Presiding Officer sends the picture of a signed
Form-45 for a station of their constituency. The client chooses an
idempotency key once per picture and sends it again on every retry: the
first request that gets through stores the picture (201), every later one
answers with the same picture (200, ``replayed``). The same file sent again
for the same station is recognised the same way.

``GET …/<id>/``: a picture's status, hash and flags, for its uploader and for
the staff of its constituency (anyone else: 404).
"""

from __future__ import annotations

from typing import cast

from django.db.models import Q
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.context import current as current_context
from core.models import User
from core.permissions import IsVerifiedStaff
from core.selectors import constituency_scope

from . import photos
from .models import Form45Photo
from .selectors import RESULTS_ROLES


class Form45PhotoInSerializer(serializers.Serializer):
    contest_station = serializers.IntegerField(min_value=1, help_text="Id of the contest's polling station.")
    idempotency_key = serializers.RegexField(
        photos.IDEMPOTENCY_KEY.pattern,
        help_text="Chosen by the client once per picture (e.g. a UUID) and sent again on every retry.",
    )
    photo = serializers.FileField(
        help_text="The picture of the signed Form-45: the camera's original JPEG or PNG, unedited (EXIF kept)."
    )
    device_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="The client's own id for this device."
    )


class Form45PhotoFindingSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="Stable code, e.g. photo.far_from_station (docs/results-photos.md).")
    severity = serializers.ChoiceField(choices=["warning", "info"])
    message = serializers.CharField(help_text="In the request's language.")
    data = serializers.DictField(help_text="The figures behind the finding.")  # type: ignore[assignment]


class Form45PhotoOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contest_station = serializers.IntegerField()
    station = serializers.CharField(help_text='"NA-46 PS-3"')
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    taken_at = serializers.DateTimeField(allow_null=True)
    distance_m = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=Form45Photo.Status.choices)
    decision_note = serializers.CharField()
    findings = Form45PhotoFindingSerializer(many=True)
    url = serializers.CharField(help_text="The original bytes (public).")
    station_page = serializers.CharField(help_text="The station's public page.")
    replayed = serializers.BooleanField(help_text="True when the picture had already been received.")


def photo_payload(photo: Form45Photo, *, replayed: bool = False) -> dict:
    station = photo.contest_station
    contest = station.contest
    return {
        "id": photo.pk,
        "contest_station": station.pk,
        "station": photos.station_label(contest.constituency.code, station.number),
        "sha256": photo.sha256,
        "size": photo.size,
        "content_type": photo.content_type,
        "width": photo.width,
        "height": photo.height,
        "received_at": photo.received_at,
        "taken_at": photo.taken_at,
        "distance_m": photo.distance_m,
        "status": photo.status,
        "decision_note": photo.decision_note,
        "findings": [
            {"rule": f["rule"], "severity": f["severity"], "message": f["text"], "data": f["data"]}
            for f in photos.findings_shown(photo.findings)
        ],
        "url": reverse("results:photo_file", kwargs={"photo_id": photo.pk, "ext": photo.extension}),
        "station_page": reverse(
            "results:live_station",
            kwargs={
                "election_code": contest.election.code,
                "constituency_code": contest.constituency.code,
                "number": station.number,
            },
        ),
        "replayed": replayed,
    }


def request_device(request, device_id: str = "") -> photos.Device:
    """The sender's device: User-Agent, the client's own device id, the IP (proxy-aware, from core's context)."""
    return photos.Device(
        user_agent=request.META.get("HTTP_USER_AGENT", ""), device_id=device_id, ip=current_context().ip
    )


class Form45PhotoViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Form-45 pictures: send one (Presiding Officers), read one (its uploader and its constituency's staff)."""

    permission_classes = [permissions.IsAuthenticated, IsVerifiedStaff]
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = Form45PhotoOutSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = Form45Photo.objects.select_related(
            "contest_station__contest__constituency", "contest_station__contest__election"
        )
        allowed = constituency_scope(self.request.user, (*RESULTS_ROLES, *photos.UPLOAD_ROLES))
        if allowed is None:
            return qs
        return qs.filter(Q(uploaded_by=self.request.user) | Q(contest_station__contest__constituency__in=allowed))

    @extend_schema(
        request=Form45PhotoInSerializer,
        responses={
            201: Form45PhotoOutSerializer,
            200: OpenApiResponse(Form45PhotoOutSerializer, description="Already received (a retry): nothing new."),
            400: OpenApiResponse(
                description="Refused: fields.photo says why (empty, too large, not JPEG/PNG, too many pixels, "
                "truncated or damaged), or another field is invalid. Nothing was stored."
            ),
            403: OpenApiResponse(description="The station is outside the caller's constituency."),
            404: OpenApiResponse(description="There is no such polling station."),
            409: OpenApiResponse(description="The idempotency key was already used for another station."),
        },
    )
    def create(self, request: Request):
        data = Form45PhotoInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        result = photos.photo_upload(
            actor=cast(User, request.user),  # IsAuthenticated
            contest_station_id=d["contest_station"],
            idempotency_key=d["idempotency_key"],
            content=d["photo"],
            device=request_device(request, d.get("device_id", "")),
        )
        return Response(
            photo_payload(result.photo, replayed=result.replayed),
            status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The picture's id.")],
        responses={200: Form45PhotoOutSerializer, 404: OpenApiResponse(description="No such picture for you.")},
    )
    def retrieve(self, request: Request, *args, **kwargs):
        return Response(photo_payload(self.get_object()))


def register(router) -> None:
    router.register("results/form45-photos", Form45PhotoViewSet, basename="results-form45-photo")
