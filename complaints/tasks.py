from __future__ import annotations

from celery import shared_task

from core.context import acting

from . import services


@shared_task(name="complaints.sla_sweep", acks_late=True, soft_time_limit=50, time_limit=60)
def sla_sweep_task() -> dict:
    """Every minute (beat): SLA warnings and escalations. Safe to run twice at once (rows are SKIP LOCKED)."""
    with acting(label="task:complaints.sla_sweep"):
        result = services.sla_sweep()
    return {"warned": result.warned, "escalated": result.escalated, "missed_at_top": result.missed_at_top}
