"""The public "Check your vote" page (/evp/, /ur/evp/) and the mobile app's lookup (POST /api/v1/evp/lookup/):
statuses, what is shown (never a name, an address or a date of birth), limits, CSRF, and no-store on every
answer."""

from __future__ import annotations

import re

import pytest
from django.db.models import Sum
from django.test import Client

from core.cnic import mask
from evp import api, services
from evp.models import LookupCount, Outcome
from evp.selectors import elector_voting_details
from tests.evp.conftest import MAN, NOBODY, WOMAN
from tests.evp.factories import ElectorFactory

pytestmark = pytest.mark.django_db

PAGE = "/evp/"
API = "/api/v1/evp/lookup/"


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def html(response) -> str:
    return response.content.decode()


# --- the page -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/evp/", "/ur/evp/"])
def test_the_page_opens_in_both_languages_and_is_not_stored(client, world, path):
    response = client.get(path)
    assert response.status_code == 200 and no_store(response)
    assert 'name="cnic"' in html(response)
    assert ('<html lang="ur" dir="rtl"' in html(response)) == path.startswith("/ur/")


def test_a_found_cnic_shows_block_serial_and_station_and_never_the_name_or_address(client, man, world):
    response = client.post(PAGE, {"cnic": "35202-1234567-3"})
    page = html(response)
    assert response.status_code == 200 and no_store(response)
    assert "310000001" in page and ">300 <" in page and world.n1.name in page and "NA-60" in page
    assert "35202-•••••••-3" in page
    for personal in (
        man.name,
        man.name_ur,
        man.address,
        man.address_ur,
        man.relation_name,
        "1979",
        MAN,
        "35202-1234567",
    ):
        assert personal not in page
    assert 'value=""' in page  # the field is empty again: no CNIC stays on the page


def test_the_urdu_page_shows_the_urdu_names(client, man, world):
    page = html(client.post("/ur/evp/", {"cnic": MAN}))
    assert world.n1.name_ur in page and world.block.electoral_area_ur in page


def test_the_female_list_is_named(client, woman, world):
    page = html(client.post(PAGE, {"cnic": WOMAN}))
    assert world.n2.name in page and "female list" in page


def test_an_unknown_cnic_says_so_with_200(client, world):
    response = client.post(PAGE, {"cnic": NOBODY})
    assert response.status_code == 200 and no_store(response)
    assert "No entry on the electoral roll" in html(response) and "12345-•••••••-1" in html(response)


def test_an_entry_no_longer_on_the_roll_shows_its_status_without_a_station(client, world):
    ElectorFactory(cnic=int(WOMAN), gender="F", block=world.block, serial=4, status="deceased")
    response = client.post(PAGE, {"cnic": WOMAN})
    assert response.status_code == 200 and "marked deceased" in html(response)
    assert world.n2.name not in html(response)


@pytest.mark.parametrize(
    ("value", "says"),
    [("352021234567", "this has 12"), ("abc", "A CNIC has 13 digits"), ("", "Enter your CNIC number")],
)
def test_an_invalid_cnic_is_400_with_the_error_beside_the_field(client, world, value, says):
    response = client.post(PAGE, {"cnic": value})
    page = html(response)
    assert response.status_code == 400 and no_store(response)
    errors = re.search(r'<ul class="evp-errors"[^>]*>(.*?)</ul>', page, re.S)
    assert errors and says in errors.group(1) and 'aria-invalid="true"' in page


def test_over_the_limit_is_429_with_a_message(client, settings, man):
    settings.EVP_CLIENT_LIMIT = 2
    assert [client.post(PAGE, {"cnic": MAN}).status_code for _ in range(2)] == [200, 200]
    response = client.post(PAGE, {"cnic": MAN})
    assert response.status_code == 429 and no_store(response)
    assert "Too many lookups from you" in html(response) and "310000001" not in html(response)
    other = Client(REMOTE_ADDR="198.51.100.20").post(PAGE, {"cnic": MAN})
    assert other.status_code == 200


def test_a_blocked_address_is_429_and_told_so(client, settings, man):
    settings.EVP_ABUSE_DISTINCT_CNICS = 2
    for n in range(2):
        client.post(PAGE, {"cnic": f"4210{n + 1:09d}"})
    response = client.post(PAGE, {"cnic": MAN})
    assert response.status_code == 429 and "suspended" in html(response)


