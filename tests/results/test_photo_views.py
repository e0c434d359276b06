"""The Form-45 picture screens and API: the PO's page without JavaScript, the API (idempotent retries,
refusals naming the field, the permission matrix), the RO's list and decision, the public station page
(hash and received time, in English and Urdu) and the original bytes with their headers."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditEvent, User
from results import photos, services, views_photos
from results.models import Form45Photo
from tests.results.test_forensics import jpeg, png_bomb, truncated
from tests.results.test_photos import make_setup, picture, snapshot, upload
from tests.staff import signed_in

pytestmark = pytest.mark.django_db

API = "/api/v1/results/form45-photos/"


@pytest.fixture(autouse=True)
def _demo_skip(settings):
    settings.OTP_DEMO_SKIP = True


@pytest.fixture
def setup():
    return make_setup()


def api_for(user=None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return api


def as_file(data: bytes, name: str = "form45.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def api_body(station, data, key=None, **extra):
    return {
        "contest_station": station.pk,
        "idempotency_key": key or uuid.uuid4().hex,
        "photo": as_file(data, **extra),
        "device_id": "phone-7",
    }


def accept_form45(station, votes=(500, 300, 150), excluded=10):
    total = sum(votes) + excluded
    female = total // 2 if station.station_type != "female" else total
    figures = services.Figures(total - female, female, total, excluded, {i + 1: v for i, v in enumerate(votes)})
    code = station.contest.constituency.code.lower()
    for who in ("deo1", "deo2"):
        services.form45_entry_submit(
            actor=User.objects.get(username=f"{code}-{who}"),
            contest_station_id=station.pk,
            idempotency_key=uuid.uuid4().hex,
            figures=figures,
        )


# --- API --------------------------------------------------------------------------------------------


def test_api_upload_then_a_retry_after_a_dropped_connection(setup):
    station = setup.stations[0]
    data = picture(setup, station)
    first = api_for(setup.po).post(API, api_body(station, data, key="api-retry-0001"), format="multipart")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["sha256"] == Form45Photo.objects.get().sha256 and body["station"] == "NA-46 PS-1"
    assert body["replayed"] is False and body["findings"] == [] and body["status"] == "received"
    assert Form45Photo.objects.get().device_id == "phone-7"
    again = api_for(setup.po).post(API, api_body(station, data, key="api-retry-0001"), format="multipart")
    assert again.status_code == 200 and again.json()["replayed"] is True and again.json()["id"] == body["id"]
    assert Form45Photo.objects.count() == 1
    assert Client().get(body["url"]).getvalue() == data


def test_api_findings_are_explained(setup):
    station = setup.stations[0]
    response = api_for(setup.po).post(API, api_body(station, picture(setup, station, metres=8000)), format="multipart")
    assert response.status_code == 201
    [finding] = response.json()["findings"]
    assert finding["rule"] == "photo.far_from_station" and "m from the polling station" in finding["message"]
    assert finding["data"]["distance_m"] == pytest.approx(8000, abs=3)


@pytest.mark.parametrize(
    ("make", "name", "code"),
    [
        (lambda s, st: b"%PDF-1.4 not a picture" * 10, "form45.jpg", "photo.wrong_type"),
        (lambda s, st: png_bomb(), "form45.png", "photo.too_many_pixels"),
        (lambda s, st: truncated(picture(s, st)), "form45.jpg", "photo.unreadable"),
    ],
    ids=["pdf-named-jpg", "bomb", "truncated"],
)
def test_api_refuses_hostile_files_naming_the_field(setup, make, name, code):
    station = setup.stations[0]
    before = snapshot()
    response = api_for(setup.po).post(API, api_body(station, make(setup, station), name=name), format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and list(body["fields"]) == ["photo"] and body["message"]
    assert snapshot() == before


def test_api_refuses_an_oversized_file(setup, settings):
    station = setup.stations[0]
    data = picture(setup, station)
    settings.RESULTS_PHOTO_MAX_BYTES = 1000
    before = snapshot()
    response = api_for(setup.po).post(API, api_body(station, data), format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "photo.too_large"
    assert "photo" in response.json()["fields"] and snapshot() == before


def test_api_permission_matrix(setup):
    station = setup.stations[0]
    other = make_setup("NA-47", election=setup.election)
    data = picture(setup, station)
    before = snapshot()
    assert api_for().post(API, api_body(station, data), format="multipart").status_code == 401
    assert api_for(setup.deo).post(API, api_body(station, data), format="multipart").status_code == 403
    assert api_for(setup.ro).post(API, api_body(station, data), format="multipart").status_code == 403
    denied = api_for(other.po).post(API, api_body(station, data), format="multipart")
    assert denied.status_code == 403 and denied.json()["code"] == "out_of_scope"
    body = api_body(station, data) | {"contest_station": 999_999}
    assert api_for(setup.po).post(API, body, format="multipart").status_code == 404
    missing = api_for(setup.po).post(
        API, {"contest_station": station.pk, "idempotency_key": "k" * 12}, format="multipart"
    )
    assert missing.status_code == 400 and "photo" in missing.json()["fields"]
    assert snapshot() == before


def test_api_key_reused_for_another_station_is_409(setup):
    first, second = setup.stations[:2]
    api = api_for(setup.po)
    assert (
        api.post(API, api_body(first, picture(setup, first), key="api-key-reuse"), format="multipart").status_code
        == 201
    )
    response = api.post(API, api_body(second, picture(setup, second, seed=2), key="api-key-reuse"), format="multipart")
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_reused"


def test_api_read_is_scoped(setup):
    photo = upload(setup.po, setup.stations[0], picture(setup, setup.stations[0])).photo
    url = f"{API}{photo.pk}/"
    assert api_for(setup.po).get(url).json()["sha256"] == photo.sha256
    assert api_for(setup.ro).get(url).status_code == 200
    assert api_for(make_setup("NA-47", election=setup.election).po).get(url).status_code == 404


def test_the_api_is_in_the_schema(setup):
    schema = Client().get("/api/schema/").content.decode()
    assert "/api/v1/results/form45-photos/" in schema and "idempotency_key" in schema


# --- the PO's page (no JavaScript) --------------------------------------------------------------------


def test_the_upload_page_lists_the_constituencys_stations_with_a_camera_input(setup):
    response = signed_in(setup.po).get(reverse("results:photo_upload"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'capture="environment"' in html and 'accept="image/jpeg,image/png"' in html
    assert 'enctype="multipart/form-data"' in html and "data-photo-upload" in html
    assert all(f"PS-{s.number} · " in html for s in setup.stations)
    assert 'name="idempotency_key"' in html and "photo-upload.js" in html


def test_a_plain_form_post_stores_the_picture_and_a_resend_does_not(setup):
    station = setup.stations[0]
    data = picture(setup, station)
    client = signed_in(setup.po)
    form = {"contest": station.contest_id, "contest_station": station.pk, "idempotency_key": "form-key-000001"}
    response = client.post(reverse("results:photo_upload"), {**form, "photo": as_file(data)})
    assert response.status_code == 302
    photo = Form45Photo.objects.get()
    assert f"sent={photo.pk}" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert photo.sha256 in page and "Picture received." in page
    again = client.post(reverse("results:photo_upload"), {**form, "photo": as_file(data)}, follow=True)
    assert "already been received" in again.content.decode() and Form45Photo.objects.count() == 1


def test_a_picture_from_the_gallery_input_is_accepted(setup):
    station = setup.stations[1]
    form = {"contest": station.contest_id, "contest_station": station.pk, "idempotency_key": "form-key-000002"}
    response = signed_in(setup.po).post(
        reverse("results:photo_upload"), {**form, "photo_gallery": as_file(picture(setup, station))}
    )
    assert response.status_code == 302 and Form45Photo.objects.filter(contest_station=station).exists()


@pytest.mark.parametrize(
    ("files", "text"),
    [
        ({"photo": as_file(b"hello", name="form45.jpg")}, "not a JPEG or PNG"),
        ({}, "Take or choose the picture"),
    ],
    ids=["text-file", "no-file"],
)
def test_a_refused_form_post_says_why_and_writes_nothing(setup, files, text):
    station = setup.stations[0]
    before = snapshot()
    form = {"contest": station.contest_id, "contest_station": station.pk, "idempotency_key": "form-key-000003"}
    response = signed_in(setup.po).post(reverse("results:photo_upload"), {**form, **files})
    assert response.status_code == 400 and text in response.content.decode()
    assert snapshot() == before


def test_only_presiding_officers_open_the_upload_page(setup):
    assert signed_in(setup.ro).get(reverse("results:photo_upload")).status_code == 403
    anonymous = Client().get(reverse("results:photo_upload"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


# --- the RO's screens -----------------------------------------------------------------------------------


def list_url(setup, **query) -> str:
    url = reverse("results:photo_list", kwargs={"contest_id": setup.stations[0].contest_id})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_ro_lists_the_pictures_with_their_flags_filters_and_pages(setup, monkeypatch):
    a, b, c = setup.stations[:3]
    clean = upload(setup.po, a, picture(setup, a, seed=41)).photo
    far = upload(setup.po, b, picture(setup, b, seed=42, metres=4000)).photo
    queried = upload(setup.po, c, picture(setup, c, seed=43)).photo
    photos.photo_decide(actor=setup.ro, photo_id=queried.pk, decision="queried", note="Blurred")
    client = signed_in(setup.ro)

    html = client.get(list_url(setup)).content.decode()
    assert all(f'data-photo="{p.pk}"' in html for p in (clean, far, queried))
    assert 'data-rule="photo.far_from_station"' in html
    flagged = client.get(list_url(setup, show="flagged")).content.decode()
    assert f'data-photo="{far.pk}"' in flagged and f'data-photo="{clean.pk}"' not in flagged
    only_queried = client.get(list_url(setup, show="queried")).content.decode()
    assert f'data-photo="{queried.pk}"' in only_queried and f'data-photo="{far.pk}"' not in only_queried

    monkeypatch.setattr(views_photos, "PAGE_SIZE", 2)
    first_page = client.get(list_url(setup)).content.decode()
    second_page = client.get(list_url(setup, page=2)).content.decode()
    assert "Page 1 of 2" in first_page and f'data-photo="{clean.pk}"' in second_page  # the oldest, last


def test_the_picture_screens_are_the_ros_alone(setup):
    photo = upload(setup.po, setup.stations[0], picture(setup, setup.stations[0])).photo
    detail = reverse(
        "results:photo_detail", kwargs={"contest_id": photo.contest_station.contest_id, "photo_id": photo.pk}
    )
    assert signed_in(setup.deo).get(list_url(setup)).status_code == 403
    assert signed_in(setup.deo).get(detail).status_code == 403
    assert signed_in(setup.po).get(list_url(setup)).status_code == 404
    other_ro = make_setup("NA-47", election=setup.election).ro
    assert signed_in(other_ro).get(detail).status_code == 404


def test_the_detail_shows_the_picture_beside_the_figures_and_the_ro_decides(setup):
    station = setup.stations[0]
    photo = upload(setup.po, station, picture(setup, station, metres=2500)).photo
    url = reverse("results:photo_detail", kwargs={"contest_id": station.contest_id, "photo_id": photo.pk})
    client = signed_in(setup.ro)
    html = client.get(url).content.decode()
    assert photo.sha256 in html and photo.phash in html and "has not been accepted yet" in html
    assert 'data-rule="photo.far_from_station"' in html
    assert reverse("results:photo_file", kwargs={"photo_id": photo.pk, "ext": "jpg"}) in html

    accept_form45(station)
    html = client.get(url).content.decode()
    assert "Candidate 1" in html and ">500<" in html and "has not been accepted yet" not in html

    before = snapshot()
    unconfirmed = client.post(url, {"decision": "accepted", "note": ""})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.content.decode()
    no_note = client.post(url, {"decision": "queried", "note": "", "confirm": "on"})
    assert no_note.status_code == 400 and "Say what is wrong" in no_note.content.decode()
    assert snapshot() == before

    done = client.post(url, {"decision": "accepted", "note": "", "confirm": "on"})
    assert done.status_code == 302
    assert Form45Photo.objects.get(pk=photo.pk).status == "accepted"
    assert AuditEvent.objects.filter(action="results.photo_decided", actor=setup.ro).count() == 1


def test_the_dashboard_links_to_the_pictures(setup):
    dashboard = reverse("results:dashboard", kwargs={"contest_id": setup.stations[0].contest_id})
    assert list_url(setup) in signed_in(setup.ro).get(dashboard).content.decode()


# --- public -------------------------------------------------------------------------------------------------


def station_url(station, language: str = "") -> str:
    contest = station.contest
    url = reverse(
        "results:live_station",
        kwargs={
            "election_code": contest.election.code,
            "constituency_code": contest.constituency.code,
            "number": station.number,
        },
    )
    return f"/{language}{url}" if language else url


def test_the_public_station_page_shows_the_hash_and_the_received_time_without_login(setup):
    station = setup.stations[0]
    photo = upload(setup.po, station, picture(setup, station, metres=3000)).photo
    response = Client().get(station_url(station))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<code class="ph-hash" data-sha256>{photo.sha256}</code>' in html
    received = dateformat.format(timezone.localtime(photo.received_at), "j M Y, H:i:s")
    assert received in html
    assert "has not been accepted yet" in html and 'data-rule="photo.far_from_station"' in html
    assert reverse("results:photo_file", kwargs={"photo_id": photo.pk, "ext": "jpg"}) in html


def test_the_public_page_shows_the_accepted_figures_and_earlier_pictures(setup):
    station = setup.stations[0]
    first = upload(setup.po, station, picture(setup, station, seed=1)).photo
    latest = upload(setup.po, station, picture(setup, station, seed=2)).photo
    accept_form45(station, votes=(611, 222, 133), excluded=7)
    html = Client().get(station_url(station)).content.decode()
    assert "611" in html and "222" in html and "Party 1" in html
    assert ">973<" in html  # votes polled: 611 + 222 + 133 + 7
    assert html.index(latest.sha256) < html.index(first.sha256)  # the latest first, the earlier one below


def test_a_station_without_a_picture_or_form_says_so(setup):
    html = Client().get(station_url(setup.stations[3])).content.decode()
    assert "data-no-picture" in html and "data-not-accepted" in html


def test_the_public_page_in_urdu_is_right_to_left(setup):
    station = setup.stations[0]
    photo = upload(setup.po, station, picture(setup, station)).photo
    response = Client().get(station_url(station, "ur"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="ur" dir="rtl"' in html and photo.sha256 in html


def test_an_unknown_station_is_404(setup):
    station = setup.stations[0]
    url = station_url(station).replace("/ps/1/", "/ps/99/")
    assert Client().get(url).status_code == 404


def test_the_original_bytes_are_served_with_safe_long_lived_headers(setup):
    station = setup.stations[0]
    data = picture(setup, station)
    photo = upload(setup.po, station, data).photo
    url = reverse("results:photo_file", kwargs={"photo_id": photo.pk, "ext": "jpg"})
    response = Client().get(url)
    assert response.status_code == 200 and response.getvalue() == data
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert response["ETag"] == f'"{photo.sha256}"'
    assert Client().get(url, HTTP_IF_NONE_MATCH=f'"{photo.sha256}"').status_code == 304
    assert Client().get(url.replace(".jpg", ".png")).status_code == 404
    assert Client().get(reverse("results:photo_file", kwargs={"photo_id": 999_999, "ext": "jpg"})).status_code == 404


def test_a_png_is_served_as_a_png(setup):
    from tests.results.test_forensics import png_bytes

    station = setup.stations[0]
    photo = upload(setup.po, station, png_bytes()).photo
    response = Client().get(reverse("results:photo_file", kwargs={"photo_id": photo.pk, "ext": "png"}))
    assert response["Content-Type"] == "image/png" and photo.file.name.endswith(".png")


def test_taken_times_show_in_pakistan_time(setup):
    station = setup.stations[0]
    taken = setup.close + datetime.timedelta(minutes=30)
    upload(setup.po, station, jpeg(seed=3, taken=taken, gps=setup.point(station)))
    html = Client().get(station_url(station)).content.decode()
    assert dateformat.format(timezone.localtime(taken), "j M Y, H:i:s") in html


# --- the PO's page in a real browser (JavaScript: progress, retries) ---------------------------------


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dropped_response_is_retried_with_the_same_key_and_stored_once(browser, live_server, tmp_path):
    """The first request reaches the server (the picture is stored) but its answer is lost, as on a
    slow mobile connection; the page retries by itself with the same key and is told "already received"."""
    import re

    from playwright.sync_api import expect

    s = make_setup()
    s.po.is_demo_account = True
    s.po.save(update_fields=["is_demo_account"])
    station = s.stations[1]
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(picture(s, station, seed=61))

    context = browser.new_context(viewport={"width": 360, "height": 740}, reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/staff/login/")
    page.fill("input[name=username]", s.po.username)
    page.fill("input[name=password]", "correct-horse-battery")
    page.locator("form.signin__box button[type=submit]").click()
    page.wait_for_url(re.compile(r"/staff/$"))

    sent_keys: list[str] = []

    def drop_the_first_answer(route):
        body = route.request.post_data_buffer or b""
        sent_keys.extend(k.decode() for k in re.findall(rb'name="idempotency_key"\r\n\r\n([A-Za-z0-9_-]+)', body))
        if len(sent_keys) == 1:
            # The server receives and stores the picture under the page's key (Chromium's interception does
            # not hand over file bytes, so it is stored here, as the server would)… and the answer is lost.
            try:
                photos.photo_upload(
                    actor=s.po, contest_station_id=station.pk, idempotency_key=sent_keys[0], content=path.read_bytes()
                )
            finally:
                connections.close_all()  # this callback runs in Playwright's greenlet, on a connection of its own
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/results/form45-photos/", drop_the_first_answer)
    page.goto(f"{live_server.url}/results/photos/upload/")
    page.select_option("select[name=contest_station]", str(station.pk))
    page.set_input_files("input[name=photo_gallery]", str(path))
    page.locator("[data-send]").click()

    sent = page.locator("[data-result] [data-sent]")
    expect(sent).to_be_visible(timeout=20_000)
    photo = Form45Photo.objects.get()
    expect(sent).to_contain_text(photo.sha256)
    expect(page.locator("[data-state]")).to_contain_text("already been received")
    assert len(sent_keys) == 2 and sent_keys[0] == sent_keys[1]
    assert Form45Photo.objects.count() == 1 and photo.contest_station == station
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    assert errors == []
    context.close()
