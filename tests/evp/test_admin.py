"""The roll in the admin: read-only, found by an exact CNIC in any accepted shape, its history inline."""

from __future__ import annotations

import pytest

from evp.models import ElectorChange
from tests.core.test_admin import admin_client, superuser  # noqa: F401 (fixtures)
from tests.evp.conftest import MAN

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("term", [MAN, MAN.replace("-", ""), MAN.replace("-", " ")])
def test_an_elector_is_found_by_cnic_in_any_shape(admin_client, man, term):  # noqa: F811
    response = admin_client.get("/admin/evp/elector/", {"q": term})
    assert response.status_code == 200 and list(response.context["cl"].result_list) == [man]


@pytest.mark.parametrize("term", ["Ali", "35202", "۰۰۰", "'; DROP TABLE evp_elector; --"])
def test_anything_but_a_cnic_finds_nothing_and_scans_nothing(admin_client, man, term):  # noqa: F811
    response = admin_client.get("/admin/evp/elector/", {"q": term})
    assert response.status_code == 200 and list(response.context["cl"].result_list) == []


def test_an_electors_page_shows_its_history_and_offers_no_change(admin_client, man):  # noqa: F811
    ElectorChange.objects.create(
        elector=man, changed_at=man.updated_at, source="import:1", before={"serial": 1}, after={"serial": 300}
    )
    response = admin_client.get(f"/admin/evp/elector/{man.pk}/change/")
    assert response.status_code == 200 and b"import:1" in response.content
    assert b'name="_save"' not in response.content
    assert admin_client.post(f"/admin/evp/elector/{man.pk}/delete/").status_code == 403
