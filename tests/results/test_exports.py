"""Open result exports: download the CSV and the NIST SP 1500-100 JSON through the public views, read them
back and recompute every total; the file is built once per revision; ETag/304; 404s."""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.http import http_date

from results import consolidation, exports, selectors, services
from results.models import Candidate, Contest, PostalBallots
from results.services import Figures
from tests.factories import DistrictFactory
from tests.results.factories import make_contest, make_election

pytestmark = pytest.mark.django_db

ELECTION = "ge-2026"
KINDS = set(exports.ROW_KINDS)
PAST = 1_000_000_000  # a file time long before any test ran


# --- building an election with accepted forms --------------------------------------------------------------------


def accept(setup, station, votes, excluded=5):
    """Key the same figures twice (two operators) through the real service: the Form-45 is accepted."""
    total = sum(votes) + excluded
    female = total if station.station_type == "female" else total // 2
    figures = Figures(
        polled_male=total - female,
        polled_female=female,
        polled_total=total,
        excluded=excluded,
        votes={n + 1: v for n, v in enumerate(votes)},
    )
    for operator in (setup.deo1, setup.deo2):
        result = services.form45_entry_submit(
            actor=operator, contest_station_id=station.pk, idempotency_key=uuid.uuid4().hex, figures=figures
        )
    assert result.form is not None


@pytest.fixture
def results():
    """NA-46 (4 stations, 3 candidates, 3 reported, postal ballots) and PP-10 (3 stations, 4 candidates, 2 reported)."""
    na = make_contest("NA-46", stations=4, candidates=3)
    pa = make_contest("PP-10", stations=3, candidates=4)
    district = DistrictFactory(province=na.contest.constituency.province, name="Kohsar", name_ur="کوہسار")
    na.contest.constituency.district = district
    na.contest.constituency.save(update_fields=["district"])
    accept(na, na.stations[0], (410, 220, 95), excluded=12)
    accept(na, na.stations[1], (300, 305, 10), excluded=0)
    accept(na, na.stations[2], (150, 90, 60), excluded=7)  # a female station
    accept(pa, pa.stations[0], (120, 80, 60, 40), excluded=3)
    accept(pa, pa.stations[2], (99, 101, 0, 250), excluded=9)  # a female station
    consolidation.postal_ballots_record(actor=na.ro, contest_id=na.contest.pk, votes={1: 7, 2: 3, 3: 1}, rejected=2)
    return na, pa


def body(response) -> bytes:
    """The whole download (the test client closes a streamed response, and its file, once it is read)."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def get(client, name, *args, headers=None, language="en"):
    with translation.override(language):
        url = reverse(f"results:{name}", args=args)
    return client.get(url, headers=headers or {})


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the byte order mark: Excel then reads the Urdu right
    text = data.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == exports.CSV_COLUMNS
    return list(reader)


# --- recomputing totals from a file ------------------------------------------------------------------------------


def csv_totals(rows):
    """Per constituency: candidates' votes at the stations (by name), polled, excluded… and the postal ballots."""
    out = defaultdict(lambda: {"votes": Counter(), "postal": Counter(), "stations": set(), **dict.fromkeys(KINDS, 0)})
    for row in rows:
        totals, votes = out[row["constituency"]], int(row["votes"])
        if row["station"] == exports.POSTAL_STATION:
            key = "postal_rejected" if row["candidate"] == "rejected" else None
            if key:
                totals[key] = totals.get(key, 0) + votes
            else:
                totals["postal"][row["candidate"]] += votes
        elif row["candidate"] in KINDS and not row["party"]:
            totals[row["candidate"]] += votes
            totals["stations"].add(row["station"])
        else:
            totals["votes"][row["candidate"]] += votes
    return out


def expected(contest: Contest):
    tally = selectors.contest_tally(contest=contest)
    names = {c.ballot_order: c.name for c in tally.candidates}
    return tally, {names[order]: votes for order, votes in tally.votes.items()}


def assert_csv_matches_tallies(rows, contests):
    totals = csv_totals(rows)
    assert set(totals) <= {c.constituency.code for c in contests}
    national = selectors.national_tally(election_id=contests[0].election_id)
    for contest in contests:
        tally, votes = expected(contest)
        got = totals[contest.constituency.code]
        assert dict(got["votes"]) == {k: v for k, v in votes.items() if v or tally.stations_reported}
        assert got["polled"] == tally.polled_total
        assert (got["polled_male"], got["polled_female"]) == (tally.polled_male, tally.polled_female)
        assert got["rejected"] == tally.excluded
        assert got["registered"] == tally.registered_reported
        assert len(got["stations"]) == tally.stations_reported
        if tally.stations_reported:  # and the national tally, by candidate
            by_id = {c.name: c.pk for c in tally.candidates}
            assert {by_id[n]: v for n, v in got["votes"].items()} == national[contest.pk]["votes"]
            assert (len(got["stations"]), got["polled"]) == (
                national[contest.pk]["reported"],
                national[contest.pk]["polled"],
            )
    return totals


