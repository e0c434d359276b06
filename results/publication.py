"""Publication of contest tallies: what the public results pages show, as one
hash chain per contest.

Every change to what a contest's public figures are (a Form-45 accepted or
decided, postal ballots recorded, Forms 47/48/49 produced, a recount, an
offline bundle imported) appends a ``PublishedTally`` version inside the same
transaction, with the contest's row locked. A version's ``hash`` covers the
previous version's hash, the contest, the version number, the time and the
SHA-256 of its canonical figures, so changing, removing or reordering any
published version breaks every later link; the contest row keeps the head
(``published_version``/``published_hash``). The election's head shown on the
portal is the SHA-256 of every contest's head in constituency order.

``verify_results`` (``manage.py verify_results``) walks every chain and
recomputes every contest's current tally from the accepted Form-45s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.audit import GENESIS_HASH, compute_hash

from .models import Candidate, Contest, PostalBallots, PublishedTally
from .selectors import ContestTally, contest_tally

PUBLIC_RULES = ("contest.recount_eligible", "contest.excluded_ge_margin", "contest.tie", "contest.women_turnout_low")


def contest_figures(tally: ContestTally) -> dict[str, Any]:
    """The canonical public figures of a contest (JSON-safe; hashed as published)."""
    contest = tally.contest
    postal = PostalBallots.objects.filter(contest=contest).first()
    postal_votes = dict(postal.votes.values_list("candidate__ballot_order", "votes")) if postal else {}
    return {
        "election": contest.election.code,
        "constituency": contest.constituency.code,
        "status": contest.status,
        "recounts": contest.recounts,
        "candidates": [
            {
                "ballot_order": c.ballot_order,
                "name": c.name,
                "name_ur": c.name_ur,
                "party": c.party,
                "party_ur": c.party_ur,
                "symbol": c.symbol,
                "symbol_ur": c.symbol_ur,
                "votes": tally.votes.get(c.ballot_order, 0),
                "postal": postal_votes.get(c.ballot_order, 0),
                "total": tally.votes.get(c.ballot_order, 0) + postal_votes.get(c.ballot_order, 0),
            }
            for c in tally.candidates
        ],
        "registered": {
            "male": tally.registered_male,
            "female": tally.registered_female,
            "total": tally.registered,
            "at_reported_stations": tally.registered_reported,
        },
        "polled": {"male": tally.polled_male, "female": tally.polled_female, "total": tally.polled_total},
        "excluded": tally.excluded,
        "postal_rejected": postal.rejected if postal else 0,
        "stations": {"total": tally.stations_total, "reported": tally.stations_reported},
        # What a citizen should see (recount-eligible margin, tie, women's votes below 10 %): the rule and its figures.
        "findings": [
            {"rule": f.rule, "data": dict(f.data)}
            for f in tally.findings(with_deadlines=False)
            if f.rule in PUBLIC_RULES
        ],
    }


def chain_hash(*, contest_id: int, version: int, prev_hash: str, content_hash: str, published_at: datetime) -> str:
    return compute_hash(
        {
            "contest": contest_id,
            "version": version,
            "prev_hash": prev_hash,
            "content_hash": content_hash,
            "published_at": published_at.isoformat(),
        }
    )


def publish(
    *, contest: Contest, reason: str, tally: ContestTally | None = None, candidates: list[Candidate] | None = None
) -> PublishedTally:
    """Append the contest's current tally to its chain.

    Call inside the transaction that changed the figures, with ``contest``
    freshly read under its row lock (its head is taken from it)."""
    tally = tally or contest_tally(contest=contest, with_awaited=False, candidates=candidates)
    figures = contest_figures(tally)
    digest = compute_hash(figures)
    version = contest.published_version + 1
    prev_hash = contest.published_hash or GENESIS_HASH
    now = timezone.now()
    published = PublishedTally.objects.create(
        contest=contest,
        version=version,
        figures=figures,
        content_hash=digest,
        prev_hash=prev_hash,
        hash=chain_hash(
            contest_id=contest.pk, version=version, prev_hash=prev_hash, content_hash=digest, published_at=now
        ),
        published_at=now,
        reason=reason[:40],
    )
    Contest.objects.filter(pk=contest.pk).update(published_version=version, published_hash=published.hash)
    contest.published_version, contest.published_hash = version, published.hash
    from . import live  # live reads publication's figures; the import is here to keep the two modules acyclic
    from .tasks import national_exports_soon

    # After commit, and never failing the committed change: a cache or broker outage is logged, and the pages
    # catch up at the next publication.
    transaction.on_commit(lambda: live.touch(contest_id=contest.pk), robust=True)
    transaction.on_commit(lambda: national_exports_soon(contest.election_id), robust=True)
    return published


def election_head(heads: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over every contest's (constituency code, head hash), in code order: one value for the portal."""
    digest = hashlib.sha256()
    for code, head in sorted(heads):
        digest.update(f"{code}:{head or GENESIS_HASH}\n".encode())
    return digest.hexdigest()


# --- verification ---------------------------------------------------------------------------------------------


@dataclass
class ResultsReport:
    contests: int = 0
    versions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _same(published: Any, recomputed: Any) -> bool:
    """Compare figures as published (JSON) with a recomputation (Python), through the same canonical form."""
    return compute_hash(published) == compute_hash(recomputed)


def verify_contest(contest: Contest, report: ResultsReport) -> None:
    """Walk the contest's chain, then recompute its current tally from the accepted Form-45s."""
    where = str(contest)
    prev_hash, expected_version, last = GENESIS_HASH, 1, None
    for row in PublishedTally.objects.filter(contest=contest).order_by("version").iterator(chunk_size=500):
        report.versions += 1
        if row.version != expected_version:
            report.problems.append(f"{where}: version {expected_version} is missing (found v{row.version}).")
        if row.prev_hash != prev_hash:
            report.problems.append(f"{where} v{row.version}: does not link to the previous version's hash.")
        if compute_hash(row.figures) != row.content_hash:
            report.problems.append(f"{where} v{row.version}: figures do not match their content hash (changed).")
        recomputed = chain_hash(
            contest_id=contest.pk,
            version=row.version,
            prev_hash=row.prev_hash,
            content_hash=row.content_hash,
            published_at=row.published_at,
        )
        if recomputed != row.hash:
            report.problems.append(f"{where} v{row.version}: hash does not match its content (changed).")
        prev_hash, expected_version, last = row.hash, row.version + 1, row
    head = (last.version, last.hash) if last else (0, "")
    if (contest.published_version, contest.published_hash) != head:
        report.problems.append(
            f"{where}: the contest's head (v{contest.published_version}) is not the chain's last version (v{head[0]})."
        )
    current = contest_figures(contest_tally(contest=contest, with_awaited=False))
    if last is None:
        if current["stations"]["reported"]:
            report.problems.append(f"{where}: has accepted Form-45s but no published tally.")
    elif not _same(last.figures, current):
        changed = sorted(k for k in current if not _same(last.figures.get(k), current[k]))
        report.problems.append(
            f"{where}: the published tally v{last.version} differs from the accepted Form-45s ({', '.join(changed)})."
        )


def verify_results(*, election_code: str = "", progress: Callable[[int, int], None] | None = None) -> ResultsReport:
    report = ResultsReport()
    contests = Contest.objects.select_related("election", "constituency").order_by("election__code", "pk")
    if election_code:
        contests = contests.filter(election__code=election_code)
    total = contests.count()
    for n, contest in enumerate(contests.iterator(chunk_size=200), start=1):
        report.contests += 1
        verify_contest(contest, report)
        if progress:
            progress(n, total)
    return report
