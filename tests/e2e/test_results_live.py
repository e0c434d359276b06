"""A citizen watches a constituency's live results in a real browser (Debian's Chromium).

The page is open; a Form-45 is accepted in the background (two operators' matching entries through
the real services); the page shows the new figures without a reload. Then the same in Urdu on a
phone-sized screen. Screenshots go to /tmp/shots/live_*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.results.factories import make_contest
from tests.results.test_entry_services import figures, submit

SHOTS = Path("/tmp/shots")


def _accept(setup, station, votes):
    female = sum(votes) + 10 if station.station_type == "female" else None
    figs = figures(votes, 10, female)
    submit(setup.deo1, station, figs)
    submit(setup.deo2, station, figs)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_constituency_page_shows_a_newly_accepted_form_without_a_reload(browser, live_server, settings):
    settings.RESULTS_LIVE_POLL_MS = 300
    settings.RESULTS_LIVE_REBUILD_SECONDS = 0
    setup = make_contest("NA-52", stations=4)
    _accept(setup, setup.stations[0], (500, 300, 150))
    url = f"{live_server.url}/results/live/{setup.contest.election.code}/NA-52/"
    SHOTS.mkdir(exist_ok=True)

    desktop = browser.new_context(viewport={"width": 1366, "height": 768})
    mobile = browser.new_context(viewport={"width": 360, "height": 740}, locale="ur-PK")
    try:
        _watch(desktop.new_page(), mobile.new_page(), setup, url, live_server)
    finally:  # stop the pages' polling before the test database goes away
        desktop.close()
        mobile.close()


def _watch(page, phone, setup, url, live_server):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    summary = page.locator("[data-live-region='summary']")
    expect(summary).to_contain_text("1 / 4")
    expect(page.locator(".live-standings tbody tr").first).to_contain_text("500")
    page.evaluate("window.__sameDocument = true")

    _accept(setup, setup.stations[1], (40, 700, 20))  # candidate 2 takes the lead: 1,000 to 540

    expect(summary).to_contain_text("2 / 4", timeout=10_000)
    leader = page.locator(".live-standings tbody tr").first
    expect(leader).to_contain_text("Candidate 2")
    expect(leader).to_contain_text("1,000")
    expect(page.locator("[data-live-status]")).to_contain_text("Updated at")
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    page.screenshot(path=str(SHOTS / "live_contest_en.png"), full_page=True)

    phone.goto(f"{live_server.url}/ur/results/live/{setup.contest.election.code}/NA-52/")
    expect(phone.locator("html")).to_have_attribute("dir", "rtl")
    expect(phone.locator("[data-live-region='summary']")).to_contain_text("2 / 4")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page is wider than a phone"
    phone.screenshot(path=str(SHOTS / "live_contest_ur_phone.png"), full_page=True)
    assert errors == []
