"""Reads of the Result Management System: contests scoped to the actor, and
tallies derived from the accepted Form-45 rows (never from stored totals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from core.models import Role
from core.selectors import scope_to_constituencies

from . import tally
from .models import Candidate, Contest, ContestStation, Flag, Form45, Form45Entry, Form45Vote

RESULTS_ROLES = (Role.RETURNING_OFFICER, Role.DATA_ENTRY_OPERATOR)


def code_order(code: str) -> tuple[str, int, str]:
    """Sort key putting constituency codes in their natural order: NA-2 before NA-10."""
    prefix, _sep, number = code.rpartition("-")
    return (prefix, int(number), "") if number.isdigit() else (code, 0, code)


def contest_list_for(*, user, election_code: str = "") -> QuerySet[Contest]:
    qs = Contest.objects.select_related("election", "constituency", "constituency__province")
    if election_code:
        qs = qs.filter(election__code=election_code)
    return scope_to_constituencies(qs, user, RESULTS_ROLES, field="constituency")


def contest_get_for(*, user, contest_id: int) -> Contest | None:
    return contest_list_for(user=user).filter(pk=contest_id).first()


def station_list(*, contest: Contest) -> QuerySet[ContestStation]:
    """The contest's stations with what the entry screens need: entries so far and acceptance."""
    return (
        ContestStation.objects.filter(contest=contest)
        .select_related("polling_station", "form45")
        .annotate(
            entry_count=Count("entries"),
            mismatched=Count("entries", filter=Q(entries__status=Form45Entry.Status.MISMATCHED)),
        )
        .order_by("number")
    )


def mismatch_list(*, contest: Contest) -> QuerySet[ContestStation]:
    mismatched = Form45Entry.objects.filter(contest_station=OuterRef("pk"), status=Form45Entry.Status.MISMATCHED)
    return station_list(contest=contest).filter(Exists(mismatched), form45__isnull=True)


@dataclass
class ContestTally:
    contest: Contest
    candidates: list[Candidate]
    votes: dict[int, int]  # ballot order -> votes from accepted Form-45s
    registered_male: int
    registered_female: int
    polled_male: int
    polled_female: int
    polled_total: int
    excluded: int
    stations_total: int
    stations_reported: int
    registered_reported: int = 0  # voters registered at the stations that have reported
    awaited: list[ContestStation] = field(default_factory=list)

    @property
    def registered(self) -> int:
        return self.registered_male + self.registered_female

    @property
    def turnout(self):
        """Votes polled over the voters registered at the stations that have reported (None before any)."""
        return tally.turnout(self.polled_total, self.registered_reported)

    @property
    def valid(self) -> int:
        return sum(self.votes.values())

    def totals(self) -> tally.ContestTotals:
        return tally.ContestTotals(
            votes=self.votes,
            polled_total=self.polled_total,
            polled_female=self.polled_female,
            excluded=self.excluded,
            stations_total=self.stations_total,
            stations_reported=self.stations_reported,
        )

    def standings(self) -> list[tally.Standing]:
        return tally.standings(self.votes)

    def findings(self, *, now=None, with_deadlines: bool = True) -> list[tally.Finding]:
        """Contest rules (recount, tie, women's turnout, completeness) and the deadline clock."""
        rules = settings.RESULTS_RECOUNT_RULES[self.contest.constituency.house]
        found = tally.check_contest(
            self.totals(),
            recount=tally.RecountRule(percent=rules["percent"], absolute=rules["absolute"]),
            women_min_share=settings.RESULTS_WOMEN_MIN_SHARE,
        )
        if not with_deadlines:
            return found
        election = self.contest.election
        found += tally.deadline_findings(
            now=now or timezone.now(),
            provisional_at=election.provisional_deadline_at,
            complete_at=election.complete_deadline_at,
            stations_total=self.stations_total,
            stations_reported=self.stations_reported,
        )
        return found


def contest_tally(
    *, contest: Contest, with_awaited: bool = True, candidates: list[Candidate] | None = None
) -> ContestTally:
    """One contest's figures from its accepted Form-45s (4 queries; 3 given its candidates in ballot order)."""
    if candidates is None:
        candidates = list(Candidate.objects.filter(contest=contest).order_by("ballot_order"))
    sums = dict(
        Form45Vote.objects.filter(candidate__contest=contest)  # a form's votes are for its contest's candidates
        .values_list("candidate__ballot_order")
        .annotate(total=Sum("votes"))
    )
    reported = Q(form45__isnull=False)
    stations = ContestStation.objects.filter(contest=contest).aggregate(
        total=Count("pk"),
        male=Sum("male_voters", default=0),
        female=Sum("female_voters", default=0),
        reported_male=Sum("male_voters", default=0, filter=reported),
        reported_female=Sum("female_voters", default=0, filter=reported),
    )
    forms = Form45.objects.filter(contest_station__contest=contest).aggregate(
        reported=Count("pk"),
        male=Sum("polled_male", default=0),
        female=Sum("polled_female", default=0),
        total=Sum("polled_total", default=0),
        excluded=Sum("excluded", default=0),
    )
    awaited = (
        list(ContestStation.objects.filter(contest=contest, form45__isnull=True).select_related("polling_station"))
        if with_awaited
        else []
    )
    return ContestTally(
        contest=contest,
        candidates=candidates,
        votes={c.ballot_order: sums.get(c.ballot_order, 0) for c in candidates},
        registered_male=stations["male"],
        registered_female=stations["female"],
        registered_reported=stations["reported_male"] + stations["reported_female"],
        polled_male=forms["male"],
        polled_female=forms["female"],
        polled_total=forms["total"],
        excluded=forms["excluded"],
        stations_total=stations["total"],
        stations_reported=forms["reported"],
        awaited=awaited,
    )


def national_tally(*, election_id: int) -> dict[int, dict[str, Any]]:
    """Every contest's candidate totals and reporting figures for an election, in 3 queries.

    {contest_id: {"votes": {candidate_id: votes}, "reported": n, "polled": n}}

    The votes are summed per candidate alone (the narrowest GROUP BY) and
    placed in their contests from the candidate list."""
    result: dict[int, dict[str, Any]] = {}
    contest_of = dict(Candidate.objects.filter(contest__election_id=election_id).values_list("pk", "contest_id"))
    rows = (
        Form45Vote.objects.filter(candidate__contest__election_id=election_id)
        .values_list("candidate_id")
        .annotate(total=Sum("votes"))
    )
    for candidate_id, total in rows:
        result.setdefault(contest_of[candidate_id], {"votes": {}, "reported": 0, "polled": 0})["votes"][
            candidate_id
        ] = total
    forms = (
        Form45.objects.filter(contest_station__contest__election_id=election_id)
        .values_list("contest_station__contest_id")
        .annotate(reported=Count("pk"), polled=Sum("polled_total"))
    )
    for contest_id, reported, polled in forms:
        entry = result.setdefault(contest_id, {"votes": {}, "reported": 0, "polled": 0})
        entry["reported"], entry["polled"] = reported, polled
    return result


def flag_list(*, contest: Contest) -> QuerySet[Flag]:
    return Flag.objects.filter(contest=contest).select_related("contest_station")
