"""The RO's consolidation screens: produce forms, record postal ballots, read versions, download PDFs."""

import uuid

import pytest

from results import services
from results.models import Contest, FormVersion, PostalBallots
from results.services import Figures
from tests.results.factories import make_contest

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(settings):
    settings.OTP_DEMO_SKIP = True
    s = make_contest("NA-46", stations=2, candidates=2)
    for user in (s.deo1, s.deo2, s.ro):
        user.is_demo_account = True
        user.save(update_fields=["is_demo_account"])
    for station in s.stations:
        female = station.station_type == "female"
        f = Figures(
            0 if female else 300,
            310 if female else 300,
            310 if female else 600,
            10,
            {1: 200 if female else 390, 2: 100 if female else 200},
        )
        for user in (s.deo1, s.deo2):
            services.form45_entry_submit(
                actor=user, contest_station_id=station.pk, idempotency_key=uuid.uuid4().hex, figures=f
            )
    return s


def test_the_ro_runs_consolidation_from_the_dashboard(client, setup):
    client.force_login(setup.ro)
    dashboard = client.get(f"/results/contests/{setup.contest.pk}/").content.decode()
    assert "Produce Form-47" in dashboard

    response = client.post(f"/results/contests/{setup.contest.pk}/forms/47/")
    v47 = FormVersion.objects.get(form="47")
    assert response.status_code == 302 and response["Location"] == f"/results/forms/{v47.pk}/"
    page = client.get(f"/results/forms/{v47.pk}/").content.decode()
    assert v47.content_hash in page and "780" in page

    pdf = client.get(f"/results/forms/{v47.pk}/ur.pdf")
    assert pdf["Content-Type"] == "application/pdf" and b"".join(pdf.streaming_content).startswith(b"%PDF")

    bad = client.post(
        f"/results/contests/{setup.contest.pk}/postal/", {"rejected": "-1", "votes_1": "x", "votes_2": "0"}
    )
    assert bad.status_code == 200 and not PostalBallots.objects.exists()
    client.post(f"/results/contests/{setup.contest.pk}/postal/", {"rejected": "2", "votes_1": "5", "votes_2": "7"})
    client.post(f"/results/contests/{setup.contest.pk}/forms/48/")
    unconfirmed = client.post(f"/results/contests/{setup.contest.pk}/forms/49/")
    assert unconfirmed.status_code == 302 and not FormVersion.objects.filter(form="49").exists()
    client.post(f"/results/contests/{setup.contest.pk}/forms/49/", {"confirm": "yes"})
    setup.contest.refresh_from_db()
    assert setup.contest.status == Contest.Status.FINAL
    assert sorted(FormVersion.objects.values_list("form", flat=True)) == ["47", "48", "49"]


def test_operators_read_forms_but_cannot_produce_them(client, setup):
    client.force_login(setup.deo1)
    assert client.post(f"/results/contests/{setup.contest.pk}/forms/47/").status_code == 403
    assert client.get(f"/results/contests/{setup.contest.pk}/postal/").status_code == 403
    assert not FormVersion.objects.exists()
    assert "Produce Form-47" not in client.get(f"/results/contests/{setup.contest.pk}/").content.decode()


def test_other_constituencies_see_nothing(client, setup):
    from results import consolidation

    v47 = consolidation.form47_produce(actor=setup.ro, contest_id=setup.contest.pk)
    other = make_contest("NA-47")
    other.ro.is_demo_account = True
    other.ro.save(update_fields=["is_demo_account"])
    client.force_login(other.ro)
    for url in (
        f"/results/forms/{v47.pk}/",
        f"/results/forms/{v47.pk}/en.pdf",
        f"/results/contests/{setup.contest.pk}/postal/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/results/contests/{setup.contest.pk}/forms/48/").status_code == 404
