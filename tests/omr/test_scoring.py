"""Scoring against a key with negative marking, multiple correct options, dropped and bonus questions and
sections; merit lists with tie-breakers and quota buckets that carry unfilled seats forward."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omr.scoring import (
    Candidate,
    MarkingScheme,
    Quota,
    ScoringError,
    Section,
    TieBreak,
    merit_list,
    rank,
    score,
)

KEY = {
    1: frozenset("A"),
    2: frozenset("B"),
    3: frozenset("C"),
    4: frozenset("AD"),
    5: frozenset("B"),
    6: frozenset("C"),
}
SCHEME = MarkingScheme(
    correct=Decimal(4),
    wrong=Decimal(1),
    sections=(Section("General", 1, 3), Section("Maths", 4, 6)),
)


def test_negative_marking_multiple_correct_options_and_sections():
    result = score({1: "A", 2: "C", 3: "", 4: "D", 5: ("A", "B"), 6: "C"}, KEY, SCHEME)
    # 1 right (+4), 2 wrong (−1), 3 blank, 4 right (D accepted), 5 multiple (as wrong, −1), 6 right.
    assert result.total == Decimal(4 - 1 + 4 - 1 + 4)
    assert result.sections == {"General": Decimal(3), "Maths": Decimal(7)}
    assert (result.correct, result.wrong, result.blank, result.multiple) == (3, 1, 1, 1)
    assert result.per_question == {1: 4, 2: -1, 3: 0, 4: 4, 5: -1, 6: 4}


def test_a_multiple_mark_may_count_as_blank_and_dropped_and_bonus_questions():
    scheme = MarkingScheme(
        correct=Decimal(1), wrong=Decimal("0.25"), multiple="blank", dropped=frozenset({2}), bonus=frozenset({3})
    )
    result = score({1: ("A", "B"), 2: "B", 3: ""}, KEY, scheme)
    assert result.per_question[1] == 0 and result.per_question[2] == 0 and result.per_question[3] == 1
    assert result.total == Decimal(1)  # only the bonus question scores: 1 is a multiple (blank), 4–6 unanswered
    assert result.blank == 3 and result.multiple == 1 and result.correct == 1  # the dropped one counts nowhere


def test_bad_schemes_and_answers_are_refused_with_the_reason():
    with pytest.raises(ScoringError, match="overlap"):
        MarkingScheme(sections=(Section("a", 1, 10), Section("b", 10, 20)))
    with pytest.raises(ScoringError, match="both dropped and bonus"):
        MarkingScheme(dropped=frozenset({1}), bonus=frozenset({1}))
    with pytest.raises(ScoringError, match="positive"):
        MarkingScheme(correct=Decimal(0))
    with pytest.raises(ScoringError, match="the key does not have"):
        score({99: "A"}, KEY, SCHEME)


@given(st.dictionaries(st.integers(1, 6), st.sets(st.sampled_from("ABCD"), max_size=2)))
def test_the_total_is_the_sum_of_the_sections_and_of_the_questions(answers):
    result = score({q: tuple(sorted(v)) for q, v in answers.items()}, KEY, SCHEME)
    assert result.total == sum(result.sections.values()) == sum(result.per_question.values())
    assert result.correct + result.wrong + result.blank + result.multiple == len(KEY)
    assert Decimal(-6) <= result.total <= Decimal(24)


def _candidate(roll, total, maths=0, born=None, buckets=()):
    return Candidate(roll, Decimal(total), {"Maths": Decimal(maths)}, born, frozenset(buckets))


def test_ties_are_broken_by_the_section_then_the_older_candidate_then_the_roll():
    candidates = [
        _candidate("003", 50, maths=20, born=date(2000, 1, 1)),
        _candidate("001", 50, maths=25, born=date(2001, 1, 1)),
        _candidate("002", 50, maths=20, born=date(1999, 6, 1)),
        _candidate("004", 60),
        _candidate("005", 50, maths=20, born=date(1999, 6, 1)),
    ]
    ranked = rank(candidates, [TieBreak("section:Maths"), TieBreak("older")])
    assert [r.candidate.roll for r in ranked] == ["004", "001", "002", "005", "003"]
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5]
    shuffled = candidates[:]
    random.Random(3).shuffle(shuffled)
    assert rank(shuffled, [TieBreak("section:Maths"), TieBreak("older")]) == ranked  # the input order never matters


def test_quotas_fill_in_order_and_carry_unfilled_seats_forward():
    candidates = [
        _candidate("A1", 90, buckets={"merit", "punjab"}),
        _candidate("A2", 85, buckets={"merit", "sindh"}),
        _candidate("A3", 80, buckets={"merit", "punjab"}),
        _candidate("A4", 70, buckets={"merit", "punjab", "women"}),
        _candidate("A5", 60, buckets={"merit", "sindh"}),
        _candidate("A6", 50, buckets={"merit", "punjab"}),
    ]
    quotas = [
        Quota("merit", 1),
        Quota("women", 2, carry_to="punjab"),  # one woman only: the other seat goes to Punjab
        Quota("sindh", 1),
        Quota("punjab", 1),
    ]
    listed = merit_list(candidates, quotas=quotas)
    assert {r.candidate.roll: r.selected_in for r in listed} == {
        "A1": "merit", "A2": "sindh", "A3": "punjab", "A4": "women", "A5": "", "A6": "punjab",
    }  # fmt: skip
    with pytest.raises(ScoringError, match="not later"):
        merit_list(candidates, quotas=[Quota("punjab", 1), Quota("women", 1, carry_to="punjab")])
    with pytest.raises(ScoringError, match="twice"):
        rank([_candidate("X", 1), _candidate("X", 2)])
