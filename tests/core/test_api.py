"""The API: read endpoints, the one error shape, throttling, token auth."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from core.api_base import exception_handler
from core.exceptions import ConflictError, DomainError
from tests.factories import ConstituencyFactory, PollingStationFactory, UserFactory

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code and body["message"]
    return body


@pytest.fixture
def api():
    return APIClient()


def test_geography_reads_with_filters_and_pagination(api):
    na = ConstituencyFactory(code="NA-46", name="Islamabad-I")
    PollingStationFactory.create_batch(3, constituency=na)
    PollingStationFactory(constituency=ConstituencyFactory(code="NA-47"))

    body = api.get("/api/v1/polling-stations/", {"constituency__code": "NA-46", "page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert body["results"][0]["registered_voters"] == 1750

    assert api.get("/api/v1/constituencies/NA-46/").json()["name"] == "Islamabad-I"
    assert {p["code"] for p in api.get("/api/v1/provinces/").json()} >= {"punjab", "sindh", "kp", "balochistan", "ict"}


def test_not_found_has_the_error_shape(api):
    assert_error_shape(api.get("/api/v1/constituencies/NA-999/"), 404, "not_found")
    assert_error_shape(api.get("/api/v1/nothing-here/"), 404, "not_found")


def test_bad_filter_value_is_a_400_naming_the_field(api):
    body = assert_error_shape(api.get("/api/v1/polling-stations/", {"station_type": "martian"}), 400, "invalid")
    assert "station_type" in body["fields"]


def test_writes_to_read_only_endpoints_are_refused_and_change_nothing(api):
    api.force_authenticate(UserFactory())
    response = api.post("/api/v1/constituencies/", {"code": "NA-1", "name": "x"}, format="json")
    assert_error_shape(response, 405, "method_not_allowed")
    assert not ConstituencyFactory._meta.model.objects.filter(code="NA-1").exists()


def test_authentication_errors_have_the_error_shape(api):
    assert_error_shape(api.get("/api/v1/me/"), 401, "not_authenticated")
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error_shape(api.get("/api/v1/provinces/"), 401, "authentication_failed")


def test_token_authentication_identifies_the_caller(api):
    user = UserFactory(username="nadra-link")
    token = Token.objects.create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/me/").json() == {"username": "nadra-link", "name": user.get_full_name(), "roles": []}


def test_anonymous_callers_are_throttled_with_the_error_shape(api, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "1000/minute"})
    for _ in range(3):
        assert api.get("/api/v1/provinces/").status_code == 200
    response = api.get("/api/v1/provinces/")
    assert_error_shape(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_handler_maps_domain_errors_and_nested_validation_errors():
    response = exception_handler(DomainError("polled_above_registered", "Polled exceeds registered.", "polled"), {})
    assert response.status_code == 400
    assert response.data == {
        "code": "polled_above_registered",
        "message": "Polled exceeds registered.",
        "fields": {"polled": ["Polled exceeds registered."]},
    }
    assert exception_handler(ConflictError("already_accepted", "Already accepted."), {}).status_code == 409

    nested = ValidationError({"votes": [{}, {"count": ["Ensure this value is greater than or equal to 0."]}]})
    response = exception_handler(nested, {})
    assert response.data["code"] == "invalid"
    assert response.data["fields"] == {"votes.1.count": ["Ensure this value is greater than or equal to 0."]}
    assert "votes.1.count" in response.data["message"]


def test_schema_and_swagger_ui_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower() and "/static/drf_spectacular_sidecar/" in docs


def test_the_openapi_schema_generates_without_a_warning():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
