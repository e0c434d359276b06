"""A long job on a real Celery worker process, reporting progress on its Job row."""

import pytest
from django.db import connection, transaction

from core import audit, services
from core.models import AuditEvent, Job, JobStatus
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.is_finished else None


def test_audit_verification_runs_on_a_worker_and_reports_progress():
    for n in range(30):
        audit.record(action="demo.seeded", data={"n": n})
    with celery_worker(queues="default") as worker:
        job = services.audit_verification_start(actor=None)
        job = wait_for(lambda: _finished(job.pk), what="the verification job")
    assert job.status == JobStatus.SUCCEEDED, worker.log
    # the chain grew by the job's own "job.started" event while it ran: 30 + 1 events verified
    assert (job.total, job.done, job.result["ok"], job.result["checked"]) == (31, 31, True, 31)
    started = AuditEvent.objects.get(action="job.started")
    assert started.actor_label == "task:core.audit_verify"
    assert "core.audit_verify" in worker.log


def test_a_broken_chain_fails_the_job_with_the_position():
    for n in range(5):
        audit.record(action="demo.seeded", data={"n": n})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE core_auditevent SET data = '{\"n\": 7}' WHERE seq = 4")
    with celery_worker(queues="default"):
        job = services.audit_verification_start(actor=None)
        job = wait_for(lambda: _finished(job.pk), what="the verification job")
    assert job.status == JobStatus.FAILED
    assert job.result["broken_seq"] == 4 and job.errors[0]["item"] == 4
    assert "#4" in job.message
