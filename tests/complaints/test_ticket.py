"""Ticket numbers: unique per year, not guessable, read back from any typed shape, typing mistakes caught."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaints.ticket import ALPHABET, PER_YEAR, InvalidTicket, normalize, sequence_of, ticket_number

KEY = b"test-key"
sequences = st.integers(min_value=0, max_value=PER_YEAR - 1)
years = st.integers(min_value=2000, max_value=2099)


@given(years, sequences)
def test_a_number_reads_back_to_its_year_and_sequence(year, sequence):
    number = ticket_number(year, sequence, KEY)
    assert len(number) == len("CMS-2026-4F7K9Q") and number.startswith(f"CMS-{year}-")
    assert sequence_of(number, KEY) == (year, sequence)


def test_numbers_are_unique_and_neighbours_look_unrelated():
    numbers = [ticket_number(2026, n, KEY) for n in range(5_000)]
    assert len(set(numbers)) == len(numbers)
    # consecutive tickets share no long common prefix in their code: nothing to count up from
    shared = sum(a[9:12] == b[9:12] for a, b in zip(numbers, numbers[1:], strict=False))
    assert shared < 5


def test_another_key_or_year_gives_other_numbers():
    assert ticket_number(2026, 7, KEY) != ticket_number(2026, 7, b"other-key")
    assert ticket_number(2026, 7, KEY)[9:] != ticket_number(2027, 7, KEY)[9:]


@given(years, sequences, st.data())
def test_every_single_mistyped_character_is_caught(year, sequence, data):
    number = ticket_number(year, sequence, KEY)
    position = data.draw(st.integers(min_value=9, max_value=14))
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != number[position]]))
    with pytest.raises(InvalidTicket) as refused:
        normalize(number[:position] + wrong + number[position + 1 :])
    assert refused.value.reason == "check"


@given(years, sequences)
def test_typed_shapes_are_read_as_people_type_them(year, sequence):
    number = ticket_number(year, sequence, KEY)
    code = number[9:]
    typed = f"  cms {year} {code.lower().replace('0', 'o').replace('1', 'l')} "
    assert normalize(typed) == number
    assert normalize(number.replace("-", "")) == number


@pytest.mark.parametrize(
    "text", ["", "CMS-2026", "CMS-26-4F7K9Q", "ABC-2026-4F7K9Q", "CMS-2026-4F7K9", "CMS-2026-4U7K9Q"]
)
def test_other_text_is_refused_as_not_a_ticket(text):
    with pytest.raises(InvalidTicket) as refused:
        normalize(text)
    assert refused.value.reason == "shape"


@pytest.mark.parametrize(("year", "sequence"), [(999, 0), (2026, -1), (2026, PER_YEAR)])
def test_out_of_range_inputs_are_refused(year, sequence):
    with pytest.raises(ValueError, match="year"):
        ticket_number(year, sequence, KEY)
