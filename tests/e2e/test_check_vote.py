"""Check your vote in a real browser (Debian's Chromium), on a phone, in Urdu: a CNIC typed in Urdu digits finds
the polling station, block, serial and family number and nothing personal; a wrong CNIC is a field error that a
screen reader hears; the page never keeps the CNIC."""

from __future__ import annotations

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tests.evp.factories import CensusBlockFactory, DistrictFactory, ElectorFactory, StationRangeFactory
from tests.factories import ConstituencyFactory, PollingStationFactory, ProvinceFactory

PHONE = {"width": 360, "height": 740}


def _urdu(text: str) -> str:
    with translation.override("ur"):
        return translation.gettext(text)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_voter_finds_their_station_in_urdu_on_a_phone(page, live_server):
    punjab = ProvinceFactory(code="punjab")  # a transactional test cannot count on the migrations' rows
    district = DistrictFactory(province=punjab)
    station = PollingStationFactory(
        constituency=ConstituencyFactory(code="NA-60", province=punjab, district=district),
        number=17,
        name="Government Boys High School, Kot Rahim",
        name_ur="گورنمنٹ بوائز ہائی اسکول، کوٹ رحیم",
    )
    block = CensusBlockFactory(code="310000777", district=district)
    StationRangeFactory(block=block, roll="M", station=station)
    elector = ElectorFactory(cnic=3520212345673, block=block, serial=300, family_number=41)

    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/ur/evp/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    field = page.locator("#id_cnic")
    field.fill("۳۵۲۰۲-۱۲۳۴۵۶۷-۳")
    field.press("Enter")
    result = page.locator(".evp-result")
    expect(result).to_be_visible()
    expect(result).to_contain_text("310000777")
    expect(result).to_contain_text("NA-60")
    expect(result).to_contain_text("کوٹ رحیم")
    expect(result).to_contain_text("35202-•••••••-3")
    for private in (elector.name, elector.name_ur, elector.address, elector.relation_name, "1979"):
        expect(page.locator("body")).not_to_contain_text(private)
    assert field.input_value() == ""  # the next person at a shared screen does not see the CNIC
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    field.fill("35202-123456")
    field.press("Enter")
    alert = page.locator("#evp-errors[role=alert]")
    expect(alert).to_contain_text(
        _urdu("A CNIC has 13 digits, for example 12345-1234567-1; this has %(n)s.") % {"n": 11}
    )
    assert page.locator("#id_cnic").get_attribute("aria-invalid") == "true"
    expect(page.locator(".evp-result")).to_have_count(0)
