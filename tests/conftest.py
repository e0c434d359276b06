"""Shared fixtures. Services (PostgreSQL, Redis) are chosen by tests/services_plugin.py."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium, never a downloaded browser (../shared/STACK.md).
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttles, rate limits and cached pages must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploads made by a test land in its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing with the production hasher costs ~0.3 s a user; tests don't need that strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A test that renders an Urdu page must not leave Urdu active for the next one."""
    from django.utils import translation

    yield
    translation.activate("en")


# --- SMS, shared by the apps that send or answer messages ------------------------------------------------------


@pytest.fixture
def memory(settings):
    """The in-memory SMS provider: what was handed over is in memory.sent()."""
    from sms.providers.local import MemoryProvider

    settings.SMS_PROVIDER = "memory"
    settings.SMS_RATE_PER_SECOND = 0
    settings.PUBLIC_BASE_URL = "https://portal.example.pk"
    MemoryProvider.reset()
    yield MemoryProvider
    MemoryProvider.reset()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and then what it left for after the commit (the tasks it enqueued, run eagerly)."""

    def run(fn, /, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
