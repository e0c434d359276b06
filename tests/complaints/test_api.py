"""The mobile app's complaint API: a code to the mobile, filing with it (fields checked before the code is used),
tracking with the same content and the same single 404 as the page, the per-address limits, no-store answers,
and the OpenAPI schema."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, path, resolve

import ecp_portal.urls
from complaints.api import ComplaintCategoriesApi, ComplaintCodeApi, ComplaintFileApi, ComplaintTrackApi
from complaints.models import Attachment, Complaint
from sms.models import OtpChallenge
from tests.complaints import test_public as public
from tests.complaints.test_attachments import picture
from tests.complaints.test_public import MOBILE, NO_MATCH, code_sent, form_data

# The public pages' fixtures: offices under a PEC, a category, a complaint moved desk to desk by an officer.
offices, category, officer, moved = public.offices, public.category, public.officer, public.moved

# The routes as ecp_portal/api_urls.py mounts them; used only while they are not mounted there.
urlpatterns = [
    path("api/v1/complaints/", ComplaintFileApi.as_view(), name="complaints-file"),
    path("api/v1/complaints/code/", ComplaintCodeApi.as_view(), name="complaints-code"),
    path("api/v1/complaints/track/", ComplaintTrackApi.as_view(), name="complaints-track"),
    path("api/v1/complaints/categories/", ComplaintCategoriesApi.as_view(), name="complaints-categories"),
    *ecp_portal.urls.urlpatterns,
]


@pytest.fixture(autouse=True)
def _routes(settings):
    try:
        resolve("/api/v1/complaints/code/")
    except Resolver404:
        settings.ROOT_URLCONF = __name__


@pytest.fixture
def api(client, django_capture_on_commit_callbacks):
    def run(method: str, url: str, data=None, *, multipart: bool = False, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            if method == "get":
                return client.get(url, data or {}, **extra)
            if multipart:
                return client.post(url, data or {}, **extra)
            return client.post(url, json.dumps(data or {}), content_type="application/json", **extra)

    return run


def _complaint(offices, category) -> dict:
    data = form_data(offices, category)
    data.pop("website")
    data["office"], data["category"] = str(data["office"]), str(data["category"])
    return data


def _code(api, memory, mobile: str = "0300 0000060") -> tuple[str, str]:
    response = api("post", "/api/v1/complaints/code/", {"mobile": mobile})
    assert response.status_code == 201, response.content
    return response.json()["challenge_id"], code_sent(
        memory, OtpChallenge.objects.get(pk=response.json()["challenge_id"]).phone
    )


# --- the code ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_is_texted_to_the_mobile(api, memory):
    response = api("post", "/api/v1/complaints/code/", {"mobile": "0300 0000060", "language": "en"})
    assert response.status_code == 201 and response["Cache-Control"].startswith("no-store")
    body = response.json()
    assert set(body) == {"challenge_id", "expires_at"}
    assert OtpChallenge.objects.get(pk=body["challenge_id"]).phone == MOBILE
    assert len(memory.sent()) == 1 and memory.sent()[0].to == MOBILE


@pytest.mark.django_db
@pytest.mark.parametrize("data", [{"mobile": "12345"}, {"mobile": ""}, {}])
def test_a_bad_mobile_is_named_and_nothing_is_sent(api, memory, data):
    response = api("post", "/api/v1/complaints/code/", data)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields"} and "mobile" in body["fields"]
    assert memory.sent() == [] and not OtpChallenge.objects.exists()


@pytest.mark.django_db
def test_code_requests_are_limited_per_address(api, memory, settings):
    settings.COMPLAINTS_FILINGS_PER_IP_HOUR = 1
    assert api("post", "/api/v1/complaints/code/", {"mobile": "0300 0000060"}).status_code == 201
    response = api("post", "/api/v1/complaints/code/", {"mobile": "0300 0000061"})
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert len(memory.sent()) == 1


# --- filing ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_complaint_is_filed_with_the_code(api, memory, offices, category):
    challenge, code = _code(api, memory)
    data = {**_complaint(offices, category), "challenge_id": challenge, "code": code, "language": "en"}
    response = api("post", "/api/v1/complaints/", data)
    assert response.status_code == 201, response.content
    complaint = Complaint.objects.get()
    assert response.json() == {"ticket": complaint.ticket, "status": "new"}
    assert complaint.language == "en" and complaint.mobile == MOBILE
    assert complaint.ticket in memory.sent()[-1].body
    again = api("post", "/api/v1/complaints/", data)  # one code, one complaint
    assert again.status_code == 409 and again.json()["fields"] == {"code": [again.json()["message"]]}
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_a_complaint_is_filed_with_files_as_multipart(api, memory, offices, category):
    challenge, code = _code(api, memory)
    files = [SimpleUploadedFile("a.png", picture("PNG"), "image/png"), SimpleUploadedFile("b.jpg", picture("JPEG"))]
    data = {**_complaint(offices, category), "challenge_id": challenge, "code": code, "attachments": files}
    response = api("post", "/api/v1/complaints/", data, multipart=True)
    assert response.status_code == 201, response.content
    assert sorted(Attachment.objects.values_list("content_type", flat=True)) == ["image/jpeg", "image/png"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [({"cnic": "123"}, "cnic"), ({"office": "999999"}, "office"), ({"name": ""}, "name"), ({"email": "x@"}, "email")],
)
def test_a_bad_field_is_named_and_the_code_is_not_used_up(api, memory, offices, category, changes, field):
    challenge, code = _code(api, memory)
    data = {**_complaint(offices, category), "challenge_id": challenge, "code": code}
    response = api("post", "/api/v1/complaints/", {**data, **changes})
    assert response.status_code == 400 and field in response.json()["fields"]
    assert not Complaint.objects.exists()
    assert OtpChallenge.objects.get(pk=challenge).verified_at is None
    assert api("post", "/api/v1/complaints/", data).status_code == 201  # fixed, with the same code


@pytest.mark.django_db
def test_a_bad_file_is_named_and_nothing_is_stored(api, memory, offices, category):
    challenge, code = _code(api, memory)
    fake = SimpleUploadedFile("photo.jpg", b"not a picture at all", "image/jpeg")
    data = {**_complaint(offices, category), "challenge_id": challenge, "code": code, "attachments": [fake]}
    response = api("post", "/api/v1/complaints/", data, multipart=True)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["attachments"] and "not a JPEG" in response.json()["message"]
    assert not Complaint.objects.exists() and not Attachment.objects.exists()


@pytest.mark.django_db
def test_a_wrong_code_is_refused(api, memory, offices, category):
    challenge, code = _code(api, memory)
    wrong = "000000" if code != "000000" else "111111"
    data = {**_complaint(offices, category), "challenge_id": challenge, "code": wrong}
    response = api("post", "/api/v1/complaints/", data)
    assert response.status_code == 400 and response.json()["code"] == "otp_wrong"
    assert "code" in response.json()["fields"] and not Complaint.objects.exists()
    missing = api("post", "/api/v1/complaints/", _complaint(offices, category))
    assert missing.status_code == 400 and {"challenge_id", "code"} <= set(missing.json()["fields"])


@pytest.mark.django_db
def test_a_code_for_another_number_files_nothing(api, memory, offices, category):
    challenge, code = _code(api, memory, mobile="0300 0000077")
    data = {**_complaint(offices, category), "challenge_id": challenge, "code": code}
    response = api("post", "/api/v1/complaints/", data)
    assert response.status_code == 400 and response.json()["code"] == "otp_required"
    assert not Complaint.objects.exists()


# --- tracking ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "get"])
def test_tracking_shows_the_stops_and_public_events_without_internal_data(api, moved, method):
    response = api(method, "/api/v1/complaints/track/", {"ticket": moved.ticket, "last4": "0060"})
    assert response.status_code == 200 and response["Cache-Control"].startswith("no-store")
    body = response.json()
    assert body["ticket"] == moved.ticket and body["status"] == "in_progress"
    assert body["office"] == {"name": "REC Lahore", "name_ur": "ریجنل لاہور"}
    assert [(s["office"]["name"], (s["desk"] or {}).get("name")) for s in body["stops"]] == [
        ("DEC Lahore", None),
        ("DEC Lahore", "Complaints desk"),
        ("REC Lahore", None),
        ("REC Lahore", "Regional desk"),
    ]
    assert body["stops"][-1]["left_at"] is None
    assert [e["kind"] for e in body["events"]] == ["filed", "assigned", "forwarded", "assigned", "reply"]
    assert body["events"][-1]["text"] == "PUBLIC reply: we are on it."
    assert body["first_response"]["state"] == "met" and body["resolution"]["state"] in ("due", "overdue")
    text = response.content.decode()
    for private in ("SECRET", "Faraz", "Qureshi", "faraz", "3520212345673", MOBILE, "actor", "cnic", "mobile"):
        assert private not in text


@pytest.mark.django_db
def test_every_mismatch_gets_the_same_404(api, moved):
    forged = moved.ticket[:-1] + ("A" if moved.ticket[-1] != "A" else "B")
    cases = [(moved.ticket, "9999"), (forged, "0060"), ("garbage", "0060"), (moved.ticket, "x")]
    bodies = []
    for ticket, last4 in cases:
        response = api("post", "/api/v1/complaints/track/", {"ticket": ticket, "last4": last4})
        assert response.status_code == 404
        bodies.append(response.content)
    assert len(set(bodies)) == 1
    assert json.loads(bodies[0]) == {"code": "not_found", "message": NO_MATCH, "fields": {}}


@pytest.mark.django_db
def test_tracking_needs_both_numbers_and_is_limited_per_address(api, moved, settings):
    missing = api("post", "/api/v1/complaints/track/", {"ticket": moved.ticket})
    assert missing.status_code == 400 and "last4" in missing.json()["fields"]
    settings.COMPLAINTS_TRACKING_PER_IP = 1
    assert api("post", "/api/v1/complaints/track/", {"ticket": moved.ticket, "last4": "0060"}).status_code == 200
    limited = api("post", "/api/v1/complaints/track/", {"ticket": moved.ticket, "last4": "0060"})
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"


@pytest.mark.django_db
def test_the_categories_are_listed(api, category):
    response = api("get", "/api/v1/complaints/categories/")
    assert response.status_code == 200
    assert response.json() == [
        {"id": category.pk, "code": "polling-station", "name": "Polling station", "name_ur": "پولنگ اسٹیشن"}
    ]


@pytest.mark.django_db
def test_the_endpoints_are_in_the_openapi_schema(settings):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf=settings.ROOT_URLCONF).get_schema(request=None, public=True)
    paths = schema["paths"]
    assert "post" in paths["/api/v1/complaints/"] and "post" in paths["/api/v1/complaints/code/"]
    assert {"get", "post"} <= set(paths["/api/v1/complaints/track/"])
    assert "get" in paths["/api/v1/complaints/categories/"]
