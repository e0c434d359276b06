"""Double entry of Form-45s in a real browser (Debian's Chromium), as on election night.

Two operators, each in their own browser, key the same constituency at the same time:
A keys stations 1 and 2, B keys stations 2 and 1, interleaved. Station 1 is keyed alike
and is accepted; station 2 differs and goes to the supervisor. The RO's dashboard, opened
before any form is accepted, shows station 1's figures without a reload; the RO then
settles station 2 on the supervisor screen. Operator A keys station 1 with the keyboard
only (type, Enter, Tab). Screenshots go to /tmp/shots/rms_*.png.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from results.models import Form45, Form45Entry
from tests.results.factories import make_contest, make_election

SHOTS = Path("/tmp/shots")
DESKTOP = {"width": 1366, "height": 768}
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's

NAMES = [
    ("Bilal Hassan Shah", "بلال حسن شاہ", "Awami Insaf Mahaz", "عوامی انصاف محاذ"),
    ("Nabeel Akram", "نبیل اکرم", "Qaumi Taraqqi Party", "قومی ترقی پارٹی"),
    ("Rubina Aslam", "روبینہ اسلم", "Jamhoori Ittehad", "جمہوری اتحاد"),
    ("Qari Saeed Anwar", "قاری سعید انور", "Khidmat-e-Khalq Party", "خدمت خلق پارٹی"),
    ("Waqas Latif", "وقاص لطیف", "", ""),
    ("Mir Jawad Baloch", "میر جواد بلوچ", "Sooba Dost Mahaz", "صوبہ دوست محاذ"),
    ("Mehwish Tariq", "مہوش طارق", "", ""),
    ("Maulana Idrees Qasmi", "مولانا ادریس قاسمی", "Islahi Ittehad (A)", "اصلاحی اتحاد (الف)"),
    ("Sohail Ahmed Warsi", "سہیل احمد وارثی", "Shehri Haqooq Tehreek", "شہری حقوق تحریک"),
    ("Chaudhry Irfan Bajwa", "چوہدری عرفان باجوہ", "Kisan Mazdoor Party (Q)", "کسان مزدور پارٹی (ق)"),
    ("Yasir Khattak", "یاسر خٹک", "Pakhtun Taraqqi Party", "پختون ترقی پارٹی"),
    ("Saima Rauf", "صائمہ رؤف", "", ""),
]
# Station 1: keyed alike by both operators. Station 2: B's candidates 2 and 3 differ from A's (same sum).
PS1 = {"male": 560, "female": 440, "excluded": 20, "votes": [312, 251, 198, 87, 45, 33, 21, 12, 9, 6, 4, 2]}
PS2_A = {"male": 500, "female": 360, "excluded": 13, "votes": [280, 240, 150, 60, 40, 30, 20, 10, 8, 5, 3, 1]}
PS2_B = {**PS2_A, "votes": [280, 204, 186, 60, 40, 30, 20, 10, 8, 5, 3, 1]}


@pytest.fixture
def contest(settings):
    settings.OTP_DEMO_SKIP = True
    # Election night: the poll closed at 17:00 (Asia/Karachi) before now; provisional results due at 02:00.
    poll_date = (timezone.localtime() - datetime.timedelta(hours=17)).date()
    election = make_election("ge-e2e", poll_date=poll_date)
    setup = make_contest("NA-44", stations=4, candidates=12, election=election)
    constituency = setup.contest.constituency
    constituency.name_ur = "اسلام آباد ۔ ١"
    constituency.name = "Islamabad-I"
    constituency.save()
    for candidate, (name, name_ur, party, party_ur) in zip(setup.candidates, NAMES, strict=True):
        candidate.name, candidate.name_ur, candidate.party, candidate.party_ur = name, name_ur, party, party_ur
        candidate.save()
    for user, (first, last) in zip(
        (setup.deo1, setup.deo2, setup.ro), (("Asma", "Bibi"), ("Bilal", "Ahmed"), ("Rashid", "Mehmood")), strict=True
    ):
        user.first_name, user.last_name, user.is_demo_account = first, last, True
        user.save()
    return setup


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


@pytest.fixture
def contexts(browser):
    opened = []

    def new_context():
        context = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
        opened.append(context)
        return context

    yield new_context
    for context in opened:
        context.close()


def _signed_in_page(new_context, live_server, user):
    context = new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/staff/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form.signin__box button[type=submit]").click()
    page.wait_for_url(re.compile(r"/staff/$"))
    return page


def _shot(page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"rms_{name}.png"), full_page=full_page)


def _key_with_the_keyboard(page, station: int, figures: dict) -> None:
    """Only keys: the station number and Enter, then each box and Tab, in the paper form's order."""
    page.locator("input[name=station]").focus()
    keyboard = page.keyboard
    keyboard.type(str(station))
    keyboard.press("Enter")  # moves on to "male"
    expect(page.locator("input[name=polled_male]")).to_be_focused()
    for value in (figures["male"], figures["female"], figures["male"] + figures["female"], figures["excluded"]):
        keyboard.type(str(value))
        keyboard.press("Tab")
    for value in figures["votes"]:
        keyboard.type(str(value))
        keyboard.press("Tab")
    expect(page.locator("input[name=counted_time]")).to_be_focused()
    keyboard.type("2130")
    keyboard.press("Tab")  # the date of the count: today
    keyboard.press("Tab")
    expect(page.locator("button[data-save]")).to_be_focused()


