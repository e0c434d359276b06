"""A small SMPP v3.4 SMSC (an aggregator's message centre) on loopback, for tests and demos. No Django.

It speaks real binary PDUs, parsed here with ``struct`` rather than with smpplib, so the client under
test is checked by a second, independent reading of the protocol:

- ``bind_transmitter`` / ``bind_transceiver`` / ``bind_receiver``: the system_id and password are
  checked (``ESME_RINVSYSID`` 0x0F, ``ESME_RINVPASWD`` 0x0E); a second bind gets ``ESME_RALYBND``.
- ``submit_sm``: mandatory parameters and TLVs (``user_message_reference`` 0x0204,
  ``message_payload`` 0x0424, the ``sar_*`` ones) are parsed, the text decoded (data_coding 0: the
  GSM 03.38 default alphabet, one septet an octet as SMPP carries it; 8: UCS-2/UTF-16-BE; 1: ASCII;
  3: Latin-1) with a concatenation header (esm_class 0x40) stripped off; the reply is a
  ``submit_sm_resp`` carrying a new message_id. Submits before a bind get ``ESME_RINVBNDSTS``.
- ``enquire_link`` → ``enquire_link_resp``; ``unbind`` → ``unbind_resp``; anything else →
  ``generic_nack`` with ``ESME_RINVCMDID``.
- A session bound as transceiver (or a receiver bound with the same system_id) gets a delivery
  receipt (``deliver_sm``, esm_class 0x04) for each submit that asked for one.

What arrived is kept, thread-safely: ``submits`` (one dict a ``submit_sm`` PDU) and ``messages()``
(one dict a logical message, parts reassembled). Failure injection: ``fail_next(n, status)``,
``silence_next(n)`` (no reply at all), ``invalid_destinations``, ``undeliverable_destinations``,
``enquire_link_next(n)`` and ``drop_connections()``. Anything malformed is noted in
``protocol_errors``, which a test can assert is empty.

    with SmscDouble(system_id="ecp", password="secret") as smsc:
        provider = SmppProvider(host=smsc.host, port=smsc.port, system_id="ecp", password="secret")
        ...
        assert smsc.messages()[0]["text"] == "..."

Standalone, for demos: ``python -m sms.doubles.smpp_server --port 2775`` logs every message it accepts.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

log = logging.getLogger("sms.doubles.smpp")

# --- protocol constants (SMPP v3.4, section 5) -------------------------------------------------

GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
RESPONSE = 0x80000000  # the bit a response's command_id adds to its request's

ESME_ROK = 0x00
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RTHROTTLED = 0x58
ESME_RINVPARLEN = 0xC2

TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_USER_MESSAGE_REFERENCE = 0x0204
TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_SC_INTERFACE_VERSION = 0x0210
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_MESSAGE_STATE = 0x0427

ESM_UDHI = 0x40
ESM_DELIVERY_RECEIPT = 0x04
MESSAGE_STATE_DELIVERED = 2
MESSAGE_STATE_UNDELIVERABLE = 5

_BINDS = {BIND_TRANSMITTER: "tx", BIND_RECEIVER: "rx", BIND_TRANSCEIVER: "trx"}
_HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
_MAX_PDU = 64 * 1024

# --- GSM 03.38 default alphabet (code order, 0x00-0x7F; 0x1B is the escape) and its extension table -----

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {
    0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€",
}  # fmt: skip


def decode_gsm(octets: bytes) -> str:
    """Unpacked GSM 03.38 septets (one an octet, as SMPP carries them) to text.

    An octet above 0x7F cannot be a septet: such a text is read as Latin-1, the other meaning SMSCs give
    data_coding 0. An escape not followed by a known extension code reads as the following basic character
    (3GPP TS 23.038); an escape at the very end (a part cut between ESC and its character) as a space.
    """
    if any(octet > 0x7F for octet in octets):
        return octets.decode("latin-1")
    out: list[str] = []
    escaped = False
    for octet in octets:
        if escaped:
            out.append(GSM_EXTENSION.get(octet, GSM_BASIC[octet]))
            escaped = False
        elif octet == 0x1B:
            escaped = True
        else:
            out.append(GSM_BASIC[octet])
    if escaped:
        out.append(" ")
    return "".join(out)


def decode_text(octets: bytes, data_coding: int) -> str:
    """The text a handset would show for one part (a broken UTF-16 pair shows as U+FFFD)."""
    if data_coding == 0x00:
        return decode_gsm(octets)
    if data_coding == 0x08:
        return octets.decode("utf-16-be", errors="replace")
    if data_coding == 0x01:
        return octets.decode("ascii", errors="replace")
    return octets.decode("latin-1")


def split_udh(content: bytes) -> tuple[tuple[int, int, int] | None, bytes]:
    """((ref, total, seq) or None, payload) from user data that starts with a UDH.

    Knows the concatenation elements 0x00 (8-bit reference) and 0x08 (16-bit reference); others are skipped.
    """
    if not content:
        raise ValueError("esm_class has UDHI set but the message is empty")
    length = content[0]
    header, payload = content[1 : 1 + length], content[1 + length :]
    if len(header) != length:
        raise ValueError("UDH longer than the message")
    concat = None
    pos = 0
    while pos + 2 <= len(header):
        iei, iel = header[pos], header[pos + 1]
        data = header[pos + 2 : pos + 2 + iel]
        if len(data) != iel:
            raise ValueError("UDH information element runs past the header")
        if iei == 0x00 and iel == 3:
            concat = (data[0], data[1], data[2])
        elif iei == 0x08 and iel == 4:
            concat = ((data[0] << 8) | data[1], data[2], data[3])
        pos += 2 + iel
    return concat, payload


# --- PDU reading and writing ---------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def u8(self) -> int:
        if self.pos >= len(self.data):
            raise ValueError("PDU body ends early")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def cstring(self, size: int, name: str) -> str:
        """A C-Octet String of at most ``size`` octets counting its NUL."""
        end = self.data.find(b"\x00", self.pos, self.pos + size)
        if end < 0:
            raise ValueError(f"{name} has no NUL within {size} octets")
        value = self.data[self.pos : end].decode("latin-1")
        self.pos = end + 1
        return value

    def octets(self, count: int) -> bytes:
        value = self.data[self.pos : self.pos + count]
        if len(value) != count:
            raise ValueError("PDU body ends early")
        self.pos += count
        return value

    def tlvs(self) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        while self.pos < len(self.data):
            if self.pos + 4 > len(self.data):
                raise ValueError("truncated TLV header")
            tag, length = struct.unpack_from(">HH", self.data, self.pos)
            self.pos += 4
            found[tag] = self.octets(length)
        return found


def _cstr(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


def _tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


def _tlv_int(tlvs: dict[int, bytes], tag: int, size: int) -> int | None:
    if tag not in tlvs:
        return None
    if len(tlvs[tag]) != size:
        raise ValueError(f"TLV 0x{tag:04x} should be {size} octets, is {len(tlvs[tag])}")
    return int.from_bytes(tlvs[tag], "big")


@dataclass(eq=False)  # hashed by identity: kept in a set
class _Session:
    sock: socket.socket
    peer: str
    bound: str | None = None  # "tx", "rx", "trx"
    system_id: str = ""
    sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)

    def send(self, command_id: int, status: int, sequence: int, body: bytes = b"") -> None:
        pdu = _HEADER.pack(_HEADER.size + len(body), command_id, status, sequence) + body
        with self.send_lock:
            self.sock.sendall(pdu)

    def recv_exact(self, count: int) -> bytes | None:
        chunks, received = [], 0
        while received < count:
            try:
                chunk = self.sock.recv(count - received)
            except OSError:
                return None
            if not chunk:
                return None
            chunks.append(chunk)
            received += len(chunk)
        return b"".join(chunks)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], smsc: SmscDouble):
        self.smsc = smsc
        super().__init__(address, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.smsc._serve(self.request, f"{self.client_address[0]}:{self.client_address[1]}")


# --- the double --------------------------------------------------------------------------------------


class SmscDouble:
    """An SMSC on ``host:port`` (port 0: any free port, read ``.port`` after ``start()``)."""

    def __init__(
        self,
        system_id: str = "ecp",
        password: str = "secret",  # noqa: S107 - the loopback double's well-known demo credential
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        invalid_destinations: Iterable[str] = (),
        undeliverable_destinations: Iterable[str] = (),
    ):
        self.system_id = system_id
        self.password = password
        self.host = host
        self._requested_port = port
        # Destination addresses exactly as submitted (E.164 digits without "+"):
        self.invalid_destinations: set[str] = set(invalid_destinations)  # → submit_sm_resp ESME_RINVDSTADR
        self.undeliverable_destinations: set[str] = set(undeliverable_destinations)  # → accepted, receipt UNDELIV
        self.submits: list[dict[str, Any]] = []  # accepted submit_sm, in arrival order
        self.rejected: list[dict[str, Any]] = []  # refused submit_sm: {"status", "destination", "sequence"}
        self.receipts: list[dict[str, Any]] = []  # deliver_sm receipts sent
        self.protocol_errors: list[str] = []
        self.binds = 0  # successful binds
        self.bind_failures = 0
        self.unbinds = 0
        self.enquire_link_resps = 0  # answers to our enquire_link
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._fail: list[int | None] = []  # statuses for the next submits; None: no reply at all
        self._enquire_before_resp = 0
        self._sessions: set[_Session] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> SmscDouble:
        self._server = _Server((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="smsc-double", daemon=True
        )
        self._thread.start()
        log.info("SMSC double listening on %s:%s (system_id %r)", self.host, self.port, self.system_id)
        return self

    def stop(self) -> None:
        """Stop listening and cut every session, as an SMSC going down does."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SmscDouble:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._requested_port
        return int(self._server.server_address[1])

    # failure injection

    def fail_next(self, n: int = 1, status: int = ESME_RTHROTTLED) -> None:
        """Refuse the next ``n`` submit_sm PDUs (parts, not messages) with ``status``."""
        with self._lock:
            self._fail.extend([status] * n)

    def silence_next(self, n: int = 1) -> None:
        """Read the next ``n`` submit_sm PDUs and never answer them (nor record them): a client timeout."""
        with self._lock:
            self._fail.extend([None] * n)

    def enquire_link_next(self, n: int = 1) -> None:
        """Send an enquire_link just before each of the next ``n`` submit_sm_resp (the client must answer it)."""
        with self._lock:
            self._enquire_before_resp += n

    def drop_connections(self) -> None:
        """Cut every open session (the listener stays up): an idle timeout or a restart on the SMSC side."""
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            with contextlib.suppress(OSError):  # already gone
                session.sock.shutdown(socket.SHUT_RDWR)
        for session in sessions:
            session.done.wait(timeout=5)

    # what arrived

    @property
    def bound_sessions(self) -> int:
        with self._lock:
            return sum(1 for s in self._sessions if s.bound)

    def messages(self) -> list[dict[str, Any]]:
        """One entry a logical message, in order of its first part, with the parts reassembled.

        Parts join on (source, destination, reference, total) from the UDH or the sar_* TLVs; a part whose
        number the open group already holds starts a new group (a resend). Each entry: ``text`` (each part
        decoded on its own, as a handset does, then joined in part order), ``parts`` (how many arrived),
        ``total``, ``complete``, ``message_ids``, ``source``, ``destination``, ``data_coding``,
        ``user_message_reference`` (the first part's).
        """
        with self._lock:
            submits = list(self.submits)
        messages: list[dict[str, Any]] = []
        open_groups: dict[tuple[str, str, int, int], dict[int, dict[str, Any]]] = {}
        order: list[tuple[dict[str, Any], dict[int, dict[str, Any]]]] = []
        for submit in submits:
            concat = submit["udh"] or submit["sar"]
            if concat is None:
                order.append((submit, {1: submit}))
                continue
            ref, total, seq = concat
            key = (submit["source"], submit["destination"], ref, total)
            group = open_groups.get(key)
            if group is None or seq in group or len(group) == total:
                group = open_groups[key] = {}
                order.append((submit, group))
            group[seq] = submit
        for first, group in order:
            concat = first["udh"] or first["sar"]
            total = concat[1] if concat else 1
            parts = [group[seq] for seq in sorted(group)]
            messages.append(
                {
                    "text": "".join(part["text"] for part in parts),
                    "parts": len(parts),
                    "total": total,
                    "complete": sorted(group) == list(range(1, total + 1)),
                    "message_ids": [part["message_id"] for part in parts],
                    "source": first["source"],
                    "destination": first["destination"],
                    "data_coding": first["data_coding"],
                    "user_message_reference": first["user_message_reference"],
                }
            )
        return messages

    def clear(self) -> None:
        with self._lock:
            self.submits.clear()
            self.rejected.clear()
            self.receipts.clear()
            self.protocol_errors.clear()

    # one connection

    def _serve(self, sock: socket.socket, peer: str) -> None:
        session = _Session(sock=sock, peer=peer)
        with self._lock:
            self._sessions.add(session)
        try:
            while True:
                header = session.recv_exact(_HEADER.size)
                if header is None:
                    return
                length, command_id, status, sequence = _HEADER.unpack(header)
                if not _HEADER.size <= length <= _MAX_PDU:
                    self._protocol_error(f"command_length {length} from {peer}")
                    session.send(GENERIC_NACK, ESME_RINVCMDLEN, sequence)
                    return
                body = session.recv_exact(length - _HEADER.size) if length > _HEADER.size else b""
                if body is None:
                    return
                self._dispatch(session, command_id, status, sequence, body)
        except OSError:
            return  # the connection was cut while we wrote
        except Exception as exc:  # a bug in the double: make the test that met it fail, not hang
            log.exception("SMSC double failed on a PDU from %s", peer)
            with self._lock:
                self.protocol_errors.append(f"double failed: {exc!r}")
        finally:
            with self._lock:
                self._sessions.discard(session)
            session.done.set()

    def _dispatch(self, session: _Session, command_id: int, status: int, sequence: int, body: bytes) -> None:
        if command_id in _BINDS:
            self._bind(session, command_id, sequence, body)
        elif command_id == SUBMIT_SM:
            self._submit(session, sequence, body)
        elif command_id == ENQUIRE_LINK:
            session.send(ENQUIRE_LINK | RESPONSE, ESME_ROK, sequence)
        elif command_id == UNBIND:
            with self._lock:
                self.unbinds += 1
            session.bound = None
            session.send(UNBIND | RESPONSE, ESME_ROK, sequence)
        elif command_id == ENQUIRE_LINK | RESPONSE:
            with self._lock:
                self.enquire_link_resps += 1
        elif command_id & RESPONSE:
            pass  # deliver_sm_resp, generic_nack…: nothing to answer
        else:
            session.send(GENERIC_NACK, ESME_RINVCMDID, sequence)

    def _bind(self, session: _Session, command_id: int, sequence: int, body: bytes) -> None:
        response = command_id | RESPONSE
        try:
            reader = _Reader(body)
            system_id = reader.cstring(16, "system_id")
            password = reader.cstring(9, "password")
            reader.cstring(13, "system_type")
            reader.u8()  # interface_version
            reader.u8()  # addr_ton
            reader.u8()  # addr_npi
            reader.cstring(41, "address_range")
        except ValueError as exc:
            self._protocol_error(f"bind from {session.peer}: {exc}")
            session.send(response, ESME_RSYSERR, sequence)
            return
        if session.bound:
            session.send(response, ESME_RALYBND, sequence)
            return
        if system_id != self.system_id:
            status = ESME_RINVSYSID
        elif password != self.password:
            status = ESME_RINVPASWD
        else:
            status = ESME_ROK
        if status != ESME_ROK:
            with self._lock:
                self.bind_failures += 1
            session.send(response, status, sequence)  # an error response has no body (SMPP 3.4, 4.1)
            return
        session.bound, session.system_id = _BINDS[command_id], system_id
        with self._lock:
            self.binds += 1
        session.send(response, ESME_ROK, sequence, _cstr("SmscDouble") + _tlv(TLV_SC_INTERFACE_VERSION, b"\x34"))

    def _submit(self, session: _Session, sequence: int, body: bytes) -> None:
        response = SUBMIT_SM | RESPONSE
        if session.bound not in ("tx", "trx"):
            session.send(response, ESME_RINVBNDSTS, sequence)
            return
        try:
            submit = self._parse_submit(body)
        except ValueError as exc:
            self._protocol_error(f"submit_sm from {session.peer}: {exc}")
            session.send(response, ESME_RINVPARLEN, sequence)
            return
        with self._lock:
            injected = self._fail.pop(0) if self._fail else ESME_ROK
            if injected == ESME_ROK and submit["destination"] in self.invalid_destinations:
                injected = ESME_RINVDSTADR
            if injected is None:
                return  # silenced: never answered
            if injected != ESME_ROK:
                self.rejected.append({"status": injected, "destination": submit["destination"], "sequence": sequence})
            else:
                submit["message_id"] = f"{next(self._ids):08X}"
                submit["system_id"] = session.system_id
                self.submits.append(submit)
            enquire = self._enquire_before_resp > 0
            if enquire:
                self._enquire_before_resp -= 1
        if enquire:
            session.send(ENQUIRE_LINK, ESME_ROK, next(session.sequence))
        if injected != ESME_ROK:
            session.send(response, injected, sequence)
            return
        log.info(
            "submit_sm %s %s → %s (dc %s%s): %s",
            submit["message_id"],
            submit["source"],
            submit["destination"],
            submit["data_coding"],
            f", part {submit['udh'][2]}/{submit['udh'][1]}" if submit["udh"] else "",
            submit["text"],
        )
        session.send(response, ESME_ROK, sequence, _cstr(submit["message_id"]))
        if submit["registered_delivery"] & 0x03:
            self._send_receipt(session, submit)

    @staticmethod
    def _parse_submit(body: bytes) -> dict[str, Any]:
        reader = _Reader(body)
        reader.cstring(6, "service_type")
        source_ton, source_npi, source = reader.u8(), reader.u8(), reader.cstring(21, "source_addr")
        dest_ton, dest_npi, destination = reader.u8(), reader.u8(), reader.cstring(21, "destination_addr")
        esm_class = reader.u8()
        reader.u8()  # protocol_id
        reader.u8()  # priority_flag
        reader.cstring(17, "schedule_delivery_time")
        reader.cstring(17, "validity_period")
        registered_delivery = reader.u8()
        reader.u8()  # replace_if_present_flag
        data_coding = reader.u8()
        reader.u8()  # sm_default_msg_id
        sm_length = reader.u8()
        if sm_length > 254:
            raise ValueError(f"sm_length {sm_length} > 254")
        short_message = reader.octets(sm_length)
        tlvs = reader.tlvs()
        payload = tlvs.get(TLV_MESSAGE_PAYLOAD)
        if payload is not None and short_message:
            raise ValueError("both short_message and message_payload are set")
        content = short_message if payload is None else payload
        udh, user_data = split_udh(content) if esm_class & ESM_UDHI else (None, content)
        sar_ref = _tlv_int(tlvs, TLV_SAR_MSG_REF_NUM, 2)
        sar_total = _tlv_int(tlvs, TLV_SAR_TOTAL_SEGMENTS, 1)
        sar_seq = _tlv_int(tlvs, TLV_SAR_SEGMENT_SEQNUM, 1)
        sar = (sar_ref, sar_total, sar_seq) if None not in (sar_ref, sar_total, sar_seq) else None
        return {
            "message_id": None,
            "source": source,
            "source_ton": source_ton,
            "source_npi": source_npi,
            "destination": destination,
            "dest_ton": dest_ton,
            "dest_npi": dest_npi,
            "esm_class": esm_class,
            "data_coding": data_coding,
            "registered_delivery": registered_delivery,
            "short_message": short_message,
            "message_payload": payload,
            "udh": udh,
            "sar": sar,
            "text": decode_text(user_data, data_coding),
            "user_message_reference": _tlv_int(tlvs, TLV_USER_MESSAGE_REFERENCE, 2),
            "received_at": time.time(),
        }

    def _send_receipt(self, submitter: _Session, submit: dict[str, Any]) -> None:
        """A delivery receipt to the submitting transceiver, else to a receiver bound with its system_id."""
        with self._lock:
            if submitter.bound == "trx":
                target: _Session | None = submitter
            else:
                target = next(
                    (s for s in self._sessions if s.bound == "rx" and s.system_id == submitter.system_id), None
                )
        if target is None:
            return
        delivered = submit["destination"] not in self.undeliverable_destinations
        stamp = datetime.now(UTC).strftime("%y%m%d%H%M")
        text = submit["text"][:20].encode("ascii", errors="replace").decode("ascii")
        receipt = (
            f"id:{submit['message_id']} sub:001 dlvrd:{'001' if delivered else '000'} submit date:{stamp} "
            f"done date:{stamp} stat:{'DELIVRD' if delivered else 'UNDELIV'} err:{'000' if delivered else '001'} "
            f"text:{text}"
        ).encode("ascii")
        body = (
            _cstr("")  # service_type
            + bytes([submit["dest_ton"], submit["dest_npi"]])
            + _cstr(submit["destination"])
            + bytes([submit["source_ton"], submit["source_npi"]])
            + _cstr(submit["source"])
            + bytes([ESM_DELIVERY_RECEIPT, 0, 0])  # esm_class, protocol_id, priority_flag
            + _cstr("")  # schedule_delivery_time
            + _cstr("")  # validity_period
            + bytes([0, 0, 0, 0, len(receipt)])  # registered_delivery, replace, data_coding, default_msg_id, sm_length
            + receipt
            + _tlv(TLV_RECEIPTED_MESSAGE_ID, _cstr(submit["message_id"]))
            + _tlv(TLV_MESSAGE_STATE, bytes([MESSAGE_STATE_DELIVERED if delivered else MESSAGE_STATE_UNDELIVERABLE]))
        )
        if submit["user_message_reference"] is not None:
            body += _tlv(TLV_USER_MESSAGE_REFERENCE, struct.pack(">H", submit["user_message_reference"]))
        try:
            target.send(DELIVER_SM, ESME_ROK, next(target.sequence), body)
        except OSError:
            return  # the receiver went away
        with self._lock:
            self.receipts.append({"message_id": submit["message_id"], "delivered": delivered})

    def _protocol_error(self, message: str) -> None:
        log.warning("SMSC double: malformed PDU: %s", message)
        with self._lock:
            self.protocol_errors.append(message)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local SMPP v3.4 SMSC that logs every message it accepts.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument("--system-id", default="ecp")
    parser.add_argument("--password", default="secret")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    smsc = SmscDouble(system_id=args.system_id, password=args.password, host=args.host, port=args.port).start()
    print(f"SMSC double on {args.host}:{smsc.port} (system_id {args.system_id!r}); Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        smsc.stop()


if __name__ == "__main__":
    main()
