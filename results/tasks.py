"""results' Celery tasks: thin, idempotent, they call the app's functions."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from core.context import acting

NATIONAL_EXPORTS = (("csv", "en"), ("csv", "ur"), ("json", "en"))


def national_exports_soon(election_id: int) -> None:
    """After a publication: have the election's national export files rebuilt in the background, at most once
    a RESULTS_EXPORT_INTERVAL_SECONDS, so that downloads find them ready instead of building them."""
    interval = settings.RESULTS_EXPORT_INTERVAL_SECONDS
    if cache.add(f"results:exports-queued:{election_id}", 1, timeout=interval):
        national_exports_task.apply_async((election_id,), countdown=interval)


@shared_task(name="results.national_exports", acks_late=True, soft_time_limit=1800, time_limit=1860)
def national_exports_task(election_id: int) -> str:
    """Build the election's national CSV (English, Urdu) and JSON for its current revision, unless present."""
    from .exports import ExportBusy, national_file
    from .models import Election

    election = Election.objects.filter(pk=election_id).first()
    if election is None:
        return "no such election"
    built = []
    with acting(label="task:results.national_exports"):
        for fmt, language in NATIONAL_EXPORTS:
            try:
                export = national_file(election=election, fmt=fmt, language=language)
            except ExportBusy:  # another process is building it right now
                continue
            export.file.close()
            built.append(f"{fmt}/{language} r{export.revision}")
    return ", ".join(built)
