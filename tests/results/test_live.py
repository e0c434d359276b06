"""Public live results: published tallies as a hash chain, cached pages that run no query, ETags,
verify_results proving the chain and the figures, and failing loudly on tampering."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from results import consolidation, live, publication, selectors, services
from results.models import Contest, Form45Vote, PublishedTally
from tests.results.factories import make_contest
from tests.results.test_entry_services import figures, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(django_capture_on_commit_callbacks):
    setup = make_contest(stations=4)
    setup.on_commit = django_capture_on_commit_callbacks
    return setup


def accept(setup, station, votes=(500, 300, 150), excluded=10):
    female = sum(votes) + excluded if station.station_type == "female" else None
    figs = figures(votes, excluded, female)
    with setup.on_commit(execute=True):
        submit(setup.deo1, station, figs)
        submit(setup.deo2, station, figs)


def urls(setup) -> dict[str, str]:
    base = f"/results/live/{setup.contest.election.code}/"
    code = setup.contest.constituency.code
    province = setup.contest.constituency.province.code
    return {
        "election": base,
        "election_json": f"{base}live.json",
        "province": f"{base}province/{province}/",
        "contest": f"{base}{code}/",
        "contest_json": f"{base}{code}/live.json",
        "contest_regions": f"{base}{code}/regions.json",
        "chain": f"{base}{code}/chain.json",
    }


def test_each_acceptance_publishes_a_chained_version_with_the_exact_tally(setup):
    accept(setup, setup.stations[0])
    accept(setup, setup.stations[1], (400, 420, 100), 5)
    versions = list(PublishedTally.objects.filter(contest=setup.contest).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].prev_hash == "0" * 64 and versions[1].prev_hash == versions[0].hash
    setup.contest.refresh_from_db()
    assert (setup.contest.published_version, setup.contest.published_hash) == (2, versions[1].hash)
    latest = versions[1].figures
    tally = selectors.contest_tally(contest=setup.contest)
    assert {c["ballot_order"]: c["votes"] for c in latest["candidates"]} == tally.votes == {1: 900, 2: 720, 3: 250}
    assert latest["polled"]["total"] == tally.polled_total and latest["stations"] == {"total": 4, "reported": 2}


def test_public_pages_show_the_figures_in_both_languages(client, setup):
    accept(setup, setup.stations[0])
    u = urls(setup)
    page = client.get(u["contest"]).content.decode()
    assert "Candidate 1" in page and "960" in page  # 500 + 300 + 150 + 10 polled
    assert "PS-1" in page and "Awaited" in page
    data = client.get(u["contest_json"]).json()
    assert data["figures"]["candidates"][0]["votes"] == 500
    assert [s["reported"] for s in data["stations"]] == [True, False, False, False]
    assert data["stations"][0]["votes"] == [500, 300, 150]
    national = client.get(u["election_json"]).json()
    assert national["houses"][0]["stations"] == {"total": 4, "reported": 1}
    assert national["houses"][0]["parties"][0] == {"party": "Party 1", "party_ur": "", "won": 0, "leading": 1}
    assert client.get(u["province"]).status_code == 200
    urdu = client.get(f"/ur{u['contest']}").content.decode()
    assert 'dir="rtl"' in urdu and "Candidate 1" in urdu


def test_a_page_in_the_cache_runs_no_query_and_an_acceptance_shows_on_the_next_read(client, setup, settings):
    settings.RESULTS_LIVE_REBUILD_SECONDS = 0  # every out-of-date read may rebuild: the test reads at once
    accept(setup, setup.stations[0])
    u = urls(setup)
    for url in (u["contest"], u["contest_regions"], u["contest_json"], u["election"], u["province"]):
        client.get(url)  # warm the cache
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) == 0, f"{url} queried the database: {[q['sql'] for q in queries]}"
    accept(setup, setup.stations[1], (10, 20, 30), 0)
    data = client.get(u["contest_json"]).json()
    assert data["figures"]["stations"]["reported"] == 2 and data["figures"]["candidates"][0]["votes"] == 510


def test_while_one_reader_rebuilds_the_others_get_the_previous_document(client, setup):
    accept(setup, setup.stations[0])
    u = urls(setup)
    before = client.get(u["contest_json"]).json()
    accept(setup, setup.stations[1], (10, 20, 30), 0)
    scope = live.contest_scope(setup.contest.pk)
    from django.core.cache import cache

    cache.add(f"live:lock:{scope}", 1, timeout=30)  # someone else is rebuilding
    with CaptureQueriesContext(connection) as queries:
        stale = client.get(u["contest_json"]).json()
    assert stale == before and len(queries) == 0
    cache.delete(f"live:lock:{scope}")
    assert client.get(u["contest_json"]).json()["figures"]["stations"]["reported"] == 2


def test_etag_polls_get_304_until_something_changes(client, setup, settings):
    settings.RESULTS_LIVE_REBUILD_SECONDS = 0
    accept(setup, setup.stations[0])
    u = urls(setup)
    first = client.get(u["contest_regions"])
    etag = first["ETag"]
    body = first.json()
    assert set(body["regions"]) == {"summary", "candidates", "findings", "stations", "forms"}
    assert client.get(u["contest_regions"], HTTP_IF_NONE_MATCH=etag).status_code == 304
    urdu = client.get(f"/ur{u['contest_regions']}", HTTP_IF_NONE_MATCH=etag)
    assert urdu.status_code == 200  # another language is another representation
    accept(setup, setup.stations[1], (10, 20, 30), 0)
    changed = client.get(u["contest_regions"], HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    data = client.get(u["contest_json"])
    assert client.get(u["contest_json"], HTTP_IF_NONE_MATCH=data["ETag"]).status_code == 304


def test_unknown_codes_are_a_404_not_an_error(client, setup):
    u = urls(setup)
    assert client.get("/results/live/no-such-election/").status_code == 404
    assert client.get(u["election"] + "NA-999/").status_code == 404
    assert client.get(u["election"] + "province/nowhere/").status_code == 404
    assert client.get(u["chain"] + "?version=x").status_code == 400


def test_the_chain_is_public_and_each_version_shows_its_figures(client, setup):
    accept(setup, setup.stations[0])
    u = urls(setup)
    chain = client.get(u["chain"]).json()["versions"]
    assert [v["version"] for v in chain] == [1]
    one = client.get(u["chain"] + "?version=1").json()
    assert publication.compute_hash(one["figures"]) == one["content_hash"]
    assert client.get(u["chain"] + "?version=9").status_code == 404


def test_verify_results_passes_then_fails_loudly_on_a_tampered_vote(setup, capsys):
    accept(setup, setup.stations[0])
    accept(setup, setup.stations[1], (400, 420, 100), 5)
    call_command("verify_results")
    assert "Published results verified: 1 contests, 2 published versions" in capsys.readouterr().out
    # Someone changes a vote row behind the services' back.
    Form45Vote.objects.filter(form__contest_station=setup.stations[0], candidate__ballot_order=2).update(votes=301)
    with pytest.raises(CommandError, match="do NOT verify"):
        call_command("verify_results")
    assert "differs from the accepted Form-45s (candidates)" in capsys.readouterr().err


def test_published_versions_cannot_be_changed_through_the_database(setup):
    accept(setup, setup.stations[0])
    with pytest.raises(TypeError):
        PublishedTally.objects.get(contest=setup.contest).save()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            PublishedTally.objects.filter(contest=setup.contest).update(reason="forged")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            PublishedTally.objects.filter(contest=setup.contest).delete()


def test_verify_results_fails_on_a_rewritten_published_version(setup, capsys):
    accept(setup, setup.stations[0])
    accept(setup, setup.stations[1])
    if connection.vendor == "postgresql":  # an attacker who owns the database can switch the guard off
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks may be pending for ALTER TABLE
            cursor.execute("ALTER TABLE results_publishedtally DISABLE TRIGGER results_publishedtally_no_update_delete")
    first = PublishedTally.objects.get(contest=setup.contest, version=1)
    forged = {**first.figures, "excluded": first.figures["excluded"] + 1}
    PublishedTally.objects.filter(pk=first.pk).update(figures=forged)
    report = publication.verify_results()
    assert not report.ok
    assert any("v1: figures do not match their content hash" in p for p in report.problems)
    # Re-hashing the forged figures is not enough: the chain link to version 2 breaks.
    PublishedTally.objects.filter(pk=first.pk).update(content_hash=publication.compute_hash(forged))
    report = publication.verify_results()
    assert any("v1: hash does not match its content" in p for p in report.problems)


def test_consolidation_publishes_the_status_and_postal_ballots(setup):
    for station in setup.stations:
        accept(setup, station, (400, 300, 150))
    with setup.on_commit(execute=True):
        consolidation.form47_produce(actor=setup.ro, contest_id=setup.contest.pk)
        consolidation.postal_ballots_record(
            actor=setup.ro, contest_id=setup.contest.pk, votes={1: 7, 2: 3, 3: 0}, rejected=1
        )
        consolidation.form48_produce(actor=setup.ro, contest_id=setup.contest.pk)
        consolidation.form49_finalize(actor=setup.ro, contest_id=setup.contest.pk)
    latest = PublishedTally.objects.filter(contest=setup.contest).order_by("-version").first()
    reasons = PublishedTally.objects.filter(contest=setup.contest).values_list("reason", flat=True)
    assert list(reasons)[:4] == [
        "form49",
        "form48",
        "postal",
        "form47",
    ]
    assert latest.figures["status"] == Contest.Status.FINAL
    assert latest.figures["candidates"][0]["total"] == 4 * 400 + 7 and latest.figures["postal_rejected"] == 1
    assert publication.verify_results().ok


def test_a_refused_entry_publishes_nothing(setup):
    before = PublishedTally.objects.count()
    with pytest.raises(services.DomainError):
        submit(setup.deo1, setup.stations[0], figures((500, 300, 150), excluded=-1))
    assert PublishedTally.objects.count() == before


def test_election_head_changes_with_any_contest(setup):
    accept(setup, setup.stations[0])
    head = publication.election_head([("NA-46", setup.contest.published_hash)])
    doc = live.election_doc(setup.contest.election_id)
    setup.contest.refresh_from_db()
    assert doc["head"] == publication.election_head([(setup.contest.constituency.code, setup.contest.published_hash)])
    assert json.dumps(doc, default=str)  # JSON-ready
    accept(setup, setup.stations[1])
    assert live.election_doc(setup.contest.election_id)["head"] not in (doc["head"], head)
