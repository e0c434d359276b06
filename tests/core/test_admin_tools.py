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


SCHEME_HEADER = (
    "province,district,constituency_code,constituency_name,ps_number,ps_name,station_type,"
    "male_voters,female_voters,male_booths,female_booths,lat,lon\n"
)


def _upload(name: str, body: str | bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, body.encode() if isinstance(body, str) else body, content_type="text/csv")


def test_an_uploaded_scheme_is_imported_as_a_job(client, demo_admin, django_capture_on_commit_callbacks):
    from core.models import PollingStation

    body = SCHEME_HEADER + (
        "ICT,Islamabad,NA-46,Islamabad-I,1,Government School G-6,combined,900,850,2,2,33.70,73.08\n"
        'ICT,Islamabad,NA-46,Islamabad-I,2,"Girls College, F-7",female,0,1200,0,3,,\n'
    )
    client.force_login(demo_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/staff/geography/import/", {"file": _upload("na46.csv", body)})
    assert response.status_code == 302
    job = Job.objects.get(kind="geography.scheme_import")
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert (job.done, job.total, job.result["stations_created"]) == (2, 2, 2)
    assert PollingStation.objects.filter(constituency__code="NA-46").count() == 2
    event = audit_events("geography.scheme_imported").get()
    assert (event.actor_id, event.data["file_name"]) == (demo_admin.pk, "na46.csv")


def test_a_bad_scheme_fails_its_job_with_the_bad_row_report_and_imports_nothing(
    client, demo_admin, django_capture_on_commit_callbacks
):
    from core.models import PollingStation

    body = SCHEME_HEADER + "ICT,Islamabad,NA-46,Islamabad-I,1,School,martian,900,850,2,2,,\n"
    client.force_login(demo_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/staff/geography/import/", {"file": _upload("bad.csv", body)})
    job = Job.objects.get(kind="geography.scheme_import")
    assert job.status == JobStatus.FAILED
    assert job.errors[0]["line"] == 2 and "station_type" in job.errors[0]["message"]
    assert not PollingStation.objects.exists()
    assert not audit_events("geography.scheme_imported").exists()
    page = client.get("/staff/geography/import/").content.decode()
    assert "station_type" in page


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("scheme.xlsx", "a,b\n", "Choose a .csv file."),
        ("scheme.csv", b"PK\x03\x04\x00\x00binary", "binary data"),
    ],
)
def test_wrong_files_are_refused_at_the_form_and_start_nothing(client, demo_admin, name, body, message):
    client.force_login(demo_admin)
    response = client.post("/staff/geography/import/", {"file": _upload(name, body)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Job.objects.exists()


def test_an_oversized_upload_is_refused(client, demo_admin, settings):
    settings.MAX_IMPORT_UPLOAD_BYTES = 100
    client.force_login(demo_admin)
    response = client.post("/staff/geography/import/", {"file": _upload("big.csv", SCHEME_HEADER * 5)})
    assert "the limit here is" in response.content.decode()
    assert not Job.objects.exists()


def audit_events(action):
    from core.models import AuditEvent

    return AuditEvent.objects.filter(action=action)
