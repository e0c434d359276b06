"""Open result exports for media and observers (docs/results-exports.md).

Two formats, each for one contest or for a whole election ("national"):

- **CSV**, OpenElections-style: one row per polling station × candidate with
  the columns ``CSV_COLUMNS``, plus per station one row for each of
  ``ROW_KINDS`` (registered voters, votes polled, polled by men and by women,
  ballots excluded from the count) with the kind named in the ``candidate``
  column and the figure in ``votes``. Postal ballots, where recorded, are a
  pseudo-station ``postal`` of their contest (candidate rows and ``rejected``).
- **JSON** in the shape of NIST SP 1500-100 (version 2) Election Results
  Reporting: ElectionReport → Election → CandidateContest → CandidateSelection
  → VoteCounts (``Type: "total"``, one per station, by ``GpUnitId``), with a
  ReportingUnit (GpUnit) for the country, each province, district,
  constituency and reporting polling station, Party, Person and Candidate
  objects referenced by ``@id``, and the ballot counts of each station as the
  contest's SummaryCounts (``BallotsCast``, ``BallotsRejected``).

Only stations with an accepted Form-45 are listed. Every figure is read from
the accepted rows (``Form45``/``Form45Vote``/``PostalVote``), never from a
stored total, so summing a file gives back ``selectors.contest_tally``.

Scale: a national CSV is ~2.2 million rows at GE-2024 scale. Rows are
streamed from PostgreSQL a contest at a time through server-side cursors
(``.iterator(chunk_size=…)``) and handed on in chunks of ``FLUSH_AT``
characters; nothing holds more than one contest's figures. The national
files are built once per *revision* of the election (the sum of its
contests' ``published_version``, which moves whenever anything is published)
inside one read-only snapshot, written beside their final name and renamed
into place (``national_file``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.text import slugify

from core.db import read_snapshot

from .models import Candidate, Contest, ContestStation, Election, Form45, PostalBallots, PostalVote, PublishedTally
from .selectors import code_order

CSV_COLUMNS = ("province", "district", "constituency", "station", "candidate", "party", "votes")
# The rows of a station that are not a candidate's votes, in the order they follow its candidates.
ROW_KINDS = ("registered", "polled", "polled_male", "polled_female", "rejected")
POSTAL_STATION = "postal"
FORMATS = ("csv", "json")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}

CHUNK_SIZE = 2000  # rows a round trip from the server-side cursor
FLUSH_AT = 64 * 1024  # characters buffered before a chunk is handed on (to the file or the response)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula

ISSUER = "Election Commission of Pakistan"
ISSUER_ABBREVIATION = "ECP"
VENDOR_APPLICATION = "ecp-portal"
COUNTRY_ID = "gpu-pk"


class ExportBusy(Exception):
    """The national export is being built by another request and no earlier file exists yet."""


# --- reads ---------------------------------------------------------------------------------------------------


def election_get(*, code: str) -> Election | None:
    return Election.objects.filter(code=code).first()


def election_revision(election: Election) -> int:
    """The election's revision: moves whenever any of its contests publishes (one query)."""
    return Contest.objects.filter(election=election).aggregate(r=Sum("published_version", default=0))["r"]


def contest_get(*, election: Election, constituency_code: str) -> Contest | None:
    return (
        Contest.objects.filter(election=election, constituency__code__iexact=constituency_code.strip())
        .select_related("election", "constituency__province", "constituency__district")
        .first()
    )


def contest_published_at(contest: Contest) -> datetime | None:
    """When the contest's current tally was published (None before its first publication)."""
    return (
        PublishedTally.objects.filter(contest=contest, version=contest.published_version)
        .values_list("published_at", flat=True)
        .first()
    )


@dataclass
class ExportContest:
    contest: Contest
    candidates: list[Candidate]
    stations_total: int = 0
    stations_reported: int = 0
    has_postal: bool = False

    @property
    def code(self) -> str:
        return self.contest.constituency.code


@dataclass
class Scope:
    """What one export covers: an election's contests (all of them, or one), read in one snapshot."""

    election: Election
    contests: list[ExportContest]
    revision: int
    national: bool


