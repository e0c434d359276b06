"""Result Management System arithmetic and rules: pure code, no Django.

Every check the RMS runs on the result forms (docs: DOMAIN "Checks the RMS
runs") lives here as a function that takes plain figures and returns a list of
``Finding``s. A finding carries a stable rule code (``RULES`` lists them all):
tests, stored flags and the UI key on the code, never on the English message.

Severity decides what the caller does:

- ``error``   — the form is refused (it cannot be right as keyed);
- ``warning`` — the form is accepted and the finding is stored as a flag for the RO;
- ``info``    — shown, nothing to act on yet.

All ratio thresholds (turnout, women's share, recount percent) are decided in
exact integer arithmetic: a float such as ``0.10`` is read as the decimal it was
written as (1/10), never as its binary approximation, so 10.00 % is exactly
10 % and not "just below". ``check_form45`` runs on every Form-45 submission,
so its clean path does a handful of integer comparisons and allocates only the
(empty) result list.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
StationType = Literal["male", "female", "combined"]

_SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}

# Rule code -> (severity, one-line description). Dict order is the order findings are reported in
# within one severity, so it is part of the contract: append new rules, don't reorder.
_RULE_TABLE: dict[str, tuple[Severity, str]] = {
    # Form-45, Result of the Count (one polling station).
    "form45.negative": ("error", "A Form-45 figure (or a candidate's votes) is below zero."),
    "form45.gender_sum": ("error", "Votes polled male + female differ from the total votes polled."),
    "form45.sum_mismatch": ("error", "Candidates' valid votes + excluded ballots differ from the total votes polled."),
    "form45.polled_above_registered": ("error", "More votes polled than registered voters (turnout above 100 %)."),
    "form45.male_above_registered": ("error", "More male votes polled than registered male voters."),
    "form45.female_above_registered": ("error", "More female votes polled than registered female voters."),
    "form45.male_station_female_votes": ("error", "A male polling station reports female votes polled."),
    "form45.female_station_male_votes": ("error", "A female polling station reports male votes polled."),
    "form45.turnout_high": ("warning", "Turnout is above the warning level (80 % by default) but not above 100 %."),
    "form45.no_votes": ("warning", "No votes polled at the polling station."),
    # Form-46, Ballot Paper Account.
    "form46.negative": ("error", "A Form-46 figure is below zero."),
    "form46.issued_mismatch": ("warning", "Ballots issued differ from received - unissued - spoilt."),
    "form46.box_mismatch": ("warning", "Ballots taken out of the box differ from the Form-45 total votes polled."),
    "form46.issued_below_polled": ("warning", "Fewer ballots issued than votes polled on the Form-45."),
    # Constituency (contest) level: Forms 47/48.
    "contest.recount_eligible": ("warning", "Margin of victory is below the recount threshold (s.95(5))."),
    "contest.excluded_ge_margin": ("warning", "Ballots excluded from the count are at least the margin of victory."),
    "contest.tie": ("warning", "Two or more candidates share the highest votes; the Commission's rule applies."),
    "contest.women_turnout_low": ("warning", "Women's votes are below 10 % of the total votes polled (s.9(1))."),
    "contest.provisional_deadline_missed": ("warning", "Provisional results are due and polling stations are awaited."),
    "contest.complete_deadline_missed": ("warning", "Complete results are due and polling stations are awaited."),
    "contest.incomplete": ("info", "Some polling stations have not reported yet."),
    "contest.deadline_approaching": ("info", "A results deadline is less than an hour away with stations awaited."),
}

RULES: dict[str, str] = {code: description for code, (_, description) in _RULE_TABLE.items()}
RULE_SEVERITY: dict[str, Severity] = {code: severity for code, (severity, _) in _RULE_TABLE.items()}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # stable code, a key of RULES
    severity: Severity
    message: str  # English sentence with the figures in it
    field: str | None = None  # the input field the rule is about
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # the figures behind it (JSON-safe)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for a JSONField of stored flags or an API response)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "field": self.field,
            "data": dict(self.data),
        }


def _finding(rule: str, message: str, field: str | None = None, **data: Any) -> Finding:
    return Finding(rule, RULE_SEVERITY[rule], message, field, data)


def has_errors(findings: Iterable[Finding]) -> bool:
    """True if any finding refuses the form."""
    return any(f.severity == "error" for f in findings)


def _ordered(findings: list[Finding]) -> list[Finding]:
    # Stable: within one severity the order the checks appended them in (RULES order, then field order).
    if len(findings) > 1:
        findings.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
    return findings


# --- exact ratios -----------------------------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _exact(value: float | int | Fraction | Decimal) -> Fraction:
    """The exact rational a threshold was written as: 0.1 -> 1/10 (not 3602879701896397/36028797018963968)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"threshold must be a finite number, not {value!r}")
        return Fraction(repr(value))
    return Fraction(value)


