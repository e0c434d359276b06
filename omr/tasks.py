from __future__ import annotations

from celery import shared_task

from core.context import acting

from . import services


@shared_task(name="omr.sheet_read", acks_late=True, soft_time_limit=60, time_limit=90)
def sheet_read_task(sheet_id: int) -> str:
    """Read one scanned sheet (queue ``omr``). Idempotent: a redelivered task finds the sheet read."""
    with acting(label="task:omr.sheet_read"):
        return services.sheet_read(sheet_id=sheet_id)
