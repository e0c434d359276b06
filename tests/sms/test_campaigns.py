"""Campaigns end to end in-process (eager tasks, memory provider): maker-checker, rendering, opt-outs,
retries, permanent failures, pause/cancel, and that refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import ConflictError, DomainError, PermissionDeniedError
from core.models import AuditEvent, Job, JobStatus
from sms import providers, services
from sms.models import Campaign, CampaignStatus, Message, MessageEvent, MessageStatus, OptOut
from tests.sms.conftest import fake_phone

pytestmark = pytest.mark.django_db


def make(maker, group, **kw):
    defaults = {
        "title": "Accreditation reminder",
        "audience_key": f"group:{group.pk}",
        "template_ur": "محترم {name}، میڈیا کارڈ جمع کروائیں۔",
        "template_en": "Dear {name}, collect your media card from {organisation}.",
    }
    return services.campaign_create(actor=maker, **{**defaults, **kw})


def test_a_campaign_is_made_by_one_officer_and_sent_after_another_approves(
    committed, memory, maker, checker, media_group
):
    campaign = make(maker, media_group)
    assert campaign.status == CampaignStatus.PENDING and not memory.sent()
    committed(services.campaign_approve, actor=checker, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert campaign.recipients == 12 and Message.objects.filter(campaign=campaign, status="sent").count() == 12
    sent = {s.to: s for s in memory.sent()}
    assert len(sent) == 12
    assert sent[fake_phone(0)].body == "Dear Reporter 0, collect your media card from ."  # English contact
    assert sent[fake_phone(1)].body.startswith("محترم Reporter 1")  # Urdu contact
    assert sent[fake_phone(1)].status_callback.endswith(f"/sms/status/?m={sent[fake_phone(1)].message_id}")
    job = Job.objects.get(pk=campaign.job_id)
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 12, 12)
    m = Message.objects.get(to=fake_phone(1))
    assert (m.encoding, m.segments) == ("UCS-2", 1)
    assert list(m.events.values_list("status", flat=True)) == ["sending", "sent"]
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[:3] == ["sms.campaign_created", "sms.campaign_approved", "sms.campaign_started"]
    assert "sms.batch_handed_over" in actions and actions[-1] == "sms.campaign_completed"


def test_the_maker_cannot_approve_their_own_campaign(committed, memory, maker, media_group):
    campaign = make(maker, media_group)
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDeniedError) as err:
        committed(services.campaign_approve, actor=maker, campaign=campaign)
    assert err.value.code == "maker_checker"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PENDING and campaign.approved_by is None
    assert AuditEvent.objects.count() == before and not memory.sent()


def test_only_sms_officers_make_campaigns(memory, user, media_group):
    with pytest.raises(PermissionDeniedError):
        make(user, media_group)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"template_en": "Dear {nmae}"}, "template_unknown_placeholder", "template_en"),
        ({"template_ur": "{name!r}"}, "template_placeholder", "template_ur"),
        ({"template_ur": "open { brace"}, "template_braces", "template_ur"),
        ({"template_ur": "", "template_en": " "}, "empty_template", "template_ur"),
        ({"title": "  "}, "empty_title", "title"),
        ({"audience_key": "group:999999"}, "unknown_audience", "audience"),
    ],
)
def test_bad_campaigns_are_refused_naming_the_field(memory, maker, media_group, changes, code, field):
    with pytest.raises(DomainError) as err:
        make(maker, media_group, **changes)
    assert (err.value.code, err.value.field) == (code, field)
    assert not Campaign.objects.exists() and not AuditEvent.objects.exists()


def test_a_send_time_in_the_past_or_an_expiry_before_it_is_refused(memory, maker, media_group):
    past = timezone.now() - timedelta(hours=1)
    with pytest.raises(DomainError) as err:
        make(maker, media_group, send_at=past)
    assert err.value.field == "send_at"
    later = timezone.now() + timedelta(hours=2)
    with pytest.raises(DomainError) as err:
        make(maker, media_group, send_at=later, expires_at=later - timedelta(minutes=1))
    assert err.value.field == "expires_at"


def test_a_scheduled_campaign_waits_for_its_time_then_the_sweep_starts_it(
    committed, memory, maker, checker, media_group
):
    campaign = make(maker, media_group, send_at=timezone.now() + timedelta(hours=1))
    committed(services.campaign_approve, actor=checker, campaign=campaign)
    committed(services.sweep)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.APPROVED and not memory.sent()
    Campaign.objects.filter(pk=campaign.pk).update(send_at=timezone.now() - timedelta(seconds=1))
    committed(services.sweep)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED and len(memory.sent()) == 12


def test_opted_out_numbers_get_no_campaign_message(committed, memory, maker, checker, media_group):
    services.optout_add(phone=fake_phone(3), keyword="STOP")
    campaign = make(maker, media_group)
    committed(services.campaign_approve, actor=checker, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.recipients == 11 and campaign.skipped_opted_out == 1
    assert fake_phone(3) not in {s.to for s in memory.sent()}


def test_transient_errors_are_retried_later_and_permanent_ones_fail_with_the_reason(
    committed, memory, maker, checker, media_group
):
    memory.fail_next(2, code="503", message="Service unavailable")
    memory.reject(fake_phone(5), code="21211")
    campaign = make(maker, media_group)
    committed(services.campaign_approve, actor=checker, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING  # two wait for their retry time
    failed = Message.objects.get(to=fake_phone(5))
    assert (failed.status, failed.error_code) == (MessageStatus.FAILED, "21211")
    waiting = Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED)
    assert waiting.count() == 2
    assert all(m.error_count == 1 and m.next_attempt_at > timezone.now() for m in waiting)
    waiting.update(next_attempt_at=timezone.now())
    committed(services.sweep)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == 11
    assert len(memory.sent()) == 11  # each accepted exactly once


def test_messages_too_old_to_send_fail_as_expired(committed, memory, maker, checker, media_group):
    memory.fail_next(12)
    campaign = make(maker, media_group)
    committed(services.campaign_approve, actor=checker, campaign=campaign)
    Message.objects.filter(campaign=campaign).update(
        next_attempt_at=timezone.now(), expires_at=timezone.now() - timedelta(seconds=1)
    )
    committed(services.sweep)
    assert Message.objects.filter(campaign=campaign, status="failed", error_code="expired").count() == 12
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED


def test_pause_resume_and_cancel(committed, memory, maker, checker, media_group):
    memory.fail_next(12)  # everything waits for a retry
    campaign = make(maker, media_group)
    committed(services.campaign_approve, actor=checker, campaign=campaign)
    services.campaign_pause(actor=maker, campaign=campaign)
    Message.objects.filter(campaign=campaign).update(next_attempt_at=timezone.now())
    committed(services.sweep)
    assert not memory.sent()  # paused: the sweep does not restart it
    with pytest.raises(ConflictError):
        services.campaign_pause(actor=maker, campaign=campaign)
    services.campaign_cancel(actor=checker, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert Message.objects.filter(campaign=campaign, status="cancelled").count() == 12
    assert MessageEvent.objects.filter(message__campaign=campaign, status="cancelled").count() == 12
    with pytest.raises(ConflictError):
        committed(services.campaign_resume, actor=maker, campaign=campaign)
    assert not memory.sent()


def test_estimate_counts_recipients_segments_and_cost(memory, media_group, settings):
    settings.SMS_PRICE_PER_SEGMENT = "0.50"
    est = services.campaign_estimate(audience_key=f"group:{media_group.pk}", template_ur="", template_en="Hello {name}")
    assert (est.recipients, est.segments, str(est.cost)) == (12, 12, "6.00")
    assert est.sample == "Hello Reporter 0" and est.info.encoding == "GSM-7"


def test_reject_needs_a_reason_and_another_officer(committed, memory, maker, checker, media_group):
    campaign = make(maker, media_group)
    with pytest.raises(DomainError) as err:
        services.campaign_reject(actor=checker, campaign=campaign, reason=" ")
    assert err.value.field == "reason"
    services.campaign_reject(actor=checker, campaign=campaign, reason="Wrong date in the text")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.REJECTED and not OptOut.objects.exists()
    with pytest.raises(ConflictError):
        committed(services.campaign_approve, actor=checker, campaign=campaign)


def test_a_campaign_through_the_smpp_provider_reaches_the_smsc_double(committed, settings, maker, checker, media_group):
    from sms.doubles.smpp_server import SmscDouble

    with SmscDouble(system_id="ecp", password="secret") as smsc:
        settings.SMS_PROVIDER, settings.SMS_RATE_PER_SECOND = "smpp", 0
        settings.SMPP_HOST, settings.SMPP_PORT = "127.0.0.1", smsc.port
        settings.SMPP_SYSTEM_ID, settings.SMPP_PASSWORD = "ecp", "secret"
        campaign = make(maker, media_group)
        committed(services.campaign_approve, actor=checker, campaign=campaign)
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.COMPLETED
        received = {m["destination"]: m["text"] for m in smsc.messages()}
        assert len(received) == 12
        assert received[fake_phone(1).lstrip("+")] == Message.objects.get(to=fake_phone(1)).body
        providers.close_all()  # unbind while the SMSC is still there
