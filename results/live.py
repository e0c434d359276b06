"""Live public results: documents built from the published tallies and served
from the cache, so a burst of readers never reaches the database.

Three kinds of document, each for one *scope*: an election (``e<id>``), a
province in an election (``p<election>-<province>``) and a contest
(``c<id>``). Each scope has a generation in the cache, moved by ``touch``
when something of it is published (``results.publication.publish`` calls it
after commit). A reader takes the generation and the cached document in one
round trip; when the document is of an older generation, one reader rebuilds
it (a cache lock, at most once a ``LIVE_REBUILD_SECONDS``) while the others
are served the previous one — at most a few seconds old, never half-updated:
a document is built inside one read-only snapshot of the database.

Documents are plain JSON-ready dicts (the public JSON endpoints send them);
``results.views_live`` renders them for people.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, F

from core.db import read_snapshot
from core.models import Province

from . import publication
from .models import Contest, ContestStation, Election, Form45, Form45Vote, FormVersion, PublishedTally
from .selectors import code_order, contest_tally

_GEN = "live:gen:"
_DOC = "live:doc:"
_LOCK = "live:lock:"
_WHERE = "live:where:"


def contest_scope(contest_id: int) -> str:
    return f"c{contest_id}"


def election_scope(election_id: int) -> str:
    return f"e{election_id}"


def province_scope(election_id: int, province_id: int) -> str:
    return f"p{election_id}-{province_id}"


def touch(*, contest_id: int) -> None:
    """Something of this contest was published: its contest, province and election documents are out of date."""
    where = cache.get(f"{_WHERE}{contest_id}")
    if where is None:
        where = tuple(
            Contest.objects.filter(pk=contest_id).values_list("election_id", "constituency__province_id").get()
        )
        cache.set(f"{_WHERE}{contest_id}", where, timeout=None)
    election_id, province_id = where
    now = time.time_ns()
    scopes = (contest_scope(contest_id), province_scope(election_id, province_id), election_scope(election_id))
    cache.set_many({f"{_GEN}{scope}": now for scope in scopes}, timeout=None)


def as_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


def cached(scope: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The scope's document: ``{"gen", "etag", "data", "json"}`` from the cache, rebuilt when out of date (see
    module). ``json`` is ``data`` serialised once, as the JSON endpoint sends it."""
    gen_key, doc_key = f"{_GEN}{scope}", f"{_DOC}{scope}"
    got = cache.get_many([gen_key, doc_key])
    gen, doc = got.get(gen_key, 0), got.get(doc_key)
    if doc is not None and doc["gen"] == gen:
        return doc
    # Out of date or missing: one reader a LIVE_REBUILD_SECONDS rebuilds; the others keep the previous document.
    if not cache.add(f"{_LOCK}{scope}", 1, timeout=settings.RESULTS_LIVE_REBUILD_SECONDS) and doc is not None:
        return doc
    with read_snapshot():
        data = build()
    body = as_json(data)
    doc = {"gen": gen, "etag": hashlib.sha256(body).hexdigest()[:32], "data": data, "json": body}
    cache.set(doc_key, doc, timeout=None)
    return doc


# --- documents ------------------------------------------------------------------------------------------------


def _place(obj, *, code: str = "") -> dict[str, str]:
    return {"code": code or getattr(obj, "code", ""), "name": obj.name, "name_ur": obj.name_ur}


def _election(election: Election) -> dict[str, Any]:
    return {
        **_place(election),
        "poll_date": election.poll_date.isoformat(),
        "status": election.status,
    }


def _heads(election: Election, **filters) -> list[PublishedTally]:
    return list(
        PublishedTally.objects.filter(
            contest__election=election, version=F("contest__published_version"), **filters
        ).select_related("contest__constituency__province")
    )