def json_totals(report):
    """Per constituency code: votes per candidate name at polling places and at the postal unit, and the counts."""
    units = {u["@id"]: u for u in report["GpUnit"]}
    (election,) = report["Election"]
    candidates = {c["@id"]: c for c in election["Candidate"]}
    out = {}
    for contest in election["Contest"]:
        totals = {"votes": Counter(), "postal": Counter(), "polled": 0, "male": 0, "female": 0, "excluded": 0}
        for selection in contest["BallotSelection"]:
            (candidate_id,) = selection["CandidateIds"]
            name = candidates[candidate_id]["BallotName"]["Text"][0]["Content"]
            for count in selection["VoteCounts"]:
                assert count["Type"] == "total"
                unit = units[count["GpUnitId"]]
                where = "votes" if unit["Type"] == "polling-place" else "postal"
                assert where == "votes" or unit["OtherType"] == "postal-ballots"
                totals[where][name] += count["Count"]
        for summary in contest["SummaryCounts"]:
            unit = units[summary["GpUnitId"]]
            if unit["Type"] != "polling-place":
                totals["postal_rejected"] = summary["BallotsRejected"]
            elif summary["Type"] == "total":
                totals["polled"] += summary["BallotsCast"]
                totals["excluded"] += summary["BallotsRejected"]
            else:
                totals[summary["OtherType"]] += summary["BallotsCast"]
        district = units[contest["ElectoralDistrictId"]]
        stations = [units[i] for i in district["ComposingGpUnitIds"] if units[i]["Type"] == "polling-place"]
        totals["registered"] = sum(s["VotersRegistered"] for s in stations)
        totals["participated"] = sum(s["VotersParticipated"] for s in stations)
        totals["stations"] = len(stations)
        out[contest["Abbreviation"]] = totals
    return out


def assert_json_matches_tallies(report, contests):
    totals = json_totals(report)
    national = selectors.national_tally(election_id=contests[0].election_id)
    assert set(totals) == {c.constituency.code for c in contests}
    for contest in contests:
        tally, votes = expected(contest)
        got = totals[contest.constituency.code]
        assert set(got["votes"]) <= set(votes)
        assert {name: got["votes"][name] for name in votes} == votes
        assert sum(got["votes"].values()) == tally.valid
        assert (got["polled"], got["participated"], got["excluded"]) == (
            tally.polled_total,
            tally.polled_total,
            tally.excluded,
        )
        assert (got["male"], got["female"]) == (tally.polled_male, tally.polled_female)
        assert (got["registered"], got["stations"]) == (tally.registered_reported, tally.stations_reported)
        if tally.stations_reported:
            by_id = {c.name: c.pk for c in tally.candidates}
            assert {by_id[n]: v for n, v in got["votes"].items()} == national[contest.pk]["votes"]
    return totals


def assert_references_resolve(report):
    """Every @id is unique and every reference names an object of the report."""
    (election,) = report["Election"]
    objects = [
        *report["GpUnit"],
        *report["Party"],
        *report["Person"],
        *election["Candidate"],
        *election["Contest"],
        *[s for c in election["Contest"] for s in c["BallotSelection"]],
    ]
    ids = [o["@id"] for o in objects]
    assert len(ids) == len(set(ids))
    known = set(ids)
    units = {u["@id"] for u in report["GpUnit"]}
    assert election["ElectionScopeId"] in units
    for unit in report["GpUnit"]:
        assert set(unit.get("ComposingGpUnitIds", [])) <= units
    for person in [*report["Person"], *election["Candidate"]]:
        assert person.get("PartyId", "par-") in known | {"par-"}
    for candidate in election["Candidate"]:
        assert candidate["PersonId"] in known
    for contest in election["Contest"]:
        assert contest["ElectoralDistrictId"] in units
        for selection in contest["BallotSelection"]:
            assert set(selection["CandidateIds"]) <= known
            assert {v["GpUnitId"] for v in selection["VoteCounts"]} <= units
        assert {s["GpUnitId"] for s in contest["SummaryCounts"]} <= units


