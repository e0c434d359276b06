"""Forms 47, 48, 49: exact sums of the accepted Form-45s, postal ballots, the lock, the one recount.
The PDFs are read back with pdftotext and must show the same figures."""

import hashlib
import subprocess
import uuid

import pytest

from core.exceptions import ConflictError, DomainError, PermissionDeniedError
from core.models import AuditEvent
from results import consolidation, selectors, services
from results.models import Contest, Form45, FormVersion
from results.services import Figures
from tests.results.factories import make_contest

pytestmark = pytest.mark.django_db

STATION_VOTES = [(500, 300, 150), (420, 380, 90), (0, 500, 300), (333, 222, 111)]


def figures(votes, excluded=7, female=None):
    total = sum(votes) + excluded
    female = total // 2 if female is None else female
    return Figures(total - female, female, total, excluded, {i + 1: v for i, v in enumerate(votes)})


def accept(setup, index, votes):
    station = setup.stations[index]
    female_only = station.station_type == "female"
    f = figures(votes, female=sum(votes) + 7 if female_only else None)
    for user in (setup.deo1, setup.deo2):
        services.form45_entry_submit(
            actor=user, contest_station_id=station.pk, idempotency_key=uuid.uuid4().hex, figures=f
        )


def pdf_text(field) -> str:
    with field.open("rb") as f:
        data = f.read()
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


@pytest.fixture
def setup():
    return make_contest("NA-46", stations=4, candidates=3)


