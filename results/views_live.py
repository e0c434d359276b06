"""Public live results pages (no login), in Urdu and English.

Each page is a shell around *regions* (summary, standings, stations …)
rendered from a cached document of ``results.live``; the regions' HTML is
cached too, per language and document version. The page's script polls
``regions.json`` with the ETag of what it shows (a 304 when nothing changed)
and swaps in the regions that came back. ``live.json`` is the same document
as data, for anyone's software. Reading a page that is in the cache runs no
database query: codes are resolved through the cache as well.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.http import quote_etag
from django.utils.translation import gettext as _
from django.views import View

from core.http import if_none_match
from core.models import Province

from . import live
from .messages import finding_text
from .models import Contest, Election, FormVersion, PublishedTally

_CODES = "live:code:"
_HTML = "live:html:"
REGION_TEMPLATES = (
    "results/live/_election_regions.html",
    "results/live/_province_regions.html",
    "results/live/_contest_regions.html",
    "results/live/_houses.html",
)
HTML_TIMEOUT = 600  # rendered regions of superseded documents fall out of the cache on their own


# --- resolving codes (cached: a page in the cache must not query the database) -------------------------------------


def _cached_id(key: str, lookup: Callable[[], int | None]) -> int:
    found = cache.get(key)
    if found is None:
        found = lookup()
        if found is None:
            raise Http404(_("There is no such election or constituency."))
        cache.set(key, found, timeout=3600)
    return found


def _election_id(code: str) -> int:
    found = Election.objects.filter(code=code).values_list("pk", flat=True)
    return _cached_id(f"{_CODES}e:{code}", found.first)


def _contest_id(election_id: int, code: str) -> int:
    return _cached_id(
        f"{_CODES}c:{election_id}:{code.upper()}",
        lambda: (
            Contest.objects.filter(election_id=election_id, constituency__code__iexact=code)
            .values_list("pk", flat=True)
            .first()
        ),
    )


def _province_id(code: str) -> int:
    found = Province.objects.filter(code=code).values_list("pk", flat=True)
    return _cached_id(f"{_CODES}p:{code}", found.first)


def current_election_code() -> str | None:
    """The election the public results start at: the latest poll date with contests."""
    code = cache.get(f"{_CODES}current")
    if code is None:
        code = (
            Election.objects.filter(contests__isnull=False)
            .order_by("-poll_date", "-pk")
            .values_list("code", flat=True)
            .first()
        ) or ""
        cache.set(f"{_CODES}current", code, timeout=60)
    return code or None


@functools.cache
def _templates_version() -> str:
    """Changes when a region template does (a deploy), so cached regions are never drawn by an older template."""
    digest = hashlib.sha256()
    for name in REGION_TEMPLATES:
        digest.update(get_template(name).template.source.encode())  # type: ignore[attr-defined]
    return digest.hexdigest()[:12]


# --- shown figures --------------------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "—"


def _local(value: Any) -> Any:
    if isinstance(value, str):
        value = parse_datetime(value)
    return timezone.localtime(value) if value else None


def _name(obj: dict[str, Any]) -> str:
    return (obj.get("name_ur") if translation.get_language() == "ur" else "") or obj.get("name", "")


def _party(obj: dict[str, Any]) -> str:
    if translation.get_language() == "ur" and obj.get("party_ur"):
        return obj["party_ur"]
    return obj.get("party") or _("Independent")


def _turnout(polled: dict[str, int], registered_reported: int) -> dict[str, str]:
    return {
        "total": _pct(polled["total"], registered_reported),
        "female_share": _pct(polled["female"], polled["total"]),
    }


def _findings(figures: dict[str, Any]) -> list[str]:
    return [finding_text(f["rule"], f["data"], f["rule"]) for f in figures.get("findings", [])]


def _contest_context(doc: dict[str, Any]) -> dict[str, Any]:
    figures = doc["figures"]
    valid = sum(c["total"] for c in figures["candidates"])
    ranked = sorted(figures["candidates"], key=lambda c: (-c["total"], c["ballot_order"]))
    top = ranked[0]["total"] if ranked else 0
    candidates = [
        {
            **c,
            "rank": n,
            "shown_name": _name(c),
            "shown_party": _party(c),
            "shown_symbol": (c.get("symbol_ur") if translation.get_language() == "ur" else "") or c["symbol"],
            "share": _pct(c["total"], valid),
            "bar": round(100 * c["total"] / top) if top else 0,
        }
        for n, c in enumerate(ranked, start=1)
    ]
    by_order = sorted(figures["candidates"], key=lambda c: c["ballot_order"])
    women_low = any(f["rule"] == "contest.women_turnout_low" for f in figures.get("findings", []))
    low = settings.RESULTS_WOMEN_MIN_SHARE
    stations = []
    for s in doc["stations"]:
        female_share = None
        if s["reported"] and s["polled"]["total"]:
            female_share = s["polled"]["female"] / s["polled"]["total"]
        stations.append(
            {
                **s,
                "shown_name": _name(s),
                "women_below": women_low and female_share is not None and female_share < low,
            }
        )
    return {
        "doc": doc,
        "figures": figures,
        "candidates": candidates,
        "ballot": [{**c, "shown_name": _name(c)} for c in by_order],
        "stations": stations,
        "turnout": _turnout(figures["polled"], figures["registered"]["at_reported_stations"]),
        "findings": _findings(figures),
        "valid": valid,
        "show_postal": figures["status"] in ("consolidated", "final")
        or bool(figures["postal_rejected"] or any(c["postal"] for c in figures["candidates"])),
        "published_at": _local(doc["published_at"]),
        "place": _name(doc["contest"]),
        "province_name": _name(doc["contest"]["province"]),
    }


def _rows_context(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **r,
            "shown_name": _name(r),
            "leader_name": _name(r["leader"]) if r["leader"] else "",
            "leader_party": _party(r["leader"]) if r["leader"] else "",
            "turnout": _pct(r["polled"]["total"], r["registered"]["at_reported_stations"]),
        }
        for r in rows
    ]


def _houses_context(houses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **h,
            "parties": [{**p, "shown_party": _party(p)} for p in h["parties"]],
            "turnout": _turnout(h["polled"], h["registered_reported"]),
        }
        for h in houses
    ]


# --- pages ----------------------------------------------------------------------------------------------------


class _LivePage(View):
    """A live page: its scope, document, regions and template (subclasses say which)."""

    template_name = ""
    regions: tuple[str, ...] = ()
    region_template = ""

    def scope_and_build(self, **kwargs) -> tuple[str, Callable[[], dict[str, Any]]]:
        raise NotImplementedError

    def context(self, doc: dict[str, Any], **kwargs) -> dict[str, Any]:
        raise NotImplementedError

    def urls(self, **kwargs) -> dict[str, str]:
        raise NotImplementedError

    def _regions(self, doc: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The page's regions in the active language, and ``regions.json``'s body: rendered and serialised once
        per document version and language, then cached."""
        language = translation.get_language()
        key = f"{_HTML}{type(self).__name__}:{language}:{doc['etag']}:{_templates_version()}"
        rendered = cache.get(key)
        if rendered is None:
            ctx = {**self.context(doc["data"], **kwargs), **self.urls(**kwargs)}
            regions = {
                name: render_to_string(self.region_template, {**ctx, "region": name}, request=None)
                for name in self.regions
            }
            updated_at = self.head_context(doc["data"])["updated_at"]
            body = {
                "regions": regions,
                "updated_at": updated_at.isoformat() if updated_at else None,
                "updated_text": _updated_text(updated_at),
            }
            rendered = {"regions": regions, "body": live.as_json(body)}
            cache.set(key, rendered, timeout=HTML_TIMEOUT)
        return rendered

    def document(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        scope, build = self.scope_and_build(**kwargs)
        return live.cached(scope, build)

    def get(self, request, **kwargs):
        doc = self.document(kwargs)
        return render(
            request,
            self.template_name,
            {
                "regions": self._regions(doc, kwargs)["regions"],
                "data": doc["data"],
                "etag": self._etag(doc),
                "poll_ms": settings.RESULTS_LIVE_POLL_MS,
                **self.urls(**kwargs),
                **self.head_context(doc["data"]),
            },
        )

    def head_context(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "election_name": _name(data["election"]),
            "updated_at": _local(data.get("updated_at")),
            "crumbs": [(_name(data["election"]), None)],
        }

    @staticmethod
    def _etag(doc: dict[str, Any]) -> str:
        return quote_etag(f"{doc['etag']}-{translation.get_language()}")


def _with_cache_headers(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=0, must-revalidate"
    response["Vary"] = "Accept-Language, Cookie"
    return response


class _Regions:
    """``regions.json``: the page's regions in its language, with an ETag (304 when unchanged)."""

    page: type[_LivePage]

    def get(self, request, **kwargs):
        page = self.page()
        doc = page.document(kwargs)
        etag = page._etag(doc)
        if if_none_match(request, etag):
            return _with_cache_headers(HttpResponseNotModified(), etag)
        body = page._regions(doc, kwargs)["body"]
        return _with_cache_headers(HttpResponse(body, content_type="application/json"), etag)


class _Data:
    """``live.json``: the document itself, for software (language-neutral)."""

    page: type[_LivePage]

    def get(self, request, **kwargs):
        page = self.page()
        doc = page.document(kwargs)
        etag = quote_etag(doc["etag"])
        if if_none_match(request, etag):
            return _with_cache_headers(HttpResponseNotModified(), etag)
        return _with_cache_headers(HttpResponse(doc["json"], content_type="application/json"), etag)


def _updated_text(when) -> str:
    if when is None:
        return _("No results published yet.")
    return _("Updated at %(time)s") % {"time": when.strftime("%H:%M:%S")}


class ElectionPage(_LivePage):
    template_name = "results/live/election.html"
    region_template = "results/live/_election_regions.html"
    regions = ("summary", "houses", "provinces")

    def scope_and_build(self, *, election_code: str):
        election_id = _election_id(election_code)
        return live.election_scope(election_id), lambda: live.election_doc(election_id)

    def urls(self, *, election_code: str) -> dict[str, str]:
        return {
            "page_url": reverse("results:live_election", args=[election_code]),
            "regions_url": reverse("results:live_election_regions", args=[election_code]),
            "data_url": reverse("results:live_election_data", args=[election_code]),
            "election_code": election_code,
        }

    def context(self, doc, *, election_code: str):
        reference = next((h for h in doc["houses"] if h["house"] == doc["reference_house"]), None)
        totals = reference or {
            "stations": {"total": 0, "reported": 0},
            "polled": {"male": 0, "female": 0, "total": 0},
            "registered_reported": 0,
        }
        return {
            "houses": _houses_context(doc["houses"]),
            "provinces": [
                {
                    **p,
                    "shown_name": _name(p),
                    "turnout": _pct(p["polled"]["total"], p["registered_reported"]),
                }
                for p in doc["provinces"]
            ],
            "totals": totals,
            "turnout": _turnout(totals["polled"], totals["registered_reported"]),
            "head": doc["head"],
        }


class ProvincePage(_LivePage):
    template_name = "results/live/province.html"
    region_template = "results/live/_province_regions.html"
    regions = ("houses", "contests")

    def scope_and_build(self, *, election_code: str, province_code: str):
        election_id, province_id = _election_id(election_code), _province_id(province_code)
        return live.province_scope(election_id, province_id), lambda: live.province_doc(election_id, province_id)

    def urls(self, *, election_code: str, province_code: str) -> dict[str, str]:
        args = [election_code, province_code]
        return {
            "page_url": reverse("results:live_province", args=args),
            "regions_url": reverse("results:live_province_regions", args=args),
            "data_url": reverse("results:live_province_data", args=args),
            "election_url": reverse("results:live_election", args=[election_code]),
            "election_code": election_code,
        }

    def context(self, doc, *, election_code: str, province_code: str):
        return {"houses": _houses_context(doc["houses"]), "contests": _rows_context(doc["contests"])}

    def head_context(self, data):
        election = data["election"]
        return {
            **super().head_context(data),
            "province_name": _name(data["province"]),
            "crumbs": [
                (_name(election), reverse("results:live_election", args=[election["code"]])),
                (_name(data["province"]), None),
            ],
        }


class ContestPage(_LivePage):
    template_name = "results/live/contest.html"
    region_template = "results/live/_contest_regions.html"
    regions = ("summary", "candidates", "findings", "stations", "forms")

    def scope_and_build(self, *, election_code: str, constituency_code: str):
        contest_id = _contest_id(_election_id(election_code), constituency_code)
        return live.contest_scope(contest_id), lambda: live.contest_doc(contest_id)

    def urls(self, *, election_code: str, constituency_code: str) -> dict[str, str]:
        args = [election_code, constituency_code]
        return {
            "page_url": reverse("results:live_contest", args=args),
            "regions_url": reverse("results:live_contest_regions", args=args),
            "data_url": reverse("results:live_contest_data", args=args),
            "chain_url": reverse("results:live_contest_chain", args=args),
            "election_url": reverse("results:live_election", args=[election_code]),
            "election_code": election_code,
            "constituency_code": constituency_code,
        }

    def context(self, doc, **kwargs):
        return _contest_context(doc)

    def head_context(self, data):
        contest, election = data["contest"], data["election"]
        place = f"{contest['code']} {_name(contest)}"
        return {
            **super().head_context(data),
            "updated_at": _local(data["published_at"]),
            "place": place,
            "crumbs": [
                (_name(election), reverse("results:live_election", args=[election["code"]])),
                (
                    _name(contest["province"]),
                    reverse("results:live_province", args=[election["code"], contest["province"]["code"]]),
                ),
                (place, None),
            ],
        }


class ElectionRegions(_Regions, View):
    page = ElectionPage


class ProvinceRegions(_Regions, View):
    page = ProvincePage


class ContestRegions(_Regions, View):
    page = ContestPage


class ElectionData(_Data, View):
    page = ElectionPage


class ProvinceData(_Data, View):
    page = ProvincePage


class ContestData(_Data, View):
    page = ContestPage


def start(request):
    """``/results/live/``: the current election's page (or the explanation when there is none yet)."""
    code = current_election_code()
    if code is None:
        return render(request, "results/public.html")
    return redirect("results:live_election", code)


class ContestChain(View):
    """The contest's chain of published tallies: every version's hashes; ``?version=N`` adds its figures."""

    def get(self, request, election_code: str, constituency_code: str):
        contest_id = _contest_id(_election_id(election_code), constituency_code)
        rows = PublishedTally.objects.filter(contest_id=contest_id).order_by("version")
        wanted = request.GET.get("version", "")
        if wanted:
            if not wanted.isdigit():
                return JsonResponse({"error": _("version must be a whole number.")}, status=400)
            row = rows.filter(version=int(wanted)).first()
            if row is None:
                raise Http404(_("There is no such version."))
            return JsonResponse(_chain_row(row, figures=True), json_dumps_params={"ensure_ascii": False})
        return JsonResponse({"versions": [_chain_row(r) for r in rows.defer("figures")]})


def _chain_row(row: PublishedTally, *, figures: bool = False) -> dict[str, Any]:
    shown = {
        "version": row.version,
        "published_at": row.published_at.isoformat(),
        "reason": row.reason,
        "content_hash": row.content_hash,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }
    if figures:
        shown["figures"] = row.figures
    return shown


class PublicFormPdf(View):
    """A produced Form-47/48/49 as PDF: public records, downloadable by anyone."""

    def get(self, request, election_code: str, constituency_code: str, version_id: int, language: str):
        contest_id = _contest_id(_election_id(election_code), constituency_code)
        version = FormVersion.objects.filter(pk=version_id, contest_id=contest_id).first()
        if version is None or language not in ("en", "ur"):
            raise Http404(_("There is no such form."))
        field = version.pdf_en if language == "en" else version.pdf_ur
        response = FileResponse(
            field.open("rb"),
            content_type="application/pdf",
            filename=f"{election_code}-{constituency_code}-form{version.form}-v{version.version}-{language}.pdf",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