@lru_cache(maxsize=128)
def _share(value: float, name: str) -> Fraction:
    exact = _exact(value)
    if not 0 <= exact <= 1:
        raise ValueError(f"{name} is a share between 0 and 1 (0.80 for 80 %), not {value!r}")
    return exact


def _percent(numerator: int, denominator: int) -> float:
    """For messages and data only (rounded to 2 places); decisions never use it."""
    return round(100 * numerator / denominator, 2) if denominator else 0.0


def _pct(value: Fraction) -> str:
    return f"{float(value * 100):g} %"


def turnout(polled: int, registered: int) -> Fraction | None:
    """Votes polled / registered voters, exact; None when there are no registered voters."""
    if registered <= 0:
        return None
    return Fraction(polled, registered)


# --- Form-45 ----------------------------------------------------------------------------------------------------

_STATION_TYPES = frozenset(("male", "female", "combined"))
_FORM45_SCALARS = (
    "registered_male",
    "registered_female",
    "polled_male",
    "polled_female",
    "polled_total",
    "excluded",
)
_FORM45_FIELDS = ("station_type", *_FORM45_SCALARS)


@dataclass(frozen=True, slots=True)
class Form45Figures:
    station_type: StationType
    registered_male: int
    registered_female: int
    polled_male: int
    polled_female: int
    polled_total: int
    excluded: int  # ballots excluded from the count (rejected)
    votes: Mapping[int, int]  # candidate key (ballot order) -> valid votes (incl. valid tendered/challenged)

    def __post_init__(self) -> None:
        if self.station_type not in _STATION_TYPES:
            raise ValueError(f"station_type is male, female or combined, not {self.station_type!r}")

    @property
    def registered_total(self) -> int:
        return self.registered_male + self.registered_female


def check_form45(f: Form45Figures, *, turnout_warning: float = 0.80) -> list[Finding]:
    """Every finding on one Form-45: errors first, then warnings, each in RULES order."""
    warn = _share(turnout_warning, "turnout_warning")
    found: list[Finding] = []
    votes = f.votes
    votes_sum = sum(votes.values())

    # form45.negative: each scalar figure in field order, then candidates in ballot order.
    if (
        f.registered_male < 0
        or f.registered_female < 0
        or f.polled_male < 0
        or f.polled_female < 0
        or f.polled_total < 0
        or f.excluded < 0
        or (votes and min(votes.values()) < 0)
    ):
        found.extend(_form45_negatives(f))

    if f.polled_male + f.polled_female != f.polled_total:
        found.append(
            _finding(
                "form45.gender_sum",
                f"Votes polled male ({f.polled_male:,}) + female ({f.polled_female:,}) = "
                f"{f.polled_male + f.polled_female:,}, but the total polled is {f.polled_total:,}.",
                "polled_total",
                polled_male=f.polled_male,
                polled_female=f.polled_female,
                polled_total=f.polled_total,
                difference=f.polled_male + f.polled_female - f.polled_total,
            )
        )

    if votes_sum + f.excluded != f.polled_total:
        found.append(
            _finding(
                "form45.sum_mismatch",
                f"Candidates' valid votes ({votes_sum:,}) + excluded ballots ({f.excluded:,}) = "
                f"{votes_sum + f.excluded:,}, but the total polled is {f.polled_total:,}.",
                "votes",
                votes_sum=votes_sum,
                excluded=f.excluded,
                polled_total=f.polled_total,
                difference=votes_sum + f.excluded - f.polled_total,
            )
        )

    registered = f.registered_male + f.registered_female
    if f.polled_total > registered:
        found.append(
            _finding(
                "form45.polled_above_registered",
                f"Total polled ({f.polled_total:,}) is above the registered voters ({registered:,}).",
                "polled_total",
                polled_total=f.polled_total,
                registered=registered,
                turnout_percent=_percent(f.polled_total, registered) if registered > 0 else None,
            )
        )
    if f.polled_male > f.registered_male:
        found.append(
            _finding(
                "form45.male_above_registered",
                f"Male votes polled ({f.polled_male:,}) are above the registered male voters ({f.registered_male:,}).",
                "polled_male",
                polled_male=f.polled_male,
                registered_male=f.registered_male,
            )
        )
    if f.polled_female > f.registered_female:
        found.append(
            _finding(
                "form45.female_above_registered",
                f"Female votes polled ({f.polled_female:,}) are above the registered female voters "
                f"({f.registered_female:,}).",
                "polled_female",
                polled_female=f.polled_female,
                registered_female=f.registered_female,
            )
        )

    if f.station_type == "male" and f.polled_female > 0:
        found.append(
            _finding(
                "form45.male_station_female_votes",
                f"A male polling station reports {f.polled_female:,} female votes polled.",
                "polled_female",
                polled_female=f.polled_female,
            )
        )
    elif f.station_type == "female" and f.polled_male > 0:
        found.append(
            _finding(
                "form45.female_station_male_votes",
                f"A female polling station reports {f.polled_male:,} male votes polled.",
                "polled_male",
                polled_male=f.polled_male,
            )
        )

    # Warnings. Turnout above 100 % is already an error; with 0 registered it is either nothing or that error.
    if (
        registered > 0
        and f.polled_total <= registered
        and f.polled_total * warn.denominator > warn.numerator * registered
    ):
        found.append(
            _finding(
                "form45.turnout_high",
                f"Turnout is {_percent(f.polled_total, registered):.2f} % ({f.polled_total:,} of "
                f"{registered:,} registered), above the {_pct(warn)} warning level.",
                "polled_total",
                polled_total=f.polled_total,
                registered=registered,
                turnout_percent=_percent(f.polled_total, registered),
                warning_percent=float(warn * 100),
            )
        )
    if f.polled_total == 0:
        found.append(
            _finding(
                "form45.no_votes",
                f"No votes polled at this polling station ({registered:,} registered).",
                "polled_total",
                polled_total=0,
                registered=registered,
            )
        )
    return _ordered(found)


