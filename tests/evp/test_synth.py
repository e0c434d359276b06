"""evp/synth.py, the synthetic roll: apportioning electors to blocks, and rows that look like a real roll
(unique valid CNICs, serials 1..n per list, families together, women on the female list). Pure."""

from __future__ import annotations

import csv
import datetime
import io
from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st

from core.cnic import normalize
from evp.roll import COLUMNS, RowChecker
from evp.synth import BlockShape, apportion, bad_rows, generate, write_csv

TODAY = datetime.date(2026, 3, 1)
SHAPES = [
    BlockShape("310000001", "35202", "Kot Rahim", "کوٹ رحیم", 1400.0),
    BlockShape("310000002", "35202", "Chak 12", "چک ۱۲", 700.0),
    BlockShape("310000003", "61101", "Bhara Kahu", "بھارہ کہو", 2100.0),
    BlockShape("310000004", "42301", "Goth Karim", "گوٹھ کریم", 1.0),
]
C = {name: i for i, name in enumerate(COLUMNS)}


@given(st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=1, max_size=40), st.integers(0, 10**7))
def test_apportion_sums_to_the_total_and_gives_each_its_share_within_one(weights, total):
    counts = apportion(weights, total)
    assert len(counts) == len(weights) and all(c >= 0 for c in counts)
    whole = sum(weights)
    if whole == 0:
        assert counts == [0] * len(weights)
        return
    assert sum(counts) == total
    for weight, count in zip(weights, counts, strict=True):
        assert abs(count - weight * total / whole) <= 1


@given(st.lists(st.integers(1, 5000), min_size=1, max_size=30), st.integers(0, 10**6))
def test_apportion_never_gives_a_heavier_block_fewer_electors(weights, total):
    counts = apportion(weights, total)
    for i, wi in enumerate(weights):
        for j, wj in enumerate(weights):
            if wi > wj:
                assert counts[i] >= counts[j]


def test_apportion_of_nothing_is_nothing():
    assert apportion([3.0, 1.0], 0) == [0, 0]
    assert apportion([], 10) == []


def test_generated_rows_have_unique_valid_cnics():
    rows = list(generate(SHAPES, 20_000, seed=11, today=TODAY))
    assert len(rows) == 20_000
    cnics = [r[C["cnic"]] for r in rows]
    assert len(set(cnics)) == len(cnics)
    assert all(normalize(c) == c for c in cnics)
    for row in rows:
        shape = next(s for s in SHAPES if s.code == row[C["census_block"]])
        assert row[C["cnic"]].startswith(shape.cnic_prefix)


def test_block_counts_follow_the_weights():
    rows = list(generate(SHAPES, 4_201, seed=2, today=TODAY))
    per_block = defaultdict(int)
    for row in rows:
        per_block[row[C["census_block"]]] += 1
    assert [per_block[s.code] for s in SHAPES] == apportion([s.weight for s in SHAPES], 4_201)


def test_serials_run_from_1_without_a_gap_on_each_list_and_women_are_on_the_female_list():
    serials = defaultdict(list)
    for row in generate(SHAPES, 5_000, seed=3, today=TODAY):
        roll = "F" if row[C["gender"]] == "F" else "M"
        serials[(row[C["census_block"]], roll)].append(int(row[C["serial"]]))
    assert {roll for _block, roll in serials} == {"M", "F"}
    for numbers in serials.values():
        assert numbers == list(range(1, len(numbers) + 1))


def test_a_family_shares_its_number_and_address_within_a_block_and_numbers_run_from_1():
    families = defaultdict(set)
    for row in generate(SHAPES, 5_000, seed=4, today=TODAY):
        families[(row[C["census_block"]], int(row[C["family_number"]]))].add((row[C["address"]], row[C["address_ur"]]))
    assert all(len(addresses) == 1 for addresses in families.values())
    for shape in SHAPES[:3]:
        numbers = sorted(n for block, n in families if block == shape.code)
        assert numbers == list(range(1, len(numbers) + 1))
    sizes = defaultdict(int)
    for block, _n in families:
        sizes[block] += 1
    assert sum(sizes.values()) < 5_000  # families, not one elector each


def test_every_generated_row_passes_the_importers_row_check():
    checker = RowChecker({s.code: i for i, s in enumerate(SHAPES, 1)}, TODAY)
    for line, row in enumerate(generate(SHAPES, 3_000, seed=5, today=TODAY), 2):
        assert isinstance(checker.check(line, row), tuple), (line, checker.check(line, row))


def test_the_same_seed_gives_the_same_roll_and_another_seed_another():
    first = list(generate(SHAPES, 1_000, seed=7, today=TODAY))
    assert list(generate(SHAPES, 1_000, seed=7, today=TODAY)) == first
    other = list(generate(SHAPES, 1_000, seed=8, today=TODAY))
    assert other != first
    assert {r[0] for r in other} != {r[0] for r in first}


def test_bad_rows_are_each_refused_by_the_row_check_or_repeat_the_example_cnic():
    example = next(generate(SHAPES, 1, seed=1, today=TODAY))
    checker = RowChecker({s.code: i for i, s in enumerate(SHAPES, 1)}, datetime.date.today())
    bad = list(bad_rows(example, 8, seed=1))
    codes = []
    for row in bad:
        checked = checker.check(2, row)
        codes.append(checked[0].code if isinstance(checked, list) else ("same cnic" if row[0] == example[0] else "?"))
    assert codes == ["invalid_cnic", "unknown_block", "same cnic", "under_age"] * 2


def test_write_csv_writes_the_header_and_counts_rows():
    out = io.StringIO()
    assert write_csv(generate(SHAPES, 25, seed=1, today=TODAY), out) == 25
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0] == list(COLUMNS) and len(lines) == 26 and all(len(line) == len(COLUMNS) for line in lines)