# --- the formats round-trip to the tallies -----------------------------------------------------------------------


def test_national_csv_recomputes_every_total(client, results):
    na, pa = results
    response = get(client, "export_election_csv", ELECTION)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = read_csv(body(response))
    totals = assert_csv_matches_tallies(rows, [na.contest, pa.contest])

    # one row per reporting station × candidate, and the five kinds per station; the awaited stations are absent
    stations = [r for r in rows if r["station"] != exports.POSTAL_STATION]
    assert len(stations) == 3 * (3 + 5) + 2 * (4 + 5)
    assert {r["station"] for r in rows if r["constituency"] == "PP-10"} == {
        f"PS-1 {pa.stations[0].polling_station.name}",
        f"PS-3 {pa.stations[2].polling_station.name}",
    }
    first = rows[0]
    assert (first["province"], first["district"], first["constituency"]) == ("Punjab", "Kohsar", "NA-46")
    assert (first["candidate"], first["party"], first["votes"]) == ("Candidate 1", "Party 1", "410")
    assert rows[-1]["constituency"] == "PP-10"  # NA before PA

    # postal ballots: the "postal" pseudo-station of NA-46 only, as recorded
    assert dict(totals["NA-46"]["postal"]) == {"Candidate 1": 7, "Candidate 2": 3, "Candidate 3": 1}
    assert totals["NA-46"]["postal_rejected"] == 2
    assert not totals["PP-10"]["postal"]


def test_national_json_recomputes_every_total(client, results):
    na, pa = results
    response = get(client, "export_election_json", ELECTION)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    report = json.loads(body(response))
    assert_references_resolve(report)
    totals = assert_json_matches_tallies(report, [na.contest, pa.contest])
    assert dict(totals["NA-46"]["postal"]) == {"Candidate 1": 7, "Candidate 2": 3, "Candidate 3": 1}
    assert totals["NA-46"]["postal_rejected"] == 2

    assert report["@type"] == "ElectionResults.ElectionReport"
    assert report["Status"] == "unofficial-partial"  # stations are still awaited
    assert report["ExternalIdentifier"][0]["Value"] == str(selectors_revision(na))
    assert response["ETag"] == f'"{ELECTION}-r{selectors_revision(na)}-en-json"'
    units = {u["@id"]: u for u in report["GpUnit"]}
    assert units["gpu-pk"]["ComposingGpUnitIds"] == ["gpu-province-punjab"]
    province = units["gpu-province-punjab"]
    assert (province["Type"], province["OtherType"]) == ("other", "province")
    (district_id,) = [i for i in province["ComposingGpUnitIds"] if i.startswith("gpu-district-")]
    assert units[district_id]["ComposingGpUnitIds"] == ["gpu-NA-46"]
    assert "gpu-PP-10" in province["ComposingGpUnitIds"]  # a constituency with no district: under its province
    assert units["gpu-NA-46"]["ComposingGpUnitIds"] == [
        "gpu-NA-46-ps-1",
        "gpu-NA-46-ps-2",
        "gpu-NA-46-ps-3",
        "gpu-NA-46-postal",
    ]
    assert (units["gpu-NA-46"]["TotalSubUnits"], units["gpu-NA-46"]["SubUnitsReported"]) == (4, 3)
    assert units["gpu-NA-46-postal"]["IsMailOnly"] is True
    # a party standing in both contests is one Party object
    assert sorted(p["Name"]["Text"][0]["Content"] for p in report["Party"]) == [
        "Party 1",
        "Party 2",
        "Party 3",
        "Party 4",
    ]


def test_contest_exports_recompute_the_contest_tally(client, results):
    na, pa = results
    response = get(client, "export_contest_csv", ELECTION, "PP-10")
    assert response.status_code == 200
    pa.contest.refresh_from_db()
    assert pa.contest.published_version == 2  # two forms accepted
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="{ELECTION}-PP-10-v{pa.contest.published_version}.csv"'
    )
    rows = read_csv(body(response))
    assert {r["constituency"] for r in rows} == {"PP-10"}
    assert_csv_matches_tallies(rows, [pa.contest])

    report = json.loads(body(get(client, "export_contest_json", ELECTION, "na-46")))  # the code in any case
    assert_references_resolve(report)
    assert_json_matches_tallies(report, [na.contest])
    assert [c["Abbreviation"] for c in report["Election"][0]["Contest"]] == ["NA-46"]