def _form45_negatives(f: Form45Figures) -> list[Finding]:
    found = [
        _finding(
            "form45.negative",
            f"{name.replace('_', ' ').capitalize()} is {value:,}; a figure cannot be below zero.",
            name,
            value=value,
        )
        for name in _FORM45_SCALARS
        if (value := getattr(f, name)) < 0
    ]
    found.extend(
        _finding(
            "form45.negative",
            f"Candidate {key} has {value:,} votes; a figure cannot be below zero.",
            "votes",
            candidate=key,
            value=value,
        )
        for key, value in sorted(f.votes.items())
        if value < 0
    )
    return found


def entry_differences(a: Form45Figures, b: Form45Figures) -> list[str]:
    """Field names where two operators' keying of the same Form-45 differ, sorted (plain string order).

    Candidates appear as ``votes.<key>``; a candidate keyed by one operator and missing from the other's
    entry differs even if the figure is 0. An empty list means the entries match.
    """
    diffs = [name for name in _FORM45_FIELDS if getattr(a, name) != getattr(b, name)]
    av, bv = a.votes, b.votes
    if av != bv:
        missing = object()
        diffs.extend(f"votes.{key}" for key in av.keys() | bv.keys() if av.get(key, missing) != bv.get(key, missing))
    diffs.sort()
    return diffs


# --- Form-46 ----------------------------------------------------------------------------------------------------

_FORM46_FIELDS = ("received", "unissued", "issued", "spoilt", "tendered", "challenged", "taken_out")


@dataclass(frozen=True, slots=True)
class Form46Figures:
    received: int
    unissued: int
    issued: int
    spoilt: int
    tendered: int
    challenged: int
    taken_out: int