def scope_load(*, election: Election, contest: Contest | None = None) -> Scope:
    """The contests of the export with their candidates and reporting counts (4 queries)."""
    contests = Contest.objects.filter(election=election).select_related(
        "election", "constituency__province", "constituency__district"
    )
    if contest is not None:
        contests = contests.filter(pk=contest.pk)
    found = sorted(contests, key=lambda c: (c.constituency.house, code_order(c.constituency.code)))
    ids = [c.pk for c in found]
    people: dict[int, list[Candidate]] = {pk: [] for pk in ids}
    for candidate in Candidate.objects.filter(contest_id__in=ids).order_by("contest_id", "ballot_order"):
        people[candidate.contest_id].append(candidate)
    counts = {
        r["contest_id"]: (r["total"], r["reported"])
        for r in ContestStation.objects.filter(contest_id__in=ids)
        .values("contest_id")
        .annotate(total=Count("pk"), reported=Count("form45"))
        .order_by()
    }
    postal = set(PostalBallots.objects.filter(contest_id__in=ids).values_list("contest_id", flat=True))
    rows = [
        ExportContest(
            contest=c,
            candidates=people[c.pk],
            stations_total=counts.get(c.pk, (0, 0))[0],
            stations_reported=counts.get(c.pk, (0, 0))[1],
            has_postal=c.pk in postal,
        )
        for c in found
    ]
    if contest is None:
        revision = sum(c.published_version for c in found)
    else:
        revision = found[0].published_version if found else 0
    return Scope(election=election, contests=rows, revision=revision, national=contest is None)


@dataclass
class StationFigures:
    """One reporting station of a contest: its accepted Form-45's figures."""

    number: int
    name: str
    name_ur: str
    registered: int
    polled_male: int
    polled_female: int
    polled: int
    excluded: int
    votes: list[tuple[int, int]] = field(default_factory=list)  # (candidate id, votes) in ballot order