def _leader(figures: dict[str, Any]) -> dict[str, Any] | None:
    ranked = sorted(figures["candidates"], key=lambda c: (-c["total"], c["ballot_order"]))
    if not ranked or ranked[0]["total"] == 0:
        return None
    second = ranked[1]["total"] if len(ranked) > 1 else 0
    return {**ranked[0], "margin": ranked[0]["total"] - second}


def contest_doc(contest_id: int) -> dict[str, Any]:
    contest = Contest.objects.select_related("election", "constituency__province", "constituency__district").get(
        pk=contest_id
    )
    head = PublishedTally.objects.filter(contest=contest, version=contest.published_version).first()
    if head is not None:
        figures, version, chain, published_at = head.figures, head.version, head.hash, head.published_at
    else:  # nothing published yet: the candidates with no votes
        figures = publication.contest_figures(contest_tally(contest=contest, with_awaited=False))
        version, chain, published_at = 0, "", None
    orders = [c["ballot_order"] for c in figures["candidates"]]
    forms = {
        f.contest_station_id: f
        for f in Form45.objects.filter(contest_station__contest=contest).only(
            "id", "contest_station_id", "polled_male", "polled_female", "polled_total", "excluded", "accepted_at"
        )
    }
    votes: dict[int, dict[int, int]] = {}
    for form_id, order, count in Form45Vote.objects.filter(candidate__contest=contest).values_list(
        "form_id", "candidate__ballot_order", "votes"
    ):
        votes.setdefault(form_id, {})[order] = count
    stations = []
    for s in (
        ContestStation.objects.filter(contest=contest).select_related("polling_station").order_by("number").iterator()
    ):
        form = forms.get(s.pk)
        stations.append(
            {
                "number": s.number,
                "name": s.polling_station.name,
                "name_ur": s.polling_station.name_ur,
                "type": s.station_type,
                "registered": {"male": s.male_voters, "female": s.female_voters},
                "reported": form is not None,
                "polled": (
                    {"male": form.polled_male, "female": form.polled_female, "total": form.polled_total}
                    if form
                    else None
                ),
                "excluded": form.excluded if form else None,
                "votes": [votes.get(form.pk, {}).get(o, 0) for o in orders] if form else None,
            }
        )
    versions = [
        {"form": v.form, "version": v.version, "id": v.pk, "produced_at": v.produced_at.isoformat()}
        for v in FormVersion.objects.filter(contest=contest).order_by("form", "-version")
    ]
    constituency = contest.constituency
    return {
        "election": _election(contest.election),
        "contest": {
            "id": contest.pk,
            **_place(constituency),
            "house": constituency.house,
            "province": _place(constituency.province),
            "district": _place(constituency.district, code=str(constituency.district_id))
            if constituency.district
            else None,
        },
        "version": version,
        "hash": chain,
        "published_at": published_at.isoformat() if published_at else None,
        "figures": figures,
        "leader": _leader(figures) if figures["stations"]["reported"] else None,
        "stations": stations,
        "forms": versions,
    }


def _contest_row(head: PublishedTally) -> dict[str, Any]:
    figures = head.figures
    constituency = head.contest.constituency
    return {
        **_place(constituency),
        "house": constituency.house,
        "status": figures["status"],
        "stations": figures["stations"],
        "polled": figures["polled"],
        "registered": figures["registered"],
        "leader": _leader(figures),
        "findings": [f["rule"] for f in figures["findings"]],
        "published_at": head.published_at.isoformat(),
    }


def _sum_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {
        "stations": {"total": 0, "reported": 0},
        "polled": {"male": 0, "female": 0, "total": 0},
        "registered_reported": 0,
    }
    for row in rows:
        for key in ("total", "reported"):
            total["stations"][key] += row["stations"][key]
        for key in ("male", "female", "total"):
            total["polled"][key] += row["polled"][key]
        total["registered_reported"] += row["registered"]["at_reported_stations"]
    return total


