"""core's API: read-only geography, offices, jobs and "who am I".
The pagination and the error shape live in core/api_base.py."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .models import Constituency, District, Job, Office, PollingStation, Province

# --- geography --------------------------------------------------------------


class ProvinceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name", "name_ur", "pa_prefix"]


class DistrictSerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = District
        fields = ["id", "name", "name_ur", "province"]


class ConstituencySerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district = serializers.StringRelatedField()

    class Meta:
        model = Constituency
        fields = ["code", "house", "name", "name_ur", "province", "district"]


class PollingStationSerializer(serializers.ModelSerializer):
    constituency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    registered_voters = serializers.IntegerField(read_only=True)

    class Meta:
        model = PollingStation
        fields = [
            "id",
            "constituency",
            "number",
            "name",
            "name_ur",
            "station_type",
            "male_booths",
            "female_booths",
            "male_voters",
            "female_voters",
            "registered_voters",
            "latitude",
            "longitude",
        ]


class ProvinceViewSet(viewsets.ReadOnlyModelViewSet):
    """The provinces (and ICT)."""

    queryset = Province.objects.all()
    serializer_class = ProvinceSerializer
    lookup_field = "code"
    pagination_class = None
    permission_classes = [permissions.AllowAny]


class DistrictViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = District.objects.select_related("province")
    serializer_class = DistrictSerializer
    filterset_fields = {"province__code": ["exact"]}
    search_fields = ["name", "name_ur"]
    permission_classes = [permissions.AllowAny]


class ConstituencyViewSet(viewsets.ReadOnlyModelViewSet):
    """NA and PA constituencies; filter by house and province, search by code or name."""

    queryset = selectors.constituency_list()
    serializer_class = ConstituencySerializer
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z]{2}-[0-9]{1,3}"
    filterset_fields = {"house": ["exact"], "province__code": ["exact"]}
    search_fields = ["code", "name", "name_ur"]
    ordering_fields = ["code", "name"]
    permission_classes = [permissions.AllowAny]


class PollingStationViewSet(viewsets.ReadOnlyModelViewSet):
    """Polling stations of the scheme; filter by constituency code and type."""

    queryset = selectors.polling_station_list()
    serializer_class = PollingStationSerializer
    filterset_fields = {"constituency__code": ["exact"], "station_type": ["exact"], "number": ["exact"]}
    search_fields = ["name", "name_ur"]
    ordering_fields = ["number"]
    permission_classes = [permissions.AllowAny]


# --- offices ----------------------------------------------------------------


class OfficeSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
    province = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district = serializers.StringRelatedField()

    class Meta:
        model = Office
        fields = ["code", "kind", "name", "name_ur", "parent", "province", "district", "phone", "address"]


class OfficeViewSet(viewsets.ReadOnlyModelViewSet):
    """The ECP office hierarchy (Secretariat, PEC, REC, DEC offices)."""

    queryset = selectors.office_list()
    serializer_class = OfficeSerializer
    lookup_field = "code"
    filterset_fields = {"kind": ["exact"], "province__code": ["exact"], "parent__code": ["exact"]}
    search_fields = ["code", "name", "name_ur"]
    permission_classes = [permissions.AllowAny]


# --- jobs and me ------------------------------------------------------------


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "title",
            "status",
            "total",
            "done",
            "percent",
            "error_count",
            "errors",
            "message",
            "created_at",
            "started_at",
            "finished_at",
        ]


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Long jobs the caller started (administrators see all)."""

    serializer_class = JobSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = {"status": ["exact"], "kind": ["exact"]}

    def get_queryset(self):
        return selectors.job_list_for(user=self.request.user)


class MeApi(APIView):
    """Who the caller is, with roles and their scopes."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "name": serializers.CharField(),
                "roles": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request):
        user = request.user
        roles = [
            {
                "role": a.role,
                "office": a.office.code if a.office else None,
                "constituency": a.constituency.code if a.constituency else None,
            }
            for a in user.role_assignments.select_related("office", "constituency")
        ]
        return Response({"username": user.get_username(), "name": user.get_full_name(), "roles": roles})


def register(router) -> None:
    router.register("provinces", ProvinceViewSet, basename="province")
    router.register("districts", DistrictViewSet, basename="district")
    router.register("constituencies", ConstituencyViewSet, basename="constituency")
    router.register("polling-stations", PollingStationViewSet, basename="polling-station")
    router.register("offices", OfficeViewSet, basename="office")
    router.register("jobs", JobViewSet, basename="job")


urlpatterns = [path("me/", MeApi.as_view(), name="api-me")]