def test_form47_is_the_exact_sum_with_the_awaited_stations(setup):
    for i in range(3):
        accept(setup, i, STATION_VOTES[i])
    v47 = consolidation.form47_produce(actor=setup.ro, contest_id=setup.contest.pk)
    expected = [sum(s[k] for s in STATION_VOTES[:3]) for k in range(3)]
    assert [c["votes"] for c in v47.figures["candidates"]] == expected
    assert [s["number"] for s in v47.figures["awaited"]] == [4]
    assert v47.figures["totals"]["polled"] == sum(f.polled_total for f in Form45.objects.all())
    setup.contest.refresh_from_db()
    assert setup.contest.status == Contest.Status.PROVISIONAL

    for field, sha in ((v47.pdf_en, v47.pdf_en_sha256), (v47.pdf_ur, v47.pdf_ur_sha256)):
        with field.open("rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha
    text = pdf_text(v47.pdf_en)
    for total in expected:
        assert f"{total:,}" in text
    assert v47.content_hash in text.replace("\n", "").replace(" ", "") or v47.content_hash[:16] in text
    event = AuditEvent.objects.get(action="results.form_produced")
    assert event.data["pdf_en_sha256"] == v47.pdf_en_sha256 and event.data["content_hash"] == v47.content_hash


def test_form48_needs_every_station_and_the_postal_ballots_and_adds_them(setup):
    for i in range(3):
        accept(setup, i, STATION_VOTES[i])
    with pytest.raises(ConflictError) as err:
        consolidation.form48_produce(actor=setup.ro, contest_id=setup.contest.pk)
    assert err.value.code == "stations_awaited"
    accept(setup, 3, STATION_VOTES[3])
    with pytest.raises(ConflictError) as err:
        consolidation.form48_produce(actor=setup.ro, contest_id=setup.contest.pk)
    assert err.value.code == "postal_missing"
    with pytest.raises(DomainError):
        consolidation.postal_ballots_record(actor=setup.ro, contest_id=setup.contest.pk, votes={1: 5}, rejected=0)
    consolidation.postal_ballots_record(
        actor=setup.ro, contest_id=setup.contest.pk, votes={1: 12, 2: 30, 3: 4}, rejected=3
    )
    v48 = consolidation.form48_produce(actor=setup.ro, contest_id=setup.contest.pk)
    station_totals = [sum(s[k] for s in STATION_VOTES) for k in range(3)]
    assert [c["votes"] for c in v48.figures["candidates"]] == station_totals
    assert [c["total"] for c in v48.figures["candidates"]] == [
        station_totals[0] + 12,
        station_totals[1] + 30,
        station_totals[2] + 4,
    ]
    assert len(v48.figures["stations"]) == 4
    assert v48.figures["totals"]["postal_rejected"] == 3
    text = pdf_text(v48.pdf_en)
    for c in v48.figures["candidates"]:
        assert f"{c['total']:,}" in text


def finalize(setup):
    for i in range(4):
        accept(setup, i, STATION_VOTES[i])
    consolidation.postal_ballots_record(
        actor=setup.ro, contest_id=setup.contest.pk, votes={1: 0, 2: 0, 3: 0}, rejected=0
    )
    consolidation.form48_produce(actor=setup.ro, contest_id=setup.contest.pk)
    return consolidation.form49_finalize(actor=setup.ro, contest_id=setup.contest.pk)


def test_form49_returns_the_winner_and_locks_the_contest(setup):
    v49 = finalize(setup)
    totals = [sum(s[k] for s in STATION_VOTES) for k in range(3)]
    assert v49.figures["returned"]["ballot_order"] == totals.index(max(totals)) + 1
    setup.contest.refresh_from_db()
    assert setup.contest.status == Contest.Status.FINAL and setup.contest.finalized_by == setup.ro
    for produce in (consolidation.form47_produce, consolidation.form48_produce, consolidation.form49_finalize):
        with pytest.raises(ConflictError):
            produce(actor=setup.ro, contest_id=setup.contest.pk)
    assert FormVersion.objects.count() == 2  # 48 and 49: refusals produced nothing


def test_form49_refuses_a_stale_form48(setup):
    for i in range(4):
        accept(setup, i, STATION_VOTES[i])
    consolidation.postal_ballots_record(
        actor=setup.ro, contest_id=setup.contest.pk, votes={1: 0, 2: 0, 3: 0}, rejected=0
    )
    consolidation.form48_produce(actor=setup.ro, contest_id=setup.contest.pk)
    consolidation.postal_ballots_record(
        actor=setup.ro, contest_id=setup.contest.pk, votes={1: 9, 2: 0, 3: 0}, rejected=0
    )
    with pytest.raises(ConflictError) as err:
        consolidation.form49_finalize(actor=setup.ro, contest_id=setup.contest.pk)
    assert err.value.code == "form48_stale"


def test_only_the_ro_of_the_constituency_produces_forms(setup):
    accept(setup, 0, STATION_VOTES[0])
    other = make_contest("NA-47")
    for actor in (setup.deo1, other.ro):
        with pytest.raises(PermissionDeniedError):
            consolidation.form47_produce(actor=actor, contest_id=setup.contest.pk)
    assert not FormVersion.objects.exists()


def test_one_recount_after_form49_then_new_versions(setup):
    finalize(setup)
    station = setup.stations[0]
    with pytest.raises(ConflictError):  # entries are refused once final
        services.form45_entry_submit(
            actor=setup.ro, contest_station_id=station.pk, idempotency_key="after-final-1", figures=figures((1, 1, 1))
        )
    recounted = figures((510, 290, 150))
    consolidation.recount_record(
        actor=setup.ro,
        contest_id=setup.contest.pk,
        station_figures={station.pk: recounted},
        note="Recount of PS-1 on a candidate's application",
    )
    assert selectors.contest_tally(contest=setup.contest).votes[1] == 510 + sum(s[0] for s in STATION_VOTES[1:])
    v48 = consolidation.form48_produce(actor=setup.ro, contest_id=setup.contest.pk)
    v49 = consolidation.form49_finalize(actor=setup.ro, contest_id=setup.contest.pk)
    assert (v48.version, v49.version) == (2, 2)
    with pytest.raises(ConflictError) as err:
        consolidation.recount_record(
            actor=setup.ro, contest_id=setup.contest.pk, station_figures={station.pk: recounted}, note="again"
        )
    assert err.value.code == "recount_done"
    assert AuditEvent.objects.filter(action="results.recount_recorded").count() == 1


def test_form_versions_are_immutable(setup):
    accept(setup, 0, STATION_VOTES[0])
    v47 = consolidation.form47_produce(actor=setup.ro, contest_id=setup.contest.pk)
    v47.figures = {}
    with pytest.raises(TypeError):
        v47.save()


def test_form47_turnout_counts_only_the_stations_that_have_reported(setup):
    accept(setup, 0, STATION_VOTES[0])  # station 1: 1,900 registered, 957 polled
    v47 = consolidation.form47_produce(actor=setup.ro, contest_id=setup.contest.pk)
    assert v47.figures["totals"]["turnout_percent"] == f"{957 / 1900 * 100:.2f}"
    assert v47.figures["totals"]["registered"] == sum(s.registered_voters for s in setup.stations)
