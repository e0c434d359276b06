"""SMPP v3.4 provider: hands messages to an aggregator's SMSC over one transmitter session (smpplib). No Django.

- The session is opened and bound (``bind_transmitter``) on the first send and kept. Before each send,
  whatever the SMSC sent meanwhile is read (an ``enquire_link`` is answered); a session the SMSC closed
  or unbound is replaced by a new one, so an idle disconnect costs no message.
- A text is split the way ``sms.encoding`` counts it (GSM-7 when every character is in the GSM 03.38
  alphabet, data_coding 0; otherwise UCS-2, data_coding 8), so ``SendResult.segments`` is the number the
  portal estimated and billed. A longer text goes as several ``submit_sm`` with a concatenation UDH
  (esm_class 0x40), none cut between ESC and its character or between the halves of a surrogate pair.
  smpplib's own ``gsm.make_parts`` is not used: it cuts at fixed octet counts, maps 0x5F to "`" instead of
  "§" and lacks the form feed, so its count and its text could differ from what the portal showed.
- The UDH reference is ``message_id & 0xFF``: a resend of the same message carries the same reference,
  so a handset holding some parts from the first try can complete the message.
- Our id travels as ``user_message_reference`` (TLV 0x0204), a 2-octet integer: ``message_id & 0xFFFF``.
  It tells retries apart on the SMSC's side; it is not unique across 65,536 messages.
- Each part asks for a delivery receipt (registered_delivery 1); the SMSC's receipts carry the message_id of
  their part. ``SendResult.provider_id`` is the first part's.
- The SMSC's command_status decides: throttling, a full queue, a system error, a failed submit, a refused
  bind or a lost bind (0x58, 0x14, 0x08, 0x45, 0x64, 0x0D, 0x04) are ``TransientProviderError``; anything
  else (0x0B invalid destination, 0x0A invalid source, 0x0E wrong password…) is ``PermanentProviderError``.
  The code is the status in hex ("0x58", "0x0b"). A bad number or an empty or oversized text is refused
  here, before the SMSC, with the status it would have answered (0x0b, 0x01).
- A socket error, a refused connection or no answer within ``timeout`` seconds is
  ``TransientProviderError("network", …)`` and the session is dropped. A submit that timed out may still
  have been accepted: its retry can deliver the message twice (SMPP offers no way to ask).
"""

from __future__ import annotations

import logging
import re
import select
import struct
import threading
import time
from datetime import datetime
from typing import Any

from smpplib import client as smpp_client
from smpplib import consts, smpp
from smpplib import exceptions as smpp_exceptions

from sms import encoding

from .base import (
    LookupUnsupported,
    OutgoingSms,
    PermanentProviderError,
    ProviderError,
    SendResult,
    TransientProviderError,
)

log = logging.getLogger("sms.providers.smpp")

# command_status values worth a retry later; every other non-zero status is permanent.
TRANSIENT_STATUSES = frozenset(
    {
        consts.SMPP_ESME_RTHROTTLED,  # 0x58: over the allowed rate
        consts.SMPP_ESME_RMSGQFUL,  # 0x14: the SMSC's queue is full
        consts.SMPP_ESME_RSYSERR,  # 0x08: the SMSC's own error
        consts.SMPP_ESME_RSUBMITFAIL,  # 0x45: submit failed (the SMSC could not take it now)
        consts.SMPP_ESME_RX_T_APPN,  # 0x64: the SMSC's "temporary application error"
        consts.SMPP_ESME_RBINDFAIL,  # 0x0D: bind refused; SMSCs answer so when their session limit is reached
        consts.SMPP_ESME_RINVBNDSTS,  # 0x04: the SMSC no longer counts us bound: a new session will do
    }
)
# Statuses after which the session itself is no good.
_SESSION_LOST_STATUSES = frozenset({consts.SMPP_ESME_RINVBNDSTS})

# What a broken or confused session raises (smpplib lets socket.timeout and other OSErrors through).
_SESSION_ERRORS = (
    smpp_exceptions.ConnectionError,
    smpp_exceptions.PDUError,
    smpp_exceptions.UnknownCommandError,
    struct.error,
    OSError,
)
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_UDH_CONCAT = b"\x05\x00\x03"  # UDH length 5; IE 0x00 (concatenation, 8-bit reference), IE length 3

# GSM 03.38 default alphabet in code order (0x1B is the escape) and the extension table's codes.
_GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = {
    "\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65,
}  # fmt: skip
GSM7_OCTETS: dict[str, bytes] = {
    **{char: bytes([code]) for code, char in enumerate(_GSM7_BASIC) if code != 0x1B},
    **{char: bytes([0x1B, code]) for char, code in _GSM7_EXTENSION.items()},
}


