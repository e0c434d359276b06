"""Form-45 double entry, supervisor decisions, and the refusals that change nothing."""

import threading
import uuid

import pytest
from django.db import connections

from core.exceptions import ConflictError, DomainError, PermissionDeniedError
from core.models import AuditEvent
from results import selectors, services
from results.models import Flag, Form45, Form45Entry, Form45Vote
from results.services import Figures
from tests.results.factories import make_contest

pytestmark = pytest.mark.django_db


def figures(votes=(500, 300, 150), excluded=10, female=None):
    total = sum(votes) + excluded
    female = total // 2 if female is None else female
    return Figures(
        polled_male=total - female,
        polled_female=female,
        polled_total=total,
        excluded=excluded,
        votes={i + 1: v for i, v in enumerate(votes)},
    )


def submit(user, station, figs, key=None):
    return services.form45_entry_submit(
        actor=user, contest_station_id=station.pk, idempotency_key=key or uuid.uuid4().hex, figures=figs
    )


def snapshot():
    return (
        Form45Entry.objects.count(),
        Form45.objects.count(),
        Form45Vote.objects.count(),
        Flag.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def setup():
    return make_contest()


def test_two_matching_entries_accept_the_form(setup):
    station = setup.stations[0]
    first = submit(setup.deo1, station, figures())
    assert first.status == Form45Entry.Status.WAITING and first.form is None
    second = submit(setup.deo2, station, figures())
    assert second.status == Form45Entry.Status.MATCHED
    form = Form45.objects.get(contest_station=station)
    assert form.source == Form45.Source.DOUBLE_ENTRY
    assert sorted(form.votes.values_list("candidate__ballot_order", "votes")) == [(1, 500), (2, 300), (3, 150)]
    tally = selectors.contest_tally(contest=setup.contest)
    assert tally.votes == {1: 500, 2: 300, 3: 150}
    assert (tally.stations_reported, tally.polled_total, tally.excluded) == (1, 960, 10)
    assert [e.action for e in AuditEvent.objects.order_by("seq")] == [
        "results.form45_entered",
        "results.form45_accepted",
    ]


def test_a_mismatch_goes_to_the_supervisor_who_decides(setup):
    station = setup.stations[0]
    submit(setup.deo1, station, figures((500, 300, 150)))
    second = submit(setup.deo2, station, figures((500, 310, 140)))
    assert second.status == Form45Entry.Status.MISMATCHED
    assert second.differences == ["votes.2", "votes.3"]
    assert not Form45.objects.exists()
    assert list(selectors.mismatch_list(contest=setup.contest)) == [station]

    with pytest.raises(PermissionDeniedError):  # an operator is not the supervisor
        services.form45_decide(actor=setup.deo1, contest_station_id=station.pk, choice="first", note="checked")
    with pytest.raises(DomainError) as err:
        services.form45_decide(actor=setup.ro, contest_station_id=station.pk, choice="first", note=" ")
    assert err.value.code == "note_required"
    assert not Form45.objects.exists()

    form = services.form45_decide(
        actor=setup.ro, contest_station_id=station.pk, choice="second", note="Checked against the signed copy"
    )
    assert (form.source, form.decided_by) == (Form45.Source.SUPERVISOR, setup.ro)
    assert selectors.contest_tally(contest=setup.contest).votes == {1: 500, 2: 310, 3: 140}
    assert sorted(Form45Entry.objects.values_list("status", flat=True)) == ["chosen", "set_aside"]
    with pytest.raises(ConflictError):
        services.form45_decide(actor=setup.ro, contest_station_id=station.pk, choice="first", note="again")


def test_supervisor_may_key_corrected_figures(setup):
    station = setup.stations[1]
    submit(setup.deo1, station, figures((500, 300, 150)))
    submit(setup.deo2, station, figures((501, 300, 150)))
    form = services.form45_decide(
        actor=setup.ro,
        contest_station_id=station.pk,
        choice="corrected",
        note="Both misread",
        figures=figures((502, 300, 148)),
    )
    assert sorted(form.votes.values_list("votes", flat=True)) == [148, 300, 502]


def test_a_resend_with_the_same_key_changes_nothing(setup):
    station = setup.stations[0]
    first = submit(setup.deo1, station, figures(), key="k-1")
    before = snapshot()
    again = submit(setup.deo1, station, figures(), key="k-1")
    assert again.replayed and again.entry.pk == first.entry.pk
    assert snapshot() == before


def test_the_same_operator_cannot_key_a_form_twice(setup):
    station = setup.stations[0]
    submit(setup.deo1, station, figures())
    before = snapshot()
    with pytest.raises(ConflictError) as err:
        submit(setup.deo1, station, figures())
    assert err.value.code == "already_keyed" and snapshot() == before


def test_an_accepted_station_refuses_more_entries(setup):
    station = setup.stations[0]
    submit(setup.deo1, station, figures())
    submit(setup.deo2, station, figures())
    before = snapshot()
    with pytest.raises(ConflictError) as err:
        submit(setup.ro, station, figures())
    assert err.value.code == "already_accepted" and snapshot() == before


@pytest.mark.parametrize(
    ("figs", "code", "field"),
    [
        (Figures(480, 480, 970, 10, {1: 500, 2: 300, 3: 150}), "form45.gender_sum", "polled_total"),
        (Figures(480, 481, 961, 10, {1: 500, 2: 300, 3: 150}), "form45.sum_mismatch", "votes"),
        (Figures(1500, 960, 2460, 10, {1: 1500, 2: 800, 3: 150}), "form45.polled_above_registered", "polled_total"),
        (Figures(480, 480, 960, 10, {1: 500, 2: 300}), "candidates_mismatch", "votes.3"),
        (Figures(480, 480, 960, 10, {1: 500, 2: 300, 3: 140, 9: 10}), "candidates_mismatch", "votes.9"),
    ],
)
def test_bad_forms_are_refused_naming_the_field_and_nothing_changes(setup, figs, code, field):
    before = snapshot()
    with pytest.raises(DomainError) as err:
        submit(setup.deo1, setup.stations[0], figs)
    assert err.value.code == code
    assert field in err.value.fields
    assert snapshot() == before


def test_a_female_station_refuses_male_votes(setup):
    female_station = setup.stations[2]  # number 3 is a female station in the factory
    with pytest.raises(DomainError) as err:
        submit(setup.deo1, female_station, figures((400, 300, 150), female=400))
    assert err.value.code in {"form45.female_station_male_votes", "form45.male_above_registered"}


def test_operators_of_another_constituency_are_refused(setup):
    other = make_contest("NA-47")
    before = snapshot()
    with pytest.raises(PermissionDeniedError) as err:
        submit(other.deo1, setup.stations[0], figures())
    assert err.value.code == "out_of_scope" and snapshot() == before


def test_high_turnout_is_accepted_with_a_flag(setup):
    station = setup.stations[0]  # 1900 registered
    high = figures((900, 600, 90), excluded=10)  # 1600 polled = 84 %
    submit(setup.deo1, station, high)
    result = submit(setup.deo2, station, high)
    assert result.form is not None
    assert list(Flag.objects.values_list("rule", flat=True)) == ["form45.turnout_high"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_second_entries_never_accept_a_station_twice():
    setup = make_contest(stations=1)
    from core.models import Role, RoleAssignment
    from tests.factories import UserFactory

    operators = [setup.deo1, setup.deo2]
    for n in range(6):
        extra = UserFactory(username=f"extra-deo-{n}")
        RoleAssignment.objects.create(
            user=extra, role=Role.DATA_ENTRY_OPERATOR, constituency=setup.contest.constituency
        )
        operators.append(extra)
    station = setup.stations[0]
    barrier = threading.Barrier(len(operators))
    outcomes: list[str] = []

    def key(user):
        try:
            barrier.wait()
            result = submit(user, station, figures())
            outcomes.append(result.status)
        except ConflictError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=key, args=(u,)) for u in operators]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert Form45.objects.filter(contest_station=station).count() == 1
    assert sorted(outcomes).count("matched") == 1 and outcomes.count("waiting") == 1
    assert outcomes.count("already_accepted") == len(operators) - 2
    assert Form45Vote.objects.count() == 3


