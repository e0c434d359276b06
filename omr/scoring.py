"""Scoring and merit lists: pure code, no Django.

- ``MarkingScheme``: marks for a correct answer, the negative marks for a wrong one, what a multiple mark counts
  as, and the sections (named ranges of questions). Per question, the key may accept several options, and a
  question may be dropped (nobody gets marks for it) or given as a bonus (everybody gets the full marks).
- ``score``: one candidate's read answers against the key of their booklet series → per-section and total marks
  with the counts behind them. Only confirmed reads are scored: the engine sends anything uncertain to review
  first, so ``score`` refuses an answer sheet that still has an unresolved question.
- ``merit_list``: ranks candidates by a policy (total, then tie-breakers such as a section's marks or the older
  candidate first, the roll number last so that the order is total and repeatable), and, optionally, fills
  quota buckets in order, carrying unfilled seats forward.

Marks are ``Decimal`` throughout: a merit list must not depend on binary rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

MULTIPLE_IS_WRONG = "wrong"
MULTIPLE_IS_BLANK = "blank"


class ScoringError(ValueError):
    """The inputs cannot be scored as they are (say which and why)."""


@dataclass(frozen=True)
class Section:
    name: str
    first: int  # question numbers, both included
    last: int

    def __contains__(self, question: int) -> bool:
        return self.first <= question <= self.last


@dataclass(frozen=True)
class MarkingScheme:
    correct: Decimal = Decimal(1)
    wrong: Decimal = Decimal(0)  # marks taken away for a wrong answer (a positive number)
    multiple: str = MULTIPLE_IS_WRONG  # what two or more marks on one question count as
    sections: tuple[Section, ...] = ()
    dropped: frozenset[int] = frozenset()  # no marks for anybody
    bonus: frozenset[int] = frozenset()  # full marks for everybody

    def __post_init__(self) -> None:
        if self.correct <= 0 or self.wrong < 0:
            raise ScoringError("marks for a correct answer must be positive, negative marks zero or more")
        if self.multiple not in (MULTIPLE_IS_WRONG, MULTIPLE_IS_BLANK):
            raise ScoringError(f"a multiple mark counts as wrong or blank, not {self.multiple!r}")
        if self.dropped & self.bonus:
            raise ScoringError(f"questions both dropped and bonus: {sorted(self.dropped & self.bonus)}")
        ordered = sorted(self.sections, key=lambda s: s.first)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b.first <= a.last:
                raise ScoringError(f"sections {a.name!r} and {b.name!r} overlap")
        if len({s.name for s in self.sections}) != len(self.sections):
            raise ScoringError("section names must be distinct")

    def section_of(self, question: int) -> str:
        for section in self.sections:
            if question in section:
                return section.name
        return ""


# The key of one booklet series: question number → the accepted options (usually one letter).
Key = Mapping[int, frozenset[str]]


@dataclass
class Tally:
    marks: Decimal = Decimal(0)
    correct: int = 0
    wrong: int = 0
    blank: int = 0
    multiple: int = 0


@dataclass(frozen=True)
class Score:
    total: Decimal
    sections: dict[str, Decimal]
    correct: int
    wrong: int
    blank: int
    multiple: int
    per_question: dict[int, Decimal]  # the marks each question gave (for the trail from list to bubble)


def score(answers: Mapping[int, Sequence[str]], key: Key, scheme: MarkingScheme) -> Score:
    """Score confirmed answers (question → the options marked; empty = blank) against ``key``. Every question
    of the key is scored; an answer to a question the key does not have is an error (a layout/key mismatch)."""
    unknown = sorted(set(answers) - set(key))
    if unknown:
        raise ScoringError(f"answers to questions the key does not have: {unknown[:10]}")
    totals: dict[str, Tally] = {}
    overall = Tally()
    per_question: dict[int, Decimal] = {}
    for question in sorted(key):
        marked = frozenset(answers.get(question, ()))
        tallies = (overall, totals.setdefault(scheme.section_of(question), Tally()))
        outcome: str | None
        if question in scheme.dropped:
            marks, outcome = Decimal(0), None  # counted in no column
        elif question in scheme.bonus:
            marks, outcome = scheme.correct, "correct"
        elif not marked:
            marks, outcome = Decimal(0), "blank"
        elif len(marked) > 1:
            outcome = "multiple"
            marks = -scheme.wrong if scheme.multiple == MULTIPLE_IS_WRONG else Decimal(0)
        elif marked <= key[question]:
            marks, outcome = scheme.correct, "correct"
        else:
            marks, outcome = -scheme.wrong, "wrong"
        per_question[question] = marks
        for tally in tallies:
            tally.marks += marks
            if outcome is not None:
                setattr(tally, outcome, getattr(tally, outcome) + 1)
    return Score(
        total=overall.marks,
        sections={name: tally.marks for name, tally in totals.items() if name},
        correct=overall.correct,
        wrong=overall.wrong,
        blank=overall.blank,
        multiple=overall.multiple,
        per_question=per_question,
    )


# --- merit lists ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    roll: str
    total: Decimal
    sections: Mapping[str, Decimal] = field(default_factory=dict)
    born: date | None = None
    buckets: frozenset[str] = frozenset()  # the quota buckets the candidate may be selected in


@dataclass(frozen=True)
class TieBreak:
    """``by``: "section:<name>" (more marks first) or "older" (earlier date of birth first)."""

    by: str

    def value(self, candidate: Candidate):
        if self.by == "older":
            # Earlier birth first; an unknown date of birth last.
            return (candidate.born is None, candidate.born or date.max)
        if self.by.startswith("section:"):
            return -candidate.sections.get(self.by.split(":", 1)[1], Decimal(0))
        raise ScoringError(f"unknown tie-breaker {self.by!r}")


@dataclass(frozen=True)
class Quota:
    bucket: str
    seats: int
    carry_to: str = ""  # where unfilled seats go ("" = lapse)


@dataclass(frozen=True)
class Ranked:
    rank: int  # 1, 2, 3… strictly: ties are broken by the policy, then the roll number
    candidate: Candidate
    selected_in: str = ""  # the quota bucket, when quotas are filled


def rank(candidates: Iterable[Candidate], tie_breaks: Sequence[TieBreak] = ()) -> list[Ranked]:
    def order(c: Candidate):
        return (-c.total, *(t.value(c) for t in tie_breaks), c.roll)

    ordered = sorted(candidates, key=order)
    rolls = [c.roll for c in ordered]
    if len(set(rolls)) != len(rolls):
        raise ScoringError("a roll number appears twice in the merit list")
    return [Ranked(i + 1, c) for i, c in enumerate(ordered)]


def merit_list(
    candidates: Iterable[Candidate], tie_breaks: Sequence[TieBreak] = (), quotas: Sequence[Quota] = ()
) -> list[Ranked]:
    """The ranked list; with ``quotas``, each bucket in the given order takes the best-ranked eligible
    candidates not already selected, and passes its unfilled seats to ``carry_to`` (a bucket later in the
    order). Without quotas nobody is marked selected."""
    ranked = rank(candidates, tie_breaks)
    if not quotas:
        return ranked
    order = [q.bucket for q in quotas]
    if len(set(order)) != len(order):
        raise ScoringError("a quota bucket is listed twice")
    seats = {q.bucket: q.seats for q in quotas}
    selected: dict[str, str] = {}
    for position, quota in enumerate(quotas):
        if quota.carry_to and quota.carry_to not in order[position + 1 :]:
            raise ScoringError(f"{quota.bucket!r} carries its seats to {quota.carry_to!r}, which is not later")
        free = seats[quota.bucket]
        for entry in ranked:
            if free == 0:
                break
            if entry.candidate.roll not in selected and quota.bucket in entry.candidate.buckets:
                selected[entry.candidate.roll] = quota.bucket
                free -= 1
        if free and quota.carry_to:
            seats[quota.carry_to] += free
    return [Ranked(r.rank, r.candidate, selected.get(r.candidate.roll, "")) for r in ranked]