def encode_parts(body: str, reference: int) -> tuple[list[bytes], int, int]:
    """(short_message of each part, data_coding, esm_class) for ``body``; raises ValueError when empty or > 255 parts.

    Unpacked septets for GSM-7 (one an octet, as SMPP carries them; the SMSC packs them), UTF-16-BE for UCS-2.
    Several parts each start with a 6-octet UDH: 05 00 03 reference total number.
    """
    texts = encoding.split(body)
    if not texts:
        raise ValueError("empty text")
    if len(texts) > 255:
        raise ValueError(f"{len(texts)} parts; a concatenated message holds at most 255")
    if encoding.is_gsm7(body):
        data_coding = consts.SMPP_ENCODING_DEFAULT
        octets = [b"".join(GSM7_OCTETS[char] for char in text) for text in texts]
    else:
        data_coding = consts.SMPP_ENCODING_ISO10646
        octets = [text.encode("utf-16-be", errors="surrogatepass") for text in texts]
    if len(octets) == 1:
        return octets, data_coding, consts.SMPP_MSGTYPE_DEFAULT
    total = len(octets)
    parts = [_UDH_CONCAT + bytes([reference & 0xFF, total, number]) + part for number, part in enumerate(octets, 1)]
    return parts, data_coding, consts.SMPP_GSMFEAT_UDHI


def status_code(status: int) -> str:
    return f"0x{status:02x}"


