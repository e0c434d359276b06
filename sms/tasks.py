"""sms's Celery tasks (queue ``sms``): thin, idempotent, they call services. A task killed mid-way is
redelivered (acks_late) or restarted by the sweep; the lease and lease token make a repeat harmless."""

from __future__ import annotations

from celery import shared_task

from core.context import acting


@shared_task(name="sms.campaign_start", acks_late=True, soft_time_limit=1800, time_limit=1860)
def campaign_start_task(campaign_id: int) -> str:
    from .services import campaign_start_run

    with acting(label="task:sms.campaign_start"):
        return campaign_start_run(campaign_id=campaign_id)


@shared_task(name="sms.campaign_dispatch", acks_late=True, soft_time_limit=300, time_limit=360)
def campaign_dispatch_task(campaign_id: int) -> str:
    from .services import campaign_dispatch_run

    with acting(label="task:sms.campaign_dispatch"):
        return campaign_dispatch_run(campaign_id=campaign_id)


@shared_task(name="sms.message_dispatch", acks_late=True, soft_time_limit=60, time_limit=90)
def message_dispatch_task(message_id: int) -> str:
    from .services import message_dispatch_run

    with acting(label="task:sms.message_dispatch"):
        return message_dispatch_run(message_id=message_id)


@shared_task(name="sms.sweep", acks_late=True, soft_time_limit=120, time_limit=150)
def sweep_task() -> dict:
    from .services import sweep

    with acting(label="task:sms.sweep"):
        return sweep()