def test_the_form_needs_its_csrf_token(man):
    client = Client(enforce_csrf_checks=True)
    refused = client.post(PAGE, {"cnic": MAN})
    assert refused.status_code == 403 and "310000001" not in html(refused)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html(client.get(PAGE))).group(1)
    allowed = client.post(PAGE, {"cnic": MAN, "csrfmiddlewaretoken": token})
    assert allowed.status_code == 200 and "310000001" in html(allowed)


# --- the API ------------------------------------------------------------------------------------------------------


def post(client, body, **extra):
    return client.post(API, body, content_type="application/json", **extra)


def test_the_api_gives_the_8300_fields_and_nothing_personal(client, man, world):
    response = post(client, {"cnic": "۳۵۲۰۲-۱۲۳۴۵۶۷-۳"})
    assert response.status_code == 200 and no_store(response)
    expected = api.lookup_body(
        services.Lookup(Outcome.FOUND, details=elector_voting_details(MAN), cnic_masked=mask(MAN))
    )
    body = response.json()
    assert body == expected
    assert set(body) == {
        "status",
        "cnic",
        "census_block",
        "list",
        "serial",
        "family_number",
        "electoral_area",
        "tehsil",
        "district",
        "constituencies",
        "polling_station",
    }
    assert not set(body) & {"name", "address", "date_of_birth", "name_ur", "relation_name"}
    assert (body["status"], body["cnic"], body["census_block"], body["list"], body["serial"]) == (
        "found",
        "35202-•••••••-3",
        "310000001",
        "M",
        300,
    )
    assert body["polling_station"] == {"number": 1, "name": world.n1.name, "name_ur": world.n1.name_ur}
    assert body["constituencies"] == ["NA-60", "PP-90"]
    assert man.name not in response.content.decode() and man.address not in response.content.decode()


def test_the_api_gives_an_entry_no_longer_on_the_roll_with_its_status_and_a_sentence(client, world):
    ElectorFactory(cnic=int(WOMAN), gender="F", block=world.block, serial=4, status="shifted")
    response = post(client, {"cnic": WOMAN})
    assert response.status_code == 200 and no_store(response)
    body = response.json()
    assert set(body) == {"status", "cnic", "message"} and body["status"] == "shifted" and "shifted" in body["message"]


def test_the_api_says_404_not_found(client, world):
    response = post(client, {"cnic": NOBODY})
    assert response.status_code == 404 and no_store(response)
    assert response.json()["code"] == "not_found" and "12345-•••••••-1" in response.json()["message"]


@pytest.mark.parametrize("body", [{"cnic": "352021234567"}, {"cnic": "hello"}, {"cnic": ""}, {}, {"cnic": "1" * 41}])
def test_the_api_refuses_an_invalid_or_missing_cnic_with_400_naming_the_field(client, world, body):
    response = post(client, body)
    assert response.status_code == 400 and no_store(response)
    fields = response.json()["fields"]
    assert list(fields) == ["cnic"] and fields["cnic"] and all(isinstance(m, str) for m in fields["cnic"])


def test_the_api_refuses_over_the_limit_with_429(client, settings, man):
    settings.EVP_CLIENT_LIMIT = 1
    assert post(client, {"cnic": MAN}).status_code == 200
    response = post(client, {"cnic": MAN})
    assert response.status_code == 429 and no_store(response) and response.json()["code"] == "rate_limited"


def test_the_api_refuses_a_blocked_address_with_429_blocked(client, settings, man):
    settings.EVP_ABUSE_DISTINCT_CNICS = 1
    post(client, {"cnic": NOBODY})
    response = post(client, {"cnic": MAN})
    assert response.status_code == 429 and no_store(response) and response.json()["code"] == "blocked"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_the_api_answers_only_post(client, world, method):
    response = getattr(client, method)(API)
    assert response.status_code == 405 and no_store(response)


def test_lookups_are_counted_per_channel(client, man):
    client.post(PAGE, {"cnic": MAN})
    post(client, {"cnic": MAN})
    post(client, {"cnic": NOBODY})
    services.lookup_counts_flush()
    counted = dict(LookupCount.objects.values_list("channel").annotate(n=Sum("count")).order_by())
    assert counted == {"web": 1, "api": 2}