REQUIRED = {  # NIST SP 1500-100 v2 JSON schema: the required properties of each object used here
    "ElectionResults.ElectionReport": {
        "Format",
        "GeneratedDate",
        "Issuer",
        "IssuerAbbreviation",
        "SequenceEnd",
        "SequenceStart",
        "Status",
        "VendorApplicationId",
    },
    "ElectionResults.Election": {"ElectionScopeId", "EndDate", "Name", "StartDate", "Type"},
    "ElectionResults.CandidateContest": {"VotesAllowed", "ElectoralDistrictId", "Name", "@id"},
    "ElectionResults.CandidateSelection": {"CandidateIds", "@id"},
    "ElectionResults.VoteCounts": {"Count", "Type"},
    "ElectionResults.SummaryCounts": {"Type"},
    "ElectionResults.ReportingUnit": {"Type", "@id"},
    "ElectionResults.Party": {"Name", "@id"},
    "ElectionResults.Person": {"@id"},
    "ElectionResults.Candidate": {"BallotName", "@id"},
    "ElectionResults.InternationalizedText": {"Text"},
    "ElectionResults.LanguageString": {"Content", "Language"},
    "ElectionResults.CountStatus": {"Status", "Type"},
    "ElectionResults.ExternalIdentifier": {"Type", "Value"},
}
ENUMS = {
    ("ElectionResults.ReportingUnit", "Type"): {"country", "polling-place", "other"},
    ("ElectionResults.VoteCounts", "Type"): {"total"},
    ("ElectionResults.SummaryCounts", "Type"): {"total", "other"},
    ("ElectionResults.ElectionReport", "Status"): {
        "pre-election",
        "unofficial-partial",
        "unofficial-complete",
        "certified",
    },
    ("ElectionResults.ElectionReport", "Format"): {"precinct-level"},
    ("ElectionResults.Election", "Type"): {"general", "special"},
    ("ElectionResults.CountStatus", "Status"): {"completed", "in-process", "not-processed"},
}


def walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_json_objects_carry_what_the_standard_requires(client, results):
    report = json.loads(body(get(client, "export_election_json", ELECTION)))
    seen = Counter()
    for obj in walk(report):
        kind = obj["@type"]
        seen[kind] += 1
        assert REQUIRED[kind] <= set(obj), kind
        for (of, prop), allowed in ENUMS.items():
            if kind == of:
                assert obj[prop] in allowed, (kind, prop, obj[prop])
        if obj.get("Type") == "other" and kind != "ElectionResults.LanguageString":
            assert obj["OtherType"]
    # 5 stations × (3 or 4 candidates) + 3 postal votes
    assert seen["ElectionResults.VoteCounts"] == 3 * 3 + 2 * 4 + 3
    assert seen["ElectionResults.CandidateContest"] == 2


# --- no forms yet --------------------------------------------------------------------------------------------------


def test_an_election_with_no_accepted_form_exports_empty_but_valid_files(client):
    import datetime

    election = make_election("bye-2026", poll_date=datetime.date(2026, 5, 10))
    make_contest("NA-50", stations=2, candidates=2, election=election)

    rows = read_csv(body(get(client, "export_election_csv", "bye-2026")))
    assert rows == []
    rows = read_csv(body(get(client, "export_contest_csv", "bye-2026", "NA-50")))
    assert rows == []

    report = json.loads(body(get(client, "export_election_json", "bye-2026")))
    assert_references_resolve(report)
    assert report["Status"] == "pre-election"
    assert [u["@id"] for u in report["GpUnit"]] == ["gpu-pk", "gpu-province-punjab", "gpu-NA-50"]
    (contest,) = report["Election"][0]["Contest"]
    assert [s["VoteCounts"] for s in contest["BallotSelection"]] == [[], []]
    assert contest["SummaryCounts"] == []
    assert contest["CountStatus"][0]["Status"] == "not-processed"
    assert (contest["TotalSubUnits"], contest["SubUnitsReported"]) == (2, 0)


# --- Urdu ----------------------------------------------------------------------------------------------------------


