"""Roles, scopes and the office hierarchy that selectors narrow querysets with."""

import pytest

from core import selectors, services
from core.exceptions import ConflictError, DomainError
from core.models import AuditEvent, Office, OfficeKind, PollingStation, Role, RoleAssignment
from tests.factories import ConstituencyFactory, OfficeFactory, PollingStationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    cec = OfficeFactory(code="cec", kind=OfficeKind.CEC)
    secretary = OfficeFactory(code="secretary", kind=OfficeKind.SECRETARY, parent=cec)
    pec = OfficeFactory(code="pec-punjab", kind=OfficeKind.PEC, parent=secretary)
    rec = OfficeFactory(code="rec-lahore", kind=OfficeKind.REC, parent=pec)
    dec = OfficeFactory(code="dec-lahore", kind=OfficeKind.DEC, parent=rec)
    other_dec = OfficeFactory(code="dec-quetta", kind=OfficeKind.DEC, parent=secretary)
    return {o.code: o for o in (cec, secretary, pec, rec, dec, other_dec)}


def test_role_grant_enforces_the_scope_each_role_takes(tree):
    user = UserFactory()
    na = ConstituencyFactory(code="NA-44")
    with pytest.raises(DomainError) as err:
        services.role_grant(actor=None, user=user, role=Role.RETURNING_OFFICER)
    assert (err.value.code, err.value.field) == ("scope_required", "constituency")
    with pytest.raises(DomainError) as err:
        services.role_grant(actor=None, user=user, role=Role.OMR_OPERATOR, office=tree["cec"])
    assert err.value.code == "scope_not_allowed"
    with pytest.raises(DomainError) as err:
        services.role_grant(actor=None, user=user, role=Role.RETURNING_OFFICER, office=tree["cec"], constituency=na)
    assert err.value.code == "scope_not_allowed"
    assert RoleAssignment.objects.count() == 0 and AuditEvent.objects.count() == 0

    services.role_grant(actor=None, user=user, role=Role.RETURNING_OFFICER, constituency=na)
    with pytest.raises(ConflictError):
        services.role_grant(actor=None, user=user, role=Role.RETURNING_OFFICER, constituency=na)
    assert RoleAssignment.objects.count() == 1
    assert AuditEvent.objects.get().data == {"role": "returning_officer", "office": None, "constituency": "NA-44"}


def test_constituency_scope_narrows_querysets():
    na44, na45 = ConstituencyFactory(code="NA-44"), ConstituencyFactory(code="NA-45")
    mine = PollingStationFactory(constituency=na44)
    PollingStationFactory(constituency=na45)
    operator, admin, stranger = UserFactory(), UserFactory(), UserFactory()
    services.role_grant(actor=None, user=operator, role=Role.DATA_ENTRY_OPERATOR, constituency=na44)
    services.role_grant(actor=None, user=admin, role=Role.ADMIN)
    roles = [Role.DATA_ENTRY_OPERATOR, Role.RETURNING_OFFICER]

    assert list(selectors.scope_to_constituencies(PollingStation.objects.all(), operator, roles)) == [mine]
    assert selectors.scope_to_constituencies(PollingStation.objects.all(), admin, roles).count() == 2
    assert selectors.scope_to_constituencies(PollingStation.objects.all(), stranger, roles).count() == 0
    # the same user holds no RO role, so an RO-only scope is empty for them
    assert selectors.constituency_scope(operator, [Role.RETURNING_OFFICER]) == set()


def test_office_scope_includes_the_offices_below(tree):
    officer = UserFactory()
    services.role_grant(actor=None, user=officer, role=Role.DESK_OFFICER, office=tree["pec-punjab"])
    allowed = selectors.office_scope(officer, [Role.DESK_OFFICER])
    assert allowed == {tree[c].pk for c in ("pec-punjab", "rec-lahore", "dec-lahore")}
    assert selectors.scope_to_offices(Office.objects.all(), officer, [Role.DESK_OFFICER], field="pk").count() == 3
    assert selectors.office_scope(officer, [Role.DESK_OFFICER], include_below=False) == {tree["pec-punjab"].pk}


def test_escalation_ladder_climbs_to_the_top(tree):
    assert [o.code for o in selectors.office_ancestors(tree["dec-lahore"])] == [
        "rec-lahore",
        "pec-punjab",
        "secretary",
        "cec",
    ]
    assert selectors.office_ancestors(tree["cec"]) == []


def test_office_create_refuses_an_orphan_and_a_duplicate(tree):
    with pytest.raises(DomainError) as err:
        services.office_create(actor=None, code="dec-x", kind=OfficeKind.DEC, name="x")
    assert err.value.field == "parent"
    with pytest.raises(ConflictError):
        services.office_create(actor=None, code="dec-lahore", kind=OfficeKind.DEC, name="x", parent=tree["rec-lahore"])
    assert Office.objects.count() == 6


def test_business_calendar_reads_hours_and_holidays_from_the_database():
    from datetime import date, datetime

    from core.calendar import KARACHI
    from core.models import Holiday

    Holiday.objects.create(date=date(2026, 11, 24), name="Test holiday")
    cal = selectors.business_calendar()
    assert cal.is_open(datetime(2026, 11, 23, 10, tzinfo=KARACHI))
    assert not cal.is_open(datetime(2026, 11, 24, 10, tzinfo=KARACHI))