def station_figures(contest: Contest) -> Iterator[StationFigures]:
    """The contest's stations that have an accepted Form-45, by number, streamed (one server-side cursor)."""
    rows = (
        Form45.objects.filter(contest_station__contest=contest)
        .order_by("contest_station__number", "votes__candidate__ballot_order")
        .values_list(
            "pk",
            "contest_station__number",
            "contest_station__polling_station__name",
            "contest_station__polling_station__name_ur",
            "contest_station__male_voters",
            "contest_station__female_voters",
            "polled_male",
            "polled_female",
            "polled_total",
            "excluded",
            "votes__candidate_id",
            "votes__votes",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    current: StationFigures | None = None
    form_id = None
    for pk, number, name, name_ur, male, female, polled_male, polled_female, polled, excluded, cand, votes in rows:
        if pk != form_id:
            if current is not None:
                yield current
            form_id = pk
            current = StationFigures(
                number=number,
                name=name,
                name_ur=name_ur,
                registered=male + female,
                polled_male=polled_male,
                polled_female=polled_female,
                polled=polled,
                excluded=excluded,
            )
        if cand is not None and current is not None:
            current.votes.append((cand, votes))
    if current is not None:
        yield current


def postal_figures(row: ExportContest) -> tuple[list[tuple[int, int]], int] | None:
    """The contest's postal ballots: ((candidate id, votes) in ballot order, rejected), or None if not recorded."""
    if not row.has_postal:
        return None
    postal = PostalBallots.objects.filter(contest=row.contest).first()
    if postal is None:  # removed since the scope was read
        return None
    votes = list(
        PostalVote.objects.filter(postal=postal)
        .order_by("candidate__ballot_order")
        .values_list("candidate_id", "votes")
    )
    return votes, postal.rejected


# --- CSV -------------------------------------------------------------------------------------------------------


def _in(language: str, english: str, urdu: str) -> str:
    """The Urdu text in an Urdu export where there is one, else the English."""
    return urdu if language == "ur" and urdu else english


def _cell(text: str) -> str:
    """Text a spreadsheet would run as a formula is kept as text (a leading apostrophe)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def station_label(number: int, name: str) -> str:
    return f"PS-{number} {name}".strip()


def csv_chunks(scope: Scope, *, language: str = "en") -> Iterator[str]:
    """The CSV export as text chunks: UTF-8 byte order mark, header, then every contest's rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for row in scope.contests:
        constituency = row.contest.constituency
        province, district = constituency.province, constituency.district
        place = (
            _cell(_in(language, province.name, province.name_ur)),
            _cell(_in(language, district.name, district.name_ur)) if district else "",
            constituency.code,
        )
        people = {
            c.pk: (_cell(_in(language, c.name, c.name_ur)), _cell(_in(language, c.party, c.party_ur)))
            for c in row.candidates
        }
        for station in station_figures(row.contest):
            label = _cell(station_label(station.number, _in(language, station.name, station.name_ur)))
            for candidate_id, votes in station.votes:
                name, party = people[candidate_id]
                writer.writerow((*place, label, name, party, votes))
            kinds = (station.registered, station.polled, station.polled_male, station.polled_female, station.excluded)
            for kind, value in zip(ROW_KINDS, kinds, strict=True):
                writer.writerow((*place, label, kind, "", value))
            if buffer.tell() >= FLUSH_AT:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        postal = postal_figures(row)
        if postal is not None:
            votes_list, rejected = postal
            for candidate_id, votes in votes_list:
                name, party = people[candidate_id]
                writer.writerow((*place, POSTAL_STATION, name, party, votes))
            writer.writerow((*place, POSTAL_STATION, "rejected", "", rejected))
    yield buffer.getvalue()


# --- JSON (NIST SP 1500-100 v2) ----------------------------------------------------------------------------------

_T = "ElectionResults."


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _text(english: str, urdu: str = "") -> dict[str, Any]:
    """An InternationalizedText: the English and, where recorded, the Urdu."""
    texts = [{"@type": f"{_T}LanguageString", "Content": english, "Language": "en"}] if english or not urdu else []
    if urdu:
        texts.append({"@type": f"{_T}LanguageString", "Content": urdu, "Language": "ur"})
    return {"@type": f"{_T}InternationalizedText", "Text": texts}


def _ident(kind: str, value: str) -> dict[str, Any]:
    return {"@type": f"{_T}ExternalIdentifier", "Type": "other", "OtherType": kind, "Value": value}


def gp_constituency_id(code: str) -> str:
    return f"gpu-{code}"


def gp_station_id(code: str, number: int) -> str:
    return f"gpu-{code}-ps-{number}"


def gp_postal_id(code: str) -> str:
    return f"gpu-{code}-postal"


def party_id(name: str) -> str:
    """A stable @id for a party name (its slug and a short hash, so two spellings never merge)."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    slug = slugify(name)[:40]
    return f"par-{slug}-{digest}" if slug else f"par-{digest}"


def _unit(unit_id: str, kind: str, name: str, **more: Any) -> dict[str, Any]:
    """A ReportingUnit: ``kind`` is a ReportingUnitType, or another word (Type "other" with OtherType)."""
    standard = kind in ("country", "polling-place")
    return {
        "@type": f"{_T}ReportingUnit",
        "@id": unit_id,
        "Type": kind if standard else "other",
        **({} if standard else {"OtherType": kind}),
        "Name": name,
        **more,
    }


def _gp_units(scope: Scope) -> Iterator[dict[str, Any]]:
    """Country, provinces, districts, then each constituency after its reporting stations (and postal unit)."""
    provinces: dict[int, tuple[Any, list[str]]] = {}
    districts: dict[int, tuple[Any, list[str]]] = {}
    for row in scope.contests:
        constituency = row.contest.constituency
        province = provinces.setdefault(constituency.province_id, (constituency.province, []))
        if constituency.district is not None:
            district = districts.setdefault(constituency.district.pk, (constituency.district, []))
            if not district[1]:
                province[1].append(f"gpu-district-{constituency.district.pk}")
            district[1].append(gp_constituency_id(constituency.code))
        else:
            province[1].append(gp_constituency_id(constituency.code))
    yield _unit(
        COUNTRY_ID,
        "country",
        "Pakistan",
        ComposingGpUnitIds=[f"gpu-province-{p.code}" for p, _ids in provinces.values()],
    )
    for province, ids in provinces.values():
        yield _unit(f"gpu-province-{province.code}", "province", province.name, ComposingGpUnitIds=ids)
    for district, ids in districts.values():
        yield _unit(f"gpu-district-{district.pk}", "district", district.name, ComposingGpUnitIds=ids)
    for row in scope.contests:
        code = row.code
        members = []
        for station in station_figures(row.contest):
            unit_id = gp_station_id(code, station.number)
            members.append(unit_id)
            yield _unit(
                unit_id,
                "polling-place",
                station_label(station.number, station.name or station.name_ur),
                Number=str(station.number),
                VotersRegistered=station.registered,
                VotersParticipated=station.polled,
            )
        if row.has_postal:
            members.append(gp_postal_id(code))
            yield _unit(gp_postal_id(code), "postal-ballots", f"{code} postal ballots", IsMailOnly=True)
        constituency = row.contest.constituency
        house = "national-assembly-constituency" if constituency.house == "NA" else "provincial-assembly-constituency"
        yield _unit(
            gp_constituency_id(code),
            house,
            f"{code} {constituency.name}".strip(),
            ExternalIdentifier=[_ident("ecp-constituency-code", code)],
            TotalSubUnits=row.stations_total,
            SubUnitsReported=row.stations_reported,
            ComposingGpUnitIds=members,
        )


def _parties(scope: Scope) -> Iterator[dict[str, Any]]:
    seen: dict[str, str] = {}
    for row in scope.contests:
        for c in row.candidates:
            if c.party and (c.party not in seen or (c.party_ur and not seen[c.party])):
                seen[c.party] = c.party_ur
    for name in sorted(seen):
        yield {"@type": f"{_T}Party", "@id": party_id(name), "Name": _text(name, seen[name])}


def _persons(scope: Scope) -> Iterator[dict[str, Any]]:
    for row in scope.contests:
        for c in row.candidates:
            yield {
                "@type": f"{_T}Person",
                "@id": f"per-{row.code}-{c.ballot_order}",
                "FullName": _text(c.name, c.name_ur),
                **({"PartyId": party_id(c.party)} if c.party else {}),
            }


def _candidates(scope: Scope) -> Iterator[dict[str, Any]]:
    for row in scope.contests:
        for c in row.candidates:
            yield {
                "@type": f"{_T}Candidate",
                "@id": f"can-{row.code}-{c.ballot_order}",
                "BallotName": _text(c.name, c.name_ur),
                "PersonId": f"per-{row.code}-{c.ballot_order}",
                **({"PartyId": party_id(c.party)} if c.party else {}),
            }


def _count_status(row: ExportContest) -> str:
    if row.stations_total and row.stations_reported == row.stations_total:
        return "completed"
    return "in-process" if row.stations_reported else "not-processed"


def _summary(unit_id: str, kind: str, cast: int, rejected: int | None = None) -> dict[str, Any]:
    """SummaryCounts of one unit: ``kind`` "total", or "male"/"female" (Type "other") for the split by sex."""
    counts: dict[str, Any] = {"@type": f"{_T}SummaryCounts"}
    counts.update({"Type": "total"} if kind == "total" else {"Type": "other", "OtherType": kind})
    counts.update(GpUnitId=unit_id, BallotsCast=cast)
    if rejected is not None:
        counts["BallotsRejected"] = rejected
    return counts


def _vote_count(unit_id: str, count: int) -> dict[str, Any]:
    return {"@type": f"{_T}VoteCounts", "Type": "total", "GpUnitId": unit_id, "Count": count}


def _contest(row: ExportContest, sequence: int) -> dict[str, Any]:
    """One CandidateContest with every reporting station's counts (one contest's figures in memory at a time)."""
    code, contest = row.code, row.contest
    counts: dict[int, list[dict[str, Any]]] = {c.pk: [] for c in row.candidates}
    summary = []
    for station in station_figures(contest):
        unit_id = gp_station_id(code, station.number)
        for candidate_id, votes in station.votes:
            counts.setdefault(candidate_id, []).append(_vote_count(unit_id, votes))
        summary.append(_summary(unit_id, "total", station.polled, station.excluded))
        summary.append(_summary(unit_id, "male", station.polled_male))
        summary.append(_summary(unit_id, "female", station.polled_female))
    postal = postal_figures(row)
    if postal is not None:
        votes_list, rejected = postal
        for candidate_id, votes in votes_list:
            counts.setdefault(candidate_id, []).append(_vote_count(gp_postal_id(code), votes))
        summary.append(_summary(gp_postal_id(code), "total", sum(v for _c, v in votes_list) + rejected, rejected))
    return {
        "@type": f"{_T}CandidateContest",
        "@id": f"con-{code}",
        "Name": f"{code} {contest.constituency.name}".strip(),
        "Abbreviation": code,
        "ElectoralDistrictId": gp_constituency_id(code),
        "VotesAllowed": 1,
        "NumberElected": 1,
        "VoteVariation": "plurality",
        "SequenceOrder": sequence,
        "TotalSubUnits": row.stations_total,
        "SubUnitsReported": row.stations_reported,
        "CountStatus": [{"@type": f"{_T}CountStatus", "Type": "total", "Status": _count_status(row)}],
        "ExternalIdentifier": [
            _ident("ecp-contest-status", contest.status),
            _ident("published-version", str(contest.published_version)),
            _ident("published-hash", contest.published_hash),
        ],
        "BallotSelection": [
            {
                "@type": f"{_T}CandidateSelection",
                "@id": f"sel-{code}-{c.ballot_order}",
                "SequenceOrder": c.ballot_order,
                "CandidateIds": [f"can-{code}-{c.ballot_order}"],
                "VoteCounts": counts[c.pk],
            }
            for c in row.candidates
        ],
        "SummaryCounts": summary,
    }


def report_status(scope: Scope) -> str:
    """ResultsStatus of the report: certified when every contest is final, complete when every station reported."""
    rows = scope.contests
    if rows and all(r.contest.status == Contest.Status.FINAL for r in rows):
        return "certified"
    total = sum(r.stations_total for r in rows)
    reported = sum(r.stations_reported for r in rows)
    if total and reported == total:
        return "unofficial-complete"
    if not reported and scope.election.status == Election.Status.SCHEDULED:
        return "pre-election"
    return "unofficial-partial"


class _Buffer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts, self.size = [], 0
        return text


def _array(out: _Buffer, key: str, items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Write ``,"key":[item,…]`` one item at a time, handing on a chunk whenever the buffer is full."""
    out.add(f',"{key}":[')
    for n, item in enumerate(items):
        out.add(("\n" if n == 0 else ",\n") + _dumps(item))
        if out.size >= FLUSH_AT:
            yield out.take()
    out.add("]")


def _open_object(obj: dict[str, Any]) -> str:
    """The JSON of a (non-empty) object without its closing brace, so arrays can follow."""
    return _dumps(obj)[:-1]


def json_chunks(scope: Scope, *, generated_at: datetime | None = None) -> Iterator[str]:
    """The JSON export (an ElectionResults.ElectionReport) as text chunks, written incrementally."""
    election = scope.election
    generated = timezone.localtime(generated_at or timezone.now())
    out = _Buffer()
    out.add(
        _open_object(
            {
                "@type": f"{_T}ElectionReport",
                "Format": "precinct-level",
                "GeneratedDate": generated.isoformat(timespec="seconds"),
                "Issuer": ISSUER,
                "IssuerAbbreviation": ISSUER_ABBREVIATION,
                "IsTest": False,
                "SequenceStart": 1,
                "SequenceEnd": 1,
                "Status": report_status(scope),
                "VendorApplicationId": VENDOR_APPLICATION,
                "ExternalIdentifier": [_ident("revision", str(scope.revision))],
                "Notes": (
                    "Counts per polling station from the accepted Form-45s; stations without an accepted Form-45 "
                    "are not listed. Postal ballots are a separate unit of each contest. See "
                    "docs/results-exports.md."
                ),
            }
        )
    )
    yield from _array(out, "GpUnit", _gp_units(scope))
    yield from _array(out, "Party", _parties(scope))
    yield from _array(out, "Person", _persons(scope))
    out.add(',"Election":[\n')
    out.add(
        _open_object(
            {
                "@type": f"{_T}Election",
                "Name": _text(election.name, election.name_ur),
                "Type": "general" if election.kind == Election.Kind.GENERAL else "special",
                "StartDate": election.poll_date.isoformat(),
                "EndDate": election.poll_date.isoformat(),
                "ElectionScopeId": COUNTRY_ID,
                "ExternalIdentifier": [_ident("ecp-election-code", election.code)],
            }
        )
    )
    yield from _array(out, "Candidate", _candidates(scope))
    yield from _array(out, "Contest", (_contest(row, n) for n, row in enumerate(scope.contests, start=1)))
    out.add("}]}\n")
    yield out.take()


# --- one contest, on the fly -----------------------------------------------------------------------------------


def contest_chunks(*, contest: Contest, fmt: str, language: str = "en") -> Iterator[str]:
    """One contest's export, read in one snapshot while it is sent (for a streaming response)."""
    with read_snapshot():
        scope = scope_load(election=contest.election, contest=contest)
        yield from csv_chunks(scope, language=language) if fmt == "csv" else json_chunks(scope)


def etag_value(
    *, election: Election, fmt: str, revision: int, language: str = "en", contest: Contest | None = None
) -> str:
    """The (unquoted) entity tag of an export: election (and constituency), revision or version, language."""
    where = f"{election.code}-{contest.constituency.code}-v" if contest is not None else f"{election.code}-r"
    return f"{where}{revision}-{language}-{fmt}"


def download_name(
    *, election: Election, fmt: str, revision: int, language: str = "en", contest: Contest | None = None
) -> str:
    suffix = "-ur" if language == "ur" else ""
    if contest is not None:
        return f"{election.code}-{contest.constituency.code}-v{revision}{suffix}.{fmt}"
    return f"{election.code}-r{revision}{suffix}.{fmt}"


# --- national files, built once per revision -------------------------------------------------------------------


def export_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "results" / "exports"


def _pattern(election: Election, fmt: str, language: str) -> re.Pattern[str]:
    suffix = "-ur" if language == "ur" else ""
    return re.compile(rf"^{re.escape(election.code)}-r(\d+){re.escape(suffix)}\.{fmt}$")


def _files(election: Election, fmt: str, language: str) -> list[tuple[int, Path]]:
    """The election's national files of this format and language present now, newest revision first."""
    pattern = _pattern(election, fmt, language)
    try:
        names = os.listdir(export_dir())
    except FileNotFoundError:
        return []
    found = [(int(m.group(1)), export_dir() / name) for name in names if (m := pattern.match(name))]
    return sorted(found, reverse=True)


@dataclass
class ExportFile:
    file: BinaryIO
    revision: int
    modified: float  # POSIX time of the file
    name: str  # the name to download it as


def _open(election: Election, fmt: str, language: str, revision: int, path: Path) -> ExportFile | None:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - handed to the response, which closes it
    except FileNotFoundError:  # superseded and removed meanwhile
        return None
    name = download_name(election=election, fmt=fmt, revision=revision, language=language)
    return ExportFile(file=handle, revision=revision, modified=os.fstat(handle.fileno()).st_mtime, name=name)


def export_lock_key(election: Election, fmt: str, language: str) -> str:
    return f"results:export:lock:{election.pk}:{fmt}:{language}"


def national_build(*, election: Election, fmt: str, language: str = "en") -> int:
    """Write the election's national file for its current revision (unless present); return that revision.

    Everything is read in one snapshot, written to a hidden file beside the
    final name and renamed over it, so a reader sees a whole file or none.
    Files of earlier revisions are removed afterwards."""
    directory = export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with read_snapshot():
        revision = election_revision(election)
        target = directory / download_name(election=election, fmt=fmt, revision=revision, language=language)
        if not target.exists():
            scope = scope_load(election=election)
            scope.revision = revision
            partial = directory / f".{target.name}.{uuid.uuid4().hex}.part"
            chunks = csv_chunks(scope, language=language) if fmt == "csv" else json_chunks(scope)
            try:
                with open(partial, "w", encoding="utf-8", newline="") as out:
                    for chunk in chunks:
                        out.write(chunk)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
    for old, path in _files(election, fmt, language):
        if old != revision:
            path.unlink(missing_ok=True)
    _remove_abandoned(directory, election, fmt, language)
    return revision


def _remove_abandoned(directory: Path, election: Election, fmt: str, language: str) -> None:
    """Partial files left by a build that died (older than the lock could be held)."""
    cutoff = time.time() - lock_seconds()
    pattern = _pattern(election, fmt, language)
    for path in directory.glob(".*.part"):
        if pattern.match(path.name[1:].rsplit(".", 2)[0]):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                pass


def lock_seconds() -> int:
    return settings.RESULTS_EXPORT_LOCK_SECONDS


def wait_seconds() -> float:
    return settings.RESULTS_EXPORT_WAIT_SECONDS


def national_file(
    *,
    election: Election,
    fmt: str,
    language: str = "en",
    revision: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ExportFile:
    """The national file of ``revision`` (the current one if None), open for reading.

    A burst of requests builds it once: the first takes the lock
    (``cache.add``) and builds; the others are served the newest earlier file
    meanwhile, or, when there is none yet, wait for the first up to
    ``RESULTS_EXPORT_WAIT_SECONDS`` and then get ``ExportBusy``."""
    if revision is None:
        revision = election_revision(election)
    deadline = time.monotonic() + wait_seconds()
    lock = export_lock_key(election, fmt, language)
    while True:
        wanted = export_dir() / download_name(election=election, fmt=fmt, revision=revision, language=language)
        found = _open(election, fmt, language, revision, wanted)
        if found is not None:
            return found
        token = uuid.uuid4().hex
        if cache.add(lock, token, timeout=lock_seconds()):
            try:
                revision = national_build(election=election, fmt=fmt, language=language)
            finally:
                if cache.get(lock) == token:
                    cache.delete(lock)
            continue
        for old, path in _files(election, fmt, language):
            found = _open(election, fmt, language, old, path)
            if found is not None:
                return found
        if time.monotonic() >= deadline:
            raise ExportBusy
        sleep(0.25)
