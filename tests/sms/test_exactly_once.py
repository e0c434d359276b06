"""Exactly-once hand-over with real processes: a Celery worker is SIGKILLed in the middle of a campaign
while it sends through the real twilio library to the loopback Twilio double; a second worker and the
sweep finish the campaign. Every message reaches the provider exactly once and none is lost."""

from __future__ import annotations

import signal
import time

import pytest
from django.utils import timezone

from core.models import Role, RoleAssignment
from sms import services
from sms.doubles.twilio_api import FakeTwilio
from sms.models import Campaign, CampaignStatus, Contact, ContactGroup, Message, MessageEvent
from sms.tasks import sweep_task
from tests.factories import UserFactory
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 400
SID, TOKEN = "AC" + "1" * 32, "bench-token-not-a-secret"


def _campaign() -> Campaign:
    group = ContactGroup.objects.create(name="Candidates")
    contacts = Contact.objects.bulk_create(
        Contact(name=f"Candidate {n}", phone=f"+92301{n:07d}", language="ur" if n % 2 else "en")
        for n in range(RECIPIENTS)
    )
    group.contacts.add(*contacts)
    maker, checker = UserFactory(username="maker"), UserFactory(username="checker")
    for user in (maker, checker):
        RoleAssignment.objects.create(user=user, role=Role.SMS_OFFICER)
    campaign = services.campaign_create(
        actor=maker, title="Test slips", audience_key=f"group:{group.pk}", template_en="Dear {name}, your slip."
    )
    # Approved and made here; the workers only dispatch.
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.APPROVED, approved_by=checker)
    return campaign


def test_a_worker_killed_mid_campaign_sends_nothing_twice_and_loses_nothing(settings):
    with FakeTwilio(account_sid=SID, auth_token=TOKEN) as fake:
        provider = {
            "SMS_PROVIDER": "twilio",
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": "+15005550006",
            "TWILIO_API_BASE": fake.base_url,
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        }
        worker_env = {
            **provider,
            "SMS_RATE_PER_SECOND": "80",
            "SMS_CHUNK_SIZE": "40",
            "SMS_LEASE_SECONDS": "4",
            "SMS_DISPATCHERS": "1",
        }
        for name, value in provider.items():  # the sweep's questions to the provider run here as well
            setattr(settings, name, value)
        settings.SMS_LEASE_SECONDS = 4
        campaign = _campaign()

        with celery_worker(queues="sms", env=worker_env) as first:
            services.campaign_start_run(campaign_id=campaign.pk)  # enqueues the dispatcher on commit
            wait_for(lambda: len(fake.creates) >= RECIPIENTS // 3, timeout=60, what="a third handed over")
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(timeout=10)
        at_kill = len(fake.creates)
        assert at_kill < RECIPIENTS, "the worker finished before it was killed; the test proves nothing"
        stranded = Message.objects.filter(campaign=campaign, status="sending").count()

        with celery_worker(queues="sms", env=worker_env):
            time.sleep(4.5)  # let the dead worker's leases run out

            def finished():
                sweep_task.delay()  # what beat does every 30 s
                time.sleep(1)
                return Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.COMPLETED

            wait_for(finished, timeout=120, interval=1, what="the campaign to complete after the kill")

        per_message = fake.count_by_callback()
        ids = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True))
        assert len(ids) == RECIPIENTS
        twice = [url for url, n in per_message.items() if n > 1]
        missing = [pk for pk in ids if per_message[f"http://127.0.0.1:9/sms/status/?m={pk}"] != 1]
        assert twice == [] and missing == [], f"{len(twice)} sent twice, {len(missing)} not sent exactly once"
        assert len(fake.creates) == RECIPIENTS
        assert Message.objects.filter(campaign=campaign, status="sent").count() == RECIPIENTS
        assert stranded > 0, "the kill left no message mid-hand-over; the recovery path was not exercised"
        recovered = MessageEvent.objects.filter(message__campaign=campaign, source="sweep")
        assert recovered.count() == stranded
        # Those the provider had accepted were marked sent from its answer, the rest were sent once more.
        found = recovered.filter(detail__startswith="recovered: the provider had accepted").count()
        requeued = recovered.filter(detail__contains="never received").count()
        assert found + requeued == stranded
        assert Message.objects.filter(campaign=campaign, sent_at__lte=timezone.now()).count() == RECIPIENTS
