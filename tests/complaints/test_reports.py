"""The complaints reports (/complaints/staff/reports/ and its CSV): every figure on a handcrafted set, the
reader's scope (a district's desk officer sees nothing of another district), CSV content with formula cells
neutralised, bad filters answered with a message and a 400, the Urdu page, and a bounded number of queries
whatever the amount of data."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from complaints import reports
from complaints.models import Category, Complaint, ComplaintEvent, Desk, EventKind, Status
from complaints.views_reports import duration_text
from core.http import csv_cell
from core.models import District, Office, OfficeKind, Province, Role, RoleAssignment
from sms.models import OtpChallenge
from tests.core.test_admin import verified_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/complaints/staff/reports/"
CSV_URL = "/complaints/staff/reports.csv"


def at(days_ago: int, hour: int) -> datetime:
    """``hour`` o'clock Pakistan time, ``days_ago`` calendar days before today."""
    return timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=days_ago), time(hour)))


def period_query(first: int = 9, last: int = 1, **more) -> dict:
    today = timezone.localdate()
    return {
        "date_from": (today - timedelta(days=first)).isoformat(),
        "date_to": (today - timedelta(days=last)).isoformat(),
        **more,
    }


class World:
    """CEC → PEC Punjab → REC Lahore → DEC Lahore, DEC Kasur; PEC Punjab → REC Multan → DEC Multan."""

    def __init__(self) -> None:
        province, _ = Province.objects.get_or_create(code="punjab", defaults={"name": "Punjab", "pa_prefix": "PP"})
        self.district = {
            name: District.objects.create(province=province, name=name, name_ur=ur)
            for name, ur in (("Lahore", "لاہور"), ("Kasur", "قصور"), ("Multan", "ملتان"))
        }
        cec = Office.objects.create(code="cec", kind=OfficeKind.CEC, name="CEC")
        self.pec = Office.objects.create(code="pec-punjab", kind=OfficeKind.PEC, name="PEC Punjab", parent=cec)
        self.rec = Office.objects.create(code="rec-lahore", kind=OfficeKind.REC, name="REC Lahore", parent=self.pec)
        rec_multan = Office.objects.create(
            code="rec-multan", kind=OfficeKind.REC, name="REC Multan", parent=self.pec, district=self.district["Multan"]
        )
        self.lahore = self._dec("dec-lahore", "DEC Lahore", self.rec, "Lahore")
        self.kasur = self._dec("dec-kasur", "DEC Kasur", self.rec, "Kasur")
        self.multan = self._dec("dec-multan", "DEC Multan", rec_multan, "Multan")
        self.polling = Category.objects.create(code="polling", name="Polling station", name_ur="پولنگ اسٹیشن")
        self.staff = Category.objects.create(code="staff", name="Staff conduct", name_ur="عملے کا رویہ")
        self.officer = UserFactory(username="lahore-officer", first_name="Asma", last_name="Rauf", is_staff=True)
        self.desk_l1 = Desk.objects.create(office=self.lahore, name="Desk 1", officer=self.officer)
        self.desk_l2 = Desk.objects.create(office=self.lahore, name="Desk 2")
        self.desk_k1 = Desk.objects.create(office=self.kasur, name="=SUM(A1:A9)")
        self.n = 0

    def _dec(self, code: str, name: str, parent: Office, district: str) -> Office:
        return Office.objects.create(
            code=code, kind=OfficeKind.DEC, name=name, parent=parent, district=self.district[district]
        )

    def complaint(self, office: Office, category: Category, created_at: datetime, **fields) -> Complaint:
        self.n += 1
        otp = OtpChallenge.objects.create(
            id=uuid.uuid4(),
            phone="+923000000001",
            purpose="complaint",
            code_hash="x" * 64,
            created_at=created_at,
            expires_at=created_at + timedelta(minutes=10),
            verified_at=created_at,
        )
        missed = fields.pop("missed", "")
        fields.setdefault("first_response_missed", "first_response" in missed)
        complaint = Complaint.objects.create(
            ticket=f"CMS-2026-T{self.n:05d}",
            year=2026,
            sequence=self.n,
            name="Sana Javed",
            cnic="3520212345673",
            mobile="+923000000001",
            addressed_to=office,
            office=office,
            category=category,
            subject="Polling station moved",
            description="Moved without notice.",
            otp=otp,
            created_at=created_at,
            updated_at=created_at,
            **fields,
        )
        if missed:
            ComplaintEvent.objects.create(
                complaint=complaint,
                at=created_at + timedelta(hours=9),
                kind=EventKind.ESCALATED,
                office=office,
                text=missed,
            )
        return complaint


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def handcrafted(world: World) -> World:
    """Ten complaints; the period of period_query() (9 to 1 days ago) holds eight filings, five resolutions."""
    w, resolved, closed = world, Status.RESOLVED, Status.CLOSED
    w.complaint(
        w.lahore, w.polling, at(5, 10), status=resolved, resolved_at=at(4, 10), responded_at=at(5, 12), desk=w.desk_l1
    )  # 24 h
    w.complaint(
        w.lahore,
        w.polling,
        at(5, 11),
        status=closed,
        resolved_at=at(3, 11),
        responded_at=at(5, 12),
        desk=w.desk_l1,
        breaches=1,
        escalations=1,
        missed="resolution",
    )  # 48 h
    w.complaint(
        w.lahore,
        w.polling,
        at(3, 9),
        status=Status.IN_PROGRESS,
        responded_at=at(2, 9),
        desk=w.desk_l2,
        breaches=1,
        escalations=1,
        missed="first_response",
    )
    w.complaint(w.lahore, w.staff, at(2, 9), status=Status.NEW)
    w.complaint(
        w.kasur, w.staff, at(4, 10), status=resolved, resolved_at=at(4, 16), responded_at=at(4, 11), desk=w.desk_k1
    )  # 6 h
    w.complaint(
        w.kasur,
        w.staff,
        at(1, 10),
        status=Status.WAITING,
        desk=w.desk_k1,
        breaches=2,
        escalations=1,
        missed="first_response, resolution",
    )
    w.complaint(w.multan, w.polling, at(3, 10), status=Status.NEW)
    w.complaint(w.pec, w.polling, at(2, 10), status=resolved, resolved_at=at(1, 10), responded_at=at(2, 11))  # 24 h
    # Filed before the period, resolved in it (16 days = 384 h, after a missed deadline); and one long open.
    w.complaint(
        w.lahore,
        w.polling,
        at(20, 10),
        status=resolved,
        resolved_at=at(4, 10),
        responded_at=at(19, 10),
        desk=w.desk_l1,
        breaches=1,
        missed="resolution",
    )
    w.complaint(w.lahore, w.polling, at(40, 10), status=Status.IN_PROGRESS, responded_at=at(39, 10), desk=w.desk_l2)
    return w  # fmt: skip


