"""Settings of the gunicorn server started by ``bench/results_portal.py`` (never used by the project).

Everything of ``ecp_portal.settings``, with two bench-only additions:
- ``ROOT_URLCONF = "bench.portal_urls"``: the project's URLs plus ``/bench/minimal/``, the baseline (a small
  body from the Django cache through the full middleware stack);
- ``bench.portal_urls.QueryCounter`` first in the middleware: counts the database queries each kind of request
  ran (live pages, API, baseline) into the cache, so the bench can show that a burst of readers does not reach
  the database. A request that runs no query costs it one ``execute_wrapper`` and nothing else.
"""

from ecp_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.portal_urls"
MIDDLEWARE = ["bench.portal_urls.QueryCounter", *MIDDLEWARE]  # noqa: F405
