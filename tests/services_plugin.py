"""Loaded with ``-p tests.services_plugin`` (see pyproject.toml) before
pytest-django reads the settings, so it can point them at the real services.

- If DATABASE_URL / REDIS_URL are unset and PostgreSQL / Redis answer on
  127.0.0.1 (5432, 6379), the tests use them.
- Otherwise tests run on SQLite and local memory, and tests marked
  ``postgres`` or ``redis`` are skipped, with one line saying how many and why.
- With REQUIRE_SERVICES=1 a missing PostgreSQL or Redis fails the run.
"""

from __future__ import annotations

import os
import socket

import pytest

PG_URL = "postgres://postgres@127.0.0.1:5432/ecp_portal"
REDIS_URL = "redis://127.0.0.1:6379/14"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = PG_URL
if "REDIS_URL" not in os.environ and _answers("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = REDIS_URL
# Tests enqueue to the real broker only where a test starts a worker; elsewhere tasks run in-process.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
# The Playwright page fixture runs an event loop; the ORM beside it is used synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecp_portal.settings")

HAVE_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
HAVE_REDIS = bool(os.environ.get("REDIS_URL"))
REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"

_skipped: dict[str, int] = {"postgres": 0, "redis": 0}


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (row locks, concurrent writers, COPY)")
    config.addinivalue_line("markers", "redis: needs a Redis server (broker, cache, rate limits)")
    config.addinivalue_line("markers", "e2e: drives a real browser (Debian's Chromium)")
    missing = [name for name, ok in (("PostgreSQL", HAVE_POSTGRES), ("Redis", HAVE_REDIS)) if not ok]
    if REQUIRED and missing:
        raise pytest.UsageError(
            f"REQUIRE_SERVICES=1 but {' and '.join(missing)} did not answer "
            "(set DATABASE_URL / REDIS_URL or start them on 127.0.0.1)."
        )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and not HAVE_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL"))
            _skipped["postgres"] += 1
        elif "redis" in item.keywords and not HAVE_REDIS:
            item.add_marker(pytest.mark.skip(reason="needs Redis"))
            _skipped["redis"] += 1


def pytest_report_header(config):
    db = os.environ.get("DATABASE_URL", "sqlite (embedded default)")
    return f"services: database={db.split('@')[-1]} redis={os.environ.get('REDIS_URL', 'absent')}"


def pytest_terminal_summary(terminalreporter):
    parts = [
        f"{n} need {name}" for name, n in (("PostgreSQL", _skipped["postgres"]), ("Redis", _skipped["redis"])) if n
    ]
    if parts:
        terminalreporter.write_line(
            f"SKIPPED {sum(_skipped.values())} tests ({', '.join(parts)}): start the service on 127.0.0.1 "
            "or set DATABASE_URL/REDIS_URL to run them; REQUIRE_SERVICES=1 makes this a failure."
        )