def form46(**changes):
    base = {
        "received": 2000,
        "unissued": 1030,
        "issued": 960,
        "spoilt": 10,
        "tendered": 0,
        "challenged": 0,
        "taken_out": 960,
    }
    return {**base, **changes}


def test_form46_reconciles_with_the_accepted_form45_and_flags_differences(setup):
    station = setup.stations[0]
    submit(setup.deo1, station, figures())  # 960 polled
    submit(setup.deo2, station, figures())
    services.form46_record(actor=setup.deo1, contest_station_id=station.pk, figures=form46())
    assert not Flag.objects.filter(rule__startswith="form46.").exists()

    services.form46_record(actor=setup.deo1, contest_station_id=station.pk, figures=form46(taken_out=958))
    assert list(Flag.objects.filter(rule__startswith="form46.").values_list("rule", flat=True)) == [
        "form46.box_mismatch"
    ]
    assert AuditEvent.objects.filter(action="results.form46_recorded").count() == 2


def test_form46_refusals_change_nothing(setup):
    station = setup.stations[0]
    before = snapshot()
    with pytest.raises(DomainError) as err:
        services.form46_record(actor=setup.deo1, contest_station_id=station.pk, figures=form46(spoilt=-1))
    assert err.value.code == "form46.negative"
    with pytest.raises(DomainError) as err:
        services.form46_record(actor=setup.deo1, contest_station_id=station.pk, figures={"received": 10})
    assert err.value.code == "form46_incomplete" and "taken_out" in err.value.fields
    other = make_contest("NA-47")
    with pytest.raises(PermissionDeniedError):
        services.form46_record(actor=other.deo1, contest_station_id=station.pk, figures=form46())
    assert snapshot() == before


