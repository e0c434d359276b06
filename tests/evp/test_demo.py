"""evp's demo seeder: a roll imported through the real importer, run twice without change, and the CNICs it
prints to try are on the roll (the Lahore man with both of his seats)."""

from __future__ import annotations

import re

import pytest

from core.demo_country import seed_country
from evp.demo import seed_roll
from evp.models import AbuseBlock, Elector, ElectorChange, LookupCount, RollImport
from evp.selectors import elector_voting_details

pytestmark = pytest.mark.django_db


def test_the_demo_roll_is_seeded_once_and_its_example_cnics_are_found():
    lines: list[str] = []
    seed_country(lines.append)
    seed_roll(lines.append)
    count = Elector.objects.count()
    assert count == 3_000
    assert RollImport.objects.get().status == "done"
    assert AbuseBlock.objects.count() == 1 and LookupCount.objects.exists()
    assert set(Elector.objects.values_list("status", flat=True)) == {"active", "deleted", "shifted", "deceased"}
    first = lines[-1]

    again: list[str] = []
    seed_roll(again.append)
    assert Elector.objects.count() == count
    assert RollImport.objects.count() == 1 and AbuseBlock.objects.count() == 1
    assert not ElectorChange.objects.exists()
    assert again[-1] == first

    cnics = re.findall(r"\b(\d{5}-\d{7}-\d)\b", first)
    assert len(cnics) == 4 and cnics[-1] == "12345-1234567-1"  # three from the roll, one that is not on it
    man, woman, deleted, nobody = (elector_voting_details(c.replace("-", "")) for c in cnics)
    assert man.status == "active" and man.roll == "M" and man.constituencies == ("NA-120", "PP-150")
    assert man.station_number is not None
    assert woman.status == "active" and woman.roll == "F" and woman.station_number is not None
    assert deleted.status == "deleted"
    assert nobody is None
