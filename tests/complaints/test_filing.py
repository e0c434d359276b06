"""Filing a complaint (issue 7's first step): only with a mobile number verified by a one-time code, once per
code; a ticket number from the year's counter, by SMS; a public "filed" event; audited. Any broken rule names
its field and stores nothing. Concurrent filings take distinct numbers (real threads on PostgreSQL)."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection

from complaints.models import Category, Complaint, ComplaintEvent, TicketCounter
from complaints.services import complaint_file
from complaints.ticket import normalize, sequence_of
from core.exceptions import DomainError
from core.models import AuditEvent
from sms import services as sms
from sms.models import Message
from tests.factories import OfficeFactory
from tests.sms.conftest import fake_phone

MOBILE = fake_phone(40)


def _verified(memory, mobile: str = MOBILE, purpose: str = "complaint"):
    challenge = sms.otp_send(phone=mobile, purpose=purpose)
    code = re.search(r"\d{6}", memory.sent()[-1].body if memory.sent() else Message.objects.latest("id").body)[0]
    return sms.otp_verify(challenge_id=challenge.pk, code=code, purpose=purpose)


def _data(office_, category_, /, **changes) -> dict:
    data = {
        "name": "Sana Javed",
        "cnic": "35202-1234567-3",
        "mobile": MOBILE,
        "email": "",
        "office": office_.pk,
        "category": category_.pk,
        "subject": "Polling station moved without notice",
        "description": "The station in my block was moved to a school 6 km away.",
    }
    return {**data, **changes}


@pytest.fixture
def office(db):
    return OfficeFactory(code="dec-sabzpur", name="District Election Commissioner Sabzpur")


@pytest.fixture
def category(db):
    return Category.objects.create(code="polling-station", name="Polling station", name_ur="پولنگ اسٹیشن")


@pytest.mark.django_db
def test_a_verified_complainant_files_and_gets_the_ticket_by_sms(memory, committed, office, category, settings):
    challenge = committed(_verified, memory)
    complaint = committed(complaint_file, data=_data(office, category), otp_challenge_id=challenge.pk)
    assert normalize(complaint.ticket) == complaint.ticket and complaint.ticket.startswith(f"CMS-{complaint.year}-")
    assert sequence_of(complaint.ticket, settings.SECRET_KEY.encode()) == (complaint.year, 0)
    assert complaint.status == "new" and complaint.office == office and complaint.cnic == "3520212345673"
    assert [(e.kind, e.is_public, e.office) for e in complaint.events.all()] == [("filed", True, office)]
    assert complaint.ticket in memory.sent()[-1].body and memory.sent()[-1].to == MOBILE
    event = AuditEvent.objects.get(action="complaints.filed")
    assert event.data["ticket"] == complaint.ticket and "3520212345673" not in str(event.data)


@pytest.mark.django_db
def test_one_code_files_one_complaint(memory, committed, office, category):
    challenge = committed(_verified, memory)
    committed(complaint_file, data=_data(office, category), otp_challenge_id=challenge.pk)
    with pytest.raises(DomainError) as refused:
        complaint_file(data=_data(office, category), otp_challenge_id=challenge.pk)
    assert refused.value.code == "otp_used" and Complaint.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["unverified", "other_number", "other_purpose", "unknown"])
def test_without_a_verified_code_for_this_number_nothing_is_filed(memory, committed, office, category, case):
    if case == "unverified":
        challenge_id = sms.otp_send(phone=MOBILE, purpose="complaint").pk
    elif case == "other_number":
        challenge_id = committed(_verified, memory, mobile=fake_phone(41)).pk
    elif case == "other_purpose":
        challenge_id = committed(_verified, memory, purpose="verification").pk
    else:
        challenge_id = "00000000-0000-0000-0000-000000000000"
    sent = len(memory.sent())
    with pytest.raises(DomainError) as refused:
        committed(complaint_file, data=_data(office, category), otp_challenge_id=challenge_id)
    assert refused.value.code == "otp_required" and list(refused.value.fields) == ["mobile"]
    assert not Complaint.objects.exists() and not TicketCounter.objects.exists() and len(memory.sent()) == sent


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"cnic": "35202-123456"}, "cnic"),
        ({"cnic": "۳۵۲۰۲"}, "cnic"),
        ({"mobile": "12345"}, "mobile"),
        ({"email": "not an email"}, "email"),
        ({"office": 999999}, "office"),
        ({"office": "abc"}, "office"),
        ({"category": ""}, "category"),
        ({"subject": "x" * 201}, "subject"),
        ({"description": " "}, "description"),
        ({"latitude": "33.7", "longitude": ""}, "latitude"),
        ({"latitude": "95", "longitude": "73"}, "latitude"),
    ],
)
def test_a_broken_rule_names_its_field_and_stores_nothing(memory, committed, office, category, changes, field):
    challenge = committed(_verified, memory)
    with pytest.raises(DomainError) as refused:
        complaint_file(data=_data(office, category, **changes), otp_challenge_id=challenge.pk)
    assert field in refused.value.fields
    assert not Complaint.objects.exists() and not ComplaintEvent.objects.exists()
    assert not AuditEvent.objects.filter(action="complaints.filed").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_filings_take_distinct_numbers(memory):
    office = OfficeFactory(code="dec-race")
    category = Category.objects.create(code="race", name="Race")
    challenges = [_verified(memory, mobile=fake_phone(50 + n)) for n in range(6)]
    barrier = threading.Barrier(len(challenges))
    results: list = []

    def file(challenge):
        try:
            barrier.wait()
            results.append(
                complaint_file(data=_data(office, category, mobile=challenge.phone), otp_challenge_id=challenge.pk)
            )
        except Exception as exc:  # returned to the test
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=file, args=(c,)) for c in challenges]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(isinstance(r, Complaint) for r in results), results
    assert sorted(r.sequence for r in results) == list(range(6))
    assert len({r.ticket for r in results}) == 6 and TicketCounter.objects.get().last == 6
