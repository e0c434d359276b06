"""Demo data for the SMS screens (``manage.py seed_demo``; idempotent: a second run changes nothing).

- Two SMS officers, "sms" and "sms2" (demo accounts, the shared demo password), so one can make a campaign
  and the other approve it. core's seeder makes them too; this one only makes what is missing.
- Three contact groups (Media, Lawyers, Staff) of 10 invented people each, half writing Urdu, with
  generated numbers in a sequence nobody is given (+92 300 000 01xx).
- One campaign approved and sent (with the console provider and eager Celery it goes to the log at once;
  some of its messages then get delivery reports, a few of them failures), one waiting for approval (made
  by "sms", so "sms2" can approve it), a few single messages, and an inbound STOP that opts a number out.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from core import services as core_services
from core.demo import Printer, register
from core.demo_country import DEMO_PASSWORD
from core.models import Role, RoleAssignment

from . import services
from .models import Campaign, CampaignStatus, Contact, ContactGroup, Message, MessageStatus

OFFICERS = [("sms", "Nadia", "Demo"), ("sms2", "Omar", "Demo")]
FIRST = [
    ("Ayesha", "عائشہ"),
    ("Bilal", "بلال"),
    ("Sana", "ثنا"),
    ("Usman", "عثمان"),
    ("Hina", "حنا"),
    ("Kamran", "کامران"),
    ("Farah", "فرح"),
    ("Tariq", "طارق"),
    ("Rabia", "رابعہ"),
    ("Zubair", "زبیر"),
]
LAST = [("Khan", "خان"), ("Ahmed", "احمد"), ("Malik", "ملک"), ("Qureshi", "قریشی"), ("Butt", "بٹ"), ("Shah", "شاہ")]
GROUPS = [
    ("Media", "میڈیا", "Reporters and editors accredited for election coverage", "Daily Example", "روزنامہ مثال"),
    ("Lawyers", "وکلاء", "Bar associations and election counsel", "Example Bar Association", "مثالی بار ایسوسی ایشن"),
    ("Staff", "عملہ", "ECP district staff on election duty", "ECP", "الیکشن کمیشن"),
]
SENT_TITLE = "Media accreditation cards"
PENDING_TITLE = "Bar council briefing"


def demo_phone(n: int) -> str:
    """+923000000101 … : generated, in a block of the 0300 range no subscriber is given."""
    return f"+92300000{100 + n:04d}"


def _officers(out: Printer):
    users = get_user_model().objects
    found = []
    for username, first, last in OFFICERS:
        user, created = users.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "is_demo_account": True, "is_staff": True},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if not RoleAssignment.objects.filter(user=user, role=Role.SMS_OFFICER).exists():
            core_services.role_grant(actor=None, user=user, role=Role.SMS_OFFICER)
        found.append(user)
    return found


def _contacts() -> list[ContactGroup]:
    groups = []
    n = 0
    for g, (name, name_ur, description, organisation, organisation_ur) in enumerate(GROUPS):
        group, _made = ContactGroup.objects.get_or_create(
            name=name, defaults={"name_ur": name_ur, "description": description}
        )
        groups.append(group)
        for i in range(10):
            n += 1
            first, last = FIRST[(i + 3 * g) % len(FIRST)], LAST[(i * 5 + g) % len(LAST)]
            urdu = i % 2 == 1
            contact, _made = Contact.objects.get_or_create(
                phone=demo_phone(n),
                defaults={
                    "name": f"{first[1]} {last[1]}" if urdu else f"{first[0]} {last[0]}",
                    "language": "ur" if urdu else "en",
                    "organisation": organisation_ur if urdu else organisation,
                },
            )
            contact.groups.add(group)
    return groups


def _campaign(maker, title: str, group: ContactGroup, template_ur: str, template_en: str) -> Campaign:
    found = Campaign.objects.filter(title=title, created_by=maker).first()
    if found is not None:
        return found
    return services.campaign_create(
        actor=maker, title=title, audience_key=f"group:{group.pk}", template_ur=template_ur, template_en=template_en
    )


def _delivery_reports(campaign: Campaign) -> None:
    """Delivery reports for the sent campaign's messages, as a network would send them: most delivered,
    one in six undelivered. Only messages the provider accepted ("sent"), so a second run adds nothing."""
    sent = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).exclude(provider_id="")
    for message in sent.order_by("id"):
        failed = message.pk % 6 == 0
        services.delivery_report_apply(
            message_id=message.pk,
            provider_id=message.provider_id,
            status="undelivered" if failed else "delivered",
            error_code="30003" if failed else "",
        )


@register(order=60, name="sms")
def seed_sms(out: Printer) -> None:
    maker, checker = _officers(out)
    groups = _contacts()
    media, lawyers, staff = groups

    services.inbound_receive(provider_id="demo-inbound-1", sender=demo_phone(3), recipient="8300", body="STOP")
    services.inbound_receive(provider_id="demo-inbound-2", sender=demo_phone(12), recipient="8300", body="HELP")

    sent = _campaign(
        maker,
        SENT_TITLE,
        media,
        "محترم {name}، الیکشن کمیشن کا میڈیا کارڈ اپنے ضلعی الیکشن کمشنر کے دفتر سے وصول کریں۔",
        "Dear {name}, please collect your ECP media card from your District Election Commissioner's office.",
    )
    if sent.status == CampaignStatus.PENDING:  # sending starts once this commits (at once with eager Celery)
        services.campaign_approve(actor=checker, campaign=sent)
    _delivery_reports(sent)

    _campaign(
        maker,
        PENDING_TITLE,
        lawyers,
        "محترم {name}، نامزدگی کاغذات کی جانچ پر بریفنگ جمعرات صبح دس بجے ہوگی۔",
        "Dear {name}, the briefing on scrutiny of nomination papers is on Thursday at 10 am.",
    )

    singles = [
        ("demo:sms:leave", demo_phone(21), "Your leave request was approved.", "en", "notification"),
        (
            "demo:sms:duty",
            demo_phone(22),
            "آپ کی انتخابی ڈیوٹی کا حکم نامہ ضلعی دفتر میں تیار ہے۔",
            "ur",
            "notification",
        ),
        ("demo:sms:slip", demo_phone(3), "آپ کی رول نمبر سلپ جاری کر دی گئی ہے۔", "ur", "required"),
    ]
    for key, phone, body, language, purpose in singles:
        services.message_send(to=phone, body=body, language=language, purpose=purpose, idempotency_key=key)

    sent.refresh_from_db()
    out(
        f"SMS: {Contact.objects.count()} contacts in {len(groups)} groups (Media, Lawyers, Staff); "
        f"“{sent.title}” is {sent.status}; “{PENDING_TITLE}” waits for sms2's approval (log in as sms2). "
        f"Open /sms/."
    )
