"""complaints' demo data: categories, SLA plans, canned responses, desks in the demo offices, a dozen complaints
taken through the real services into every state (one escalated by the SLA sweep), and three months of past
complaints for the reports. The code step is the only thing skipped: the demo marks its codes as verified."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.demo import Printer, register
from core.models import Office
from sms.models import OtpChallenge

from . import services
from .models import CannedResponse, Category, Complaint, ComplaintEvent, Desk, EventKind, Priority, SlaPlan, Status
from .ticket import ticket_number

CATEGORIES = [
    ("polling-station", "Polling station", "پولنگ اسٹیشن"),
    ("electoral-roll", "Electoral roll", "انتخابی فہرست"),
    ("staff-conduct", "Conduct of election staff", "انتخابی عملے کا رویہ"),
    ("code-of-conduct", "Code of conduct violation", "ضابطہ اخلاق کی خلاف ورزی"),
    ("results", "Results", "نتائج"),
    ("recruitment", "Recruitment", "بھرتی"),
    ("other", "Other", "دیگر"),
]
CANNED = [
    (
        "Received",
        "Your complaint has been received and is being examined by the office concerned.",
        "آپ کی شکایت موصول ہو گئی ہے اور متعلقہ دفتر اس کا جائزہ لے رہا ہے۔",
    ),
    (
        "Visit the office",
        "Please visit the District Election Commissioner's office with your original CNIC.",
        "براہ کرم اپنے اصل شناختی کارڈ کے ساتھ ڈسٹرکٹ الیکشن کمشنر کے دفتر تشریف لائیں۔",
    ),
    (
        "Roll corrected",
        "Your entry on the electoral roll has been corrected. Check it by sending your CNIC to 8300.",
        "انتخابی فہرست میں آپ کا اندراج درست کر دیا گیا ہے۔ تصدیق کے لیے اپنا شناختی کارڈ نمبر 8300 پر بھیجیں۔",
    ),
]
DESKS: dict[str, list[tuple[str, str, str | None]]] = {
    "dec-islamabad": [("Complaints desk", "شکایات ڈیسک", "desk"), ("Electoral roll desk", "انتخابی فہرست ڈیسک", None)],
    "dec-rawalpindi": [("Complaints desk", "شکایات ڈیسک", "desk2")],
    "dec-lahore": [("Complaints desk", "شکایات ڈیسک", None)],
    "rec-rawalpindi": [("Regional complaints cell", "علاقائی شکایات سیل", "supervisor")],
    "rec-lahore": [("Regional complaints cell", "علاقائی شکایات سیل", None)],
}
PEOPLE = ["Sana Javed", "Imran Qureshi", "Fatima Noor", "Asad Mehmood", "Rabia Khan", "Usman Tariq", "Hina Aslam"]
SUBJECTS = [
    ("polling-station", "Polling station moved without notice"),
    ("electoral-roll", "My vote is registered in another district"),
    ("staff-conduct", "Presiding officer refused to give Form-45"),
    ("code-of-conduct", "Wall chalking near a school"),
    ("results", "Result of my station differs from the Form-45"),
    ("electoral-roll", "My mother's name is missing from the roll"),
    ("recruitment", "Test centre too far from my district"),
    ("other", "Helpline number does not answer"),
]
HISTORY = 400  # past complaints over HISTORY_DAYS, for the reports
HISTORY_DAYS = 90


def _mobile(n: int) -> str:
    return f"+92300{7_100_000 + n:07d}"


def _verified_code(mobile: str) -> OtpChallenge:
    now = timezone.now()
    return OtpChallenge.objects.create(
        id=uuid.uuid4(),
        phone=mobile,
        purpose=services.OTP_PURPOSE,
        code_hash="demo",
        created_at=now,
        expires_at=now + timedelta(minutes=5),
        verified_at=now,
    )


def _reference_data() -> None:
    for order, (code, name, name_ur) in enumerate(CATEGORIES):
        Category.objects.get_or_create(code=code, defaults={"name": name, "name_ur": name_ur, "order": order * 10})
    for priority, first, resolution in ((Priority.NORMAL, 8, 40), (Priority.HIGH, 4, 16), (Priority.URGENT, 2, 8)):
        SlaPlan.objects.get_or_create(
            category=None, priority=priority, defaults={"first_response_hours": first, "resolution_hours": resolution}
        )
    for title, body, body_ur in CANNED:
        CannedResponse.objects.get_or_create(title=title, defaults={"body": body, "body_ur": body_ur})
    users = get_user_model().objects
    for code, desks in DESKS.items():
        office = Office.objects.filter(code=code).first()
        for name, name_ur, username in desks:
            if office is not None:
                Desk.objects.get_or_create(
                    office=office,
                    name=name,
                    defaults={
                        "name_ur": name_ur,
                        "officer": users.filter(username=username).first() if username else None,
                    },
                )


def _file(n: int, office: str, category: str, subject: str) -> Complaint:
    mobile = _mobile(n)
    data = {
        "name": PEOPLE[n % len(PEOPLE)],
        "cnic": f"61101{n:07d}{n % 10}",
        "mobile": mobile,
        "office": Office.objects.get(code=office).pk,
        "category": Category.objects.get(code=category).pk,
        "subject": subject,
        "description": f"{subject}. Details for the demo: block {100 + n}, ward {n % 9 + 1}.",
    }
    return services.complaint_file(
        data=data, otp_challenge_id=_verified_code(mobile).pk, language="en" if n % 2 else "ur"
    )


def _live() -> list[str]:
    """Complaints taken through the services by the demo officers."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["desk", "desk2", "supervisor"])}
    desk, desk2, supervisor = users.get("desk"), users.get("desk2"), users.get("supervisor")
    islamabad = Desk.objects.get(office__code="dec-islamabad", name="Complaints desk")
    rawalpindi = Desk.objects.get(office__code="dec-rawalpindi", name="Complaints desk")
    made = [_file(n, "dec-islamabad", c, s) for n, (c, s) in enumerate(SUBJECTS)]
    made.append(_file(20, "dec-rawalpindi", "polling-station", "Ramp missing at the women's polling station"))
    made.append(_file(21, "rec-rawalpindi", "staff-conduct", "Staff absent at the display centre"))
    # 0: new. 1: at a desk. 2: asked for information. 3: replied. 4: resolved. 5: closed.
    # 6: forwarded to Rawalpindi, resolved there. 7: escalated by the sweep.
    services.complaint_assign(actor=desk, complaint_id=made[1].pk, desk_id=islamabad.pk)
    services.complaint_request_info(
        actor=desk, complaint_id=made[2].pk, text="Please send the Form-45 photo or the station number."
    )
    services.complaint_assign(actor=desk, complaint_id=made[3].pk, desk_id=islamabad.pk)
    services.complaint_note(actor=desk, complaint_id=made[3].pk, text="Called the returning officer's office.")
    services.complaint_reply(actor=desk, complaint_id=made[3].pk, text=CANNED[0][1])
    for index in (4, 5):
        services.complaint_assign(actor=desk, complaint_id=made[index].pk, desk_id=islamabad.pk)
        services.complaint_resolve(actor=desk, complaint_id=made[index].pk, text=CANNED[1][1])
    services.complaint_close(actor=desk, complaint_id=made[5].pk)
    services.complaint_forward(
        actor=desk, complaint_id=made[6].pk, office_id=rawalpindi.office_id, note="The test centre is in Rawalpindi."
    )
    services.complaint_assign(actor=desk2, complaint_id=made[6].pk, desk_id=rawalpindi.pk)
    services.complaint_resolve(actor=desk2, complaint_id=made[6].pk, text="You have been moved to a nearer centre.")
    services.complaint_assign(
        actor=supervisor, complaint_id=made[9].pk, desk_id=Desk.objects.get(office__code="rec-rawalpindi").pk
    )
    Complaint.objects.filter(pk=made[7].pk).update(resolution_due=timezone.now() - timedelta(minutes=1))
    services.sla_sweep()
    return [c.ticket for c in made]


