from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="evp.lookup_counts_flush", acks_late=True, soft_time_limit=50, time_limit=60)
def lookup_counts_flush_task() -> int:
    return services.lookup_counts_flush()
