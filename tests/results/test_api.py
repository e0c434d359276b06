"""The results API: idempotent Form-45 submission, scoped reads, and the permission matrix."""

import uuid

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import Role, RoleAssignment
from results.models import Form45, Form45Entry
from tests.factories import UserFactory
from tests.results.factories import make_contest

pytestmark = pytest.mark.django_db


def client_for(user=None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return api


def payload(station, key=None, votes=(500, 300, 150), excluded=10):
    total = sum(votes) + excluded
    return {
        "contest_station": station.pk,
        "idempotency_key": key or uuid.uuid4().hex,
        "polled_male": total - total // 2,
        "polled_female": total // 2,
        "polled_total": total,
        "excluded": excluded,
        "votes": {str(i + 1): v for i, v in enumerate(votes)},
    }


@pytest.fixture
def na44():
    return make_contest("NA-44")


@pytest.fixture
def na45():
    return make_contest("NA-45")


URL = "/api/v1/results/form45-entries/"


def test_double_entry_through_the_api_and_a_resend_after_a_dropped_connection(na44):
    station = na44.stations[0]
    body = payload(station, key="retry-key-0001")
    first = client_for(na44.deo1).post(URL, body, format="json")
    assert first.status_code == 201 and first.json()["status"] == "waiting"
    resend = client_for(na44.deo1).post(URL, body, format="json")
    assert resend.status_code == 200 and resend.json()["replayed"] is True
    assert Form45Entry.objects.count() == 1

    second = client_for(na44.deo2).post(URL, payload(station), format="json")
    assert second.status_code == 201 and second.json()["accepted"] is True
    tally = client_for(na44.ro).get(f"/api/v1/results/contests/{na44.contest.pk}/tally/").json()
    assert [c["votes"] for c in tally["candidates"]] == [500, 300, 150]
    assert tally["stations_reported"] == 1 and len(tally["awaited"]) == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"polled_total": -1}, "polled_total"),
        ({"polled_total": "many"}, "polled_total"),
        ({"votes": {"1": -5, "2": 300, "3": 150}}, "votes.1"),
        ({"votes": {"one": 5}}, "votes"),
        ({"idempotency_key": "x"}, "idempotency_key"),
        ({"contest_station": None}, "contest_station"),
    ],
)
def test_malformed_input_is_a_400_naming_the_field_and_writes_nothing(na44, change, field):
    response = client_for(na44.deo1).post(URL, {**payload(na44.stations[0]), **change}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]
    assert not Form45Entry.objects.exists()


def test_a_rule_breaking_form_is_a_400_with_the_rule_code(na44):
    body = payload(na44.stations[0])
    body["polled_total"] += 1
    response = client_for(na44.deo1).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "form45.gender_sum" and "polled_total" in response.json()["fields"]
    assert not Form45Entry.objects.exists()


def test_an_unknown_station_is_a_404(na44):
    body = payload(na44.stations[0])
    body["contest_station"] = 999_999
    assert client_for(na44.deo1).post(URL, body, format="json").status_code == 404


def test_permission_matrix_for_submitting(na44, na45):
    station = na44.stations[0]
    desk = UserFactory(username="desk-officer")
    RoleAssignment.objects.create(user=desk, role=Role.CITIZEN)
    cases = [
        (None, 401),  # anonymous
        (desk, 403),  # signed in, wrong role
        (na45.deo1, 403),  # an operator of another constituency
        (na45.ro, 403),  # the RO of another constituency
        (na44.deo1, 201),  # an operator of this constituency
    ]
    for user, expected in cases:
        response = client_for(user).post(URL, payload(station), format="json")
        assert response.status_code == expected, (user, response.json())
    assert Form45Entry.objects.count() == 1


def test_permission_matrix_for_reading_drafts_and_tallies(na44, na45):
    station = na44.stations[0]
    client_for(na44.deo1).post(URL, payload(station), format="json")
    for user, expected in [(None, 401), (na45.deo1, 404), (na45.ro, 404), (na44.deo2, 200), (na44.ro, 200)]:
        assert client_for(user).get(f"/api/v1/results/stations/{station.pk}/status/").status_code == expected
        assert client_for(user).get(f"/api/v1/results/contests/{na44.contest.pk}/tally/").status_code == expected
    status = client_for(na44.deo2).get(f"/api/v1/results/stations/{station.pk}/status/").json()
    assert status["entries"] == 1 and status["my_entry"] is None and status["form"] is None  # never the other's figures


def test_a_staff_session_without_the_second_factor_cannot_submit(na44, settings):
    settings.OTP_DEMO_SKIP = False
    api = APIClient()
    api.force_login(na44.deo1)
    assert api.post(URL, payload(na44.stations[0]), format="json").status_code == 403
    assert not Form45.objects.exists()


def test_public_reads_of_contests_candidates_and_stations(na44):
    api = client_for()
    contests = api.get("/api/v1/results/contests/", {"constituency__code": "NA-44"}).json()["results"]
    assert [c["constituency"] for c in contests] == ["NA-44"]
    candidates = api.get(f"/api/v1/results/contests/{na44.contest.pk}/candidates/").json()
    assert [c["ballot_order"] for c in candidates] == [1, 2, 3]
    stations = api.get(f"/api/v1/results/contests/{na44.contest.pk}/stations/").json()
    assert stations["count"] == 4
