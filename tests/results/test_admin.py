import pytest

from tests.factories import UserFactory
from tests.results.factories import make_contest

pytestmark = pytest.mark.django_db

MODELS = ["election", "contest", "conteststation", "form45entry", "form45", "flag", "formversion", "signingkey"]


@pytest.fixture
def admin_client(client, settings):
    settings.OTP_DEMO_SKIP = True
    client.force_login(UserFactory(is_staff=True, is_superuser=True, is_demo_account=True))
    return client


def test_every_results_changelist_renders(admin_client):
    make_contest()
    for model in MODELS:
        assert admin_client.get(f"/admin/results/{model}/").status_code == 200, model


def test_results_records_cannot_be_added_or_changed_in_the_admin(admin_client):
    setup = make_contest()
    for model in ["contest", "conteststation", "form45entry", "form45", "flag", "formversion"]:
        assert admin_client.get(f"/admin/results/{model}/add/").status_code == 403, model
    response = admin_client.post(f"/admin/results/contest/{setup.contest.pk}/change/", {"status": "final"})
    assert response.status_code == 403
    setup.contest.refresh_from_db()
    assert setup.contest.status == "counting"


def test_a_signing_key_added_in_the_admin_goes_through_the_service(admin_client):
    from core.models import AuditEvent
    from results.models import SigningKey

    setup = make_contest()
    response = admin_client.post(
        "/admin/results/signingkey/add/",
        {"label": "RO laptop", "constituency": setup.contest.constituency.pk, "public_key": "not-a-key"},
    )
    assert response.status_code == 200 and not SigningKey.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="results.signing_key").exists()
