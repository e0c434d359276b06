"""Demo data for SMS: three contact groups with invented people and clearly fake numbers (+92300 000 0xxx),
one campaign sent (to the log with the console provider), one waiting for approval (made by "sms", so "sms2"
can approve it), a single notification and an opt-out."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from core.context import acting
from core.demo import Printer, register

from . import services
from .models import Campaign, Contact, ContactGroup, Message

FIRST = [("Ayesha", "عائشہ"), ("Bilal", "بلال"), ("Sana", "ثنا"), ("Usman", "عثمان"), ("Hina", "حنا")]
LAST = [("Khan", "خان"), ("Ahmed", "احمد"), ("Malik", "ملک"), ("Qureshi", "قریشی"), ("Butt", "بٹ"), ("Shah", "شاہ")]
GROUPS = [("Media", "میڈیا"), ("Lawyers", "وکلاء"), ("Staff", "عملہ")]


@register(order=60, name="sms")
def seed_sms(out: Printer) -> None:
    if ContactGroup.objects.filter(name="Media").exists():
        out("SMS: demo contacts and campaigns already there.")
        return
    users = get_user_model().objects
    maker, checker = users.get(username="sms"), users.get(username="sms2")
    groups = [ContactGroup.objects.create(name=name, name_ur=name_ur) for name, name_ur in GROUPS]
    n = 0
    for g, group in enumerate(groups):
        for i in range(10):
            first, last = FIRST[(i + g) % len(FIRST)], LAST[(i * 7 + g) % len(LAST)]
            urdu = i % 3 != 0
            name = f"{first[1]} {last[1]}" if urdu else f"{first[0]} {last[0]}"
            n += 1
            contact = Contact.objects.create(name=name, phone=f"+92300000{n:04d}", language="ur" if urdu else "en")
            contact.groups.add(group)
    with acting(label="command:seed_demo"):
        services.optout_add(phone="+923000000003", keyword="STOP")
        sent = services.campaign_create(
            actor=maker,
            title="Media accreditation cards",
            audience_key=f"group:{groups[0].pk}",
            template_ur="محترم {name}، الیکشن کمیشن کا میڈیا کارڈ اپنے ضلعی دفتر سے وصول کریں۔",
            template_en="Dear {name}, please collect your ECP media card from your district office.",
        )
        services.campaign_approve(actor=checker, campaign=sent)
        services.campaign_create(
            actor=maker,
            title="Bar council briefing",
            audience_key=f"group:{groups[1].pk}",
            template_ur="محترم {name}، نامزدگی کاغذات کی جانچ پر بریفنگ جمعرات کو ہوگی۔",
            template_en="Dear {name}, the briefing on scrutiny of nomination papers is on Thursday.",
        )
        services.message_send(to="+923000000021", body="Your leave request was approved.", language="en")
    sent.refresh_from_db()
    out(
        f"SMS: {Contact.objects.count()} contacts in {len(groups)} groups; campaign “{sent.title}” {sent.status}; "
        f"one waiting for sms2's approval; {Message.objects.count()} messages ({Campaign.objects.count()} campaigns)."
    )
