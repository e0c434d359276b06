"""Shared complaint fixtures: a small office hierarchy, a category, desks, and complaints made directly (with the
one-time code row the one-to-one requires) for tests that are not about filing."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from complaints.models import Category, Complaint, ComplaintEvent, Desk, EventKind
from complaints.ticket import ticket_number
from core.models import OfficeKind
from sms.models import OtpChallenge
from tests.factories import OfficeFactory
from tests.sms.conftest import fake_phone

_sequence = itertools.count()


@pytest.fixture
def offices(db):
    """CEC → Secretary → PEC Punjab → REC Lahore → DEC Lahore and DEC Kasur; PEC Sindh → REC Karachi → DEC
    Karachi."""
    cec = OfficeFactory(code="t-cec", kind=OfficeKind.CEC, name="CEC")
    secretary = OfficeFactory(code="t-secretary", kind=OfficeKind.SECRETARY, name="Secretary", parent=cec)
    pec = OfficeFactory(code="t-pec-punjab", kind=OfficeKind.PEC, name="PEC Punjab", parent=secretary)
    rec = OfficeFactory(code="t-rec-lahore", kind=OfficeKind.REC, name="REC Lahore", parent=pec)
    dec = OfficeFactory(code="t-dec-lahore", kind=OfficeKind.DEC, name="DEC Lahore", parent=rec)
    dec2 = OfficeFactory(code="t-dec-kasur", kind=OfficeKind.DEC, name="DEC Kasur", parent=rec)
    pec_sindh = OfficeFactory(code="t-pec-sindh", kind=OfficeKind.PEC, name="PEC Sindh", parent=secretary)
    rec_karachi = OfficeFactory(code="t-rec-karachi", kind=OfficeKind.REC, name="REC Karachi", parent=pec_sindh)
    dec_karachi = OfficeFactory(code="t-dec-karachi", kind=OfficeKind.DEC, name="DEC Karachi", parent=rec_karachi)
    return SimpleNamespace(
        cec=cec,
        secretary=secretary,
        pec=pec,
        rec=rec,
        dec=dec,
        dec2=dec2,
        pec_sindh=pec_sindh,
        rec_karachi=rec_karachi,
        dec_karachi=dec_karachi,
    )


@pytest.fixture
def category(db):
    return Category.objects.get_or_create(code="t-polling", defaults={"name": "Polling station", "name_ur": "پولنگ"})[0]


@pytest.fixture
def desk_for(db):
    def make(office, officer=None, name: str | None = None) -> Desk:
        return Desk.objects.create(office=office, officer=officer, name=name or f"Desk {next(_sequence)}")

    return make


@pytest.fixture
def make_complaint(db, category):
    """A complaint at ``office`` made directly (no SMS, no audit), with its "filed" event."""

    def make(office, **fields) -> Complaint:
        now = fields.pop("created_at", None) or timezone.now()
        n = next(_sequence)
        mobile = fields.pop("mobile", fake_phone(n % 90))
        otp = OtpChallenge.objects.create(
            id=uuid.uuid4(),
            phone=mobile,
            purpose="complaint",
            code_hash="-",
            created_at=now,
            expires_at=now + timedelta(minutes=5),
            verified_at=now,
        )
        complaint = Complaint.objects.create(
            ticket=ticket_number(now.year, n, b"test-key"),
            year=now.year,
            sequence=n,
            name="Test Complainant",
            cnic="3520212345673",
            mobile=mobile,
            addressed_to=office,
            office=office,
            category=fields.pop("category", category),
            subject=fields.pop("subject", "Polling station moved"),
            description="The station in my block was moved.",
            otp=otp,
            created_at=now,
            updated_at=now,
            **fields,
        )
        ComplaintEvent.objects.create(complaint=complaint, at=now, kind=EventKind.FILED, office=office)
        return complaint

    return make
