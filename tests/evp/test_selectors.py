"""evp/selectors.py: the 8300 read in one query, the station range holding the serial, the two houses'
constituencies through the station's counterpart, and nothing personal in what comes back."""

from __future__ import annotations

import dataclasses

import pytest

from evp.selectors import VotingDetails, elector_voting_details
from tests.evp.conftest import MAN, NOBODY, WOMAN
from tests.evp.factories import ElectorFactory

pytestmark = pytest.mark.django_db


def test_the_lookup_is_one_query_and_gives_the_8300_fields(world, man, django_assert_num_queries):
    with django_assert_num_queries(1):
        details = elector_voting_details(MAN)
    assert details == VotingDetails(
        status="active",
        block_code="310000001",
        roll="M",
        serial=300,
        family_number=41,
        area=world.block.electoral_area,
        area_ur=world.block.electoral_area_ur,
        tehsil="Kot Rahim",
        tehsil_ur="کوٹ رحیم",
        district="Sabzpur",
        district_ur="سبزپور",
        station_number=1,
        station_name=world.n1.name,
        station_name_ur=world.n1.name_ur,
        constituencies=("NA-60", "PP-90"),
    )


def test_an_integer_cnic_is_looked_up_too(world, man, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert elector_voting_details(int(MAN)).serial == 300


def test_an_unknown_cnic_is_none_in_one_query(world, man, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert elector_voting_details(NOBODY) is None


@pytest.mark.parametrize(
    ("serial", "station"),
    [(1, "n1"), (299, "n1"), (300, "n1"), (301, "n3"), (302, "n3"), (9_999_999, "n3")],
)
def test_the_range_holding_the_serial_gives_the_station_bounds_included_and_the_last_range_open(world, serial, station):
    ElectorFactory(cnic=4_210_100_000_001, block=world.block, serial=serial)
    details = elector_voting_details(4_210_100_000_001)
    expected = getattr(world, station)
    assert (details.station_number, details.station_name) == (expected.number, expected.name)


def test_the_female_list_has_ranges_of_its_own(world, woman):
    details = elector_voting_details(WOMAN)
    assert (details.roll, details.serial, details.station_number, details.station_name) == ("F", 12, 2, world.n2.name)


def test_both_houses_through_the_counterpart_in_either_direction_na_first(world, man, woman):
    # P1 names N1 as its counterpart; N2 names P2.
    assert elector_voting_details(MAN).constituencies == ("NA-60", "PP-90")
    assert elector_voting_details(WOMAN).constituencies == ("NA-60", "PP-90")
    # The block's list votes at the PA station: the NA seat still comes first.
    ElectorFactory(cnic=4_210_100_000_002, block=world.pa_block, serial=5)
    pa_side = elector_voting_details(4_210_100_000_002)
    assert (pa_side.station_name, pa_side.constituencies) == (world.p1.name, ("NA-60", "PP-90"))


def test_a_station_without_counterpart_gives_its_own_constituency_only(world):
    ElectorFactory(cnic=4_210_100_000_003, block=world.block, serial=450)
    assert elector_voting_details(4_210_100_000_003).constituencies == ("NA-60",)


def test_a_block_without_station_range_gives_no_station_and_no_constituency(world):
    ElectorFactory(cnic=4_210_100_000_004, block=world.bare_block, serial=3)
    details = elector_voting_details(4_210_100_000_004)
    assert (details.station_number, details.station_name, details.constituencies) == (None, "", ())
    assert details.block_code == "310000003"


def test_missing_urdu_names_and_tehsil_fall_back(world):
    block = world.pa_block  # no tehsil
    block.electoral_area_ur = ""
    block.save()
    world.p1.name_ur = ""
    world.p1.save()
    ElectorFactory(cnic=4_210_100_000_005, block=block, serial=1)
    details = elector_voting_details(4_210_100_000_005)
    assert (details.tehsil, details.tehsil_ur) == ("", "")
    assert details.area_ur == block.electoral_area
    assert details.station_name_ur == world.p1.name


@pytest.mark.parametrize("status", ["active", "shifted", "deceased", "deleted"])
def test_the_status_comes_back_whatever_it_is(world, status):
    ElectorFactory(cnic=4_210_100_000_006, block=world.block, serial=7, status=status)
    assert elector_voting_details(4_210_100_000_006).status == status


def test_no_name_address_or_date_of_birth_is_returned(world, man):
    fields = {f.name for f in dataclasses.fields(VotingDetails)}
    assert not fields & {"name", "name_ur", "relation_name", "address", "address_ur", "date_of_birth", "cnic"}
    values = " ".join(str(v) for v in dataclasses.astuple(elector_voting_details(MAN)))
    for personal in (man.name, man.name_ur, man.relation_name, man.address, man.address_ur, "1979", MAN):
        assert personal not in values