def client_for(username: str, role: str | None = None, office: Office | None = None, **user_fields) -> Client:
    user = UserFactory(username=username, is_staff=True, **user_fields)
    if role is not None:
        RoleAssignment.objects.create(user=user, role=role, office=office)
    client = Client()
    verified_login(client, user)
    client.user = user
    return client


def period() -> reports.Period:
    today = timezone.localdate()
    return reports.Period(today - timedelta(days=9), today - timedelta(days=1))


def test_every_figure_of_the_handcrafted_set(handcrafted):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    report = reports.complaint_report(admin, period())
    t = report.totals
    assert (t["received"], t["open"], t["done"], t["breached"], t["escalated"]) == (8, 4, 4, 3, 3)
    assert t["breached_pct"] == 37.5
    # First responses: in time c1 c2 c5 c8 (c3 answered after its miss; c6 missed, unanswered; c4 c7 pending).
    assert (t["fr_met"], t["fr_missed"], t["fr_met_pct"]) == (4, 2, 66.7)
    assert (t["resolved"], t["resolved_late"]) == (5, 2)
    assert report.average_resolution == timedelta(hours=(24 + 48 + 6 + 24 + 384) / 5)
    assert report.median_resolution == timedelta(hours=24)
    assert report.open_now == 5 and sum(b["n"] for b in report.ageing) == 5
    received = {row["day"]: (row["done"], row["open"]) for row in report.received_by_day if row["total"]}
    today = timezone.localdate()
    day = lambda n: today - timedelta(days=n)  # noqa: E731
    assert received == {day(5): (2, 0), day(4): (1, 0), day(3): (0, 2), day(2): (1, 1), day(1): (0, 1)}
    assert len(report.received_by_day) == 9 and report.received_by_day[0]["day"] == day(9)
    done = {row["day"]: (row["on_time"], row["late"]) for row in report.resolved_by_day if row["total"]}
    assert done == {day(4): (2, 1), day(3): (0, 1), day(1): (1, 0)}
    assert [(r["name"], r["received"], r["open"], r["breached"]) for r in report.by_district] == [
        ("Lahore", 4, 2, 2),
        ("Kasur", 2, 1, 1),
        ("Multan", 1, 1, 0),
        ("Secretariat / province level", 1, 0, 0),
    ]
    assert [(r["name"], r["received"]) for r in report.by_office] == [
        ("DEC Lahore", 4),
        ("DEC Kasur", 2),
        ("DEC Multan", 1),
        ("PEC Punjab", 1),
    ]
    assert [(r["name"], r["received"], r["done"], r["breached_pct"]) for r in report.by_category] == [
        ("Polling station", 5, 3, 40.0),
        ("Staff conduct", 3, 1, 33.3),
    ]
    assert [(r["desk"], r["officer"], r["open"], r["resolved"]) for r in report.workload] == [
        ("", "", 2, 0),  # open at no desk: c4, c7
        ("Desk 2", "", 2, 0),
        ("=SUM(A1:A9)", "", 1, 1),
        ("Desk 1", "Asma Rauf", 0, 3),
    ]