def test_urdu_names_round_trip_in_utf8(client, results):
    na, _pa = results
    province = na.contest.constituency.province
    province.name_ur = "پنجاب"
    province.save(update_fields=["name_ur"])
    station = na.stations[0].polling_station
    station.name_ur = "گورنمنٹ اسکول نمبر ۱"
    station.save(update_fields=["name_ur"])
    Candidate.objects.filter(contest=na.contest, ballot_order=1).update(
        name_ur="فرضی امیدوار اول", party_ur="فرضی جماعت"
    )

    urdu = read_csv(body(get(client, "export_election_csv", ELECTION, language="ur")))
    english = read_csv(body(get(client, "export_election_csv", ELECTION)))
    assert len(urdu) == len(english)
    first = urdu[0]
    assert (first["province"], first["district"], first["station"]) == ("پنجاب", "کوہسار", "PS-1 گورنمنٹ اسکول نمبر ۱")
    assert (first["candidate"], first["party"]) == ("فرضی امیدوار اول", "فرضی جماعت")
    assert english[0]["candidate"] == "Candidate 1"  # the same figures, English names
    # untranslated names stay English; kinds, codes and figures are the same in both
    assert [(r["constituency"], r["votes"]) for r in urdu] == [(r["constituency"], r["votes"]) for r in english]
    assert {r["candidate"] for r in urdu if r["party"] == ""} == KINDS
    assert sum(int(r["votes"]) for r in urdu if r["candidate"] == "فرضی امیدوار اول") == sum(
        int(r["votes"]) for r in english if r["candidate"] == "Candidate 1" and r["constituency"] == "NA-46"
    )

    raw = body(get(client, "export_contest_json", ELECTION, "NA-46"))
    assert "فرضی امیدوار اول".encode() in raw  # UTF-8 as is, not \u escapes
    report = json.loads(raw)
    (candidate, *_rest) = report["Election"][0]["Candidate"]
    assert candidate["BallotName"]["Text"] == [
        {"@type": "ElectionResults.LanguageString", "Content": "Candidate 1", "Language": "en"},
        {"@type": "ElectionResults.LanguageString", "Content": "فرضی امیدوار اول", "Language": "ur"},
    ]
    party = next(p for p in report["Party"] if p["@id"] == candidate["PartyId"])
    assert [t["Content"] for t in party["Name"]["Text"]] == ["Party 1", "فرضی جماعت"]


def test_a_formula_looking_name_is_kept_as_text(client, results):
    na, _pa = results
    Candidate.objects.filter(contest=na.contest, ballot_order=2).update(name="=HYPERLINK(1)")
    rows = read_csv(body(get(client, "export_contest_csv", ELECTION, "NA-46")))
    assert "'=HYPERLINK(1)" in {r["candidate"] for r in rows}


# --- caching: ETag, 304, one build per revision ------------------------------------------------------------------


