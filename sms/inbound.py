"""The inbound keyword router. Other apps add handlers at start-up (in their AppConfig.ready or a module
it imports), and sms never imports them:

    from sms import inbound

    inbound.register_keywords("status", ("STATUS", "حالت"), handler, help_en="STATUS <ticket>", help_ur=…)
    inbound.register_matcher("cnic", matches, handler, help_en="Send your 13-digit CNIC", help_ur=…)

A handler takes an ``Inbound`` and returns a ``Reply`` (or None to pass). Keywords are matched on the first
word (case-insensitive, Urdu digits read as digits); matchers are tried in order after the keywords.
Anything unanswered gets the bilingual help text listing what can be sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, override

from core.cnic import to_ascii_digits


@dataclass(frozen=True)
class Inbound:
    sender: str  # E.164 when it is a valid mobile, else as received
    text: str  # the body, trimmed, digits made ASCII
    keyword: str  # the first word, upper-cased ("" for none)
    rest: str  # what follows the first word
    english: bool  # the sender wrote "EN" (or wrote the keyword in English): answer in English


@dataclass(frozen=True)
class Reply:
    text: str
    language: str = "ur"


Handler = Callable[[Inbound], Reply | None]


@dataclass(frozen=True)
class _Entry:
    name: str
    handler: Handler
    help: Promise | str  # a lazy translatable line, shown in both languages in the help reply
    matcher: Callable[[Inbound], bool] | None = None


_KEYWORDS: dict[str, _Entry] = {}
_MATCHERS: list[_Entry] = []
_ENTRIES: dict[str, _Entry] = {}


def register_keywords(name: str, keywords: tuple[str, ...], handler: Handler, *, help: Promise | str = "") -> None:
    entry = _Entry(name, handler, help)
    for word in keywords:
        _KEYWORDS[word.upper()] = entry
    _ENTRIES[name] = entry


def register_matcher(
    name: str, matcher: Callable[[Inbound], bool], handler: Handler, *, help: Promise | str = ""
) -> None:
    entry = _Entry(name, handler, help, matcher)
    _MATCHERS[:] = [e for e in _MATCHERS if e.name != name] + [entry]
    _ENTRIES[name] = entry


def parse(sender: str, body: str) -> Inbound:
    text = " ".join(to_ascii_digits(body).split())
    first, _sep, rest = text.partition(" ")
    words = text.upper().split()
    english = "EN" in words or (first.isascii() and first.isalpha())
    return Inbound(sender, text, first.upper(), rest, english)


def route(message: Inbound) -> tuple[str, Reply]:
    """(handler name, reply) for an inbound message; "help" when nothing else answered."""
    entry = _KEYWORDS.get(message.keyword)
    if entry is not None:
        reply = entry.handler(message)
        if reply is not None:
            return entry.name, reply
    for entry in _MATCHERS:
        if entry.matcher is not None and entry.matcher(message):
            reply = entry.handler(message)
            if reply is not None:
                return entry.name, reply
    return "help", help_reply()


def in_language(text: Promise | str, language: str) -> str:
    with override(language):
        return str(text)


def help_reply() -> Reply:
    """Both languages in one message: the sender's language is unknown."""
    lines = []
    for language in ("ur", "en"):
        lines.append(in_language(NOT_UNDERSTOOD, language))
        lines += [in_language(e.help, language) for e in _ENTRIES.values() if e.help]
    return Reply("\n".join(lines), "ur")


# --- sms's own keywords: opting out and back in -------------------------------------------------------------

NOT_UNDERSTOOD = gettext_lazy("ECP: this message was not understood. You can send:")
STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "END", "CANCEL", "QUIT", "بند")
START_WORDS = ("START", "UNSTOP", "SUBSCRIBE", "شروع")


def answer(message: Inbound, text: Promise | str) -> Reply:
    """A reply in the sender's language: English when they wrote in English or added "EN", else Urdu."""
    language = "en" if message.english else "ur"
    return Reply(in_language(text, language), language)


def _stop(message: Inbound) -> Reply:
    from .services import optout_add

    optout_add(phone=message.sender, keyword=message.keyword)
    return answer(message, gettext_lazy("ECP: you will get no more campaign messages. Send START to get them again."))


def _start(message: Inbound) -> Reply:
    from .services import optout_remove

    optout_remove(phone=message.sender, keyword=message.keyword)
    return answer(message, gettext_lazy("ECP: campaign messages will reach you again. Send STOP to stop them."))


register_keywords("opt_out", STOP_WORDS, _stop, help=gettext_lazy("STOP: no more campaign messages"))
register_keywords("opt_in", START_WORDS, _start, help=gettext_lazy("START: campaign messages again"))