def test_open_complaints_fall_into_their_age_buckets(world):
    now = timezone.now()
    for age in (timedelta(hours=2), timedelta(days=2), timedelta(days=5), timedelta(days=10), timedelta(days=40)):
        world.complaint(world.lahore, world.polling, now - age, status=Status.IN_PROGRESS)
    world.complaint(world.lahore, world.polling, now - timedelta(days=50), status=Status.RESOLVED, resolved_at=now)
    admin = UserFactory(username="root", is_superuser=True)
    report = reports.complaint_report(admin, reports.default_period(), now=now)
    assert [(b["key"], b["n"]) for b in report.ageing] == [
        ("lt1", 1),
        ("d1_3", 1),
        ("d3_7", 1),
        ("d7_30", 1),
        ("gt30", 1),
    ]
    assert report.totals["received"] == 4 and report.totals["resolved"] == 1  # 40 days ago: before the 30


def test_a_district_desk_officer_sees_only_the_district(handcrafted):
    client = client_for("dec-officer", Role.DESK_OFFICER, handcrafted.lahore)
    report = reports.complaint_report(client.user, period())
    assert report.totals["received"] == 4 and [r["name"] for r in report.by_district] == ["Lahore"]
    assert {r["desk"] for r in report.workload} == {"", "Desk 1", "Desk 2"}
    page = client.get(PAGE, period_query()).content.decode()
    assert "DEC Lahore" in page and "Kasur" not in page and "DEC Multan" not in page
    # Another district's office is not a choice: a message and a 400, no figures of it.
    response = client.get(PAGE, period_query(office=handcrafted.kasur.pk))
    assert response.status_code == 400 and "Choose one of the offices listed." in response.content.decode()
    assert "Kasur" not in response.content.decode()
    rows = list(csv.reader(io.StringIO(client.get(CSV_URL, period_query()).getvalue().decode("utf-8-sig"))))
    assert {row[3] for row in rows[1:]} == {"DEC Lahore"} and len(rows) == 5


