"""SmppProvider with the real smpplib client against the SMSC double on loopback. No database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from smpplib import client as smpp_client
from smpplib import consts

from sms import encoding
from sms.doubles.smpp_server import SmscDouble, decode_text, split_udh
from sms.providers.base import (
    LookupUnsupported,
    OutgoingSms,
    PermanentProviderError,
    TransientProviderError,
)
from sms.providers.smpp import GSM7_OCTETS, SmppProvider, encode_parts

TO = "+923001234567"
URDU = "آپ کا پولنگ اسٹیشن گورنمنٹ بوائز ہائی اسکول ہے۔"  # "Your polling station is Government Boys High School."


@pytest.fixture
def smsc():
    with SmscDouble(system_id="ecp", password="secret") as double:
        yield double
    assert double.protocol_errors == []


def make_provider(smsc, **overrides):
    options = {"host": smsc.host, "port": smsc.port, "system_id": "ecp", "password": "secret", "timeout": 2}
    return SmppProvider(**{**options, **overrides})


@pytest.fixture
def provider(smsc):
    provider = make_provider(smsc)
    yield provider
    provider.close()


def sms(body, *, message_id=70001, to=TO):
    return OutgoingSms(message_id=message_id, to=to, body=body)


# --- what arrives


def test_a_short_english_message_arrives_as_one_gsm_part(smsc, provider):
    body = "Polling station 42 opens at 8 AM."

    result = provider.send(sms(body, message_id=70001))

    [submit] = smsc.submits
    assert result.provider_id == submit["message_id"]
    assert result.segments == 1
    assert (submit["destination"], submit["dest_ton"], submit["dest_npi"]) == ("923001234567", 1, 1)
    assert (submit["source"], submit["source_ton"], submit["source_npi"]) == ("ECP", 5, 0)
    assert (submit["data_coding"], submit["esm_class"], submit["udh"]) == (0, 0, None)
    assert submit["text"] == body
    assert submit["user_message_reference"] == 70001 & 0xFFFF
    assert submit["registered_delivery"] == 1


def test_gsm_extension_and_special_characters_arrive_intact(smsc, provider):
    body = "@ £$¥ {curly} [square] ~ \\ | ^ € § ¿¡ ÄÖÑÜ äöñüà _ ΔΩ"

    provider.send(sms(body))

    [submit] = smsc.submits
    assert (submit["data_coding"], submit["text"]) == (0, body)


def test_a_character_outside_the_gsm_alphabet_sends_the_text_as_ucs2(smsc, provider):
    body = "Reply `1` to confirm"  # a backtick is not GSM-7 (smpplib's table would send it as §)

    provider.send(sms(body))

    [submit] = smsc.submits
    assert (submit["data_coding"], submit["text"]) == (8, body)


def test_an_urdu_message_arrives_as_ucs2_and_decodes_to_the_same_text(smsc, provider):
    result = provider.send(sms(URDU))

    [submit] = smsc.submits
    assert (submit["data_coding"], submit["esm_class"], submit["text"]) == (8, 0, URDU)
    assert submit["short_message"] == URDU.encode("utf-16-be")
    assert result.segments == 1


@pytest.mark.parametrize(
    ("body", "data_coding", "parts"),
    [
        pytest.param(("Polling stations open at 8 AM and close at 5 PM. " * 9)[:400], 0, 3, id="400 chars GSM-7"),
        pytest.param((URDU + " ") * 3 + URDU[:3], 8, 3, id="150 chars Urdu"),
    ],
)
def test_a_long_message_arrives_in_udh_parts_that_the_smsc_reassembles(smsc, provider, body, data_coding, parts):
    result = provider.send(sms(body, message_id=70300))

    assert result.segments == parts == encoding.segments(body)
    assert [s["udh"] for s in smsc.submits] == [(70300 & 0xFF, parts, n) for n in range(1, parts + 1)]
    assert {(s["esm_class"], s["data_coding"], s["user_message_reference"]) for s in smsc.submits} == {
        (0x40, data_coding, 70300 & 0xFFFF)
    }
    assert result.provider_id == smsc.submits[0]["message_id"]
    [message] = smsc.messages()
    assert (message["text"], message["parts"], message["complete"]) == (body, parts, True)


@pytest.mark.parametrize(
    ("body", "first_part"),
    [
        pytest.param("a" * 152 + "{" + "b" * 20, "a" * 152, id="GSM escape pair at the 153rd septet"),
        pytest.param("ا" * 66 + "🗳" + "ب" * 20, "ا" * 66, id="surrogate pair at the 67th unit"),
    ],
)
def test_a_part_never_ends_inside_a_two_unit_character(smsc, provider, body, first_part):
    provider.send(sms(body))

    assert [s["text"] for s in smsc.submits] == [first_part, body[len(first_part) :]]
    assert smsc.messages()[0]["text"] == body


# --- refusals and failures


@pytest.mark.parametrize(("system_id", "password", "code"), [("ecp", "wrong", "0x0e"), ("other", "secret", "0x0f")])
def test_wrong_credentials_are_permanent_and_nothing_is_submitted(smsc, system_id, password, code):
    provider = make_provider(smsc, system_id=system_id, password=password)

    with pytest.raises(PermanentProviderError) as refused:
        provider.send(sms("hello"))

    assert refused.value.code == code
    assert (smsc.binds, smsc.bind_failures, smsc.submits) == (0, 1, [])
    provider.close()


def test_a_throttled_submit_is_transient_and_the_next_send_goes_through(smsc, provider):
    smsc.fail_next(1, status=0x58)

    with pytest.raises(TransientProviderError) as refused:
        provider.send(sms("first try", message_id=1))
    assert refused.value.code == "0x58"
    assert "Throttling" in refused.value.message
    assert smsc.submits == []

    provider.send(sms("second try", message_id=1))
    assert [s["text"] for s in smsc.submits] == ["second try"]
    assert smsc.binds == 1  # a refusal keeps the session


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (0x58, TransientProviderError),  # throttled
        (0x14, TransientProviderError),  # message queue full
        (0x08, TransientProviderError),  # system error
        (0x45, TransientProviderError),  # submit failed
        (0x0A, PermanentProviderError),  # invalid source address
        (0x0B, PermanentProviderError),  # invalid destination address
        (0x61, PermanentProviderError),  # invalid scheduled delivery time: anything else is permanent
    ],
)
def test_command_status_decides_transient_or_permanent(smsc, provider, status, error):
    smsc.fail_next(1, status=status)

    with pytest.raises(error) as refused:
        provider.send(sms("hello"))

    assert type(refused.value) is error
    assert refused.value.code == f"0x{status:02x}"


def test_an_invalid_destination_is_permanent_and_the_session_carries_on(smsc, provider):
    smsc.invalid_destinations.add("923009999999")

    with pytest.raises(PermanentProviderError) as refused:
        provider.send(sms("hello", to="+923009999999"))
    assert refused.value.code == "0x0b"

    provider.send(sms("hello"))
    assert [s["destination"] for s in smsc.submits] == ["923001234567"]
    assert smsc.binds == 1


@pytest.mark.parametrize(
    ("to", "body", "code"), [("03001234567", "hi", "0x0b"), ("+92 300 1234567", "hi", "0x0b"), (TO, "", "0x01")]
)
def test_a_bad_number_or_an_empty_text_is_refused_without_calling_the_smsc(smsc, provider, to, body, code):
    with pytest.raises(PermanentProviderError) as refused:
        provider.send(sms(body, to=to))

    assert refused.value.code == code
    assert (smsc.binds, smsc.submits) == (0, [])


def test_a_stopped_smsc_is_a_network_error_and_a_restarted_one_is_reconnected(smsc, provider):
    provider.send(sms("before"))
    port = smsc.port
    smsc.stop()

    with pytest.raises(TransientProviderError) as failed:
        provider.send(sms("while down"))
    assert failed.value.code == "network"

    with SmscDouble(system_id="ecp", password="secret", port=port) as restarted:
        provider.send(sms("after"))
        assert [s["text"] for s in restarted.submits] == ["after"]
        assert restarted.binds == 1
        provider.close()


def test_a_session_the_smsc_dropped_while_idle_is_bound_again_without_failing_a_send(smsc, provider):
    provider.send(sms("one"))
    smsc.drop_connections()

    provider.send(sms("two"))

    assert [s["text"] for s in smsc.submits] == ["one", "two"]
    assert smsc.binds == 2


def test_no_answer_in_time_is_a_network_error_and_the_next_send_uses_a_new_session(smsc):
    provider = make_provider(smsc, timeout=0.3)
    smsc.silence_next(1)

    with pytest.raises(TransientProviderError) as failed:
        provider.send(sms("unanswered"))
    assert failed.value.code == "network"
    assert "may have accepted" in failed.value.message

    provider.send(sms("answered"))
    assert [s["text"] for s in smsc.submits] == ["answered"]
    assert smsc.binds == 2
    provider.close()


# --- the session


def test_one_bind_serves_many_sends(smsc, provider):
    for n in range(3):
        provider.send(sms(f"message {n}", message_id=n))

    assert smsc.binds == 1
    assert len(smsc.submits) == 3


def test_an_enquire_link_that_arrives_while_waiting_is_answered(smsc, provider):
    smsc.enquire_link_next(1)

    provider.send(sms("one"))
    provider.send(sms("two"))  # its answer follows our enquire_link_resp on the same connection

    assert smsc.enquire_link_resps == 1
    assert [s["text"] for s in smsc.submits] == ["one", "two"]


def test_close_unbinds_and_a_later_send_binds_again(smsc, provider):
    provider.send(sms("one"))
    provider.close()
    assert (smsc.unbinds, smsc.bound_sessions) == (1, 0)

    provider.send(sms("two"))
    assert smsc.binds == 2


def test_find_is_unsupported(provider):
    with pytest.raises(LookupUnsupported):
        provider.find(sms("hello"), since=datetime.now(UTC))


def test_credentials_smpplib_would_cut_short_are_refused_at_construction(smsc):
    with pytest.raises(ValueError, match="password"):
        make_provider(smsc, password="ninechars")
    with pytest.raises(ValueError, match="source_addr"):
        make_provider(smsc, source_addr="ElectionCommission")


# --- encoding, checked against the double's independent decoder


def test_every_gsm7_character_the_portal_counts_has_its_octets():
    assert set(encoding.GSM7_BASIC + encoding.GSM7_EXTENSION) == set(GSM7_OCTETS)


@given(st.text(min_size=1, max_size=600))
def test_parts_decode_to_the_text_and_are_as_many_as_the_portal_counts(body):
    parts, data_coding, esm_class = encode_parts(body, reference=7)

    assert len(parts) == encoding.segments(body)
    assert all(len(part) <= (160 if data_coding == 0 else 140) for part in parts)
    if len(parts) == 1:
        assert esm_class == 0
        assert decode_text(parts[0], data_coding) == body
    else:
        assert esm_class == 0x40
        split = [split_udh(part) for part in parts]
        assert [udh for udh, _ in split] == [(7, len(parts), n) for n in range(1, len(parts) + 1)]
        assert "".join(decode_text(data, data_coding) for _, data in split) == body


# --- the double itself


def test_the_double_sends_receipts_to_a_transceiver_and_nacks_unknown_commands(smsc):
    with smpp_client.Client(smsc.host, smsc.port, timeout=2, allow_unknown_opt_params=True) as client:
        client.connect()
        client.bind_transceiver(system_id="ecp", password="secret")
        submitted = client.send_message(
            source_addr="ECP",
            destination_addr="923001234567",
            short_message=b"hello",
            registered_delivery=1,
            user_message_reference=5,
        )
        response = client.read_pdu()
        receipt = client.read_pdu()
        query = client.query_message(message_id="1", source_addr_ton=0, source_addr_npi=0, source_addr="ECP")
        nack = client.read_pdu()

    assert (response.command, response.sequence, response.status) == ("submit_sm_resp", submitted.sequence, 0)
    assert receipt.command == "deliver_sm"
    assert receipt.esm_class == 0x04  # SMSC delivery receipt (SMPP 3.4, 5.2.12); smpplib names no constant for it
    assert receipt.receipted_message_id == response.message_id
    assert receipt.message_state == consts.SMPP_MESSAGE_STATE_DELIVERED
    assert b"stat:DELIVRD" in receipt.short_message
    assert (nack.command, nack.sequence, nack.status) == ("generic_nack", query.sequence, consts.SMPP_ESME_RINVCMDID)