def _houses(election: Election, heads: list[PublishedTally], **contest_filters) -> list[dict[str, Any]]:
    """Seats per house: how many contests, declared (Form-49), reporting; party positions won/leading."""
    seats = dict(
        Contest.objects.filter(election=election, **contest_filters)
        .values_list("constituency__house")
        .annotate(n=Count("pk"))
    )
    houses = []
    for house in sorted(seats):
        rows = [h for h in heads if h.contest.constituency.house == house]
        parties: dict[str, dict[str, Any]] = {}
        declared = 0
        for head in rows:
            leader = _leader(head.figures)
            if leader is None:
                continue
            final = head.figures["status"] == Contest.Status.FINAL
            declared += final
            party = parties.setdefault(
                leader["party"], {"party": leader["party"], "party_ur": leader["party_ur"], "won": 0, "leading": 0}
            )
            party["won" if final else "leading"] += 1
        figures = _sum_figures([_contest_row(h) for h in rows])
        houses.append(
            {
                "house": house,
                "seats": seats[house],
                "declared": declared,
                "reporting": sum(1 for h in rows if h.figures["stations"]["reported"]),
                "parties": sorted(parties.values(), key=lambda p: (-p["won"] - p["leading"], -p["won"], p["party"])),
                **figures,
            }
        )
    return houses


def election_doc(election_id: int) -> dict[str, Any]:
    """Seats and parties per house; stations and turnout counted in one house (NA when the election has it: every
    voter votes once for the NA and once for the PA, so adding the houses would count them twice)."""
    election = Election.objects.get(pk=election_id)
    heads = _heads(election)
    houses = _houses(election, heads)
    reference = "NA" if any(h["house"] == "NA" for h in houses) else (houses[0]["house"] if houses else "NA")
    seats: dict[int, dict[str, int]] = {}
    for province_id, house, n in (
        Contest.objects.filter(election=election)
        .values_list("constituency__province_id", "constituency__house")
        .annotate(n=Count("pk"))
    ):
        seats.setdefault(province_id, {})[house] = n
    rows: dict[int, list[dict[str, Any]]] = {}
    for head in heads:
        if head.contest.constituency.house == reference:
            rows.setdefault(head.contest.constituency.province_id, []).append(_contest_row(head))
    provinces = [
        {**_place(p), "seats": seats[p.pk], **_sum_figures(rows.get(p.pk, []))}
        for p in Province.objects.filter(pk__in=seats).order_by("code")
    ]
    return {
        "election": _election(election),
        "reference_house": reference,
        "houses": houses,
        "provinces": provinces,
        "updated_at": _latest(heads),
        "head": publication.election_head((h.contest.constituency.code, h.hash) for h in heads),
    }


def province_doc(election_id: int, province_id: int) -> dict[str, Any]:
    election = Election.objects.get(pk=election_id)
    province = Province.objects.get(pk=province_id)
    heads = _heads(election, contest__constituency__province=province)
    published = {h.contest_id for h in heads}
    rows = [_contest_row(h) for h in heads]
    for contest in (
        Contest.objects.filter(election=election, constituency__province=province)
        .select_related("constituency")
        .annotate(station_count=Count("stations"))
    ):
        if contest.pk not in published:  # no result yet
            rows.append(
                {
                    **_place(contest.constituency),
                    "house": contest.constituency.house,
                    "status": contest.status,
                    "stations": {"total": contest.station_count, "reported": 0},
                    "polled": {"male": 0, "female": 0, "total": 0},
                    "registered": {"male": 0, "female": 0, "total": 0, "at_reported_stations": 0},
                    "leader": None,
                    "findings": [],
                    "published_at": None,
                }
            )
    rows.sort(key=lambda r: (r["house"], code_order(r["code"])))
    return {
        "election": _election(election),
        "province": _place(province),
        "houses": _houses(election, heads, constituency__province=province),
        "contests": rows,
        "updated_at": _latest(heads),
    }


def _latest(heads: list[PublishedTally]) -> str | None:
    latest = max((h.published_at for h in heads), default=None)
    return latest.isoformat() if latest else None