def test_a_supervisor_sees_the_offices_below_and_may_narrow_to_one(handcrafted):
    client = client_for("rec-supervisor", Role.COMPLAINTS_SUPERVISOR, handcrafted.rec)
    assert reports.complaint_report(client.user, period()).totals["received"] == 6
    narrowed = reports.complaint_report(client.user, period(), office_id=handcrafted.kasur.pk)
    assert narrowed.totals["received"] == 2 and [r["name"] for r in narrowed.by_office] == ["DEC Kasur"]
    by_category = reports.complaint_report(client.user, period(), category_id=handcrafted.polling.pk)
    assert by_category.totals["received"] == 3
    response = client.get(PAGE, period_query(office=handcrafted.kasur.pk))
    page = response.content.decode()
    assert response.status_code == 200 and "DEC Kasur" in page and "Multan" not in page
    # An office outside the scope asked for directly gives nothing either.
    assert reports.complaint_report(client.user, period(), office_id=handcrafted.multan.pk).totals["received"] == 0


@pytest.mark.parametrize("path", [PAGE, "/ur" + PAGE, CSV_URL])
def test_who_may_open_the_reports(world, path):
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and "/staff/login/" in anonymous["Location"]
    assert client_for("clerk", Role.OMR_OPERATOR).get(path).status_code == 403
    assert client_for("desk", Role.DESK_OFFICER, world.lahore).get(path).status_code == 200
    assert client_for("root", is_superuser=True).get(path).status_code == 200


def test_the_page_shows_charts_tables_and_the_csv_link(handcrafted):
    client = client_for("root", is_superuser=True)
    response = client.get(PAGE, period_query())
    page = response.content.decode()
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    assert page.count('class="sms-chart__svg"') == 2 and 'id="chart-received-title"' in page
    assert "37.5%" in page and "66.7%" in page and "Asma Rauf" in page
    assert "Secretariat / province level" in page and "Staff conduct" in page
    assert "4 d 1 h" in page and "1 d 0 h" in page  # average 97.2 h, median 24 h
    assert CSV_URL + "?date_from=" in page


def test_reports_over_many_offices_are_kept_two_minutes_and_say_so(handcrafted):
    def received(client) -> tuple[int, bool]:
        response = client.get(PAGE, period_query())
        return response.context["report"].totals["received"], "Figures as of" in response.content.decode()

    client = client_for("root", is_superuser=True)
    assert received(client) == (8, True)
    handcrafted.complaint(handcrafted.kasur, handcrafted.staff, at(2, 11), status=Status.NEW)
    assert received(client) == (8, True)  # the kept report
    cache.clear()  # two minutes later
    assert received(client) == (9, True)
    # A district officer's report (a handful of offices) is always computed afresh.
    desk = client_for("desk", Role.DESK_OFFICER, handcrafted.kasur)
    assert received(desk) == (3, False)
    handcrafted.complaint(handcrafted.kasur, handcrafted.staff, at(2, 12), status=Status.NEW)
    assert received(desk) == (4, False)


def test_a_period_with_nothing_shows_the_empty_state(handcrafted):
    response = client_for("root", is_superuser=True).get(PAGE, period_query(first=200, last=100))
    page = response.content.decode()
    assert response.status_code == 200 and "No complaint was filed or resolved in this period" in page
    assert "sms-chart__svg" not in page
    assert "Open complaints by age" in page  # the open ones still age


def test_the_csv_lists_the_period_with_formula_cells_neutralised(handcrafted):
    response = client_for("root", is_superuser=True).get(CSV_URL, period_query())
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming and "attachment" in response["Content-Disposition"]
    body = response.getvalue().decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:4] == ["Ticket", "Filed (Pakistan time)", "Office code", "Office"] and len(rows) == 9
    assert [row[0] for row in rows[1:]] == [f"CMS-2026-T{n:05d}" for n in (1, 2, 5, 3, 7, 4, 8, 6)]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["District"] == "Lahore" and first["Status"] == "Resolved" and first["Hours to resolve"] == "24.0"
    assert first["Desk"] == "Desk 1" and first["Deadlines missed"] == "0"
    kasur = next(row for row in rows if row[0] == "CMS-2026-T00005")
    assert kasur[8] == "'=SUM(A1:A9)"  # the desk's name would be a formula
    pec = next(row for row in rows if row[0] == "CMS-2026-T00008")
    assert pec[4] == "Secretariat / province level" and pec[8] == ""


