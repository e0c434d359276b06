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


@shared_task(name="core.polling_scheme_import", acks_late=True, soft_time_limit=3600, time_limit=3660)
def polling_scheme_import_task(job_id: str, path: str, file_name: str) -> str:
    """Import an uploaded polling scheme for a Job started by polling_scheme_upload_start."""
    from .importers.services import polling_scheme_import_run

    with acting(label="task:core.polling_scheme_import"):
        return polling_scheme_import_run(job_id=job_id, path=path, file_name=file_name)
