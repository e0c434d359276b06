"""The 8300 answers as text: the SMS reply (Urdu by default, English on request) fitted into two SMS segments,
and the sentences the web page and the API share for every outcome other than "found"."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import override

from sms.encoding import segments

from .models import Outcome
from .selectors import VotingDetails
from .services import Lookup

MAX_SEGMENTS = 2
ELLIPSIS = "…"


def message(lookup: Lookup, *, sms: bool = False) -> str:
    """The sentence for an outcome other than "found" (in the active language). In an SMS the CNIC is masked
    with "x": "•" is not in the GSM-7 alphabet and would make an English reply UCS-2 (70 characters a part)."""
    cnic = lookup.cnic_masked.replace("•", "x") if sms else lookup.cnic_masked
    if lookup.outcome == Outcome.INVALID:
        if lookup.reason == "length" and lookup.digits:
            return _("A CNIC has 13 digits, for example 12345-1234567-1; this has %(n)s.") % {"n": lookup.digits}
        return _("A CNIC has 13 digits, for example 12345-1234567-1.")
    if lookup.outcome == Outcome.REFUSED:
        if lookup.reason == "blocked":
            return _("Lookups from you are suspended: too many different CNICs were asked for. Try again tomorrow.")
        if lookup.reason == "cnic_limit":
            return _("This CNIC was looked up too often just now. Try again in an hour.")
        return _("Too many lookups from you just now. Try again in a few minutes.")
    if lookup.outcome == Outcome.NOT_FOUND:
        return _(
            "No entry on the electoral roll for CNIC %(cnic)s. To register, visit your District Election "
            "Commissioner's office."
        ) % {"cnic": cnic}
    status = lookup.status
    if status == "deleted":
        return _(
            "The roll entry for CNIC %(cnic)s was deleted. Contact your District Election Commissioner's office."
        ) % {"cnic": cnic}
    if status == "shifted":
        return _(
            "The roll entry for CNIC %(cnic)s was shifted and the new entry is not on the roll yet. Contact your "
            "District Election Commissioner's office."
        ) % {"cnic": cnic}
    return _(
        "The roll entry for CNIC %(cnic)s is marked deceased. If this is wrong, contact your District Election "
        "Commissioner's office."
    ) % {"cnic": cnic}


def _shorten(text: str, keep: int) -> str:
    """At most ``keep`` characters, cut in the middle: a station's name begins with its kind of building and
    ends with what tells it apart (its number and place)."""
    if len(text) <= keep:
        return text
    head = max(1, (keep - 1) // 4)
    tail = max(1, keep - 1 - head)
    return text[:head].rstrip(" ،,") + ELLIPSIS + text[-tail:].lstrip(" ،,")


def _found(details: VotingDetails, urdu: bool, station_keep: int, area_keep: int, with_tehsil: bool) -> str:
    area = details.area_ur if urdu else details.area
    district = details.district_ur if urdu else details.district
    tehsil = details.tehsil_ur if urdu else details.tehsil
    comma = "، " if urdu else ", "
    place = comma.join(p for p in (_shorten(area, area_keep), tehsil if with_tehsil else "", district) if p)
    if details.station_number is None:
        station = _("not yet assigned")
    else:
        name = details.station_name_ur if urdu else details.station_name
        station = _("%(number)s: %(name)s") % {"number": details.station_number, "name": _shorten(name, station_keep)}
    return _(
        "Your vote: %(constituencies)s\nPolling station %(station)s\nBlock %(block)s, serial %(serial)s, "
        "family %(family)s\n%(place)s"
    ) % {
        "constituencies": comma.join(details.constituencies) or "—",
        "station": station,
        "block": details.block_code,
        "serial": details.serial,
        "family": details.family_number,
        "place": place,
    }


def sms_reply(lookup: Lookup, language: str) -> str:
    """The reply to an 8300 message, in at most two segments (long names are shortened, the tehsil dropped)."""
    with override(language):
        details = lookup.details
        if lookup.outcome != Outcome.FOUND or details is None:
            return _("ECP: %(message)s") % {"message": message(lookup, sms=True)}
        urdu = language == "ur"
        attempts = [(200, 200, True), (200, 200, False)]
        attempts += [(keep, 60, False) for keep in (50, 40, 32, 26, 20)]
        attempts += [(20, keep, False) for keep in (40, 30, 20, 14)]
        attempts += [(12, 10, False), (8, 6, False)]
        text = ""
        for station_keep, area_keep, with_tehsil in attempts:
            text = _found(details, urdu, station_keep, area_keep, with_tehsil)
            if segments(text) <= MAX_SEGMENTS:
                break
        return text
