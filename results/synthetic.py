"""Synthetic elections: candidates and Form-45 figures, plausible and deterministic for a seed.

Pure Python (no Django), used by ``bench/ge_night.py`` and free for tests to
reuse. Every name is invented. The shapes follow GE-2024 roughly
(../shared/DOMAIN.md): NA contests have 5–12 candidates and PA contests 8–20,
which with one NA and one PA Form-45 per polling station gives ~11 candidate
figures a form, ~2 million on a national night.

A drawn Form-45 always passes ``results.tally.check_form45`` with no error:
polled_total = male + female = Σ votes + excluded, nothing above the
registered voters, no female votes at a male station and vice versa. A
``keying_slip`` of a form differs from it but passes the same checks, the way
a real mis-keyed entry reaches the supervisor rather than a 400.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

NA_CANDIDATES = (5, 12)  # inclusive range per NA contest
PA_CANDIDATES = (8, 20)  # inclusive range per PA contest
TURNOUT_MEAN, TURNOUT_SD = 0.48, 0.12  # GE-2024 turnout was ~47.6 %; a few stations exceed the 80 % warning
TURNOUT_MIN, TURNOUT_MAX = 0.10, 0.95
EXCLUDED_SHARE = (0.005, 0.04)  # of votes polled

_PARTIES = (
    "Awami Tehreek", "Qaumi Ittehad", "Jamhoori Mahaz", "Insaf Front", "Khidmat Party", "Sabz Inqilab",
    "Mazdoor Kisan League", "Watan Dost", "Ittefaq Council", "Roshan Pakistan",
)  # fmt: skip
_SYMBOLS = (
    "Lantern", "Kite", "Book", "Scales", "Tractor", "Bicycle", "Key", "Eagle", "Umbrella", "Ladder",
    "Chair", "Clock", "Jug", "Camel", "Fish", "Star", "Tree", "Boat", "Cup", "Pen", "Rose", "Bell",
)  # fmt: skip
_GIVEN = ("Ahmed", "Bilal", "Farah", "Hina", "Imran", "Javed", "Kiran", "Nadia", "Rashid", "Saima", "Tariq", "Zainab")
_FAMILY = ("Abbasi", "Baloch", "Chaudhry", "Durrani", "Khattak", "Malik", "Memon", "Qureshi", "Rana", "Shaikh")


@dataclass(frozen=True, slots=True)
class DrawnForm45:
    """The figures of one Form-45 as its Presiding Officer wrote them."""

    polled_male: int
    polled_female: int
    polled_total: int
    excluded: int
    votes: dict[int, int]  # ballot order -> valid votes

    def payload(self, *, contest_station: int, idempotency_key: str) -> dict[str, Any]:
        """The body of POST /api/v1/results/form45-entries/."""
        return {
            "contest_station": contest_station,
            "idempotency_key": idempotency_key,
            "polled_male": self.polled_male,
            "polled_female": self.polled_female,
            "polled_total": self.polled_total,
            "excluded": self.excluded,
            "votes": {str(k): v for k, v in sorted(self.votes.items())},
        }


def candidate_count(rng: random.Random, house: str) -> int:
    low, high = NA_CANDIDATES if house == "NA" else PA_CANDIDATES
    return rng.randint(low, high)


def candidate_people(rng: random.Random, count: int) -> list[dict[str, str]]:
    """``count`` invented candidates in ballot order (name, party, symbol); the last few are independents."""
    parties = rng.sample(_PARTIES, min(count, len(_PARTIES)))
    symbols = rng.sample(_SYMBOLS, min(count, len(_SYMBOLS)))
    people = []
    for i in range(count):
        people.append(
            {
                "name": f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}",
                "party": parties[i] if i < len(parties) and i < count - 2 else "",
                "symbol": symbols[i % len(symbols)],
            }
        )
    return people


def contest_strengths(rng: random.Random, count: int) -> list[float]:
    """Relative support of each candidate across a contest (a few strong, a long tail)."""
    return [rng.paretovariate(1.2) for _ in range(count)]


def draw_form45(
    rng: random.Random, *, station_type: str, male_voters: int, female_voters: int, strengths: Sequence[float]
) -> DrawnForm45:
    """Consistent figures for one station (see the module docstring)."""
    registered = male_voters + female_voters
    turnout = min(max(rng.gauss(TURNOUT_MEAN, TURNOUT_SD), TURNOUT_MIN), TURNOUT_MAX)
    total = max(1, min(registered, round(registered * turnout)))
    if station_type == "male":
        male, female = total, 0
    elif station_type == "female":
        male, female = 0, total
    else:
        # Women turn out a little less than their share of the roll, never above it.
        female = min(female_voters, total, round(total * female_voters / registered * rng.uniform(0.7, 1.1)))
        male = total - female
        if male > male_voters:
            male = male_voters
            female = total - male
    excluded = min(total, round(total * rng.uniform(*EXCLUDED_SHARE)))
    valid = total - excluded
    weights = [s * rng.uniform(0.6, 1.4) for s in strengths]
    return DrawnForm45(male, female, total, excluded, _apportion(valid, weights))


def keying_slip(rng: random.Random, form: DrawnForm45) -> DrawnForm45:
    """The same form mis-keyed by an operator: two candidates' figures swapped, or one vote moved.

    The sums still hold, so the entry passes validation and differs only on comparison."""
    votes = dict(form.votes)
    keys = sorted(votes)
    distinct = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :] if votes[a] != votes[b]]
    if distinct:
        a, b = rng.choice(distinct)
        votes[a], votes[b] = votes[b], votes[a]
        return replace(form, votes=votes)
    donors = [k for k in keys if votes[k] > 0]
    if donors and len(keys) > 1:
        a = rng.choice(donors)
        b = rng.choice([k for k in keys if k != a])
        votes[a] -= 1
        votes[b] += 1
        return replace(form, votes=votes)
    # No valid votes to move (or a single candidate): one excluded ballot keyed as valid, or the reverse.
    if form.excluded > 0:
        votes[keys[0]] += 1
        return replace(form, excluded=form.excluded - 1, votes=votes)
    votes[keys[0]] -= 1
    return replace(form, excluded=form.excluded + 1, votes=votes)


def idempotency_key(rng: random.Random) -> str:
    """A client-chosen key for one submission (32 hex digits, like a UUID without dashes)."""
    return f"{rng.getrandbits(128):032x}"


def _apportion(total: int, weights: Sequence[float]) -> dict[int, int]:
    """Share ``total`` votes by weight exactly (largest remainder), keyed by ballot order 1, 2, …"""
    weight = sum(weights)
    quotas = [w / weight * total for w in weights]
    shares = [int(q) for q in quotas]
    short = total - sum(shares)
    for i in sorted(range(len(quotas)), key=lambda i: shares[i] - quotas[i])[:short]:
        shares[i] += 1
    return dict(enumerate(shares, start=1))
