"""results.signing: keys, canonical JSON and detached signatures. Pure: no database."""

from __future__ import annotations

import base64
import json
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from results import signing

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)


def shuffled(value):
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        random.Random(len(items)).shuffle(items)
        return {key: shuffled(child) for key, child in items}
    if isinstance(value, list):
        return [shuffled(child) for child in value]
    return value


@pytest.fixture(scope="module")
def key():
    return signing.generate_private_key()


def test_sign_and_verify_round_trip(key):
    payload = signing.canonical_json({"station": 12, "votes": {"1": 500, "2": 300}})
    signature = signing.sign(payload, key)
    assert len(base64.b64decode(signature)) == 64
    signing.verify(payload, signature, signing.public_key_b64(key))  # no exception


def test_a_flipped_byte_in_the_payload_fails(key):
    payload = bytearray(signing.canonical_json({"station": 12, "votes": {"1": 500, "2": 300}}))
    signature = signing.sign(bytes(payload), key)
    for index in (0, len(payload) // 2, len(payload) - 1):
        tampered = bytearray(payload)
        tampered[index] ^= 0x01
        with pytest.raises(signing.BadSignature):
            signing.verify(bytes(tampered), signature, signing.public_key_b64(key))


def test_a_flipped_bit_in_the_signature_fails(key):
    payload = b'{"a":1}'
    raw = bytearray(base64.b64decode(signing.sign(payload, key)))
    raw[10] ^= 0x80
    with pytest.raises(signing.BadSignature):
        signing.verify(payload, base64.b64encode(bytes(raw)).decode(), signing.public_key_b64(key))


def test_a_different_key_fails(key):
    payload = b'{"a":1}'
    other = signing.generate_private_key()
    with pytest.raises(signing.BadSignature):
        signing.verify(payload, signing.sign(payload, key), signing.public_key_b64(other))


@pytest.mark.parametrize("signature", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_a_malformed_signature_is_a_bad_signature(key, signature):
    with pytest.raises(signing.BadSignature):
        signing.verify(b"{}", signature, signing.public_key_b64(key))


@pytest.mark.parametrize("public_key", ["not base64!", base64.b64encode(b"x" * 31).decode(), ""])
def test_a_malformed_public_key_is_a_bad_key(public_key):
    with pytest.raises(signing.BadKey):
        signing.public_key_from_b64(public_key)


def test_private_key_pem_round_trip_keeps_the_public_key(key):
    pem = signing.private_key_to_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = signing.private_key_from_pem(pem)
    assert signing.public_key_b64(again) == signing.public_key_b64(key)
    assert len(base64.b64decode(signing.public_key_b64(key))) == 32


@pytest.mark.parametrize("pem", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_an_unreadable_private_key_is_a_bad_key(pem):
    with pytest.raises(signing.BadKey):
        signing.private_key_from_pem(pem)


def test_an_rsa_or_other_key_type_is_refused():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(signing.BadKey, match="not an Ed25519"):
        signing.private_key_from_pem(pem)


def test_canonical_json_is_sorted_compact_utf8():
    value = {"b": [1, 2.5, None, True], "a": {"z": "نتیجہ", "y": 0}}
    assert signing.canonical_json(value) == '{"a":{"y":0,"z":"نتیجہ"},"b":[1,2.5,null,true]}'.encode()


@given(json_values)
def test_canonical_form_is_stable_under_key_order_and_reparsing(value):
    once = signing.canonical_json(value)
    assert signing.canonical_json(shuffled(value)) == once
    assert signing.canonical_json(signing.parse_json(once)) == once


@pytest.mark.parametrize("value", [math.nan, math.inf, {"a": -math.inf}, {1: "int key"}, ("tuple",), b"bytes"])
def test_canonical_json_refuses_what_json_cannot_carry_exactly(value):
    with pytest.raises(signing.NotCanonical):
        signing.canonical_json(value)


@pytest.mark.parametrize("text", [b'{"a":1,"a":2}', b'{"a":NaN}', b'{"a":Infinity}', b"\xff", b"{", b""])
def test_parse_json_is_strict(text):
    with pytest.raises(signing.NotCanonical):
        signing.parse_json(text)


def test_signed_document_verifies_after_a_round_trip_through_any_json_layout(key):
    document = signing.sign_document({"z": 1, "a": [1, 2], "u": "ووٹ"}, key)
    pretty = json.dumps(document, indent=4, ensure_ascii=True).encode()  # other whitespace, escapes, key order
    payload, public_key = signing.verify_document(signing.parse_json(pretty))
    assert payload == {"z": 1, "a": [1, 2], "u": "ووٹ"}
    assert public_key == signing.public_key_b64(key)


def test_a_changed_value_in_a_signed_document_fails(key):
    document = signing.sign_document({"votes": {"1": 500}}, key)
    document["payload"]["votes"]["1"] = 501
    with pytest.raises(signing.BadSignature):
        signing.verify_document(document)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["signature"].update(algorithm="RSA"),
        lambda d: d["signature"].pop("public_key"),
        lambda d: d.update(extra=1),
        lambda d: d["signature"].update(signature=123),
    ],
)
def test_a_signed_document_of_the_wrong_shape_fails(key, change):
    document = signing.sign_document({"a": 1}, key)
    change(document)
    with pytest.raises(signing.BadSignature):
        signing.verify_document(document)


def test_public_key_is_normalised():
    key = signing.generate_private_key()
    text = signing.public_key_b64(key)
    assert signing.normalise_public_key(f"  {text}\n") == text
