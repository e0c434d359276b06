"""sms test fixtures: the memory provider, SMS officers, contacts in a group."""

from __future__ import annotations

import pytest

from core.models import Role, RoleAssignment
from sms.models import Contact, ContactGroup
from sms.providers.local import MemoryProvider
from tests.factories import UserFactory


@pytest.fixture
def memory(settings):
    settings.SMS_PROVIDER = "memory"
    settings.SMS_RATE_PER_SECOND = 0
    settings.PUBLIC_BASE_URL = "https://portal.example.pk"
    MemoryProvider.reset()
    yield MemoryProvider
    MemoryProvider.reset()


def officer(username: str):
    user = UserFactory(username=username)
    RoleAssignment.objects.create(user=user, role=Role.SMS_OFFICER)
    return user


@pytest.fixture
def maker(db):
    return officer("maker")


@pytest.fixture
def checker(db):
    return officer("checker")


def fake_phone(n: int) -> str:
    """A generated Pakistani mobile (Jazz 0300 range), never a real person's listed number."""
    return f"+92300{n:07d}"


@pytest.fixture
def media_group(db):
    group = ContactGroup.objects.create(name="Media")
    for n in range(12):
        c = Contact.objects.create(name=f"Reporter {n}", phone=fake_phone(n), language="en" if n % 3 == 0 else "ur")
        c.groups.add(group)
    return group


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and then what it left for after the commit (the tasks it enqueued, run eagerly)."""

    def run(fn, /, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
