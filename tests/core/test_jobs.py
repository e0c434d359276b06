import pytest

from core import services
from core.models import AuditEvent, Job, JobStatus, Role, RoleAssignment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_job_lifecycle_and_progress():
    owner = UserFactory()
    job = services.job_create(actor=owner, kind="import", title="Import scheme")
    services.job_start(job_id=job.pk, total=200)
    services.job_advance(job_id=job.pk, by=50)
    services.job_add_errors(job_id=job.pk, errors=[{"line": 7, "message": "bad CNIC"}])
    job.refresh_from_db()
    assert (job.status, job.done, job.percent, job.error_count) == (JobStatus.RUNNING, 50, 25, 1)
    services.job_finish(job_id=job.pk, message="done")
    job.refresh_from_db()
    assert (job.status, job.percent, job.done) == (JobStatus.SUCCEEDED, 100, 200)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["job.started", "job.finished"]


def test_a_finished_job_cannot_be_started_or_finished_again():
    job = services.job_create(actor=None, kind="import", title="x", total=1)
    services.job_finish(job_id=job.pk, status=JobStatus.FAILED, message="file unreadable")
    services.job_start(job_id=job.pk)
    services.job_finish(job_id=job.pk, status=JobStatus.SUCCEEDED)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.message == "file unreadable"
    assert AuditEvent.objects.filter(action="job.finished").count() == 1


def test_errors_kept_are_capped_but_counted():
    job = services.job_create(actor=None, kind="import", title="x")
    services.job_add_errors(job_id=job.pk, errors=[{"line": n} for n in range(services.MAX_JOB_ERRORS_KEPT + 5)])
    job.refresh_from_db()
    assert len(job.errors) == services.MAX_JOB_ERRORS_KEPT and job.error_count == services.MAX_JOB_ERRORS_KEPT + 5


def test_progress_json_is_for_the_owner_and_administrators_only(client):
    owner, other, admin = UserFactory(), UserFactory(), UserFactory()
    RoleAssignment.objects.create(user=admin, role=Role.ADMIN)
    job = services.job_create(actor=owner, kind="import", title="Import scheme", total=4)
    services.job_advance(job_id=job.pk, by=1)
    url = f"/jobs/{job.pk}/progress.json"

    assert client.get(url).status_code == 404
    client.force_login(other)
    assert client.get(url).status_code == 404
    client.force_login(owner)
    body = client.get(url).json()
    assert (body["percent"], body["done"], body["total"], body["finished"]) == (25, 1, 4, False)
    client.force_login(admin)
    assert client.get(url).status_code == 200
    assert Job.objects.get(pk=job.pk).done == 1


def test_progress_beyond_the_estimated_total_raises_the_total():
    job = services.job_create(actor=None, kind="import", title="x", total=10)
    services.job_set_progress(job_id=job.pk, done=12)
    job.refresh_from_db()
    assert (job.done, job.total, job.percent) == (12, 12, 100)
