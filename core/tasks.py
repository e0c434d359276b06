"""core's Celery tasks: thin, idempotent, they call services."""

from __future__ import annotations

from celery import shared_task

from .context import acting


@shared_task(name="core.audit_verify", acks_late=True, soft_time_limit=3 * 3600, time_limit=3 * 3600 + 60)
def audit_verify_task(job_id: str) -> str:
    """Walk the audit chain for a Job started by core.services.audit_verification_start."""
    from .services import audit_verification_run

    with acting(label="task:core.audit_verify"):
        return audit_verification_run(job_id=job_id)
