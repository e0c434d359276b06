"""Benchmark: the complaints staff pages and the SLA sweep over a national year of complaints (issue 7).

    .venv/bin/python bench/complaints.py                     # 1,000,000 complaints, 5 events each
    .venv/bin/python bench/complaints.py --count 20000       # a quick run (~1 minute)
    .venv/bin/python bench/complaints.py --keep              # keep the database afterwards

Uses the database ``ecp_bench_complaints`` (``--database-url``), which it DROPS, creates fresh and migrates, and
drops again at the end unless ``--keep``; it refuses a database whose name does not contain "bench". DEBUG off.

Setup (not measured, but timed): the national office hierarchy (CEC → Secretary → Special Secretary → two
Additional Secretaries; 5 PECs; 30 RECs; 150 DECs, each DEC with a district of its own), 8 categories, 2–4
desks an office each with an officer (a desk officer's role on the office), a complaints supervisor per PEC and
an administrator. Then N complaints spread evenly over the last 365 days, with a one-time code each (the
one-to-one key) and 5 timeline events each, written with PostgreSQL COPY (psycopg's ``cursor.copy``) with the
tables' secondary indexes dropped and the foreign-key triggers off (``session_replication_role = replica``: the
rows are consistent by construction) and the indexes re-created afterwards from their own definitions, then
VACUUM ANALYZE. The mix: 85 % addressed to a DEC, 8 % to a REC, 4 % to a PEC, 3 % to the Secretariat; 80 %
normal, 15 % high, 5 % urgent priority; still open by age (85 % of the last day's, 60 % at 1–3 days, 35 % at
3–7, 15 % at 7–30, 2 % older), the rest resolved (70 % of those older than a week also closed); 12 % missed one
deadline and 3 % two, most of them escalated one office up.

Measured in this process through Django's test client (the whole middleware stack; the session of a user who
passed the second factor), each request ``--repeat`` times after two warm-ups, p50 and p95 of the wall time,
and once more under CaptureQueriesContext for the query count and the database time:
- baselines: ``SELECT 1`` (a database round trip) and the staff home page (a small signed-in page);
- a DEC desk officer's inbox: page 1 of the open complaints, and a deep page (page 200 of all the office's);
- search: a word of the subjects and a ticket number (as the DEC officer, and as the administrator);
- the reports dashboard, default period (the last 30 days): a PEC's supervisor, and the administrator
  (national); also the administrator over 366 days and the CSV export of the last 30 days, for reference;
- pages over the 100 ms target get the EXPLAIN ANALYZE of their two slowest queries.

Then the sweep: every complaint made open with deadlines (5 % past their resolution deadline, 5 % past the
warning point of it, the rest due later), VACUUM ANALYZE, and ``complaints.services.sla_sweep`` timed end to
end, with the number warned, escalated and missed at the top, and the time of a second sweep with nothing to
do (the every-minute steady state).

Prints ``name: value`` lines and each page's ratio to the staff-home baseline; the issue's targets at the end.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ecp_bench_complaints"
TARGET_MS = 100.0
INBOX, REPORTS = "/complaints/staff/", "/complaints/staff/reports/"
TARGET_SWEEP_S = 10.0

PROVINCES = (  # code, PEC name, RECs (each with 5 DECs)
    ("punjab", "Punjab", 12),
    ("sindh", "Sindh", 7),
    ("kp", "Khyber Pakhtunkhwa", 6),
    ("balochistan", "Balochistan", 4),
    ("ict", "Islamabad", 1),
)
DECS_PER_REC = 5
CATEGORIES = (  # code, name, weight
    ("polling-station", "Polling station", 30),
    ("electoral-roll", "Electoral roll", 25),
    ("staff-conduct", "Staff conduct", 12),
    ("campaign-violation", "Campaign violation", 10),
    ("result", "Result", 8),
    ("recruitment", "Recruitment", 6),
    ("transport", "Transport", 5),
    ("other", "Other", 4),
)
SUBJECTS = (
    "Polling station moved without notice", "Name missing from the electoral roll", "Wrong address on the roll",
    "Vote transfer not processed", "Staff rude at the display centre", "Banner on a government building",
    "Loudspeaker use after hours", "Result form not displayed", "Presiding officer absent", "Queue without shade",
    "No ramp for wheelchair users", "Duplicate entry on the roll", "Family split across stations",
    "Recruitment test centre changed", "Roll number slip not received", "Transport for polling staff late",
    "Campaign office near the station", "Vehicles carrying voters", "Wall chalking in the market",
    "Complaint about the helpline", "Display period too short", "Census block wrongly assigned",
    "Female booth without female staff", "Station in a private house", "Threats to voters reported",
)  # fmt: skip
FIRST = ("Muhammad", "Ahmed", "Ali", "Hassan", "Fatima", "Ayesha", "Zainab", "Bilal", "Sana", "Usman", "Nadia", "Imran")
LAST = ("Khan", "Malik", "Chaudhry", "Sheikh", "Qureshi", "Butt", "Rana", "Awan", "Baloch", "Shah", "Jatoi", "Afridi")
SEARCH_WORD = "transfer"  # in one subject of 25: ~4 % of the complaints


def say(name: str, value) -> None:
    print(f"{name}: {value}", flush=True)


def _maintenance(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(f"bench: the database URL must point at PostgreSQL, not {parts.scheme}.")
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"bench: refusing to drop database {name!r}; use a database whose name contains 'bench'.")
    maintenance = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    return name, maintenance.replace("postgres://", "postgresql://", 1)


def recreate_database(url: str) -> None:
    import psycopg

    name, maintenance = _maintenance(url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    name, maintenance = _maintenance(url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- setup ------------------------------------------------------------------------------------------------------


class World:
    """Ids of what the setup made, for the generator and the measurements."""

    def __init__(self) -> None:
        self.offices: dict[int, tuple[str, int | None]] = {}  # id → (kind, parent id)
        self.desks: dict[int, list[int]] = {}  # office id → desk ids
        self.dec_ids: list[int] = []
        self.rec_ids: list[int] = []
        self.pec_ids: list[int] = []
        self.secretariat_ids: list[int] = []
        self.categories: list[int] = []
        self.category_weights: list[int] = []
        self.users: dict[str, object] = {}


def build_world(seed: int) -> World:
    from django.contrib.auth import get_user_model

    from complaints.models import Category, Desk
    from core.models import District, Office, OfficeKind, Province, Role, RoleAssignment

    rng = random.Random(seed)
    world = World()
    provinces = {}
    for code, name, _recs in PROVINCES:
        provinces[code], _ = Province.objects.get_or_create(code=code, defaults={"name": name})

    def office(code: str, kind: str, name: str, parent: Office | None, **more) -> Office:
        made = Office.objects.create(code=code, kind=kind, name=name, name_ur=f"دفتر {name}", parent=parent, **more)
        world.offices[made.pk] = (kind, parent.pk if parent else None)
        return made

    cec = office("cec", OfficeKind.CEC, "Chief Election Commissioner", None)
    secretary = office("secretary", OfficeKind.SECRETARY, "Secretary ECP", cec)
    special = office("special-secretary", OfficeKind.SPECIAL_SECRETARY, "Special Secretary", secretary)
    world.secretariat_ids = [cec.pk, secretary.pk, special.pk]
    for n in (1, 2):
        world.secretariat_ids.append(
            office(f"as-{n}", OfficeKind.ADDITIONAL_SECRETARY, f"Additional Secretary {n}", special).pk
        )
    for code, name, recs in PROVINCES:
        pec = office(f"pec-{code}", OfficeKind.PEC, f"PEC {name}", secretary, province=provinces[code])
        world.pec_ids.append(pec.pk)
        for r in range(1, recs + 1):
            rec = office(f"rec-{code}-{r}", OfficeKind.REC, f"REC {name} {r}", pec, province=provinces[code])
            world.rec_ids.append(rec.pk)
            for d in range(1, DECS_PER_REC + 1):
                district = District.objects.create(
                    province=provinces[code], name=f"{name} district {r}-{d}", name_ur=f"ضلع {r}-{d}"
                )
                dec = office(
                    f"dec-{code}-{r}-{d}",
                    OfficeKind.DEC,
                    f"DEC {name} {r}-{d}",
                    rec,
                    province=provinces[code],
                    district=district,
                )
                world.dec_ids.append(dec.pk)
    for code, name, weight in CATEGORIES:
        world.categories.append(Category.objects.create(code=code, name=name, name_ur=f"زمرہ {name}").pk)
        world.category_weights.append(weight)

    user_model = get_user_model()
    officers = []
    desk_rows = []
    for office_id in world.offices:
        for n in range(rng.randint(2, 4)):
            user = user_model(
                username=f"officer-{office_id}-{n}", first_name=rng.choice(FIRST), last_name=rng.choice(LAST)
            )
            user.set_unusable_password()
            officers.append(user)
            desk_rows.append((office_id, n))
    officers = user_model.objects.bulk_create(officers)
    desks = Desk.objects.bulk_create(
        Desk(office_id=office_id, name=f"Desk {n + 1}", name_ur=f"ڈیسک {n + 1}", officer=user)
        for (office_id, n), user in zip(desk_rows, officers, strict=True)
    )
    for desk in desks:
        world.desks.setdefault(desk.office_id, []).append(desk.pk)
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=user, role=Role.DESK_OFFICER, office_id=office_id)
        for (office_id, _n), user in zip(desk_rows, officers, strict=True)
    )
    supervisor = user_model.objects.create(username="pec-punjab-supervisor", first_name="Saima", last_name="Shah")
    RoleAssignment.objects.create(user=supervisor, role=Role.COMPLAINTS_SUPERVISOR, office_id=world.pec_ids[0])
    world.users["pec_supervisor"] = supervisor
    world.users["admin"] = user_model.objects.create(username="bench-admin", is_superuser=True, is_staff=True)
    for user in world.users.values():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return world


def world_from_database() -> World:
    """The World of a database a ``--keep`` run left (``--reuse``)."""
    from django.contrib.auth import get_user_model

    from complaints.models import Category, Desk
    from core.models import Office, OfficeKind
    from core.models.offices import SECRETARIAT_KINDS

    world = World()
    lists = {OfficeKind.PEC: world.pec_ids, OfficeKind.REC: world.rec_ids, OfficeKind.DEC: world.dec_ids}
    for pk, kind, parent in Office.objects.order_by("pk").values_list("id", "kind", "parent_id"):
        world.offices[pk] = (kind, parent)
        (world.secretariat_ids if kind in SECRETARIAT_KINDS else lists[kind]).append(pk)
    for pk, office in Desk.objects.order_by("pk").values_list("id", "office_id"):
        world.desks.setdefault(office, []).append(pk)
    world.categories = list(Category.objects.order_by("pk").values_list("id", flat=True))
    users = get_user_model().objects
    world.users = {
        "pec_supervisor": users.get(username="pec-punjab-supervisor"),
        "admin": users.get(username="bench-admin"),
    }
    return world


# --- the complaints, by COPY -------------------------------------------------------------------------------------

COMPLAINT_COLUMNS = (
    "id", "ticket", "year", "sequence", "name", "cnic", "mobile", "email", "language", "addressed_to_id",
    "office_id", "category_id", "priority", "subject", "description", "status", "desk_id", "first_response_due",
    "first_response_left", "resolution_due", "resolution_left", "breaches", "escalations", "responded_at",
    "resolved_at", "closed_at", "updated_at", "otp_id", "created_at", "first_response_missed",
)  # fmt: skip
OTP_COLUMNS = ("id", "phone", "purpose", "code_hash", "attempts", "created_at", "expires_at", "verified_at")
EVENT_COLUMNS = ("id", "complaint_id", "at", "kind", "is_public", "office_id", "desk_id", "text")
TABLES = ("complaints_complaint", "complaints_complaintevent", "sms_otpchallenge")
HOUR = timedelta(hours=1)


def _open_share(age_days: float) -> float:
    if age_days < 1:
        return 0.85
    if age_days < 3:
        return 0.60
    if age_days < 7:
        return 0.35
    if age_days < 30:
        return 0.15
    return 0.02


def generate(world: World, count: int, now: datetime, seed: int, key: bytes):
    """Yields (complaint row, otp row, 5 event rows) in filing order."""
    from complaints.ticket import ticket_number

    rng = random.Random(seed)
    kinds = [world.dec_ids, world.rec_ids, world.pec_ids, world.secretariat_ids]
    dec_weights = [rng.uniform(0.3, 3.0) for _ in world.dec_ids]  # busy and quiet districts
    addressed_kind = rng.choices(range(4), weights=(85, 8, 4, 3), k=count)
    addressed_dec = rng.choices(world.dec_ids, weights=dec_weights, k=count)
    category = rng.choices(world.categories, weights=world.category_weights, k=count)
    priority = rng.choices(("normal", "high", "urgent"), weights=(80, 15, 5), k=count)
    subject = rng.choices(SUBJECTS, k=count)
    start = now - timedelta(days=365)
    step = timedelta(days=365) / count
    sequences: dict[int, int] = {}
    description = "Synthetic complaint for the benchmark. " * 3
    secretariat = set(world.secretariat_ids)
    for i in range(count):
        pk = i + 1
        created = start + step * (i + rng.random())
        age_days = (now - created).total_seconds() / 86400
        year = created.year
        seq = sequences.get(year, 0)
        sequences[year] = seq + 1
        kind = addressed_kind[i]
        addressed = addressed_dec[i] if kind == 0 else rng.choice(kinds[kind])
        roll = rng.random()
        is_open = roll < _open_share(age_days)
        breaches = 0
        if age_days > 1:
            b = rng.random()
            breaches = 2 if b < 0.03 else 1 if b < 0.15 else 0
        escalated = breaches and addressed not in secretariat and rng.random() < 0.85
        holding = world.offices[addressed][1] if escalated else addressed
        if is_open:
            status = rng.choices(("new", "in_progress", "waiting"), weights=(30, 55, 15))[0]
        else:
            status = "closed" if age_days > 7 and rng.random() < 0.7 else "resolved"
        desk = None if status == "new" and rng.random() < 0.5 else rng.choice(world.desks[holding])
        responded = None if status == "new" else min(created + HOUR * rng.uniform(0.5, 30), now)
        resolved = closed = None
        fr_due = fr_left = res_due = res_left = None
        if not is_open:
            took = HOUR * min(math.exp(rng.gauss(math.log(40), 1.0)), age_days * 24 * 0.95)
            resolved = created + max(took, HOUR * 0.2)
            responded = min(responded or resolved, resolved)
            if status == "closed":
                closed = min(resolved + timedelta(days=7), now)
        elif status == "waiting":
            res_left = HOUR * rng.uniform(4, 30)
        else:
            if responded is None:
                fr_due = now + HOUR * rng.uniform(1, 8)
            res_due = now + HOUR * rng.uniform(1, 40)
        ticket = ticket_number(year, seq, key)
        mobile = f"+92300{rng.randrange(10_000_000):07d}"
        otp = uuid.UUID(int=pk)
        missed_text = "first_response" if rng.random() < 0.6 else "resolution"
        complaint = (
            pk, ticket, year, seq, f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"{rng.randrange(10**12, 10**13)}",
            mobile, "", "ur" if rng.random() < 0.6 else "en", addressed, holding, category[i], priority[i],
            subject[i], description, status, desk, fr_due, fr_left, res_due, res_left, breaches, 1 if escalated else 0,
            responded, resolved, closed, closed or resolved or responded or created, otp, created,
            bool(breaches) and missed_text == "first_response",
        )  # fmt: skip
        otp_row = (otp, mobile, "complaint", "0" * 64, 0, created - HOUR / 6, created, created - HOUR / 12)
        base = pk * 5
        first_desk = rng.choice(world.desks[addressed])
        if escalated:
            third = (base + 2, pk, created + HOUR * 10, "escalated", True, holding, None, missed_text)
        elif breaches:
            third = (base + 2, pk, created + HOUR * 10, "deadline_missed", False, holding, None, missed_text)
        else:
            third = (base + 2, pk, created + HOUR * 3, "note", False, holding, desk, "Checked the record.")
        if not is_open:
            last = (base + 4, pk, resolved, "resolved", True, holding, desk, "Resolved: the record is corrected.")
        elif status == "waiting":
            last = (base + 4, pk, created + HOUR * 12, "info_requested", True, holding, desk, "Send your CNIC copy.")
        else:
            last = (base + 4, pk, created + HOUR * 12, "note", False, holding, desk, "Asked the RO for the record.")
        events = (
            (base, pk, created, "filed", True, addressed, None, ""),
            (base + 1, pk, created + HOUR / 2, "assigned", True, addressed, first_desk, ""),
            third,
            (base + 3, pk, responded or created + HOUR, "reply", True, holding, desk, "We are looking into it."),
            last,
        )
        yield complaint, otp_row, events


def load(world: World, count: int, now: datetime, seed: int) -> dict[str, float]:
    from django.db import connection

    from complaints.services import _ticket_key

    timings: dict[str, float] = {}
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
            "quote_ident(i.indexname))::regclass)",
            [list(TABLES)],
        )
        secondary = cursor.fetchall()
        for name, _definition in secondary:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")  # no FK triggers: consistent by construction
        raw = cursor.cursor
        rows = generate(world, count, now, seed, _ticket_key())
        batch: list[tuple] = []
        otps: list[tuple] = []
        events: list[tuple] = []
        done = 0

        def flush() -> None:
            with raw.copy(f"COPY sms_otpchallenge ({', '.join(OTP_COLUMNS)}) FROM STDIN") as copy:
                for row in otps:
                    copy.write_row(row)
            with raw.copy(f"COPY complaints_complaint ({', '.join(COMPLAINT_COLUMNS)}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
            with raw.copy(f"COPY complaints_complaintevent ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for row in events:
                    copy.write_row(row)
            batch.clear()
            otps.clear()
            events.clear()

        for complaint, otp_row, five in rows:
            batch.append(complaint)
            otps.append(otp_row)
            events.extend(five)
            if len(batch) == 50_000:
                flush()
                done += 50_000
                print(f"  … {done:,} complaints ({time.perf_counter() - began:.0f} s)", flush=True)
        flush()
        cursor.execute("SET session_replication_role = DEFAULT")
        timings["copy"] = time.perf_counter() - began
        began = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in secondary:
            cursor.execute(definition)
        for table in ("complaints_complaint", "complaints_complaintevent"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )
        timings["indexes"] = time.perf_counter() - began
    began = time.perf_counter()
    vacuum_analyze()
    timings["vacuum_analyze"] = time.perf_counter() - began
    return timings


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


# --- measuring ---------------------------------------------------------------------------------------------------


def signed_in(user):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


class Figure:
    def __init__(self, name: str, times: list[float], queries: int, db_ms: float, status: int | None = None):
        self.name, self.times, self.queries, self.db_ms, self.status = name, times, queries, db_ms, status

    @property
    def p50(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def measure(name: str, call, repeat: int) -> tuple[Figure, list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        call()
    times = []
    status = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
        status = getattr(result, "status_code", status)
    with CaptureQueriesContext(connection) as captured:
        call()
    queries = list(captured.captured_queries)
    db_ms = sum(float(q["time"]) for q in queries) * 1000
    return Figure(name, times, len(queries), db_ms, status), queries


def get(client, path: str, *, cold: bool = False):
    """A GET of the page; ``cold``: with the cache emptied first (reports over many offices are kept 2 minutes)."""
    from django.core.cache import cache

    def call():
        if cold:
            cache.clear()
        response = client.get(path)
        if getattr(response, "streaming", False):
            for _chunk in response.streaming_content:
                pass
        response.close()
        return response

    return call


def explain(queries: list[dict], top: int = 2) -> None:
    from django.db import connection

    slow = sorted(
        (q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")), key=lambda q: -float(q["time"])
    )[:top]
    for q in slow:
        print(f"    slow query ({float(q['time']) * 1000:.1f} ms): {q['sql'][:300]}…")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
            for (line,) in cursor.fetchall()[:25]:
                print(f"      {line}")


def profile(call, top: int = 8) -> None:
    """Where a slow page's time goes outside the database: each template's inclusive render time and how many
    times it was rendered (includes nest), from one request."""
    from collections import defaultdict

    from django.template.base import Template

    spent: dict[str, float] = defaultdict(float)
    renders: dict[str, int] = defaultdict(int)
    original = Template._render

    def timed(self, context):
        began = time.perf_counter()
        try:
            return original(self, context)
        finally:
            spent[self.name or "?"] += time.perf_counter() - began
            renders[self.name or "?"] += 1

    Template._render = timed
    try:
        began = time.perf_counter()
        call()
        total = time.perf_counter() - began
    finally:
        Template._render = original
    print(f"      one request {total * 1000:.1f} ms; templates, inclusive time:")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1])[:top]:
        print(f"        {name}: {seconds * 1000:.1f} ms in {renders[name]} render(s)")


def pages(world: World, repeat: int, with_plans: bool) -> list[Figure]:
    from django.db import connection
    from django.db.models import Count

    from complaints.models import Complaint, Desk

    figures: list[Figure] = []

    def select_one():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    # The busiest DEC (its districts are weighted 0.3–3): the worst inbox.
    office_id = (
        Complaint.objects.filter(office_id__in=world.dec_ids)
        .values("office_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("office_id", "n")[0][0]
    )
    officer_user = Desk.objects.filter(office_id=office_id).select_related("officer").first().officer
    officer = signed_in(officer_user)
    supervisor = signed_in(world.users["pec_supervisor"])
    admin = signed_in(world.users["admin"])
    ticket = Complaint.objects.filter(office_id=office_id).order_by("-created_at").values_list("ticket", flat=True)[3]
    pretty = f"{ticket[:-6]}{ticket[-6:-3]} {ticket[-3:].lower()}"  # typed loosely, as people do
    deep = Complaint.objects.filter(office_id=office_id).count() // 25 * 4 // 5 or 1
    plan = [
        ("baseline: SELECT 1", select_one),
        ("baseline: staff home page", get(officer, "/staff/")),
        ("inbox, DEC desk officer, page 1 (open)", get(officer, "/complaints/staff/")),
        (f"inbox, DEC desk officer, page {deep} (all)", get(officer, f"/complaints/staff/?status=all&page={deep}")),
        (f"search, DEC desk officer, word '{SEARCH_WORD}'", get(officer, f"{INBOX}?status=all&q={SEARCH_WORD}")),
        ("search, DEC desk officer, ticket number", get(officer, f"/complaints/staff/?status=all&q={pretty}")),
        (f"search, national admin, word '{SEARCH_WORD}'", get(admin, f"/complaints/staff/?status=all&q={SEARCH_WORD}")),
        ("search, national admin, ticket number", get(admin, f"/complaints/staff/?status=all&q={pretty}")),
        ("reports, PEC Punjab supervisor, last 30 days", get(supervisor, "/complaints/staff/reports/", cold=True)),
        ("reports, national admin, last 30 days", get(admin, "/complaints/staff/reports/", cold=True)),
        ("reports, DEC desk officer, last 30 days", get(officer, "/complaints/staff/reports/", cold=True)),
        ("reports, national admin, kept (within 2 minutes)", get(admin, "/complaints/staff/reports/")),
    ]  # fmt: skip
    today = datetime.now(UTC).date()
    year_ago = (today - timedelta(days=365)).isoformat()
    extra = [
        ("(reference) reports, national admin, 366 days", get(admin, f"{REPORTS}?date_from={year_ago}", cold=True)),
        ("(reference) CSV, PEC Punjab supervisor, last 30 days", get(supervisor, "/complaints/staff/reports.csv")),
    ]  # fmt: skip
    baseline = None
    for name, call in plan + extra:
        figure, queries = measure(name, call, repeat if not name.startswith("(reference)") else max(3, repeat // 4))
        figures.append(figure)
        if name == "baseline: staff home page":
            baseline = figure.p50
        ratio = (
            f", ×{figure.p50 / baseline:.1f} the staff home" if baseline and name != "baseline: staff home page" else ""
        )
        status = f", HTTP {figure.status}" if figure.status else ""
        say(
            name,
            f"p50 {figure.p50:.1f} ms, p95 {figure.p95:.1f} ms, {figure.queries} queries "
            f"({figure.db_ms:.1f} ms in the database){ratio}{status}",
        )
        if with_plans and figure.p50 > TARGET_MS * (0.5 if "reports" in name else 1) and "baseline" not in name:
            if figure.db_ms > TARGET_MS / 4:
                explain(queries)
            profile(call)
    return figures


# --- the sweep ---------------------------------------------------------------------------------------------------


def prepare_sweep(now: datetime) -> dict[str, int]:
    """Every complaint open with deadlines: 5 % past the resolution deadline (already warned), 5 % past its
    warning point, the rest due in 1–40 office hours."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE complaints_complaint SET
                status = CASE WHEN status IN ('resolved', 'closed') THEN 'in_progress' ELSE status END,
                resolved_at = NULL, closed_at = NULL,
                first_response_due = NULL, first_response_warn_at = NULL, first_response_left = NULL,
                resolution_left = NULL, first_response_warned = false, resolution_warned = (id %% 20 = 0),
                resolution_due = CASE
                    WHEN id %% 20 = 0 THEN %(now)s - interval '1 hour' * (1 + id %% 7)
                    WHEN id %% 20 = 1 THEN %(now)s + interval '1 hour' * (1 + id %% 3)
                    ELSE %(now)s + interval '1 hour' * (5 + id %% 35) END,
                resolution_warn_at = CASE
                    WHEN id %% 20 = 0 THEN NULL
                    WHEN id %% 20 = 1 THEN %(now)s - interval '10 minutes' * (1 + id %% 5)
                    ELSE %(now)s + interval '1 hour' * (1 + id %% 4) END
            """,
            {"now": now},
        )
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE resolution_due <= %s), "
            "count(*) FILTER (WHERE resolution_warn_at <= %s) FROM complaints_complaint",
            [now, now],
        )
        total, due, warn = cursor.fetchone()
    vacuum_analyze()
    return {"open": total, "past_due": due, "past_warning": warn}


def sweep(now: datetime) -> None:
    from complaints.models import ComplaintEvent
    from complaints.services import sla_sweep

    events_before = ComplaintEvent.objects.count()
    began = time.perf_counter()
    result = sla_sweep(now=now)
    took = time.perf_counter() - began
    events = ComplaintEvent.objects.count() - events_before
    say(
        "sweep",
        f"{took:.2f} s: {result.warned:,} warned, {result.escalated:,} escalated, "
        f"{result.missed_at_top:,} missed at the top, {events:,} events written",
    )
    began = time.perf_counter()
    again = sla_sweep(now=now)
    say(
        "sweep again (nothing due)",
        f"{(time.perf_counter() - began) * 1000:.1f} ms: {again.warned} warned, {again.escalated} escalated",
    )
    say(
        "target_sweep",
        f"< {TARGET_SWEEP_S:.0f} s over the open tickets: {'met' if took < TARGET_SWEEP_S else 'NOT met'}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="complaints (5 events each)")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep phase")
    parser.add_argument("--no-plans", action="store_true", help="no EXPLAIN ANALYZE of pages over the target")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure again on the database a --keep --no-sweep run left (no setup; kept afterwards)",
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()
    if not 1_000 <= args.count <= 5_000_000:
        sys.exit("bench: --count from 1,000 to 5,000,000.")

    if args.reuse:
        args.keep = True
    else:
        recreate_database(args.database_url)
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "DEBUG": "false",
            "DJANGO_ENV": "development",
            "DJANGO_SETTINGS_MODULE": "ecp_portal.settings",
            "LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "true",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            buffers = cursor.fetchone()[0]
        say("machine", f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
        say("postgresql", f"{server}, shared_buffers {buffers}")
        say("complaints", f"{args.count:,} with {args.count * 5:,} events and {args.count:,} one-time codes")

        if args.reuse:
            world = world_from_database()
            say("setup", "reused the kept database")
        else:
            began = time.perf_counter()
            world = build_world(args.seed)
            say(
                "setup",
                f"{len(world.offices)} offices ({len(world.pec_ids)} PECs, {len(world.rec_ids)} RECs, "
                f"{len(world.dec_ids)} DECs), {sum(len(d) for d in world.desks.values())} desks, "
                f"{len(world.categories)} categories in {time.perf_counter() - began:.1f} s",
            )
            now = datetime.now(UTC)
            timings = load(world, args.count, now, args.seed)
            rate = args.count / timings["copy"]
            say(
                "load",
                f"COPY {timings['copy']:.1f} s ({rate:,.0f} complaints/s with their codes and events), indexes "
                f"{timings['indexes']:.1f} s, VACUUM ANALYZE {timings['vacuum_analyze']:.1f} s",
            )
        with connection.cursor() as cursor:
            cursor.execute("SELECT status, count(*) FROM complaints_complaint GROUP BY status ORDER BY 2 DESC")
            say("status mix", ", ".join(f"{s} {n:,}" for s, n in cursor.fetchall()))
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('complaints_complaint'))")
            say("complaints table with indexes", cursor.fetchone()[0])

        figures = pages(world, args.repeat, with_plans=not args.no_plans)
        measured = [f for f in figures if not f.name.startswith(("baseline", "(reference)"))]
        over = [f.name for f in measured if f.p50 >= TARGET_MS]
        say(
            "target_pages",
            f"< {TARGET_MS:.0f} ms p50 with a bounded number of queries: "
            + ("met by all" if not over else "NOT met by " + "; ".join(over)),
        )
        if not args.no_sweep:
            sweep_now = datetime.now(UTC)
            prepared = prepare_sweep(sweep_now)
            say(
                "sweep setup",
                f"{prepared['open']:,} open, {prepared['past_due']:,} past the resolution deadline, "
                f"{prepared['past_warning']:,} past the warning point",
            )
            sweep(sweep_now)
    finally:
        connection.close()
        if not args.keep:
            drop_database(args.database_url)
            say("database", "dropped")
        else:
            say("database", f"kept: {args.database_url}")


if __name__ == "__main__":
    main()
