"""sms test fixtures: the memory provider, SMS officers, contacts in a group."""

from __future__ import annotations

import pytest

from core.models import Role, RoleAssignment
from sms.models import Contact, ContactGroup
from tests.factories import UserFactory


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
