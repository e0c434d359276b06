"""evp/services.py: the outcomes of a lookup, the per-sender and per-CNIC limits, abuse blocks and lifting
them, logs without CNICs, and the lookup counts written to the database."""

from __future__ import annotations

import logging

import pytest
from django.db.models import Sum

from core.exceptions import ConflictError
from core.models import AuditEvent
from evp import limits, services
from evp.models import AbuseBlock, LookupCount
from tests.evp.conftest import MAN, NOBODY, WOMAN
from tests.evp.factories import ElectorFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+923001234567"


def look(cnic: str, sender: str = PHONE, channel: str = "sms") -> services.Lookup:
    return services.voting_details_lookup(cnic_text=cnic, channel=channel, sender=sender)


def counted(channel: str, outcome: str) -> int:
    return LookupCount.objects.filter(channel=channel, outcome=outcome).aggregate(n=Sum("count"))["n"] or 0


# --- outcomes -----------------------------------------------------------------------------------------------------


def test_a_known_active_elector_is_found_with_the_masked_cnic(man):
    lookup = look("35202-1234567-3")
    assert (lookup.outcome, lookup.status, lookup.reason, lookup.cnic_masked) == (
        "found",
        "found",
        "",
        "35202-•••••••-3",
    )
    assert (lookup.details.block_code, lookup.details.serial) == ("310000001", 300)


def test_an_unknown_cnic_is_not_found(world):
    lookup = look(NOBODY)
    assert (lookup.outcome, lookup.details, lookup.cnic_masked) == ("not_found", None, "12345-•••••••-1")


@pytest.mark.parametrize("status", ["deleted", "shifted", "deceased"])
def test_an_entry_no_longer_on_the_roll_is_not_active_with_its_status(world, status):
    ElectorFactory(cnic=int(WOMAN), gender="F", block=world.block, serial=4, status=status)
    lookup = look(WOMAN)
    assert (lookup.outcome, lookup.status) == ("not_active", status)
    assert lookup.details.block_code == "310000001"


@pytest.mark.parametrize(
    ("text", "reason", "digits"),
    [
        ("352021234567", "length", 12),
        ("35202123456733", "length", 14),
        ("", "empty", 0),
        ("hello", "not_digits", 0),
        ("0520212345673", "leading_zero", 13),
        ("7777777777777", "repeated", 13),
    ],
)
def test_an_invalid_cnic_is_refused_with_its_reason_and_digit_count(world, text, reason, digits):
    lookup = look(text)
    assert (lookup.outcome, lookup.reason, lookup.digits, lookup.details, lookup.cnic_masked) == (
        "invalid",
        reason,
        digits,
        None,
        "",
    )


# --- limits -------------------------------------------------------------------------------------------------------


def test_a_sender_over_the_client_limit_is_refused_and_others_are_not(settings, man):
    settings.EVP_CLIENT_LIMIT = 3
    assert [look(MAN).outcome for _ in range(3)] == ["found"] * 3
    refused = look(MAN)
    assert (refused.outcome, refused.reason, refused.details) == ("refused", "client_limit", None)
    assert look(NOBODY).reason == "client_limit"  # any CNIC, from this sender
    assert look(MAN, sender="+923009999999").outcome == "found"


def test_invalid_lookups_count_against_the_sender_too(settings, man):
    settings.EVP_CLIENT_LIMIT = 2
    look("123")
    look("456")
    assert look(MAN).reason == "client_limit"


def test_a_cnic_looked_up_too_often_is_refused_from_any_sender(settings, man, woman):
    settings.EVP_CNIC_LIMIT = 2
    assert look(MAN, sender="+923000000001").outcome == "found"
    assert look(MAN, sender="+923000000002", channel="web").outcome == "found"
    third = look(MAN, sender="+923000000003", channel="api")
    assert (third.outcome, third.reason) == ("refused", "cnic_limit")
    assert look(WOMAN, sender="+923000000003").outcome == "found"


def test_the_sender_asking_for_one_cnic_too_many_is_blocked_once_and_refused_after(settings, man):
    settings.EVP_ABUSE_DISTINCT_CNICS = 4
    for n in range(4):
        assert look(f"4210{n + 1:09d}").outcome == "not_found"
    assert not AbuseBlock.objects.exists()
    fifth = look("4210000000099")
    assert (fifth.outcome, fifth.reason) == ("refused", "blocked")
    block = AbuseBlock.objects.get()
    assert (block.channel, block.distinct_cnics, block.lifted_at) == ("sms", 5, None)
    assert block.sender_shown == "+92300•••67" and PHONE not in block.sender_shown
    assert block.sender_hash == services.sender_token("sms", PHONE) and PHONE not in block.sender_hash
    assert (block.until - block.blocked_at).total_seconds() == settings.EVP_ABUSE_BLOCK_SECONDS
    event = AuditEvent.objects.get(action="evp.sender_blocked")
    assert event.data["distinct_cnics"] == 5 and event.data["sender"] == block.sender_shown
    # Later lookups are refused, even of a CNIC on the roll or one asked for before; no second block is made.
    for cnic in (MAN, "4210000000001", "4210000000123"):
        later = look(cnic)
        assert (later.outcome, later.reason) == ("refused", "blocked")
    assert AbuseBlock.objects.count() == 1 and AuditEvent.objects.filter(action="evp.sender_blocked").count() == 1
    assert look(MAN, sender="+923009999999").outcome == "found"


