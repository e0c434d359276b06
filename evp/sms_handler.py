"""The 8300 handler for sms's inbound router: a message holding a CNIC (13 digits, with or without dashes or
spaces, Urdu digits too), alone or after a keyword (VOTE, CNIC, ووٹ, شناختی), with "EN" anywhere for English.
Anything mostly made of digits is answered here too, so 12 or 14 digits get "a CNIC has 13 digits"."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy

from sms import inbound

from .models import Channel
from .replies import sms_reply
from .services import voting_details_lookup

KEYWORDS = ("VOTE", "CNIC", "ووٹ", "شناختی")
_NUMBERISH = re.compile(r"[0-9\s\-‐‑‒–—−ـ]+")


def _cnic_text(message: inbound.Inbound) -> str:
    words = [w for w in message.text.split() if w.upper() not in KEYWORDS and w.upper() != "EN"]
    return " ".join(words)


def _english(message: inbound.Inbound) -> bool:
    return "EN" in message.text.upper().split()


def looks_like_cnic(message: inbound.Inbound) -> bool:
    text = _cnic_text(message)
    return bool(_NUMBERISH.fullmatch(text)) and sum(ch.isdigit() for ch in text) >= 5


def answer(message: inbound.Inbound) -> inbound.Reply:
    language = "en" if _english(message) else "ur"
    lookup = voting_details_lookup(cnic_text=_cnic_text(message), channel=Channel.SMS, sender=message.sender)
    return inbound.Reply(sms_reply(lookup, language), language)


HELP = gettext_lazy("Your 13-digit CNIC: where you vote (add EN for English)")
inbound.register_keywords("vote", KEYWORDS, answer, help=HELP)
inbound.register_matcher("cnic", looks_like_cnic, answer)