def test_contest_findings_are_stored_as_contest_flags(setup):
    # A close race: 500 vs 495 → margin 5, far below 5 % of polled → recount-eligible.
    station = setup.stations[0]
    close = figures((500, 495, 0), excluded=10)
    submit(setup.deo1, station, close)
    submit(setup.deo2, station, close)
    contest_flags = set(
        Flag.objects.filter(contest=setup.contest, contest_station__isnull=True).values_list("rule", flat=True)
    )
    assert {"contest.recount_eligible", "contest.excluded_ge_margin"} <= contest_flags


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_acceptances_of_one_contest_keep_its_flags_whole():
    """Stations of one contest accepted at the same moment: every form lands and the contest flags are
    exactly the findings of the final tally (once each), as if the forms had come one by one."""
    setup = make_contest(stations=8)

    def close(station):  # margin 5 a station → recount-eligible from the first form on
        return figures((400, 395, 0), excluded=10, female=805 if station.station_type == "female" else None)

    for station in setup.stations:
        submit(setup.deo1, station, close(station))
    barrier = threading.Barrier(len(setup.stations))
    outcomes: list[str] = []

    def second(station):
        try:
            barrier.wait()
            outcomes.append(submit(setup.deo2, station, close(station)).status)
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=second, args=(s,)) for s in setup.stations]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes == ["matched"] * len(setup.stations)
    assert Form45.objects.filter(contest_station__contest=setup.contest).count() == len(setup.stations)
    stored = sorted(
        Flag.objects.filter(contest=setup.contest, contest_station__isnull=True).values_list("rule", "data")
    )
    expected = sorted(
        (f.rule, dict(f.data))
        for f in selectors.contest_tally(contest=setup.contest).findings(with_deadlines=False)
        if f.severity == "warning"
    )
    assert stored == expected and {"contest.recount_eligible"} <= {rule for rule, _data in stored}
    from core.audit import verify_chain

    assert verify_chain().ok
