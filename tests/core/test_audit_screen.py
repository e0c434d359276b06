import pytest

from core import audit
from core.models import Job, JobStatus, Role, RoleAssignment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_admin(settings):
    settings.OTP_DEMO_SKIP = True
    user = UserFactory(is_demo_account=True, is_staff=True)
    RoleAssignment.objects.create(user=user, role=Role.ADMIN)
    return user


def test_administrator_sees_the_head_and_runs_a_verification(client, demo_admin, django_capture_on_commit_callbacks):
    for n in range(3):
        audit.record(action="demo.seeded", data={"n": n})
    client.force_login(demo_admin)
    page = client.get("/staff/audit/")
    assert page.status_code == 200
    assert audit.head()[1] in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/staff/audit/")
    assert response.status_code == 302
    job = Job.objects.get(kind="audit.verify")  # tasks run in-process in tests
    assert job.status == JobStatus.SUCCEEDED and job.result["ok"] is True
    assert "progress" in client.get("/staff/audit/").content.decode()


def test_other_staff_are_refused_and_start_nothing(client, settings):
    settings.OTP_DEMO_SKIP = True
    desk = UserFactory(is_demo_account=True, is_staff=True)
    client.force_login(desk)
    assert client.get("/staff/audit/").status_code == 403
    assert client.post("/staff/audit/").status_code == 403
    assert not Job.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/staff/audit/")
    assert response.status_code == 302 and "/staff/login/" in response["Location"]
