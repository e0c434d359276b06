"""URLs of the bench server (``bench/portal_settings.py``): the project's, plus the baseline view.

``/bench/minimal/`` is the smallest cached Django response: a few bytes read from the Django cache
(``cache.get``; set once) and sent through the project's whole middleware stack, on the same server and in the
same run as the live results pages it is compared with.
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.urls import path

from ecp_portal.urls import handler400, handler403, handler404, handler500  # noqa: F401 (the root URLconf's)
from ecp_portal.urls import urlpatterns as project_urlpatterns

MINIMAL_KEY = "bench:minimal"
MINIMAL_BODY = b"ok: a minimal cached response\n"
QUERIES_KEY = "bench:queries:"  # + kind: queries run by requests of that kind (a plain Redis counter)
REQUESTS_KEY = "bench:requests_with_queries:"  # + kind: how many of its requests ran any


def minimal(request):
    body = cache.get(MINIMAL_KEY)
    if body is None:
        body = MINIMAL_BODY
        cache.set(MINIMAL_KEY, body, timeout=None)
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


def request_kind(path_info: str) -> str:
    if "/results/live/" in path_info:
        return "live"
    if path_info.startswith("/api/"):
        return "api"
    if path_info.startswith("/bench/"):
        return "minimal"
    return "other"


@functools.cache
def counters() -> redis.Redis:
    """The Redis database of the cache, spoken to directly: INCRBY creates a missing counter (cache.incr does not)."""
    return redis.Redis.from_url(settings.REDIS_URL)


class QueryCounter:
    """Counts the queries a request runs; only a request that ran some writes to Redis (one round trip)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        if count:
            kind = request_kind(request.path_info)
            counters().pipeline(transaction=False).incrby(QUERIES_KEY + kind, count).incr(REQUESTS_KEY + kind).execute()
        return response


urlpatterns = [path("bench/minimal/", minimal, name="bench_minimal"), *project_urlpatterns]