def check_form46(f46: Form46Figures, f45: Form45Figures | None = None) -> list[Finding]:
    """The Ballot Paper Account, and its reconciliation with the station's Form-45 when given."""
    found = [
        _finding(
            "form46.negative",
            f"{name.replace('_', ' ').capitalize()} is {value:,}; a figure cannot be below zero.",
            name,
            value=value,
        )
        for name in _FORM46_FIELDS
        if (value := getattr(f46, name)) < 0
    ]
    expected_issued = f46.received - f46.unissued - f46.spoilt
    if f46.issued != expected_issued:
        found.append(
            _finding(
                "form46.issued_mismatch",
                f"Ballots issued ({f46.issued:,}) differ from received ({f46.received:,}) - unissued "
                f"({f46.unissued:,}) - spoilt ({f46.spoilt:,}) = {expected_issued:,}.",
                "issued",
                issued=f46.issued,
                received=f46.received,
                unissued=f46.unissued,
                spoilt=f46.spoilt,
                expected=expected_issued,
                difference=f46.issued - expected_issued,
            )
        )
    if f45 is not None:
        if f46.taken_out != f45.polled_total:
            found.append(
                _finding(
                    "form46.box_mismatch",
                    f"Ballots taken out of the box ({f46.taken_out:,}) differ from the total votes polled on "
                    f"the Form-45 ({f45.polled_total:,}).",
                    "taken_out",
                    taken_out=f46.taken_out,
                    polled_total=f45.polled_total,
                    difference=f46.taken_out - f45.polled_total,
                )
            )
        if f46.issued < f45.polled_total:
            found.append(
                _finding(
                    "form46.issued_below_polled",
                    f"Ballots issued ({f46.issued:,}) are fewer than the total votes polled on the Form-45 "
                    f"({f45.polled_total:,}).",
                    "issued",
                    issued=f46.issued,
                    polled_total=f45.polled_total,
                )
            )
    return _ordered(found)


# --- Forms 47 and 48: totals ------------------------------------------------------------------------------------