def export_files():
    folder = exports.export_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_etag_and_not_modified(client, results):
    na, _pa = results
    for name, args in (("export_election_csv", (ELECTION,)), ("export_contest_json", (ELECTION, "NA-46"))):
        first = get(client, name, *args)
        etag = first["ETag"]
        assert first.status_code == 200 and etag and first["Last-Modified"]
        body(first)
        again = get(client, name, *args, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again["ETag"] == etag and again.content == b""
        weak = get(client, name, *args, headers={"If-None-Match": f'"other", W/{etag}'})
        assert weak.status_code == 304
        stale = get(client, name, *args, headers={"If-None-Match": '"ge-2026-r0-en-csv"'})
        assert stale.status_code == 200
        body(stale)

    before = get(client, "export_contest_json", ELECTION, "NA-46")["ETag"]
    accept(na, na.stations[3], (1, 2, 3))
    after = get(client, "export_contest_json", ELECTION, "NA-46", headers={"If-None-Match": before})
    assert after.status_code == 200 and after["ETag"] != before
    assert_json_matches_tallies(json.loads(body(after)), [na.contest])


def test_a_second_request_serves_the_same_file_and_a_new_form_replaces_it(client, results):
    na, pa = results
    revision = selectors_revision(na)
    first = get(client, "export_election_csv", ELECTION)
    assert first.status_code == 200
    first_rows = read_csv(body(first))
    name = f"{ELECTION}-r{revision}.csv"
    assert export_files() == [name]
    path = exports.export_dir() / name
    os.utime(path, (PAST, PAST))

    second = get(client, "export_election_csv", ELECTION)
    assert read_csv(body(second)) == first_rows
    assert second["ETag"] == first["ETag"]
    assert os.stat(path).st_mtime == PAST  # served, not rebuilt
    assert second["Last-Modified"] == http_date(PAST)

    accept(pa, pa.stations[1], (10, 20, 30, 40))  # a new acceptance: a new revision
    assert selectors_revision(na) == revision + 1
    third = get(client, "export_election_csv", ELECTION, headers={"If-None-Match": first["ETag"]})
    assert third.status_code == 200 and third["ETag"] != first["ETag"]
    rows = read_csv(body(third))
    assert export_files() == [f"{ELECTION}-r{revision + 1}.csv"]  # the superseded file is gone
    assert_csv_matches_tallies(rows, [na.contest, pa.contest])
    assert len({r["station"] for r in rows if r["constituency"] == "PP-10"}) == 3


def selectors_revision(setup) -> int:
    return sum(Contest.objects.filter(election=setup.contest.election).values_list("published_version", flat=True))


def test_while_one_request_builds_the_others_get_the_previous_file(client, results, settings):
    na, pa = results
    old = get(client, "export_election_json", ELECTION)
    old_etag, old_report = old["ETag"], json.loads(body(old))
    accept(pa, pa.stations[1], (10, 20, 30, 40))

    lock = exports.export_lock_key(na.contest.election, "json", "en")
    assert cache.add(lock, "another request", timeout=60)
    meanwhile = get(client, "export_election_json", ELECTION)
    assert meanwhile.status_code == 200 and meanwhile["ETag"] == old_etag
    assert json.loads(body(meanwhile))["GpUnit"] == old_report["GpUnit"]

    cache.delete(lock)  # the builder finished (or gave up): the next request builds the new revision
    fresh = get(client, "export_election_json", ELECTION)
    assert fresh["ETag"] != old_etag
    assert_json_matches_tallies(json.loads(body(fresh)), [na.contest, pa.contest])


def test_with_no_file_yet_a_request_waits_for_the_builder_then_says_try_again(client, results, settings):
    na, _pa = results
    settings.RESULTS_EXPORT_WAIT_SECONDS = 0
    assert cache.add(exports.export_lock_key(na.contest.election, "json", "en"), "another request", timeout=60)
    response = get(client, "export_election_json", ELECTION)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["code"] == "export_in_progress"
    assert export_files() == []


def test_building_the_national_file_takes_the_same_queries_whatever_the_number_of_stations(results):
    na, pa = results
    election = na.contest.election
    with CaptureQueriesContext(connection) as before:
        exports.national_build(election=election, fmt="json")
    accept(pa, pa.stations[1], (10, 20, 30, 40))
    accept(na, na.stations[3], (1, 2, 3))
    with CaptureQueriesContext(connection) as after:
        exports.national_build(election=election, fmt="json")
    assert len(after.captured_queries) == len(before.captured_queries)
    assert PostalBallots.objects.count() == 1


# --- not found -----------------------------------------------------------------------------------------------------


def test_unknown_election_or_constituency_is_a_clear_404(client, results):
    response = get(client, "export_election_csv", "ge-1900")
    assert response.status_code == 404
    assert "ge-1900" in response.content.decode()
    response = get(client, "export_election_json", "ge-1900")
    assert response.status_code == 404 and response.json()["code"] == "election_not_found"
    response = get(client, "export_contest_json", ELECTION, "NA-999")
    assert response.status_code == 404 and response.json()["code"] == "contest_not_found"
    assert "NA-999" in response.json()["message"]
    response = get(client, "export_contest_csv", "ge-1900", "NA-46")
    assert response.status_code == 404
    assert export_files() == []


# --- the documentation --------------------------------------------------------------------------------------------


def test_every_column_and_row_kind_is_documented():
    text = (Path(__file__).resolve().parents[2] / "docs" / "results-exports.md").read_text(encoding="utf-8")
    assert [name for name in (*exports.CSV_COLUMNS, *exports.ROW_KINDS) if f"`{name}`" not in text] == []


def test_a_publication_has_the_national_files_built_in_the_background(django_capture_on_commit_callbacks):
    setup = make_contest("NA-46", stations=2, candidates=3)
    with django_capture_on_commit_callbacks(execute=True):
        accept(setup, setup.stations[0], (10, 20, 30))
    election = setup.contest.election
    revision = exports.election_revision(election)
    for fmt, language in (("csv", "en"), ("csv", "ur"), ("json", "en")):
        name = exports.download_name(election=election, fmt=fmt, revision=revision, language=language)
        assert (exports.export_dir() / name).exists(), name
    # A second publication within the interval queues nothing more: the worker's next run takes it.
    with django_capture_on_commit_callbacks(execute=True):
        accept(setup, setup.stations[1], (1, 2, 3))
    later = exports.download_name(election=election, fmt="csv", revision=revision + 1, language="en")
    assert not (exports.export_dir() / later).exists()