def test_a_web_sender_is_shown_by_its_network_only(settings, world):
    settings.EVP_ABUSE_DISTINCT_CNICS = 1
    look("4210000000001", sender="203.0.113.77", channel="web")
    look("4210000000002", sender="203.0.113.77", channel="web")
    look("4210000000001", sender="2001:db8:85a3:8d3:1319:8a2e:370:7348", channel="api")
    look("4210000000002", sender="2001:db8:85a3:8d3:1319:8a2e:370:7348", channel="api")
    assert sorted(AbuseBlock.objects.values_list("channel", "sender_shown")) == [
        ("api", "2001:db8:85a3:…"),
        ("web", "203.0.113.x"),
    ]


@pytest.fixture
def blocked(settings, man) -> AbuseBlock:
    settings.EVP_ABUSE_DISTINCT_CNICS = 2
    for n in range(3):
        look(f"4210{n + 1:09d}")
    assert look(MAN).reason == "blocked"
    return AbuseBlock.objects.get()


def test_an_officer_lifting_the_block_lets_the_sender_through_again(blocked, committed):
    officer = UserFactory(username="officer")
    lifted = committed(services.abuse_block_lift, actor=officer, block_id=blocked.pk)
    assert lifted.lifted_by == officer and lifted.lifted_at is not None
    blocked.refresh_from_db()
    assert blocked.lifted_by == officer
    event = AuditEvent.objects.get(action="evp.block_lifted")
    assert event.actor == officer and event.target_id == str(blocked.pk)
    # Let through, and not blocked again at once for the CNICs it asked for before the block.
    again = look("4210000000001")
    assert (again.outcome, again.reason, AbuseBlock.objects.count()) == ("not_found", "", 1)
    assert look(MAN).outcome == "found"
    assert AbuseBlock.objects.count() == 1


def test_lifting_a_block_twice_is_a_conflict_and_changes_nothing(blocked, committed):
    officer = UserFactory(username="officer")
    committed(services.abuse_block_lift, actor=officer, block_id=blocked.pk)
    blocked.refresh_from_db()
    audit = AuditEvent.objects.count()
    other = UserFactory(username="other-officer")
    with pytest.raises(ConflictError) as refused:
        committed(services.abuse_block_lift, actor=other, block_id=blocked.pk)
    assert refused.value.code == "already_lifted"
    again = AbuseBlock.objects.get()
    assert (again.lifted_by, again.lifted_at) == (officer, blocked.lifted_at)
    assert AuditEvent.objects.count() == audit


# --- logs ---------------------------------------------------------------------------------------------------------


def test_logs_name_a_cnic_only_by_its_token(settings, caplog, man):
    caplog.set_level(logging.INFO)
    settings.EVP_ABUSE_DISTINCT_CNICS = 2
    settings.EVP_CNIC_LIMIT = 3
    for text in (MAN, "35202-1234567-3", "۳۵۲۰۲۱۲۳۴۵۶۷۳", NOBODY, "352021234567"):
        look(text, sender="+923001112223")
    for n in range(4):
        look(f"4210{n + 1:09d}")  # ends in a block
    for _ in range(4):
        look(MAN, sender=f"+92300555{_:04d}")  # ends over the CNIC limit
    text = caplog.text
    assert "outcome=found" in text and "outcome=refused" in text and "blocked sender=" in text
    for secret in (
        MAN,
        "35202-1234567",
        "1234567",
        NOBODY,
        "352021234567",
        "4210000000001",
        "3001234567",
        "3001112223",
    ):
        assert secret not in text
    tokens = {r.getMessage().split("cnic=")[1].split()[0] for r in caplog.records if "cnic=" in r.getMessage()}
    assert all(t == "-" or (t.startswith("cnic:") and len(t) == 21) for t in tokens)
    assert len({t for t in tokens if t != "-"}) == 6  # the man, the unknown one and four asked for by the abuser


# --- lookup counts ------------------------------------------------------------------------------------------------


def test_flushing_writes_counts_per_hour_channel_and_outcome_and_again_does_not_double(man):
    look(MAN)
    look(MAN, channel="web", sender="10.0.0.1")
    look(MAN, channel="web", sender="10.0.0.2")
    look(NOBODY, channel="api", sender="10.0.0.3")
    look("123", channel="sms")
    assert services.lookup_counts_flush() >= 4  # 4 counters, more if the lookups straddled an hour
    expected = {("sms", "found"): 1, ("web", "found"): 2, ("api", "not_found"): 1, ("sms", "invalid"): 1}
    assert {k: counted(*k) for k in expected} == expected
    assert LookupCount.objects.aggregate(n=Sum("count"))["n"] == 5
    assert all(row.hour.minute == row.hour.second == 0 for row in LookupCount.objects.all())
    services.lookup_counts_flush()
    assert {k: counted(*k) for k in expected} == expected
    look(MAN, channel="web", sender="10.0.0.4")
    services.lookup_counts_flush()
    assert counted("web", "found") == 3


def test_nothing_to_flush_writes_nothing(world):
    assert services.lookup_counts_flush() == 0
    assert not LookupCount.objects.exists()


def test_a_stored_count_never_goes_down_when_the_counters_are_lost(settings, man):
    for n in range(3):
        look(MAN, sender=f"10.0.0.{n}", channel="web")
    services.lookup_counts_flush()
    settings.EVP_COUNTER_PREFIX += "restarted:"  # Redis lost its counters
    limits.reset_local()
    look(MAN, sender="10.0.0.9", channel="web")
    services.lookup_counts_flush()
    assert counted("web", "found") == 3
