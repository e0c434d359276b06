"""Ed25519 keys, canonical JSON and detached signatures for offline result bundles: pure code, no Django.

A Returning Officer's laptop signs what it exports with its private key; the
centre checks the signature with the public half it registered
(``results.models.SigningKey``). What is signed is the *canonical* form of a
JSON document (``canonical_json``): keys sorted, no insignificant whitespace,
UTF-8 without escapes, no NaN or infinities. The same document always gives
the same bytes, whatever order its keys were built or read in, so the
signature can sit beside the payload in the same file and be checked after
the file is parsed again.

Keys travel as text: the private key as a PKCS#8 PEM file (unencrypted: the
file's permissions and the laptop guard it), the public key as the base64 of
its raw 32 bytes (short enough to read out on the phone when registering it).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


class BadKey(ValueError):
    """A key could not be read: not PEM, not Ed25519, not base64 of 32 bytes, …"""


class BadSignature(ValueError):
    """The signature does not match the payload and the public key."""


class NotCanonical(ValueError):
    """A value that JSON cannot carry unambiguously (NaN, infinity, a duplicated key, a non-JSON type)."""


# --- keys ------------------------------------------------------------------------------------------------------


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def private_key_from_pem(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise BadKey(f"not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise BadKey(f"the key is {type(key).__name__}, not an Ed25519 private key")
    return key


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as base64 of its raw 32 bytes (what ``SigningKey.public_key`` stores)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    raw = _b64decode(text.strip(), what="public key")
    if len(raw) != PUBLIC_KEY_BYTES:
        raise BadKey(f"an Ed25519 public key has {PUBLIC_KEY_BYTES} bytes; this one has {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def normalise_public_key(text: str) -> str:
    """The one spelling of a public key (checks it, too): ``public_key_b64(public_key_from_b64(text))``."""
    return public_key_b64(public_key_from_b64(text))


def _b64decode(text: str, *, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise BadKey(f"the {what} is not base64") from exc


# --- canonical JSON ----------------------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """The one byte string of a JSON value: sorted keys, ``,``/``:`` separators, UTF-8, no NaN.

    Only JSON's own types are accepted (dict with str keys, list, str, int, float, bool, None); anything
    else (a datetime, a tuple, bytes) is a ``NotCanonical`` error, so a caller never relies on a default.
    """
    _check_types(value)
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:  # NaN or infinity
        raise NotCanonical(str(exc)) from exc
    return text.encode("utf-8")


def _check_types(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, str | bool | int | float):
            continue
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise NotCanonical(f"object keys must be strings, not {type(key).__name__} ({key!r})")
                stack.append(child)
        else:
            raise NotCanonical(f"{type(item).__name__} is not a JSON type")


def parse_json(data: bytes) -> Any:
    """Read UTF-8 JSON strictly: a duplicated key, NaN or infinity is ``NotCanonical``."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise NotCanonical(f"the key {key!r} appears twice in one object")
            result[key] = value
        return result

    def no_constants(name: str) -> Any:
        raise NotCanonical(f"{name} is not allowed")

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotCanonical(f"not UTF-8 (byte {exc.start + 1})") from exc
    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise NotCanonical(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc


# --- signatures --------------------------------------------------------------------------------------------------


def sign(payload: bytes, key: Ed25519PrivateKey) -> str:
    """The detached signature of ``payload`` as base64 (64 raw bytes)."""
    return base64.b64encode(key.sign(payload)).decode("ascii")


def verify(payload: bytes, signature: str, public_key: str) -> None:
    """Raise ``BadSignature`` unless ``signature`` (base64) signs ``payload`` under ``public_key`` (base64).

    A malformed key is ``BadKey``; a malformed signature is a ``BadSignature`` like a wrong one.
    """
    public = public_key_from_b64(public_key)
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise BadSignature("the signature is not base64") from exc
    if len(raw) != SIGNATURE_BYTES:
        raise BadSignature(f"an Ed25519 signature has {SIGNATURE_BYTES} bytes; this one has {len(raw)}")
    try:
        public.verify(raw, payload)
    except InvalidSignature as exc:
        raise BadSignature("the signature does not match the payload and the public key") from exc


def sign_document(payload: Any, key: Ed25519PrivateKey) -> dict[str, Any]:
    """``{"payload": …, "signature": {"algorithm", "public_key", "signature"}}`` over ``canonical_json(payload)``."""
    return {
        "payload": payload,
        "signature": {
            "algorithm": ALGORITHM,
            "public_key": public_key_b64(key),
            "signature": sign(canonical_json(payload), key),
        },
    }


def verify_document(document: Any) -> tuple[Any, str]:
    """Check a ``sign_document`` result (as parsed back from JSON); return (payload, public key base64).

    Raise ``BadSignature`` when the shape is wrong, the algorithm is not Ed25519 or the signature fails;
    ``BadKey`` when the public key is malformed.
    """
    if not isinstance(document, dict) or set(document) != {"payload", "signature"}:
        raise BadSignature('a signed document has exactly two members, "payload" and "signature"')
    block = document["signature"]
    if not isinstance(block, dict) or set(block) != {"algorithm", "public_key", "signature"}:
        raise BadSignature('"signature" must have exactly "algorithm", "public_key" and "signature"')
    if block["algorithm"] != ALGORITHM:
        raise BadSignature(f"the algorithm is {block['algorithm']!r}; only {ALGORITHM} is accepted")
    if not isinstance(block["public_key"], str) or not isinstance(block["signature"], str):
        raise BadSignature("the public key and the signature must be base64 strings")
    payload = document["payload"]
    verify(canonical_json(payload), block["signature"], block["public_key"])
    return payload, normalise_public_key(block["public_key"])