class SmppProvider:
    name = "smpp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        system_id: str,
        password: str,
        source_addr: str = "ECP",
        source_ton: int = consts.SMPP_TON_ALNUM,
        source_npi: int = consts.SMPP_NPI_UNK,
        system_type: str = "",
        timeout: float = 10,
    ):
        # smpplib cuts longer values short without a word; refuse them here instead.
        if len(system_id) > 15:
            raise ValueError("SMPP system_id is at most 15 characters")
        if len(password) > 8:
            raise ValueError("SMPP password is at most 8 characters")
        if len(system_type) > 12:
            raise ValueError("SMPP system_type is at most 12 characters")
        if len(source_addr) > (11 if source_ton == consts.SMPP_TON_ALNUM else 20):
            raise ValueError("SMPP source_addr is at most 11 characters when alphanumeric, else 20 digits")
        self.host = host
        self.port = int(port)
        self.system_id = system_id
        self.password = password
        self.system_type = system_type
        self.source_addr = source_addr
        self.source_ton = source_ton
        self.source_npi = source_npi
        self.timeout = timeout
        self._client: Any = None  # smpplib.client.Client, bound as transmitter
        self._lock = threading.Lock()

    # the Provider interface

    def send(self, sms: OutgoingSms) -> SendResult:
        if not _E164.fullmatch(sms.to):
            raise PermanentProviderError(
                status_code(consts.SMPP_ESME_RINVDSTADR), f"not an E.164 number: {sms.to!r} (not sent)"
            )
        try:
            parts, data_coding, esm_class = encode_parts(sms.body, reference=sms.message_id)
        except ValueError as exc:
            raise PermanentProviderError(status_code(consts.SMPP_ESME_RINVMSGLEN), f"{exc} (not sent)") from exc
        with self._lock:
            message_ids = self._send_parts(
                destination=sms.to[1:],
                parts=parts,
                data_coding=data_coding,
                esm_class=esm_class,
                reference=sms.message_id & 0xFFFF,
            )
        return SendResult(provider_id=message_ids[0], segments=len(parts))

    def find(self, sms: OutgoingSms, *, since: datetime) -> SendResult | None:
        raise LookupUnsupported("an SMSC can only be asked about a message by the message_id it returned (query_sm)")

    def close(self) -> None:
        """Unbind and disconnect; errors on the way out are ignored."""
        with self._lock:
            client, self._client = self._client, None
        if client is None:
            return
        try:
            client.unbind()
        except _SESSION_ERRORS:
            log.debug("SMPP unbind from %s:%s failed; disconnecting anyway", self.host, self.port)
        finally:
            client.disconnect()

    # the session

    def _send_parts(
        self, *, destination: str, parts: list[bytes], data_coding: int, esm_class: int, reference: int
    ) -> list[str]:
        message_ids: list[str] = []
        step = "connect"
        try:
            client = self._session()
            for number, short_message in enumerate(parts, 1):
                step = f"submit_sm (part {number} of {len(parts)})"
                pdu = client.send_message(
                    source_addr_ton=self.source_ton,
                    source_addr_npi=self.source_npi,
                    source_addr=self.source_addr,
                    dest_addr_ton=consts.SMPP_TON_INTL,
                    dest_addr_npi=consts.SMPP_NPI_ISDN,
                    destination_addr=destination,
                    esm_class=esm_class,
                    data_coding=data_coding,
                    short_message=short_message,
                    registered_delivery=consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
                    user_message_reference=reference,
                )
                response = self._response_to(client, pdu.sequence)
                if response.status != consts.SMPP_ESME_ROK:
                    if response.status in _SESSION_LOST_STATUSES:
                        self._drop()
                    raise _refusal(response.status, f"{response.command} to {step}")
                message_ids.append((response.message_id or b"").decode("ascii", errors="replace"))
        except (smpp_exceptions.ConnectionError, OSError) as exc:
            self._drop()
            if isinstance(exc, TimeoutError):
                detail = f"no answer within {self.timeout}s"
                if step.startswith("submit_sm"):
                    detail += " (the SMSC may have accepted it)"
            else:
                detail = str(exc) or type(exc).__name__
            raise TransientProviderError("network", f"{step} at {self.host}:{self.port}: {detail}") from exc
        except (smpp_exceptions.PDUError, smpp_exceptions.UnknownCommandError, struct.error) as exc:
            self._drop()  # the SMSC said something this client cannot follow: start afresh
            raise TransientProviderError("network", f"{step}: unexpected PDU: {exc}") from exc
        return message_ids

    def _session(self) -> Any:
        """The bound client: the kept one if it is still up, else a new one."""
        if self._client is not None:
            try:
                self._answer_pending(self._client)
            except _SESSION_ERRORS as exc:
                log.info("SMPP session to %s:%s lost while idle (%s); binding again", self.host, self.port, exc)
                self._drop()
        if self._client is not None:
            return self._client
        client = smpp_client.Client(
            self.host,
            self.port,
            timeout=self.timeout,
            logger_name="sms.providers.smpp.client",
            allow_unknown_opt_params=True,
        )
        try:
            client.connect()
            response = client.bind_transmitter(
                system_id=self.system_id, password=self.password, system_type=self.system_type
            )
            if response.command != "bind_transmitter_resp":
                raise smpp_exceptions.PDUError(f"{response.command} in answer to bind_transmitter")
        except smpp_exceptions.PDUError as exc:
            client.disconnect()
            if len(exc.args) > 1:  # (text, command_status): the SMSC refused the bind
                raise _refusal(int(exc.args[1]), "bind_transmitter") from exc
            raise
        except BaseException:
            client.disconnect()
            raise
        log.info("SMPP bound to %s:%s as %r (transmitter)", self.host, self.port, self.system_id)
        self._client = client
        return client

    def _answer_pending(self, client: Any) -> None:
        """Read what the SMSC sent while we were idle; raises ConnectionError when it closed or unbound."""
        # smpplib's poll() would raise on a late error response; this reads the same socket, PDU by PDU.
        while select.select([client._socket], [], [], 0)[0]:
            self._answer(client, client.read_pdu())

    def _response_to(self, client: Any, sequence: int) -> Any:
        """The submit_sm_resp (or generic_nack) for ``sequence``, answering enquire_link on the way."""
        deadline = time.monotonic() + self.timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no submit_sm_resp within {self.timeout}s")
            pdu = client.read_pdu()  # raises TimeoutError after `timeout` seconds of silence
            if pdu.sequence == sequence and pdu.command in ("submit_sm_resp", "generic_nack"):
                return pdu
            self._answer(client, pdu)

    @staticmethod
    def _answer(client: Any, pdu: Any) -> None:
        if pdu.command in ("enquire_link", "unbind"):
            response = smpp.make_pdu(f"{pdu.command}_resp", client=client)
            response.sequence = pdu.sequence
            client.send_pdu(response)
            if pdu.command == "unbind":
                raise smpp_exceptions.ConnectionError("the SMSC unbound the session")
        else:
            log.debug("SMPP: ignoring %s (sequence %s) from the SMSC", pdu.command, pdu.sequence)

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()


def _refusal(status: int, what: str) -> ProviderError:
    description = consts.DESCRIPTIONS.get(status, "unknown status")
    error = TransientProviderError if status in TRANSIENT_STATUSES else PermanentProviderError
    return error(status_code(status), f"{what}: {description}")
