"""The RMS staff screens: Form-45 entry, the supervisor's mismatch screens, the dashboard and its JSON,
and the scoping of every page (404 out of scope, 403 for a DEO on the supervisor screens)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from results import selectors
from results.models import Candidate, Flag, Form45, Form45Entry, Form45Vote
from tests.factories import UserFactory
from tests.results.factories import make_contest
from tests.staff import signed_in

pytestmark = pytest.mark.django_db

URDU = {1: "علی احمد", 2: "فاطمہ بی بی", 3: "محمد خان"}


@pytest.fixture(autouse=True)
def _demo_skip(settings):
    settings.OTP_DEMO_SKIP = True


@pytest.fixture
def na44():
    setup = make_contest("NA-44")
    for c in setup.candidates:
        c.name_ur = URDU[c.ballot_order]
        c.save(update_fields=["name_ur"])
    return setup


@pytest.fixture
def na45():
    return make_contest("NA-45")


def url(name: str, setup, **extra) -> str:
    return reverse(f"results:{name}", kwargs={"contest_id": setup.contest.pk, **extra})


def form_data(station, votes=(500, 300, 150), excluded=10, female=None, key=None, **override) -> dict[str, str]:
    total = sum(votes) + excluded
    female = total // 2 if female is None else female
    data = {
        "station": str(station.number),
        "idempotency_key": key or uuid.uuid4().hex,
        "polled_male": str(total - female),
        "polled_female": str(female),
        "polled_total": str(total),
        "excluded": str(excluded),
        "counted_time": "",
        "counted_day": "0",
        **{f"votes_{n}": str(v) for n, v in enumerate(votes, start=1)},
    }
    data.update({k: str(v) for k, v in override.items()})
    return data


def snapshot():
    return (
        Form45Entry.objects.count(),
        Form45.objects.count(),
        Form45Vote.objects.count(),
        Flag.objects.count(),
        AuditEvent.objects.count(),
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- index ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_public_results(client, na44):
    response = client.get(reverse("results:index"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("results:live_election", args=[na44.contest.election.code])
    assert response.status_code == 200


def test_before_any_election_anonymous_visitors_get_a_page_with_the_staff_sign_in(client):
    body = client.get(reverse("results:index"), follow=True).content.decode()
    assert "Result Management System" in body
    assert reverse("core:staff_login") in body


def test_staff_see_only_their_contests_with_progress(na44, na45):
    client = signed_in(na44.ro)
    body = client.get(reverse("results:index")).content.decode()
    assert "NA-44" in body and "NA-45" not in body
    assert url("entry", na44) in body and url("dashboard", na44) in body
    assert url("mismatches", na44) in body  # the RO supervises
    row = re.search(rf'<tr data-contest="{na44.contest.pk}">.*?</tr>', body, re.S).group(0)
    assert "0 / 4" in row

    deo_body = signed_in(na44.deo1).get(reverse("results:index")).content.decode()
    assert url("entry", na44) in deo_body and url("mismatches", na44) not in deo_body


def test_staff_without_a_results_role_see_an_empty_state(na44):
    body = signed_in(UserFactory()).get(reverse("results:index")).content.decode()
    assert "You have no constituency to work on." in body


# --- entry ------------------------------------------------------------------------------


def test_entry_page_lists_candidates_in_ballot_order_with_urdu_names(na44):
    # Ballot order is not creation order: swap 1 and 3.
    first, _, third = na44.candidates
    Candidate.objects.filter(pk=first.pk).update(ballot_order=99)
    Candidate.objects.filter(pk=third.pk).update(ballot_order=1)
    Candidate.objects.filter(pk=first.pk).update(ballot_order=3)
    response = signed_in(na44.deo1).get(url("entry", na44))
    assert response.status_code == 200
    body = response.content.decode()
    positions = [body.index(name) for name in ("Candidate 3", "Candidate 2", "Candidate 1")]
    assert positions == sorted(positions)
    for urdu in URDU.values():
        assert urdu in body
    inputs = re.findall(r'name="(votes_\d+)"', body)
    assert inputs == ["votes_1", "votes_2", "votes_3"]
    # Keyboard order = the paper form: station, polled male/female/total, excluded, then the candidates.
    order = re.findall(r'name="(station|polled_male|polled_female|polled_total|excluded|votes_1)"', body)
    assert order == ["station", "polled_male", "polled_female", "polled_total", "excluded", "votes_1"]
    assert 'inputmode="numeric"' in body
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', body)
    assert re.search(r'name="station"[^>]*autofocus', body)


def test_a_valid_form_creates_an_entry_and_a_resubmit_creates_nothing_more(na44):
    client = signed_in(na44.deo1)
    data = form_data(na44.stations[0], counted_time="2130")
    response = client.post(url("entry", na44), data, follow=True)
    assert response.redirect_chain == [(url("entry", na44), 302)]
    assert any("Saved: waiting for the second entry" in m for m in messages_of(response))
    entry = Form45Entry.objects.get()
    assert entry.operator == na44.deo1 and entry.status == Form45Entry.Status.WAITING
    assert entry.votes == {"1": 500, "2": 300, "3": 150}
    assert (entry.counted_at.day, entry.counted_at.hour, entry.counted_at.minute) == (8, 16, 30)  # 21:30 PKT
    before = snapshot()

    again = client.post(url("entry", na44), data, follow=True)  # a double click: the same idempotency key
    assert again.status_code == 200
    assert snapshot() == before
    assert any("Already received" in m for m in messages_of(again))
    # The fresh form after a save has a new key and the station field focused.
    assert data["idempotency_key"] not in again.content.decode()


def test_two_matching_entries_are_accepted(na44):
    station = na44.stations[0]
    signed_in(na44.deo1).post(url("entry", na44), form_data(station))
    response = signed_in(na44.deo2).post(url("entry", na44), form_data(station), follow=True)
    assert any("Accepted: both entries match" in m for m in messages_of(response))
    form = Form45.objects.get(contest_station=station)
    assert sorted(form.votes.values_list("candidate__ballot_order", "votes")) == [(1, 500), (2, 300), (3, 150)]


def test_the_station_list_offers_only_stations_this_operator_may_key(na44):
    s1, s2, s3, _ = na44.stations
    signed_in(na44.deo1).post(url("entry", na44), form_data(s1))  # s1: waiting for a second entry
    signed_in(na44.deo1).post(url("entry", na44), form_data(s2))
    signed_in(na44.deo2).post(url("entry", na44), form_data(s2))  # s2: accepted
    datalist = lambda body: re.search(r'<datalist id="rms-stations">(.*?)</datalist>', body, re.S).group(1)  # noqa: E731

    deo2 = datalist(signed_in(na44.deo2).get(url("entry", na44)).content.decode())
    assert re.findall(r'value="(\d+)"', deo2) == ["1", "3", "4"]
    assert re.search(r'value="1">[^<]*waiting for a second entry', deo2)
    deo1 = datalist(signed_in(na44.deo1).get(url("entry", na44)).content.decode())
    assert re.findall(r'value="(\d+)"', deo1) == ["3", "4"]


def test_a_form_breaking_a_rule_is_shown_again_with_the_errors_and_the_typed_figures(na44):
    client = signed_in(na44.deo1)
    before = snapshot()
    # Candidates add up to 950 + 10 excluded = 960, but the operator typed a total of 970 (and male + female = 960).
    data = form_data(na44.stations[0], polled_total=970)
    response = client.post(url("entry", na44), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert snapshot() == before
    form = response.context["form"]
    assert "polled_total" in form.errors  # male + female differ from the total
    assert "Male (480) + female (480) votes polled differ from the total polled (970)" in body
    assert form.votes_errors  # candidates + excluded differ from the total
    assert 'value="970"' in body and 'value="500"' in body and f'value="{data["idempotency_key"]}"' in body
    assert re.search(r'name="polled_total"[^>]*aria-invalid="true"', body)


def test_malformed_figures_are_refused_beside_their_box_and_nothing_is_written(na44):
    before = snapshot()
    data = {**form_data(na44.stations[0]), "votes_2": "3OO", "excluded": ""}
    response = signed_in(na44.deo1).post(url("entry", na44), data)
    form = response.context["form"]
    assert set(form.errors) == {"votes_2", "excluded"}
    assert form.errors["votes_2"] == ["Digits only, with no commas or spaces."]
    assert snapshot() == before
    assert re.search(r'name="votes_2"[^>]*autofocus|name="excluded"[^>]*autofocus', response.content.decode())


def test_urdu_digits_are_read_as_figures(na44):
    data = form_data(na44.stations[0])
    data["votes_1"] = "۵۰۰"
    signed_in(na44.deo1).post(url("entry", na44), data)
    assert Form45Entry.objects.get().votes["1"] == 500


def test_a_station_outside_the_contest_or_already_keyed_is_refused_at_the_station_box(na44):
    client = signed_in(na44.deo1)
    response = client.post(url("entry", na44), {**form_data(na44.stations[0]), "station": "77"})
    assert "There is no polling station 77 in NA-44." in response.context["form"].errors["station"]
    client.post(url("entry", na44), form_data(na44.stations[0]))
    before = snapshot()
    response = client.post(url("entry", na44), form_data(na44.stations[0]))
    assert response.context["form"].errors["station"] == [
        "You have already keyed this Form-45; a second operator must key it."
    ]
    assert snapshot() == before


def test_a_count_before_the_close_of_poll_is_refused(na44):
    response = signed_in(na44.deo1).post(url("entry", na44), form_data(na44.stations[0], counted_time="01:30"))
    assert "counted_time" in response.context["form"].errors
    assert not Form45Entry.objects.exists()
    signed_in(na44.deo1).post(url("entry", na44), form_data(na44.stations[0], counted_time="01:30", counted_day=1))
    assert Form45Entry.objects.get().counted_at.day == 8  # 01:30 PKT on the 9th is 20:30 UTC on the 8th


def test_recent_entries_show_the_operators_own_entries_and_never_the_other_figures(na44):
    station = na44.stations[0]
    signed_in(na44.deo1).post(url("entry", na44), form_data(station, votes=(500, 300, 150)))
    response = signed_in(na44.deo2).post(url("entry", na44), form_data(station, votes=(501, 299, 150)), follow=True)
    body = response.content.decode()
    assert any("The two entries differ: sent to the supervisor" in m for m in messages_of(response))
    assert "Mismatch: with the supervisor" in body  # the status of their own recent entry
    assert "501" not in body.split('id="rms-recent-heading"')[0].split("rms-messages")[-1]
    assert ">500<" not in body and ">300<" not in body  # never the other operator's figures


# --- supervisor --------------------------------------------------------------------------


@pytest.fixture
def mismatch(na44):
    station = na44.stations[1]
    signed_in(na44.deo1).post(url("entry", na44), form_data(station, votes=(500, 300, 150)))
    signed_in(na44.deo2).post(url("entry", na44), form_data(station, votes=(510, 290, 150)))
    assert Form45Entry.objects.filter(status=Form45Entry.Status.MISMATCHED).count() == 2
    return station


def test_a_mismatch_is_listed_and_shown_side_by_side_to_the_ro(na44, mismatch):
    ro = signed_in(na44.ro)
    body = ro.get(url("mismatches", na44)).content.decode()
    assert f'data-station="{mismatch.number}"' in body
    detail_url = url("mismatch_detail", na44, station_id=mismatch.pk)
    assert detail_url in body

    page = ro.get(detail_url)
    assert page.status_code == 200
    rows = {row["key"]: row for row in page.context["rows"]}
    assert rows["votes_1"]["values"] == [500, 510] and rows["votes_1"]["differs"]
    assert rows["votes_3"]["values"] == [150, 150] and not rows["votes_3"]["differs"]
    assert page.content.decode().count('class="num rms-diff"') == 4  # two candidates × two entries


def test_the_ro_accepts_one_entry_with_a_note(na44, mismatch):
    ro = signed_in(na44.ro)
    detail_url = url("mismatch_detail", na44, station_id=mismatch.pk)
    refused = ro.post(detail_url, {"choice": "second", "note": ""})
    assert "note" in refused.context["form"].errors and not Form45.objects.exists()

    response = ro.post(detail_url, {"choice": "second", "note": "Checked the signed Form-45."}, follow=True)
    assert response.redirect_chain[-1] == (url("mismatches", na44), 302)
    assert any(f"PS-{mismatch.number} decided" in m for m in messages_of(response))
    form = Form45.objects.get(contest_station=mismatch)
    assert form.decided_by == na44.ro and form.source == Form45.Source.SUPERVISOR
    assert sorted(form.votes.values_list("candidate__ballot_order", "votes")) == [(1, 510), (2, 290), (3, 150)]
    assert f'data-station="{mismatch.number}"' not in response.content.decode()
    # The station is decided: its page sends the RO back to the list.
    assert ro.get(detail_url).status_code == 302


def test_the_ro_keys_corrected_figures_and_errors_come_back_beside_them(na44, mismatch):
    ro = signed_in(na44.ro)
    detail_url = url("mismatch_detail", na44, station_id=mismatch.pk)
    corrected = form_data(mismatch, votes=(505, 295, 150))
    corrected.pop("station")
    corrected.pop("idempotency_key")
    missing = ro.post(detail_url, {**corrected, "votes_2": "", "choice": "corrected", "note": "Recounted."})
    assert "votes_2" in missing.context["form"].errors and not Form45.objects.exists()

    bad = ro.post(detail_url, {**corrected, "votes_2": "296", "choice": "corrected", "note": "Recounted."})
    assert bad.context["form"].votes_errors and not Form45.objects.exists()
    assert 'value="296"' in bad.content.decode()

    ok = ro.post(detail_url, {**corrected, "choice": "corrected", "note": "Recounted."})
    assert ok.status_code == 302
    form = Form45.objects.get(contest_station=mismatch)
    assert sorted(form.votes.values_list("candidate__ballot_order", "votes")) == [(1, 505), (2, 295), (3, 150)]


def test_a_deo_may_not_use_the_supervisor_screens(na44, mismatch):
    deo = signed_in(na44.deo1)
    assert deo.get(url("mismatches", na44)).status_code == 403
    detail_url = url("mismatch_detail", na44, station_id=mismatch.pk)
    assert deo.get(detail_url).status_code == 403
    assert deo.post(detail_url, {"choice": "first", "note": "mine is right"}).status_code == 403
    assert not Form45.objects.exists()


def test_every_page_of_another_constituency_is_a_404(na44, na45):
    station = na45.stations[0]
    pages = [
        url("entry", na45),
        url("dashboard", na45),
        url("dashboard_json", na45),
        url("mismatches", na45),
        url("mismatch_detail", na45, station_id=station.pk),
    ]
    for user in (na44.deo1, na44.ro):
        client = signed_in(user)
        for page in pages:
            assert client.get(page).status_code == 404, (user, page)
        assert client.post(url("entry", na45), form_data(station)).status_code == 404
    # A station of another contest under this contest's URL is not found either.
    assert signed_in(na44.ro).get(url("mismatch_detail", na44, station_id=station.pk)).status_code == 404
    assert not Form45Entry.objects.exists()


def test_anonymous_and_half_signed_in_users_are_sent_to_sign_in(na44):
    response = Client().get(url("entry", na44))
    assert response.status_code == 302 and reverse("core:staff_login") in response["Location"]
    real = na44.deo1  # not a demo account: a password alone is not a staff session
    half = Client()
    half.force_login(real)
    assert half.get(url("dashboard_json", na44)).status_code == 302
    assert half.get(reverse("results:index")).status_code == 302


# --- dashboard -------------------------------------------------------------------------------


def accept(setup, station, votes=(500, 300, 150), excluded=10, female=None):
    signed_in(setup.deo1).post(url("entry", setup), form_data(station, votes, excluded, female))
    signed_in(setup.deo2).post(url("entry", setup), form_data(station, votes, excluded, female))
    assert Form45.objects.filter(contest_station=station).exists()


def test_dashboard_json_equals_the_tally_and_answers_304_while_nothing_changes(na44):
    accept(na44, na44.stations[0])
    accept(na44, na44.stations[2], votes=(100, 200, 50), excluded=5, female=355)  # a female station
    client = signed_in(na44.ro)
    response = client.get(url("dashboard_json", na44))
    assert response.status_code == 200
    data = response.json()
    t = selectors.contest_tally(contest=na44.contest)
    assert data["stations_total"] == t.stations_total == 4
    assert data["stations_reported"] == t.stations_reported == 2
    assert data["registered"] == {"male": t.registered_male, "female": t.registered_female, "total": t.registered}
    assert data["polled"] == {"male": t.polled_male, "female": t.polled_female, "total": t.polled_total}
    assert data["excluded"] == t.excluded and data["valid"] == t.valid
    assert data["votes"] == {str(k): v for k, v in t.votes.items()} == {"1": 600, "2": 500, "3": 200}
    assert [(c["ballot_order"], c["votes"], c["rank"]) for c in data["candidates"]] == [
        (s.key, s.votes, s.rank) for s in t.standings()
    ]
    assert [a["number"] for a in data["awaited"]] == [s.number for s in t.awaited] == [2, 4]
    assert data["margin"] == 100 and data["text"]["polled_total"] == f"{t.polled_total:,}"
    assert {f["rule"] for f in data["findings"]} >= {f.rule for f in t.findings()}

    etag = response["ETag"]
    again = client.get(url("dashboard_json", na44), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and not again.content

    accept(na44, na44.stations[1])
    changed = client.get(url("dashboard_json", na44), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["stations_reported"] == 3


def test_dashboard_page_renders_every_figure_without_javascript(na44):
    accept(na44, na44.stations[0])
    response = signed_in(na44.deo2).get(url("dashboard", na44))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-field="stations_reported">1<' in body
    assert 'data-field="polled_total">960<' in body
    assert URDU[1] in body and "52.6 %" in body  # Candidate 1: 500 of 950 valid votes
    assert "PS-2" in body and "PS-4" in body  # awaited
    assert "Provisional results (Form-47) due" in body
    assert url("mismatches", na44) not in body  # a DEO is not the supervisor
    assert "PKT" in body


def test_dashboard_in_urdu_keeps_figures_and_direction(na44):
    accept(na44, na44.stations[0])
    body = signed_in(na44.ro).get("/ur" + url("dashboard", na44)).content.decode()
    assert 'dir="rtl"' in body and 'data-field="polled_total">960<' in body
