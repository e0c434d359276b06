"""evp/replies.py and the 8300 SMS: every reply fits two SMS segments (long names are shortened), in Urdu by
default and in English with EN; through the real signed Twilio inbound webhook, every shape of CNIC people send
is answered, nothing else breaks it, and the stored message keeps the CNIC masked."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evp.models import Outcome
from evp.replies import sms_reply
from evp.selectors import VotingDetails
from evp.services import Lookup
from sms.encoding import segments
from sms.models import InboundMessage, Message
from tests.evp.conftest import MAN, NOBODY, WOMAN
from tests.evp.factories import ElectorFactory

URDU_LETTERS = "ابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنںوہھءیےآأۃ"
NAME = st.text(
    alphabet=URDU_LETTERS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ,.-،()/", min_size=1
)
DISTRICTS = [  # the longest district names there are
    ("Shaheed Benazirabad", "شہید بینظیر آباد"),
    ("Kambar Shahdadkot", "قمبر شہدادکوٹ"),
    ("Naushahro Feroze", "نوشہرو فیروز"),
    ("Dera Ghazi Khan", "ڈیرہ غازی خان"),
    ("Lahore", "لاہور"),
]
TEHSILS = [("Kot Rahim", "کوٹ رحیم"), ("", ""), ("Shah Jewna Tehsil Headquarters", "شاہ جیونہ")]
CONSTITUENCIES = [(), ("NA-266",), ("NA-266", "PB-51"), ("NA-120", "PP-150")]


def found(details: VotingDetails) -> Lookup:
    return Lookup(Outcome.FOUND, details=details, cnic_masked="35202-•••••••-3")


@st.composite
def voting_details(draw) -> VotingDetails:
    district, district_ur = draw(st.sampled_from(DISTRICTS))
    tehsil, tehsil_ur = draw(st.sampled_from(TEHSILS))
    return VotingDetails(
        status="active",
        block_code=draw(st.from_regex(r"[0-9]{9}", fullmatch=True)),
        roll=draw(st.sampled_from("MF")),
        serial=draw(st.integers(1, 9_999_999)),
        family_number=draw(st.integers(1, 9_999_999)),
        area=draw(NAME.filter(lambda s: len(s) <= 160)),
        area_ur=draw(NAME.filter(lambda s: len(s) <= 160)),
        tehsil=tehsil,
        tehsil_ur=tehsil_ur,
        district=district,
        district_ur=district_ur,
        station_number=draw(st.one_of(st.none(), st.integers(1, 9_999))),
        station_name=draw(NAME.filter(lambda s: len(s) <= 255)),
        station_name_ur=draw(NAME.filter(lambda s: len(s) <= 255)),
        constituencies=draw(st.sampled_from(CONSTITUENCIES)),
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(voting_details(), st.sampled_from(["ur", "en"]))
def test_a_found_reply_fits_two_segments_however_long_the_names(details, language):
    text = sms_reply(found(details), language)
    assert segments(text) <= 2, (len(text), text)
    assert details.block_code in text and str(details.serial) in text and str(details.family_number) in text
    for code in details.constituencies:
        assert code in text


LONG = VotingDetails(
    status="active",
    block_code="310000001",
    roll="M",
    serial=300,
    family_number=41,
    area="Mohalla Chiraghabad, Near Jamia Masjid Noor, Kot Rahim Ward No. 3",
    area_ur="محلہ چراغ آباد، نزد جامع مسجد نور، کوٹ رحیم وارڈ نمبر ۳",
    tehsil="Kot Rahim",
    tehsil_ur="کوٹ رحیم",
    district="Dera Ghazi Khan",
    district_ur="ڈیرہ غازی خان",
    station_number=117,
    station_name="Government Boys High School No. 1 (Male), Main Bazaar Road, Kot Rahim",
    station_name_ur="گورنمنٹ بوائز ہائی اسکول نمبر ۱ (مردانہ)، مین بازار روڈ، کوٹ رحیم",
    constituencies=("NA-60", "PP-90"),
)


@pytest.mark.parametrize("language", ["ur", "en"])
def test_a_reply_that_fits_keeps_the_names_whole(language):
    short = dataclasses.replace(LONG, station_name="School 1", station_name_ur="اسکول ۱", area="Chak 7", area_ur="چک ۷")
    text = sms_reply(found(short), language)
    assert ("اسکول ۱" if language == "ur" else "School 1") in text and "…" not in text
    assert ("کوٹ رحیم" if language == "ur" else "Kot Rahim") in text  # the tehsil, while there is room


def test_long_urdu_names_are_cut_with_an_ellipsis_and_english_ones_kept_when_they_fit():
    cut = sms_reply(found(LONG), "ur")
    assert segments(cut) <= 2 and "…" in cut and "310000001" in cut and LONG.station_name_ur not in cut
    whole = sms_reply(found(LONG), "en")  # GSM-7: 306 characters in two parts
    assert segments(whole) <= 2 and LONG.station_name in whole and "…" not in whole


def test_a_station_not_yet_assigned_is_said_so(db):
    text = sms_reply(found(dataclasses.replace(LONG, station_number=None, constituencies=())), "en")
    assert "not yet assigned" in text and segments(text) <= 2


def masked_in(masked: str, text: str) -> bool:
    """The masked CNIC is in the text (an SMS may mask with "x" instead of "•", which is not GSM-7)."""
    return masked in text or masked.replace("•", "x") in text


def _not_found_lookups() -> list[Lookup]:
    details = dataclasses.replace(LONG, status="deleted")
    return [
        Lookup(Outcome.INVALID, reason="length", digits=12),
        Lookup(Outcome.INVALID, reason="length", digits=14),
        Lookup(Outcome.INVALID, reason="not_digits"),
        Lookup(Outcome.INVALID, reason="empty"),
        Lookup(Outcome.REFUSED, reason="blocked", cnic_masked="35202-•••••••-3"),
        Lookup(Outcome.REFUSED, reason="client_limit", cnic_masked="35202-•••••••-3"),
        Lookup(Outcome.REFUSED, reason="cnic_limit", cnic_masked="35202-•••••••-3"),
        Lookup(Outcome.NOT_FOUND, cnic_masked="35202-•••••••-3"),
        *(
            Lookup(Outcome.NOT_ACTIVE, details=dataclasses.replace(details, status=s), cnic_masked="35202-•••••••-3")
            for s in ("deleted", "shifted", "deceased")
        ),
    ]


@pytest.mark.parametrize("language", ["ur", "en"])
@pytest.mark.parametrize("lookup", _not_found_lookups(), ids=lambda lk: f"{lk.outcome}-{lk.status}-{lk.reason}")
def test_every_other_reply_fits_two_segments_and_names_no_more_than_the_masked_cnic(lookup, language):
    text = sms_reply(lookup, language)
    assert text and segments(text) <= 2, (segments(text), len(text), text)
    if lookup.cnic_masked and lookup.outcome != Outcome.REFUSED:
        assert masked_in(lookup.cnic_masked, text)


# --- the real webhook ---------------------------------------------------------------------------------------------


def reply_to(response) -> Message:
    assert response.status_code == 200
    row = InboundMessage.objects.order_by("-id").first()
    assert row.reply is not None, row.handler
    return row.reply


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        "35202-1234567-3",
        "3520212345673",
        "35202 1234567 3",
        "۳۵۲۰۲-۱۲۳۴۵۶۷-۳",
        "۳۵۲۰۲۱۲۳۴۵۶۷۳",
        " 35202-1234567-3 ",
        "VOTE 35202-1234567-3",
        "vote 3520212345673",
        "ووٹ ۳۵۲۰۲۱۲۳۴۵۶۷۳",
        "CNIC 35202-1234567-3",
        "شناختی 3520212345673",
    ],
)
def test_a_cnic_by_sms_is_answered_in_urdu_with_the_block_serial_and_station(inbound_sms, man, memory, body):
    reply = reply_to(inbound_sms(body))
    assert reply.language == "ur" and reply.purpose == "reply" and reply.to == "+923001234567"
    assert "310000001" in reply.body and "300" in reply.body and "41" in reply.body and "NA-60" in reply.body
    assert reply.segments <= 2 and reply.status == "sent"
    assert man.name not in reply.body and man.address not in reply.body
    assert [sms.to for sms in memory.sent()] == ["+923001234567"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", ["35202-1234567-3 EN", "EN 3520212345673", "VOTE 35202 1234567 3 en", "ووٹ EN ۳۵۲۰۲۱۲۳۴۵۶۷۳"]
)
def test_en_anywhere_gets_the_reply_in_english(inbound_sms, man, body):
    reply = reply_to(inbound_sms(body))
    assert reply.language == "en"
    assert "Polling station" in reply.body and "310000001" in reply.body and "serial 300" in reply.body
    assert "Government Boys High School" in reply.body


@pytest.mark.django_db
def test_a_woman_gets_her_female_list_station(inbound_sms, woman, world):
    reply = reply_to(inbound_sms(f"{WOMAN} EN"))
    assert "Polling station 2" in reply.body and "serial 12" in reply.body


@pytest.mark.django_db
def test_a_cnic_not_on_the_roll_is_answered_with_the_masked_cnic(inbound_sms, world):
    reply = reply_to(inbound_sms(f"{NOBODY} EN"))
    assert masked_in("12345-•••••••-1", reply.body) and NOBODY not in reply.body and "No entry" in reply.body


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["deleted", "shifted", "deceased"])
def test_an_entry_no_longer_on_the_roll_is_answered_with_its_status(inbound_sms, world, status):
    ElectorFactory(cnic=int(WOMAN), gender="F", block=world.block, serial=4, status=status)
    reply = reply_to(inbound_sms(f"{WOMAN} EN"))
    assert status in reply.body and "310000001" not in reply.body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "handler", "says"),
    [
        ("352021234567", "cnic", "this has 12"),
        ("35202-1234567-33", "cnic", "this has 14"),
        ("VOTE 352021234567", "vote", "this has 12"),
        ("VOTE", "vote", "13 digits"),
        ("VOTE abcdef", "vote", "13 digits"),
        ("abcdefghijklm", "help", "not understood"),
        ("🗳️🇵🇰", "help", "not understood"),
        ("", "help", "not understood"),
        ("3520212345673abc", "help", "not understood"),
    ],
)
def test_anything_else_gets_a_reply_and_no_error(inbound_sms, world, body, handler, says):
    reply = reply_to(inbound_sms(f"{body} EN" if handler != "help" else body))
    row = InboundMessage.objects.get()
    assert row.handler == handler
    assert says in reply.body or handler == "help"  # the help text is bilingual
    assert reply.segments <= 2 or handler == "help"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "stored"),
    [
        ("35202-1234567-3", "35202-•••••••-3"),
        ("3520212345673", "35202-•••••••-3"),
        ("35202 1234567 3", "35202-•••••••-3"),
        ("۳۵۲۰۲-۱۲۳۴۵۶۷-۳", "35202-•••••••-3"),
        ("VOTE 3520212345673 EN", "VOTE 35202-•••••••-3 EN"),
    ],
)
def test_the_stored_inbound_message_keeps_the_cnic_masked(inbound_sms, man, body, stored):
    inbound_sms(body)
    row = InboundMessage.objects.get()
    assert row.body == stored
    assert "1234567" not in row.body


@pytest.mark.django_db
def test_sms_lookups_are_limited_per_phone_number(inbound_sms, man, settings):
    settings.EVP_CLIENT_LIMIT = 2
    for _ in range(2):
        assert "310000001" in reply_to(inbound_sms(f"{MAN} EN")).body
    refused = reply_to(inbound_sms(f"{MAN} EN"))
    assert "Too many lookups" in refused.body and "310000001" not in refused.body
    assert "310000001" in reply_to(inbound_sms(f"{MAN} EN", sender="+923009876543")).body


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["35202-1234567-3", "ووٹ ۳۵۲۰۲۱۲۳۴۵۶۷۳ EN", "35202-1234567"])
def test_with_twiml_replies_the_8300_answer_is_in_the_webhook_response(inbound_sms, man, memory, settings, body):
    settings.SMS_INBOUND_REPLY = "twiml"
    response = inbound_sms(body)
    row = InboundMessage.objects.get()
    assert response.status_code == 200 and row.reply is None and row.handler in ("cnic", "vote")
    assert f"<Message>{row.reply_text}</Message>".encode() in response.content
    assert segments(row.reply_text) <= 2 and "1234567-3" not in row.body and "12345673" not in row.body
    assert man.name not in row.reply_text and not Message.objects.exists() and memory.sent() == []
