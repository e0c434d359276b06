"""The 8300 lookup for the mobile app: POST /api/v1/evp/lookup/ {"cnic": "..."}.

A POST, so the CNIC is in no URL and no access log. Found: 200 with the 8300 fields (never a name, an address
or a date of birth). An entry no longer on the roll: 200 with its status and a sentence. Not found: 404.
An invalid CNIC: 400 naming the field. Over a limit or blocked: 429. Every answer is Cache-Control: no-store.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_base import error_body
from core.middleware import client_ip

from . import replies, services
from .models import Channel, Outcome
from .views import no_store


class LookupRequestSerializer(serializers.Serializer):
    cnic = serializers.CharField(max_length=40, help_text="13 digits, with or without dashes or spaces")


class StationSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    name_ur = serializers.CharField()


class LookupResponseSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="found, shifted, deceased or deleted")
    cnic = serializers.CharField(help_text="masked: 12345-•••••••-1")
    message = serializers.CharField(required=False)
    census_block = serializers.CharField(required=False)
    list = serializers.CharField(required=False, help_text="M (male list) or F (female list)")
    serial = serializers.IntegerField(required=False)
    family_number = serializers.IntegerField(required=False)
    electoral_area = serializers.DictField(required=False)
    tehsil = serializers.DictField(required=False)
    district = serializers.DictField(required=False)
    constituencies = serializers.ListField(child=serializers.CharField(), required=False)
    polling_station = StationSerializer(required=False, allow_null=True)


def lookup_body(lookup: services.Lookup) -> dict:
    body: dict = {"status": lookup.status, "cnic": lookup.cnic_masked}
    details = lookup.details
    if lookup.outcome != Outcome.FOUND or details is None:
        body["message"] = replies.message(lookup)
        return body
    body.update(
        census_block=details.block_code,
        list=details.roll,
        serial=details.serial,
        family_number=details.family_number,
        electoral_area={"en": details.area, "ur": details.area_ur},
        tehsil={"en": details.tehsil, "ur": details.tehsil_ur},
        district={"en": details.district, "ur": details.district_ur},
        constituencies=list(details.constituencies),
        polling_station=(
            None
            if details.station_number is None
            else {"number": details.station_number, "name": details.station_name, "name_ur": details.station_name_ur}
        ),
    )
    return body


class VotingDetailsLookupApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []  # public: no session (and so no CSRF), no token needed
    # evp's own limits (per client, per CNIC, abuse) apply in the service: DRF's throttle would be a second
    # counter of the same thing, and a read-modify-write of a list in the cache on every request.
    throttle_classes: list = []

    @extend_schema(
        request=LookupRequestSerializer,
        responses={
            200: LookupResponseSerializer,
            400: OpenApiResponse(description="invalid CNIC"),
            404: OpenApiResponse(description="not on the roll"),
            429: OpenApiResponse(description="rate-limited or blocked"),
        },
        summary="Where do I vote? (the 8300 lookup)",
    )
    def post(self, request: Request) -> Response:
        serializer = LookupRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lookup = services.voting_details_lookup(
            cnic_text=serializer.validated_data["cnic"], channel=Channel.API, sender=client_ip(request) or "unknown"
        )
        if lookup.outcome == Outcome.INVALID:
            text = replies.message(lookup)
            response = Response(error_body("invalid", text, {"cnic": [text]}), status=400)
        elif lookup.outcome == Outcome.REFUSED:
            code = "blocked" if lookup.reason == "blocked" else "rate_limited"
            response = Response(error_body(code, replies.message(lookup)), status=429)
        elif lookup.outcome == Outcome.NOT_FOUND:
            response = Response(error_body("not_found", replies.message(lookup)), status=404)
        else:
            response = Response(lookup_body(lookup))
        return no_store(response)

    def handle_exception(self, exc):
        return no_store(super().handle_exception(exc))