def _key_with_fill(page, station: int, figures: dict) -> None:
    page.fill("input[name=station]", str(station))
    page.fill("input[name=polled_male]", str(figures["male"]))
    page.fill("input[name=polled_female]", str(figures["female"]))
    page.fill("input[name=polled_total]", str(figures["male"] + figures["female"]))
    page.fill("input[name=excluded]", str(figures["excluded"]))
    for n, value in enumerate(figures["votes"], start=1):
        page.fill(f"input[name=votes_{n}]", str(value))


def _outcome(page):
    return page.locator(".rms-messages .rms-outcome")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_two_operators_key_a_constituency_and_the_ro_settles_the_mismatch(contexts, live_server, contest):
    entry_url = f"{live_server.url}/results/contests/{contest.contest.pk}/entry/"
    dashboard_url = f"{live_server.url}/results/contests/{contest.contest.pk}/"
    a = _signed_in_page(contexts, live_server, contest.deo1)
    b = _signed_in_page(contexts, live_server, contest.deo2)
    ro = _signed_in_page(contexts, live_server, contest.ro)
    watched = {"a": _watch_errors(a), "b": _watch_errors(b), "ro": _watch_errors(ro)}

    # The RO's contests, then the dashboard, opened before anything is accepted and left open.
    ro.goto(f"{live_server.url}/results/")
    expect(ro.locator(f"tr[data-contest='{contest.contest.pk}']")).to_contain_text("0 / 4")
    _shot(ro, "index_en")
    ro.goto(dashboard_url)
    expect(ro.locator("[data-field='stations_reported']").first).to_have_text("0")
    ro.evaluate("window.__sameDocument = true")

    # A keys station 1 with the keyboard only; the screen fits 1366×768 without scrolling.
    a.goto(entry_url)
    expect(a.locator("input[name=station]")).to_be_focused()
    _key_with_the_keyboard(a, 1, PS1)
    expect(a.locator("[data-check]")).to_have_class(re.compile(r"rms-check--ok"))
    expect(a.locator("[data-out='turnout']")).to_have_text("52.6 %")  # 1,000 of 1,900 registered
    assert a.evaluate("window.scrollY") == 0
    save_box = a.locator("button[data-save]").bounding_box()
    last_box = a.locator("input[name=votes_12]").bounding_box()
    assert save_box["y"] + save_box["height"] <= DESKTOP["height"], "Save is below the fold at 1366×768"
    assert last_box["y"] + last_box["height"] <= DESKTOP["height"], "the 12th candidate is below the fold"
    _shot(a, "entry_en")
    a.keyboard.press("Enter")
    expect(_outcome(a)).to_contain_text("PS-1 · Saved: waiting for the second entry.")
    expect(a.locator("input[name=station]")).to_be_focused()  # ready for the next form
    expect(a.locator("input[name=polled_male]")).to_have_value("")

    # B keys station 2 first (A will be offered it, marked as waiting for a second entry).
    b.goto(entry_url)
    _key_with_fill(b, 2, PS2_B)
    b.locator("button[data-save]").click()
    expect(_outcome(b)).to_contain_text("PS-2 · Saved: waiting for the second entry.")

    # A keys station 2 with different figures: mismatch, and A never sees B's figures.
    a.goto(entry_url)  # the station list is as of the page's loading
    a.fill("input[name=station]", "2")
    expect(a.locator("[data-station-info]")).to_contain_text("second entry")
    _key_with_fill(a, 2, PS2_A)
    expect(a.locator("[data-check]")).to_have_class(re.compile(r"rms-check--ok"))
    a.locator("button[data-save]").click()
    expect(_outcome(a)).to_contain_text("The two entries differ: sent to the supervisor.")
    assert "204" not in a.locator(".rms-messages").inner_text()

    # B keys station 1 as A did: accepted.
    _key_with_fill(b, 1, PS1)
    # A slip first: the sums are checked live and the server refuses the form, keeping the figures.
    b.fill("input[name=votes_3]", "189")
    expect(b.locator("[data-check]")).to_have_class(re.compile(r"rms-check--bad"))
    expect(b.locator("[data-verdict]")).to_contain_text("Off by 9")
    b.locator("button[data-save]").click()
    expect(b.locator("input[name=votes_3]")).to_have_value("189")
    expect(b.locator(".rms-check")).to_contain_text(
        "Candidates' votes (971) + excluded ballots (20) differ from the total polled (1,000) by 9"
    )
    assert Form45Entry.objects.filter(contest_station=contest.stations[0]).count() == 1
    b.fill("input[name=votes_3]", "198")
    b.locator("button[data-save]").click()
    expect(_outcome(b)).to_contain_text("PS-1 · Accepted: both entries match.")
    expect(b.locator(".rms-recent tbody tr").first).to_contain_text("Matched and accepted")

    # The dashboard shows station 1 without a reload.
    expect(ro.locator("[data-field='stations_reported']").first).to_have_text("1", timeout=15_000)
    first_row = ro.locator("[data-list='standings'] tr").first
    expect(first_row).to_contain_text("Bilal Hassan Shah")
    expect(first_row).to_contain_text("312")
    expect(ro.locator("[data-field='polled_total']")).to_have_text("1,000")
    expect(ro.locator("[data-field='mismatches']")).to_have_text("1")
    expect(ro.locator("[data-list='awaited']")).not_to_contain_text("PS-1 ")
    assert ro.evaluate("window.__sameDocument") is True
    _shot(ro, "dashboard_en", full_page=True)

    # The RO settles station 2 on the supervisor screen.
    ro.locator(".rms-tabs a", has_text="Mismatches").click()
    row = ro.locator("tr[data-station='2']")
    expect(row).to_contain_text("Asma Bibi")
    _shot(ro, "mismatches_en")
    row.locator("a", has_text="Compare and decide").click()
    expect(ro.locator("td.rms-diff")).to_have_count(4)  # candidates 2 and 3, in both entries
    _shot(ro, "supervisor_en", full_page=True)
    expect(ro.locator(".rms-compare thead")).to_contain_text("Bilal Ahmed")  # B keyed station 2 first
    ro.locator("input[name=choice][value=first]").check()
    ro.locator("textarea[name=note]").fill("Checked against the signed Form-45: the first entry is right.")
    ro.locator("button[data-save]").click()
    expect(ro.locator(".rms-messages")).to_contain_text("PS-2 decided")
    expect(ro.locator("tr[data-station='2']")).to_have_count(0)
    form = Form45.objects.get(contest_station=contest.stations[1])
    assert form.decided_by == contest.ro
    assert dict(form.votes.values_list("candidate__ballot_order", "votes"))[2] == 204

    ro.goto(dashboard_url)
    expect(ro.locator("[data-field='stations_reported']").first).to_have_text("2")

    # The same entry screen in Urdu, right to left.
    a.goto(f"{live_server.url}/ur/results/contests/{contest.contest.pk}/entry/")
    assert a.evaluate("document.documentElement.dir") == "rtl"
    _key_with_fill(a, 3, {"male": 0, "female": 300, "excluded": 4, "votes": [100, 90, 50, 20, 10, 8, 6, 5, 4, 2, 1, 0]})
    expect(a.locator("[data-check]")).to_have_class(re.compile(r"rms-check--ok"))
    a.evaluate("window.scrollTo(0, 0)")
    _shot(a, "entry_ur")
    a.goto(f"{live_server.url}/ur/results/contests/{contest.contest.pk}/")
    expect(a.locator("[data-field='stations_reported']").first).to_have_text("2")
    _shot(a, "dashboard_ur", full_page=True)

    for who, found in watched.items():
        assert found == [], f"{who}: {found}"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_entry_screen_works_without_javascript(browser, live_server, contest):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/staff/login/")
        page.fill("input[name=username]", contest.deo1.username)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form.signin__box button[type=submit]").click()
        page.goto(f"{live_server.url}/results/contests/{contest.contest.pk}/entry/")
        _key_with_fill(page, 1, {**PS1, "excluded": 25})  # candidates + excluded = 1,005, not 1,000
        page.locator("button[data-save]").click()
        expect(page.locator(".rms-check__verdict")).to_contain_text("differ from the total polled (1,000)")
        expect(page.locator("input[name=excluded]")).to_have_value("25")
        assert not Form45Entry.objects.exists()
        page.fill("input[name=excluded]", "20")
        page.locator("button[data-save]").click()
        expect(_outcome(page)).to_contain_text("PS-1 · Saved: waiting for the second entry.")
        assert Form45Entry.objects.get().operator == contest.deo1
    finally:
        context.close()