def test_csv_cells_that_a_spreadsheet_would_run_are_kept_as_text():
    assert [csv_cell(v) for v in ("=1+1", "+92", "-3", "@SUM", "\tx", "CMS-2026-X", None, 7)] == [
        "'=1+1",
        "'+92",
        "'-3",
        "'@SUM",
        "'\tx",
        "CMS-2026-X",
        "",
        "7",
    ]
    assert duration_text(timedelta(hours=97, minutes=12)) == "4 d 1 h"
    assert duration_text(timedelta(minutes=95)) == "1 h 35 min"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "2026-06-10", "date_to": "2026-06-01"}, "The end of the period comes before its start."),
        ({"date_from": "2026-13-45"}, "Enter a valid date."),
        ({"date_from": "yesterday", "date_to": "2026-06-01"}, "Enter a valid date."),
        ({"date_from": "2025-01-01", "date_to": "2026-06-01"}, "A report covers at most 366 days"),
        ({"category": "abc"}, "Choose one of the categories listed."),
        ({"office": "999999"}, "Choose one of the offices listed."),
    ],
)
@pytest.mark.parametrize("path", [PAGE, CSV_URL])
def test_bad_filters_get_a_message_and_a_400(world, query, message, path):
    response = client_for("root", is_superuser=True).get(path, query)
    assert response.status_code == 400 and message in response.content.decode()
    assert "sms-chart__svg" not in response.content.decode()


def test_a_full_year_is_allowed_and_the_defaults_are_the_last_30_days(world):
    client = client_for("root", is_superuser=True)
    assert client.get(PAGE, {"date_from": "2024-01-01", "date_to": "2024-12-31"}).status_code == 200  # 366 days
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.context["period"] == reports.default_period()
    assert response.context["period"].last - response.context["period"].first == timedelta(days=29)
    only_start = client.get(PAGE, {"date_from": "2024-03-01"}).context["period"]
    assert only_start == reports.Period(date(2024, 3, 1), date(2024, 3, 30))


def test_the_urdu_page_renders_right_to_left(handcrafted):
    response = client_for("root", is_superuser=True).get("/ur" + PAGE, period_query())
    page = response.content.decode()
    assert response.status_code == 200 and 'dir="rtl"' in page and 'lang="ur"' in page
    assert "قصور" in page and "پولنگ اسٹیشن" in page  # Urdu names of districts and categories
    rows = list(
        csv.reader(
            io.StringIO(
                client_for("root2", is_superuser=True)
                .get("/ur" + CSV_URL, period_query())
                .getvalue()
                .decode("utf-8-sig")
            )
        )
    )
    assert any(row[4] == "لاہور" for row in rows[1:])  # fmt: skip


def _query_count(client, django_assert_max_num_queries, bound: int) -> None:
    with django_assert_max_num_queries(bound):
        assert client.get(PAGE, period_query()).status_code == 200


def test_the_page_runs_a_bounded_number_of_queries(handcrafted, django_assert_max_num_queries):
    supervisor = client_for("pec-supervisor", Role.COMPLAINTS_SUPERVISOR, handcrafted.pec)
    admin = client_for("root", is_superuser=True)
    for client in (supervisor, admin):
        _query_count(client, django_assert_max_num_queries, 20)
    # Ten times the complaints, more offices and desks: the same bound.
    w = handcrafted
    for n in range(8):
        office = Office.objects.create(code=f"dec-extra-{n}", kind=OfficeKind.DEC, name=f"DEC {n}", parent=w.rec)
        desk = Desk.objects.create(office=office, name="Desk")
        for k in range(12):
            w.complaint(office, w.staff if k % 2 else w.polling, at(k % 9 + 1, 9), desk=desk, breaches=k % 3)
    for client in (supervisor, admin):
        _query_count(client, django_assert_max_num_queries, 20)
    with django_assert_max_num_queries(12):
        assert admin.get(CSV_URL, period_query()).getvalue()
