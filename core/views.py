"""Public pages of core: home, the "coming soon" page of apps not built yet,
job progress JSON, /healthz, and the error pages."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from . import selectors
from .services_registry import services

logger = logging.getLogger(__name__)


class HomeView(TemplateView):
    template_name = "core/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        cards = []
        for label, service in services():
            try:
                url = reverse(service.url_name)
            except NoReverseMatch:
                url = ""
            cards.append({"label": label, "service": service, "url": url})
        ctx["cards"] = cards
        return ctx


class ComingSoonView(TemplateView):
    """The honest index page of an initiative app that is not built yet."""

    template_name = "core/coming_soon.html"
    app_label = ""

    def get_context_data(self, **kwargs):
        from django.apps import apps

        ctx = super().get_context_data(**kwargs)
        ctx["service"] = apps.get_app_config(self.app_label).service
        return ctx


@never_cache
def job_progress(request, job_id):
    """Progress of a job the user may watch, as JSON for templates/core/_progress.html."""
    job = selectors.job_get_for(user=request.user, job_id=job_id)
    if job is None:
        raise Http404
    return JsonResponse(
        {
            "id": str(job.id),
            "title": job.title,
            "status": job.status,
            "status_display": str(job.get_status_display()),
            "total": job.total,
            "done": job.done,
            "percent": job.percent,
            "error_count": job.error_count,
            "errors": job.errors[:20],
            "message": job.message,
            "finished": job.is_finished,
        }
    )


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _check_cache() -> dict:
    key = "healthz:probe"
    stamp = str(time.time())
    cache.set(key, stamp, 30)
    return {"ok": cache.get(key) == stamp, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _check_broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "eager"}
    from ecp_portal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"ok": True, "mode": "broker"}


@never_cache
def health(request):
    """Database, cache and broker status: 200 when all answer, 503 otherwise."""
    checks = {}
    for name, probe in (("database", _check_database), ("cache", _check_cache), ("broker", _check_broker)):
        started = time.perf_counter()
        try:
            checks[name] = probe()
        except Exception as exc:  # a health probe reports every failure, whatever its type
            logger.warning("health check %s failed: %s", name, exc.__class__.__name__)
            checks[name] = {"ok": False, "error": exc.__class__.__name__}
        checks[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)


def _error_page(request, status: int, template: str):
    if request.path.startswith("/api/"):
        codes = {400: "bad_request", 403: "permission_denied", 404: "not_found", 500: "server_error"}
        return JsonResponse({"code": codes[status], "message": template, "fields": {}}, status=status)
    return render(request, f"errors/{status}.html", status=status)


def bad_request(request, exception=None):
    return _error_page(request, 400, "Bad request.")


def permission_denied(request, exception=None):
    return _error_page(request, 403, "You do not have permission to do this.")


def page_not_found(request, exception=None):
    return _error_page(request, 404, "Not found.")


def server_error(request):
    return _error_page(request, 500, "Something went wrong on our side; it has been logged.")