def sum_forms(forms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Exact per-candidate totals of Form-45 votes (Form-47 = exact sum of the accepted Form-45s).

    A candidate appears if any form has them (with 0 if all their figures are 0); a candidate on no form at all
    does not, so seed with ``{key: 0 for key in ballot}`` as the first form for a full table.
    """
    totals: dict[int, int] = {}
    get = totals.get
    for votes in forms:
        for key, value in votes.items():
            totals[key] = get(key, 0) + value
    return totals


def add_postal(station_totals: Mapping[int, int], postal: Mapping[int, int]) -> dict[int, int]:
    """Form-48 = Form-47 (station totals) + valid postal votes, per candidate."""
    totals = dict(station_totals)
    for key, value in postal.items():
        totals[key] = totals.get(key, 0) + value
    return totals


# --- Contest (constituency) ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecountRule:
    percent: float = 5.0  # margin < percent % of total votes polled …
    absolute: int = 10_000  # … or < absolute votes, whichever is LESS (s.95(5); configurable per house)

    def __post_init__(self) -> None:
        if _exact(self.percent) < 0 or self.absolute < 0:
            raise ValueError(f"recount percent and absolute must not be negative: {self.percent!r}, {self.absolute!r}")


DEFAULT_RECOUNT = RecountRule()


@dataclass(frozen=True, slots=True)
class ContestTotals:
    votes: Mapping[int, int]  # candidate key -> total valid votes
    polled_total: int
    polled_female: int
    excluded: int
    stations_total: int
    stations_reported: int


@dataclass(frozen=True, slots=True)
class Standing:
    key: int
    votes: int
    rank: int  # 1 = leading; equal votes share a rank


def standings(votes: Mapping[int, int]) -> list[Standing]:
    """Candidates by votes (desc), then key (asc). Ranks are competition ranks: 1, 1, 3 for a tie at the top."""
    ordered = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
    result: list[Standing] = []
    rank = 0
    previous: int | None = None
    for position, (key, value) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        result.append(Standing(key, value, rank))
    return result


def margin(votes: Mapping[int, int]) -> int | None:
    """Leader's votes minus the runner-up's (0 on a tie); None with fewer than two candidates."""
    if len(votes) < 2:
        return None
    first, second = heapq.nlargest(2, votes.values())
    return first - second


def recount_threshold(polled_total: int, rule: RecountRule) -> int:
    """The smallest margin that is NOT recount-eligible: eligible iff ``margin < recount_threshold(...)``.

    That is the lesser of ``percent`` % of the votes polled and ``absolute``, with the percentage rounded up
    to a whole vote, which decides ``margin < polled * percent / 100`` exactly (5 % of 100,001 is 5,000.05:
    a margin of 5,000 is eligible, 5,001 is not, so the threshold is 5,001).
    """
    share = _exact(rule.percent) * max(polled_total, 0)
    percent_votes = -(-share.numerator // (share.denominator * 100))  # ceil(share / 100), in integers
    return min(percent_votes, rule.absolute)


def check_contest(
    t: ContestTotals, *, recount: RecountRule = DEFAULT_RECOUNT, women_min_share: float = 0.10
) -> list[Finding]:
    """Constituency findings on the current totals (Form-47 while counting, Form-48 after postal ballots)."""
    women_min = _share(women_min_share, "women_min_share")
    found: list[Finding] = []
    if t.stations_reported > 0:
        lead = margin(t.votes)
        if lead is not None:
            threshold = recount_threshold(t.polled_total, recount)
            if lead < threshold:
                found.append(
                    _finding(
                        "contest.recount_eligible",
                        f"Margin of victory ({lead:,}) is below the recount threshold ({threshold:,}: the lesser of "
                        f"{_pct(_exact(recount.percent) / 100)} of {t.polled_total:,} votes polled and "
                        f"{recount.absolute:,} votes).",
                        "votes",
                        margin=lead,
                        threshold=threshold,
                        percent=float(recount.percent),
                        absolute=recount.absolute,
                        polled_total=t.polled_total,
                    )
                )
            if t.excluded and t.excluded >= lead:
                found.append(
                    _finding(
                        "contest.excluded_ge_margin",
                        f"Ballots excluded from the count ({t.excluded:,}) are at least the margin of victory "
                        f"({lead:,}).",
                        "excluded",
                        excluded=t.excluded,
                        margin=lead,
                    )
                )
        if t.votes:
            top = max(t.votes.values())
            if top > 0:
                tied = sorted(key for key, value in t.votes.items() if value == top)
                if len(tied) > 1:
                    found.append(
                        _finding(
                            "contest.tie",
                            f"Candidates {', '.join(map(str, tied))} share the highest votes ({top:,}); "
                            "the Commission's rule for a tie applies.",
                            "votes",
                            candidates=tied,
                            votes=top,
                        )
                    )
        if t.polled_total > 0 and t.polled_female * women_min.denominator < women_min.numerator * t.polled_total:
            found.append(
                _finding(
                    "contest.women_turnout_low",
                    f"Women's votes ({t.polled_female:,}) are {_percent(t.polled_female, t.polled_total):.2f} % of "
                    f"the {t.polled_total:,} votes polled, below {_pct(women_min)}.",
                    "polled_female",
                    polled_female=t.polled_female,
                    polled_total=t.polled_total,
                    share_percent=_percent(t.polled_female, t.polled_total),
                    min_percent=float(women_min * 100),
                )
            )
    if t.stations_reported < t.stations_total:
        awaited = t.stations_total - t.stations_reported
        found.append(
            _finding(
                "contest.incomplete",
                f"{t.stations_reported:,} of {t.stations_total:,} polling stations have reported; {awaited:,} awaited.",
                None,
                reported=t.stations_reported,
                total=t.stations_total,
                awaited=awaited,
            )
        )
    return _ordered(found)


# --- Deadlines --------------------------------------------------------------------------------------------------


def deadline_findings(
    *,
    now: datetime,
    provisional_at: datetime,
    complete_at: datetime,
    stations_total: int,
    stations_reported: int,
    warn_before: timedelta = timedelta(hours=1),
) -> list[Finding]:
    """Missed and approaching result deadlines (provisional by 02:00 the next day, complete by 10:00 by default).

    Nothing is flagged once every station has reported. Times must be timezone-aware; the deadline is missed
    from the very moment it falls (``now >= due``) and approaching in the ``warn_before`` before it.
    """
    for name, moment in (("now", now), ("provisional_at", provisional_at), ("complete_at", complete_at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime")
    awaited = stations_total - stations_reported
    if awaited <= 0:
        return []
    found: list[Finding] = []
    for deadline, due, missed_rule in (
        ("provisional", provisional_at, "contest.provisional_deadline_missed"),
        ("complete", complete_at, "contest.complete_deadline_missed"),
    ):
        due_text = due.strftime("%Y-%m-%d %H:%M")
        if now >= due:
            found.append(
                _finding(
                    missed_rule,
                    f"The {deadline} results were due at {due_text}; {awaited:,} of {stations_total:,} polling "
                    "stations are still awaited.",
                    None,
                    deadline=deadline,
                    due_at=due.isoformat(),
                    awaited=awaited,
                    reported=stations_reported,
                    total=stations_total,
                )
            )
        elif now >= due - warn_before:
            minutes_left = math.ceil((due - now) / timedelta(minutes=1))
            found.append(
                _finding(
                    "contest.deadline_approaching",
                    f"The {deadline} results are due at {due_text} (in {minutes_left} min); {awaited:,} of "
                    f"{stations_total:,} polling stations are still awaited.",
                    None,
                    deadline=deadline,
                    due_at=due.isoformat(),
                    minutes_left=minutes_left,
                    awaited=awaited,
                    reported=stations_reported,
                    total=stations_total,
                )
            )
    return _ordered(found)