def _history() -> None:
    """Past complaints made directly (consistent timelines, no texts), so the reports have three months."""
    rng = random.Random(7)
    offices = list(Office.objects.filter(code__in=DESKS))
    desks = {d.office_id: d for d in Desk.objects.filter(office__in=offices)}
    categories = list(Category.objects.all())
    now = timezone.now()
    first = services._next_sequence(now.year, count=HISTORY)  # a block of the year's numbers
    events = []
    for i in range(HISTORY):
        filed = now - timedelta(days=rng.uniform(1, HISTORY_DAYS), hours=rng.uniform(0, 8))
        office = rng.choice(offices)
        outcome = rng.random()
        resolved = filed + timedelta(hours=rng.uniform(2, 24 * 12)) if outcome < 0.75 else None
        if resolved and resolved > now:
            resolved = None
        mobile = _mobile(1000 + i)
        complaint = Complaint.objects.create(
            ticket=ticket_number(now.year, first + i, services._ticket_key()),
            year=now.year,
            sequence=first + i,
            name=rng.choice(PEOPLE),
            cnic=f"61101{2000 + i:07d}{i % 10}",
            mobile=mobile,
            language=rng.choice(["ur", "en"]),
            addressed_to=office,
            office=office,
            category=rng.choice(categories),
            priority=rng.choice([Priority.NORMAL] * 6 + [Priority.HIGH, Priority.URGENT]),
            subject=rng.choice(SUBJECTS)[1],
            description="A past complaint of the demo.",
            otp=_verified_code(mobile),
            created_at=filed,
            updated_at=resolved or filed,
            status=(Status.CLOSED if outcome < 0.5 else Status.RESOLVED) if resolved else Status.IN_PROGRESS,
            desk=desks.get(office.pk),
            responded_at=filed + timedelta(hours=rng.uniform(1, 30)),
            resolved_at=resolved,
            breaches=1 if rng.random() < 0.12 else 0,
        )
        events.append(ComplaintEvent(complaint=complaint, at=filed, kind=EventKind.FILED, office=office))
        if resolved:
            events.append(
                ComplaintEvent(
                    complaint=complaint,
                    at=resolved,
                    kind=EventKind.RESOLVED,
                    office=office,
                    desk=complaint.desk,
                    text="Resolved.",
                )
            )
    ComplaintEvent.objects.bulk_create(events)


@register(order=30, name="complaints")
def seed_complaints(out: Printer) -> None:
    with transaction.atomic():
        _reference_data()
    if not Complaint.objects.exists():
        tickets = _live()  # each service call is its own transaction (filing must be)
        with transaction.atomic():
            _history()
    else:
        tickets = list(
            Complaint.objects.filter(created_at__gte=timezone.now() - timedelta(days=1))
            .order_by("id")
            .values_list("ticket", flat=True)[:10]
        )
    out(
        "Complaints: file one at /complaints/ (the code comes by SMS: with the console provider it is printed by the "
        "server); follow one at /complaints/track/ with a ticket and the last four digits of its mobile, e.g. "
        f"{tickets[0] if tickets else '-'} and {_mobile(0)[-4:]}. Desks: /complaints/staff/ as desk (DEC Islamabad), "
        "desk2 (DEC Rawalpindi) or supervisor (REC Rawalpindi and below); reports: /complaints/staff/reports/."
    )
