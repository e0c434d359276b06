"""The results API (/api/v1/results/...).

Public reads: elections, contests, candidates and stations of the scheme.
Operator endpoints (token or staff session; scoped to the caller's
constituencies): submit a Form-45 entry with a client-generated idempotency
key, read the status and flags of a station's form, read a contest's tally.
Out-of-scope reads answer 404 (nothing is revealed), out-of-scope writes 403.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsVerifiedStaff

from . import selectors, services
from .models import Candidate, Contest, ContestStation, Election, Form45, Form45Entry

# --- public reads ---------------------------------------------------------------


class ElectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Election
        fields = ["id", "code", "name", "name_ur", "kind", "poll_date", "poll_close_at", "status"]


class CandidateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Candidate
        fields = ["id", "ballot_order", "name", "name_ur", "party", "party_ur", "symbol", "symbol_ur"]


class ContestSerializer(serializers.ModelSerializer):
    election = serializers.SlugRelatedField(slug_field="code", read_only=True)
    constituency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    constituency_name = serializers.CharField(source="constituency.name", read_only=True)

    class Meta:
        model = Contest
        fields = ["id", "election", "constituency", "constituency_name", "status", "finalized_at"]


class ContestStationSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="polling_station.name", read_only=True)
    name_ur = serializers.CharField(source="polling_station.name_ur", read_only=True)

    class Meta:
        model = ContestStation
        fields = ["id", "number", "name", "name_ur", "station_type", "male_voters", "female_voters"]


class ElectionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Election.objects.all()
    serializer_class = ElectionSerializer
    permission_classes = [permissions.AllowAny]


class ContestViewSet(viewsets.ReadOnlyModelViewSet):
    """Contests with their candidates and stations (public: they are on the ballot and the scheme)."""

    queryset = Contest.objects.select_related("election", "constituency")
    serializer_class = ContestSerializer
    permission_classes = [permissions.AllowAny]
    filterset_fields = {"election__code": ["exact"], "constituency__code": ["exact"], "status": ["exact"]}

    @extend_schema(responses=CandidateSerializer(many=True))
    @action(detail=True, pagination_class=None)
    def candidates(self, request, pk=None):
        contest = self.get_object()
        return Response(CandidateSerializer(contest.candidates.order_by("ballot_order"), many=True).data)

    @extend_schema(responses=ContestStationSerializer(many=True))
    @action(detail=True)
    def stations(self, request, pk=None):
        contest = self.get_object()
        page = self.paginate_queryset(contest.stations.select_related("polling_station").order_by("number"))
        return self.get_paginated_response(ContestStationSerializer(page, many=True).data)


# --- operator endpoints -----------------------------------------------------------


class VotesField(serializers.DictField):
    """{"1": 500, "2": 300} — ballot order → valid votes (non-negative integers)."""

    child = serializers.IntegerField(min_value=0, max_value=10_000_000)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        bad = [key for key in value if not str(key).isdigit() or int(key) < 1]
        if bad:
            raise serializers.ValidationError(f"Keys are candidates' ballot orders (1, 2, 3 …), not {bad[0]!r}.")
        return {int(k): v for k, v in value.items()}


class Form45EntryInSerializer(serializers.Serializer):
    contest_station = serializers.IntegerField(min_value=1, help_text="Id of the contest's polling station.")
    idempotency_key = serializers.RegexField(
        r"^[A-Za-z0-9_\-]{8,64}$",
        help_text="Chosen by the client for this submission (e.g. a UUID); a resend with the same key is recognised.",
    )
    polled_male = serializers.IntegerField(min_value=0, max_value=100_000)
    polled_female = serializers.IntegerField(min_value=0, max_value=100_000)
    polled_total = serializers.IntegerField(min_value=0, max_value=200_000)
    excluded = serializers.IntegerField(min_value=0, max_value=200_000)
    counted_at = serializers.DateTimeField(required=False, allow_null=True)
    votes = VotesField(allow_empty=False)


class Form45EntryOutSerializer(serializers.Serializer):
    entry = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Form45Entry.Status.choices)
    accepted = serializers.BooleanField()
    differences = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.DictField())
    replayed = serializers.BooleanField()


def _entry_response(result: services.EntryResult) -> dict:
    return {
        "entry": result.entry.pk,
        "status": result.status,
        "accepted": result.form is not None,
        "differences": result.differences,
        "warnings": [{"rule": w.rule, "message": w.message} for w in result.warnings],
        "replayed": result.replayed,
    }


class Form45EntrySubmitApi(APIView):
    """Submit one operator's entry of a Form-45 (double entry: a second operator keys the same form)."""

    permission_classes = [permissions.IsAuthenticated, IsVerifiedStaff]

    @extend_schema(
        request=Form45EntryInSerializer,
        responses={
            201: Form45EntryOutSerializer,
            200: OpenApiResponse(Form45EntryOutSerializer, description="A resend of an earlier submission."),
            400: OpenApiResponse(description="Invalid figures: the error names each field and rule."),
            403: OpenApiResponse(description="The station is outside the caller's constituencies."),
            409: OpenApiResponse(description="Already accepted, already keyed by the caller, or contest final."),
        },
    )
    def post(self, request):
        data = Form45EntryInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        result = services.form45_entry_submit(
            actor=request.user,
            contest_station_id=d["contest_station"],
            idempotency_key=d["idempotency_key"],
            figures=services.Figures(
                polled_male=d["polled_male"],
                polled_female=d["polled_female"],
                polled_total=d["polled_total"],
                excluded=d["excluded"],
                votes=d["votes"],
                counted_at=d.get("counted_at"),
            ),
        )
        return Response(
            _entry_response(result), status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED
        )


class StationStatusApi(APIView):
    """A station's Form-45 status (entries so far, accepted or not) and flags — for its own operators."""

    permission_classes = [permissions.IsAuthenticated, IsVerifiedStaff]

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="station, number, entries (count), my_entry, accepted, form (figures once accepted), flags",
            )
        }
    )
    def get(self, request, pk: int):
        station = get_object_or_404(
            ContestStation.objects.select_related("contest"),
            pk=pk,
            contest__in=selectors.contest_list_for(user=request.user),
        )
        form = Form45.objects.filter(contest_station=station).first()
        mine = station.entries.filter(operator=request.user).values("pk", "status", "submitted_at").first()
        return Response(
            {
                "station": station.pk,
                "number": station.number,
                "entries": station.entries.count(),
                "my_entry": mine,
                "accepted": form is not None,
                "form": None
                if form is None
                else {
                    "polled_total": form.polled_total,
                    "excluded": form.excluded,
                    "source": form.source,
                    "votes": dict(form.votes.values_list("candidate__ballot_order", "votes")),
                },
                "flags": [{"rule": f.rule, "message": f.message} for f in station.flags.all()],
            }
        )


class ContestTallyApi(APIView):
    """A contest's tally from its accepted Form-45s, with its findings (recount, tie, women's turnout, deadlines)."""

    permission_classes = [permissions.IsAuthenticated, IsVerifiedStaff]

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="stations total/reported, awaited numbers, registered/polled by gender, excluded, valid, "
                "candidates with votes and rank, findings (rule, severity, message)",
            )
        }
    )
    def get(self, request, pk: int):
        contest = selectors.contest_get_for(user=request.user, contest_id=pk)
        if contest is None:
            raise NotFound
        t = selectors.contest_tally(contest=contest)
        standings = t.standings()
        by_order = {c.ballot_order: c for c in t.candidates}
        return Response(
            {
                "contest": contest.pk,
                "constituency": contest.constituency.code,
                "status": contest.status,
                "stations_total": t.stations_total,
                "stations_reported": t.stations_reported,
                "awaited": [s.number for s in t.awaited],
                "registered": {"male": t.registered_male, "female": t.registered_female, "total": t.registered},
                "polled": {"male": t.polled_male, "female": t.polled_female, "total": t.polled_total},
                "excluded": t.excluded,
                "valid": t.valid,
                "candidates": [
                    {
                        "ballot_order": s.key,
                        "name": by_order[s.key].name,
                        "party": by_order[s.key].party,
                        "votes": s.votes,
                        "rank": s.rank,
                    }
                    for s in standings
                ],
                "findings": [{"rule": f.rule, "severity": f.severity, "message": f.message} for f in t.findings()],
            }
        )


def register(router) -> None:
    router.register("results/elections", ElectionViewSet, basename="results-election")
    router.register("results/contests", ContestViewSet, basename="results-contest")
    from . import api_photos  # Form-45 pictures: POST /api/v1/results/form45-photos/

    api_photos.register(router)


urlpatterns = [
    path("results/form45-entries/", Form45EntrySubmitApi.as_view(), name="results-form45-entry-submit"),
    path("results/stations/<int:pk>/status/", StationStatusApi.as_view(), name="results-station-status"),
    path("results/contests/<int:pk>/tally/", ContestTallyApi.as_view(), name="results-contest-tally"),
]
