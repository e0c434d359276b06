"""Benchmark: election night at a chosen scale, through the HTTP API.

    .venv/bin/python bench/ge_night.py [--stations 2000 | --full] [--clients 16] [--servers 4x4[,2x8,…]]
                                       [--mismatch 0.01] [--resend 0.02] [--seed 1]

Uses the database ``ecp_bench_night`` (``--database-url``), which it DROPS,
creates fresh and migrates; it refuses a database whose name does not contain
"bench". The database is left in place afterwards for inspection. Redis
database 13 (``--redis-url``) holds the throttles; it is flushed at the start.

Setup (not measured): the synthetic national polling scheme through the import
service, then Election, Contests, ContestStations, Candidates, two operators
per constituency (DATA_ENTRY_OPERATOR scoped to it, each with a DRF token) by
``bulk_create``. ``--stations N`` counts polling stations (buildings); each
produces one NA and one PA Form-45, so the scheme has 2 × N rows — an NA row
and a PA row per building, as the real NA and PA schemes list the same
buildings under their own numbers. ``--full`` is GE-2024: 90,675 stations,
181,350 forms over 266 NA + 593 PA contests. Below 40,000 stations the scheme is
a slice of the country (about 300 rows a constituency), above it the national
shape.

Measured, per gunicorn configuration (``--servers 4x4`` = 4 gthread workers of
4 threads; ``3s`` = 3 sync workers; several configurations split the stations
into equal parts, each with its own baseline):
- baseline: ``--clients`` keep-alive clients GET ``/api/v1/provinces/`` (token
  auth, user throttle, one query, 5 rows) for ``--baseline-seconds``;
- submissions: the same clients POST every Form-45 entry (two operators a
  station, both entries of a station dispatched together, four contests at a
  time); ``--mismatch`` of the stations get a differing second entry (they go
  to the supervisor), ``--resend`` of the submissions are sent again with the
  same idempotency key (must answer 200 ``replayed`` and write nothing);
- CPU seconds of gunicorn, PostgreSQL and this client, and what the database
  backends were waiting on (pg_stat_activity sampled every 0.2 s).
Then, with the server stopped: queries, database time and a cProfile of
``--profile-stations`` stations submitted in this process through Django's
test client; ``national_tally`` timed ``--tally-runs`` times with an EXPLAIN
summary; and the integrity checks (nothing lost, nothing duplicated, every
vote counted, the audit chain intact).

``--direct`` sends nothing over HTTP: it bulk-inserts the accepted forms and times
only the tallies, for a scale a session cannot send through the API.

Prints ``name: value`` lines.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import http.client
import itertools
import json
import os
import platform
import pstats
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ecp_bench_night"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
FULL_STATIONS = 90_675  # GE-2024 polling stations
NATIONAL_FROM = 40_000  # stations; below this the scheme is a slice of the country
CONTESTS_AT_ONCE = 4
POST_PATH = "/api/v1/results/form45-entries/"
BASELINE_PATH = "/api/v1/provinces/"
SAMPLE_SECONDS = 0.2
SERVER_ERROR_RETRIES = 2  # a 5xx answer is sent again (same idempotency key), and counted as an error
MEASURED_CODE = ("results/services.py", "results/selectors.py", "results/api.py", "core/audit.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=2000, help="polling stations (each: one NA + one PA form)")
    parser.add_argument("--full", action="store_true", help=f"GE-2024 scale: {FULL_STATIONS:,} stations")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--servers", default="4x4", help="gunicorn configurations: WxT (gthread) or Ws (sync), comma")
    parser.add_argument("--mismatch", type=float, default=0.01)
    parser.add_argument("--resend", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--profile-stations", type=int, default=100)
    parser.add_argument("--tally-runs", type=int, default=5)
    parser.add_argument("--max-minutes", type=float, default=90.0, help="stop sending after this long (a bound)")
    parser.add_argument(
        "--direct",
        action="store_true",
        help="no HTTP: bulk-insert the accepted forms and time only the tallies (for scales a session can't send)",
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args()
    stations = FULL_STATIONS if args.full else args.stations
    servers = [parse_server(spec) for spec in args.servers.split(",") if spec.strip()]
    if stations < 1 or args.clients < 1 or not servers:
        sys.exit("bench: --stations, --clients and --servers must be positive.")

    recreate_database(args.database_url)
    if not args.direct:
        flush_redis(args.redis_url)
    env = {
        "DATABASE_URL": args.database_url,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": args.redis_url,
        "API_USER_RATE": "1000000/minute",
        "API_ANON_RATE": "1000000/minute",
        "DJANGO_ENV": "development",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "ecp_portal.settings",
        # One backend per server thread for the whole run (the default recycles them every 60 s), so the
        # CPU of this database's backends can be read from /proc before and after each phase.
        "CONN_MAX_AGE": "3600",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    import results.api  # noqa: F401 (loads the services and selectors measured in this process now)

    code = code_fingerprint()

    figures: list[tuple[str, object]] = [
        ("machine", f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"),
        ("postgresql", server_version),
        ("code", code),
    ]
    started = time.perf_counter()
    night = build_night(stations=stations, seed=args.seed, mismatch=args.mismatch, resend=args.resend)
    figures += night.describe()
    figures.append(("setup_seconds", f"{time.perf_counter() - started:.1f} ({night.setup_detail})"))

    if args.direct:
        figures += fill_direct(night)
        figures += tally_timings(night, args.tally_runs)
        for name, value in figures:
            print(f"{name}: {value}", flush=True)
        return

    rng = random.Random(args.seed + 1)
    units = list(night.units)
    reserved = rng.sample(range(len(units)), min(args.profile_stations, len(units) // 10))
    reserved_set = set(reserved)
    profiled = [units[i] for i in reserved]
    http_units = [u for i, u in enumerate(units) if i not in reserved_set]
    parts = split(http_units, len(servers))

    runs: list[RunStats] = []
    deadline = time.monotonic() + args.max_minutes * 60
    for spec, part in zip(servers, parts, strict=True):
        runs.append(run_server(spec, part, night, args, env, deadline))
    for run in runs:
        figures += run.describe(prefix=f"{run.spec.label}_" if len(runs) > 1 else "")
    if len(runs) > 1:
        figures += combined(runs)
    best = max(runs, key=lambda r: r.forms_per_second)
    figures.append(
        (
            "full_night_minutes_projected",
            f"{2 * FULL_STATIONS / best.forms_per_second / 60:.1f} ({2 * FULL_STATIONS:,} forms at "
            f"{best.forms_per_second:,.1f} forms/s, {best.spec.label}, {args.clients} clients; target ≤ 15)",
        )
    )

    figures += profile_in_process(profiled, night)
    figures += tally_timings(night, args.tally_runs)
    sent_units = [u for r in runs for u in r.units_sent] + profiled
    figures += integrity(night, sent_units, runs)
    if code_fingerprint() != code:
        figures.append(("code_changed_during_run", f"{code_fingerprint()}: the servers may have run another version"))
    for name, value in figures:
        print(f"{name}: {value}", flush=True)


# --- the election ---------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    auth: str  # "Token …"
    body: bytes
    resend: bool


@dataclass(slots=True)
class Unit:
    """One station's Form-45: its two entries, in the order they are dispatched."""

    station_id: int
    contest_id: int
    entries: tuple[Entry, Entry]
    mismatch: bool


@dataclass
class Night:
    election_id: int
    units: list[Unit]
    expected_votes: dict[int, int]  # candidate id -> Σ votes over the stations that should be accepted
    contests: int
    na_forms: int
    pa_forms: int
    candidates: int
    candidate_figures: int
    operators: int
    tokens: list[str]
    candidate_ids: dict[int, list[int]]  # contest id -> candidate ids in ballot order
    biggest_contest_id: int
    setup_detail: str

    def describe(self) -> list[tuple[str, object]]:
        return [
            (
                "scale",
                f"{len(self.units):,} forms ({self.na_forms:,} NA + {self.pa_forms:,} PA), {self.contests} contests, "
                f"{self.candidates:,} candidates, {self.candidate_figures:,} candidate figures, "
                f"{self.operators:,} operators",
            ),
            ("planned_mismatches", sum(u.mismatch for u in self.units)),
            ("planned_resends", sum(e.resend for u in self.units for e in u.entries)),
        ]


def build_night(*, stations: int, seed: int, mismatch: float, resend: float) -> Night:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from core import context
    from core.importers.services import polling_scheme_import
    from core.importers.synthetic import generate_scheme, write_scheme_csv
    from core.models import Constituency, PollingStation, Role, RoleAssignment, User
    from results import synthetic, tally
    from results.models import Candidate, Contest, ContestStation, Election

    timings = []
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ecp-night-") as tmp:
        path = Path(tmp) / "scheme.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            write_scheme_csv(generate_scheme(stations=2 * stations, seed=seed, national=stations >= NATIONAL_FROM), out)
        timings.append(("scheme", time.perf_counter() - t))
        t = time.perf_counter()
        with context.acting(label="bench:ge_night"):
            polling_scheme_import(actor=None, path_or_stream=path)
    timings.append(("import", time.perf_counter() - t))

    t = time.perf_counter()
    rng = random.Random(seed)
    close = timezone.now().replace(microsecond=0) - timezone.timedelta(hours=1)
    election = Election.objects.create(
        code="ge-bench",
        name="General Election (benchmark)",
        poll_date=timezone.localdate(close),
        poll_close_at=close,
        provisional_deadline_at=close + timezone.timedelta(hours=9),
        complete_deadline_at=close + timezone.timedelta(hours=17),
        status=Election.Status.COUNTING,
    )
    constituencies = list(Constituency.objects.filter(polling_stations__isnull=False).distinct().order_by("code"))
    contests = Contest.objects.bulk_create(Contest(election=election, constituency=c) for c in constituencies)
    contest_of = {c.constituency_id: c for c in contests}
    house_of = {c.pk: c.house for c in constituencies}
    rows = PollingStation.objects.values_list(
        "pk", "constituency_id", "number", "station_type", "male_voters", "female_voters"
    ).order_by("constituency_id", "number")
    contest_stations = ContestStation.objects.bulk_create(
        (
            ContestStation(
                contest=contest_of[cid],
                polling_station_id=pk,
                number=n,
                station_type=kind,
                male_voters=m,
                female_voters=f,
            )
            for pk, cid, n, kind, m, f in rows
        ),
        batch_size=5000,
    )
    people: list[Candidate] = []
    strengths: dict[int, list[float]] = {}
    for contest in contests:
        count = synthetic.candidate_count(rng, house_of[contest.constituency_id])
        strengths[contest.pk] = synthetic.contest_strengths(rng, count)
        for order, person in enumerate(synthetic.candidate_people(rng, count), start=1):
            people.append(Candidate(contest=contest, ballot_order=order, **person))
    Candidate.objects.bulk_create(people, batch_size=5000)
    candidate_ids: dict[int, list[int]] = defaultdict(list)
    for person in people:  # in ballot order within each contest
        candidate_ids[person.contest_id].append(person.pk)

    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"deo{n}-{c.code.lower()}", is_staff=True, password=unusable)
        for c in constituencies
        for n in (1, 2)
    )
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=u, role=Role.DATA_ENTRY_OPERATOR, constituency=c)
        for u, c in zip(users, [c for c in constituencies for _ in (1, 2)], strict=True)
    )
    tokens = Token.objects.bulk_create(Token(user=u, key=Token.generate_key()) for u in users)
    operators: dict[int, tuple[str, str]] = {}  # contest id -> the two operators' Authorization headers
    for i, c in enumerate(constituencies):
        operators[contest_of[c.pk].pk] = (f"Token {tokens[2 * i].key}", f"Token {tokens[2 * i + 1].key}")
    timings.append(("orm", time.perf_counter() - t))

    t = time.perf_counter()
    expected: dict[int, int] = defaultdict(int)
    by_contest: dict[int, list[Unit]] = defaultdict(list)
    figures_count = 0
    na_forms = 0
    for cs in contest_stations:
        contest = cs.contest
        form = synthetic.draw_form45(
            rng,
            station_type=cs.station_type,
            male_voters=cs.male_voters,
            female_voters=cs.female_voters,
            strengths=strengths[contest.pk],
        )
        slipped = rng.random() < mismatch
        second = synthetic.keying_slip(rng, form) if slipped else form
        for drawn in (form, second):
            checked = tally.check_form45(
                tally.Form45Figures(
                    station_type=cs.station_type,
                    registered_male=cs.male_voters,
                    registered_female=cs.female_voters,
                    polled_male=drawn.polled_male,
                    polled_female=drawn.polled_female,
                    polled_total=drawn.polled_total,
                    excluded=drawn.excluded,
                    votes=drawn.votes,
                )
            )
            assert not [f for f in checked if f.severity == "error"], (cs.pk, checked)
        if not slipped:
            for order, votes in form.votes.items():
                expected[candidate_ids[contest.pk][order - 1]] += votes
        figures_count += len(form.votes)
        na_forms += house_of[contest.constituency_id] == "NA"
        auths = operators[contest.pk]
        entries = [
            Entry(
                auth, _body(drawn.payload(contest_station=cs.pk, idempotency_key=synthetic.idempotency_key(rng))), False
            )
            for auth, drawn in zip(auths, (form, second), strict=True)
        ]
        for entry in entries:
            entry.resend = rng.random() < resend
        rng.shuffle(entries)  # either operator may key first
        by_contest[contest.pk].append(Unit(cs.pk, contest.pk, (entries[0], entries[1]), slipped))
    timings.append(("draw", time.perf_counter() - t))

    # Dispatch order: contests shuffled, four at a time, their stations round-robin.
    order = list(by_contest)
    rng.shuffle(order)
    units: list[Unit] = []
    for start in range(0, len(order), CONTESTS_AT_ONCE):
        group = [by_contest[c] for c in order[start : start + CONTESTS_AT_ONCE]]
        units.extend(u for row in itertools.zip_longest(*group) for u in row if u is not None)
    biggest = max(by_contest, key=lambda c: len(by_contest[c]))
    return Night(
        election_id=election.pk,
        units=units,
        expected_votes=dict(expected),
        contests=len(contests),
        na_forms=na_forms,
        pa_forms=len(units) - na_forms,
        candidates=len(people),
        candidate_figures=figures_count,
        operators=len(users),
        tokens=[f"Token {t.key}" for t in tokens],
        candidate_ids=dict(candidate_ids),
        biggest_contest_id=biggest,
        setup_detail=", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings),
    )


def code_fingerprint() -> str:
    """SHA-256 (12 digits) and modification time of the files measured, since the code moves between runs."""
    parts = []
    for name in MEASURED_CODE:
        path = ROOT / name
        stamp = time.strftime("%H:%M", time.localtime(path.stat().st_mtime))
        parts.append(f"{name} {hashlib.sha256(path.read_bytes()).hexdigest()[:12]} ({stamp})")
    return ", ".join(parts)


def _body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def split(items: list, parts: int) -> list[list]:
    size = -(-len(items) // parts)
    return [items[i * size : (i + 1) * size] for i in range(parts)]


# --- gunicorn -------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    workers: int
    threads: int  # 0: sync workers (no keep-alive)

    @property
    def label(self) -> str:
        return f"{self.workers}s" if self.threads == 0 else f"{self.workers}x{self.threads}"


def parse_server(spec: str) -> ServerSpec:
    spec = spec.strip()
    if match := re.fullmatch(r"(\d+)x(\d+)", spec):
        return ServerSpec(int(match[1]), int(match[2]))
    if match := re.fullmatch(r"(\d+)s", spec):
        return ServerSpec(int(match[1]), 0)
    sys.exit(f"bench: a server is WxT (gthread workers x threads) or Ws (sync workers), not {spec!r}.")


class Server:
    def __init__(self, spec: ServerSpec, env: dict[str, str], log_dir: Path, name: str = "ge_night") -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        gunicorn = Path(sys.executable).parent / "gunicorn"
        cmd = [str(gunicorn), "ecp_portal.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", str(spec.workers)]
        if spec.threads:
            cmd += ["--worker-class", "gthread", "--threads", str(spec.threads), "--keep-alive", "30"]
        else:
            cmd += ["--worker-class", "sync"]
        cmd += ["--log-level", "warning", "--timeout", "120", "--graceful-timeout", "10"]
        self.log_path = log_dir / f"{name}-gunicorn-{spec.label}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_ready()

    def _wait_ready(self, seconds: float = 60) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            if self.process.poll() is not None:
                break
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", BASELINE_PATH)
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"bench: gunicorn did not start; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only what it started
                self.process.wait(timeout=10)
        self.log.close()


# --- HTTP clients -----------------------------------------------------------------


class Connection:
    """One persistent connection; reconnects (and resends, which the idempotency key makes safe) on a drop."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.reconnects = 0

    def request(self, method: str, path: str, body: bytes | None, auth: str) -> tuple[int, bytes]:
        headers = {"Authorization": auth}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            try:
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.conn.close()
                return response.status, data
            except (http.client.RemoteDisconnected, http.client.CannotSendRequest, ConnectionError):
                self.conn.close()
                self.reconnects += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


@dataclass
class ClientStats:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    reconnects: int = 0


def baseline_worker(port: int, tokens: list[str], index: int, clients: int, until: float, out: ClientStats) -> None:
    conn = Connection(port)
    k = index
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            status, _ = conn.request("GET", BASELINE_PATH, None, tokens[k % len(tokens)])
            out.latencies.append(time.perf_counter() - started)
            out.outcomes["ok" if status == 200 else "error"] += 1
            if status != 200:
                out.errors[status, "baseline"] += 1
            k += clients
    finally:
        out.reconnects += conn.reconnects
        conn.close()


def submit_worker(port: int, queue: EntryQueue, out: ClientStats) -> None:
    conn = Connection(port)
    try:
        while (entry := queue.next()) is not None:
            for attempt in range(1 + SERVER_ERROR_RETRIES):
                started = time.perf_counter()
                status, data = conn.request("POST", POST_PATH, entry.body, entry.auth)
                out.latencies.append(time.perf_counter() - started)
                answer = _json(data)
                if status < 500 or attempt == SERVER_ERROR_RETRIES:
                    break
                # What the operator's app does: send again with the same idempotency key.
                out.errors[status, answer.get("code", "?") + " (sent again)"] += 1
                time.sleep(0.05 * (attempt + 1))
            if status == 201:
                out.outcomes[answer["status"]] += 1  # waiting, matched or mismatched
            elif status == 200 and answer.get("replayed"):
                out.outcomes["replayed_after_retry"] += 1
            else:
                out.errors[status, answer.get("code", "?")] += 1
            if entry.resend:
                started = time.perf_counter()
                again, again_data = conn.request("POST", POST_PATH, entry.body, entry.auth)
                out.latencies.append(time.perf_counter() - started)
                replay = _json(again_data)
                if status >= 500:  # the first never got through: the resend is a first submission
                    out.outcomes["resend_after_failure"] += 1
                    if again == 201:
                        out.outcomes[replay["status"]] += 1
                    continue
                same = again == 200 and replay.get("replayed") and replay.get("entry") == answer.get("entry")
                out.outcomes["resend_ok" if same else "resend_wrong"] += 1
    finally:
        out.reconnects += conn.reconnects
        conn.close()


def _json(data: bytes) -> dict:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class EntryQueue:
    """The entries of a list of units, in order, handed out to whichever client is free; stops at a deadline."""

    def __init__(self, units: list[Unit], deadline: float) -> None:
        self._entries = [e for u in units for e in u.entries]
        self._next = 0
        self._lock = threading.Lock()
        self._deadline = deadline

    def next(self) -> Entry | None:
        with self._lock:
            if self._next >= len(self._entries) or (self._next % 2 == 0 and time.monotonic() > self._deadline):
                return None  # past the deadline, stop only between two stations
            entry = self._entries[self._next]
            self._next += 1
            return entry

    @property
    def handed_out(self) -> int:
        return self._next


def run_threads(target, args_for) -> list[ClientStats]:
    stats = [ClientStats() for _ in args_for]
    threads = [threading.Thread(target=target, args=(*a, s), daemon=True) for a, s in zip(args_for, stats, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats


# --- what the machine did ---------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        if fields := _stat_fields(pid):
            found[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    return found


def machine_busy() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


@dataclass
class CpuUse:
    """CPU seconds used in one phase; ``others`` is what the rest of the machine took meanwhile."""

    server: float = 0.0
    postgres: float = 0.0
    client: float = 0.0
    busy: float = 0.0
    total: float = 1.0

    @property
    def others(self) -> float:
        return max(0.0, self.busy - self.server - self.postgres - self.client)

    def line(self) -> str:
        cores = self.total / (os.cpu_count() or 1)  # wall seconds
        return (
            f"gunicorn {self.server:.1f}, postgres {self.postgres:.1f} (this database's backends and the shared "
            f"processes), bench client {self.client:.1f}, other processes {self.others:.1f}; "
            f"{self.busy / self.total:.0%} of {os.cpu_count()} cores busy over {cores:.1f} s"
        )


class CpuMeter:
    """Per-process CPU deltas of gunicorn (master and workers), PostgreSQL (backends of the benchmark
    database and the shared background processes), this process, and the machine."""

    def __init__(self, database_url: str, server: Server) -> None:
        import psycopg

        self.conn = psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True)
        self.database = urlsplit(database_url).path.lstrip("/")
        self.server = server
        self._before: tuple = ()

    def _read(self) -> tuple:
        pids = [
            row[0]
            for row in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE (datname = %s OR datname IS NULL) AND pid <> pg_backend_pid()",
                [self.database],
            )
        ]
        times = os.times()
        return cpu_by_pid(self.server.pids()), cpu_by_pid(pids), times.user + times.system, machine_busy()

    def start(self) -> None:
        self._before = self._read()

    def stop(self) -> CpuUse:
        server, postgres, client, (busy, total) = self._read()
        b_server, b_postgres, b_client, (b_busy, b_total) = self._before
        return CpuUse(
            server=sum(v - b_server.get(pid, 0.0) for pid, v in server.items()),
            postgres=sum(v - b_postgres.get(pid, 0.0) for pid, v in postgres.items()),
            client=client - b_client,
            busy=busy - b_busy,
            total=total - b_total,
        )

    def close(self) -> None:
        self.conn.close()


class WaitSampler(threading.Thread):
    """Samples what the benchmark database's backends are doing, every SAMPLE_SECONDS, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url.replace("postgres://", "postgresql://", 1)
        self.name_ = urlsplit(url).path.lstrip("/")
        self.counts: Counter = Counter()
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop_event.wait(SAMPLE_SECONDS):
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    [self.name_],
                ).fetchall()
                self.samples += 1
                for state, wait_type, wait in rows:
                    if state == "active":
                        key = f"active:{wait_type}:{wait}" if wait_type else "active:cpu"
                    elif state == "idle in transaction":
                        key = "in_transaction:waiting_for_app"
                    else:
                        continue  # idle between requests
                    self.counts[key] += 1

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def summary(self) -> str:
        busy = sum(self.counts.values())
        if not busy or not self.samples:
            return "no busy backends sampled"
        parts = [f"{key} {n / busy:.0%}" for key, n in self.counts.most_common(6)]
        return f"{busy / self.samples:.1f} busy backends on average; " + ", ".join(parts)


# --- one server configuration --------------------------------------------------


@dataclass
class Phase:
    """One timed phase of the clients against one server."""

    stats: list[ClientStats]
    seconds: float
    cpu: CpuUse

    def count(self, *keys: str) -> int:
        return sum(s.outcomes[k] for s in self.stats for k in keys)

    def latencies(self) -> list[float]:
        return [x for s in self.stats for x in s.latencies]

    def errors(self) -> Counter:
        return sum((s.errors for s in self.stats), Counter())

    @property
    def reconnects(self) -> int:
        return sum(s.reconnects for s in self.stats)


@dataclass
class RunStats:
    spec: ServerSpec
    clients: int
    units_sent: list[Unit]
    baselines: list[Phase]  # before and after the submissions
    submit: Phase
    waits: str

    @property
    def baseline_rps(self) -> float:
        return statistics.mean(b.count("ok") / b.seconds for b in self.baselines)

    @property
    def forms(self) -> int:
        return self.submit.count("matched")

    @property
    def entries(self) -> int:
        return self.submit.count("waiting", "matched", "mismatched")

    @property
    def forms_per_second(self) -> float:
        return self.forms / self.submit.seconds if self.submit.seconds else 0.0

    @property
    def entries_per_second(self) -> float:
        return self.entries / self.submit.seconds if self.submit.seconds else 0.0

    def describe(self, prefix: str = "") -> list[tuple[str, object]]:
        base = [x for b in self.baselines for x in b.latencies()]
        base_cpu = CpuUse(
            *(sum(getattr(b.cpu, name) for b in self.baselines) for name in ("server", "postgres", "client", "busy")),
            total=sum(b.cpu.total for b in self.baselines),
        )
        posts = self.submit.latencies()
        requests = len(posts)
        seconds = self.submit.seconds
        outcomes = sum((s.outcomes for s in self.submit.stats), Counter())
        errors = self.submit.errors() + sum((b.errors() for b in self.baselines), Counter())
        reconnects = self.submit.reconnects + sum(b.reconnects for b in self.baselines)
        entries, forms, cpu = max(self.entries, 1), max(self.forms, 1), self.submit.cpu
        rates = " and ".join(f"{b.count('ok') / b.seconds:,.1f}" for b in self.baselines)
        return [
            (
                f"{prefix}server",
                f"gunicorn {describe_spec(self.spec)}, DEBUG off, Redis cache; clients: "
                f"{self.clients} threads, one keep-alive http.client connection each",
            ),
            (
                f"{prefix}baseline_requests_per_second",
                f"{self.baseline_rps:,.1f} (GET {BASELINE_PATH} with token auth; before and after: {rates})",
            ),
            (f"{prefix}baseline_latency_ms", f"p50 {pct(base, 50):.1f}, p99 {pct(base, 99):.1f}"),
            (
                f"{prefix}baseline_cpu_ms_per_request",
                f"gunicorn {base_cpu.server * 1000 / max(len(base), 1):.2f}, "
                f"postgres {base_cpu.postgres * 1000 / max(len(base), 1):.2f}, "
                f"client {base_cpu.client * 1000 / max(len(base), 1):.2f}; "
                f"other processes took {base_cpu.others / base_cpu.total:.0%} of the machine",
            ),
            (f"{prefix}submit_seconds", f"{seconds:.1f} ({len(self.units_sent):,} stations)"),
            (f"{prefix}forms_accepted_per_second", f"{self.forms_per_second:,.1f} ({self.forms:,} forms)"),
            (f"{prefix}entries_per_second", f"{self.entries_per_second:,.1f} ({self.entries:,} entries)"),
            (f"{prefix}post_requests_per_second", f"{requests / seconds:,.1f} (entries, resends and retries)"),
            (
                f"{prefix}submit_latency_ms",
                f"p50 {pct(posts, 50):.1f}, p99 {pct(posts, 99):.1f}, max {max(posts, default=0) * 1000:.0f}",
            ),
            (
                f"{prefix}ratio_entries_to_baseline",
                f"{self.entries_per_second / self.baseline_rps:.2f} (target ≥ 0.40; all POSTs: "
                f"{requests / seconds / self.baseline_rps:.2f})",
            ),
            (
                f"{prefix}outcomes",
                ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))
                + f"; errors {dict(errors) or 0}; reconnects {reconnects}",
            ),
            (f"{prefix}submit_cpu_seconds", cpu.line()),
            (
                f"{prefix}cpu_ms_per_entry",
                f"gunicorn {cpu.server * 1000 / entries:.1f}, postgres {cpu.postgres * 1000 / entries:.1f} "
                f"(baseline request: {base_cpu.server * 1000 / max(len(base), 1):.1f} + "
                f"{base_cpu.postgres * 1000 / max(len(base), 1):.1f})",
            ),
            (
                f"{prefix}cpu_ms_per_accepted_form",
                f"gunicorn {cpu.server * 1000 / forms:.1f}, postgres {cpu.postgres * 1000 / forms:.1f}, "
                f"client {cpu.client * 1000 / forms:.1f}",
            ),
            (f"{prefix}db_backends", self.waits),
        ]


def describe_spec(spec: ServerSpec) -> str:
    if spec.threads:
        return f"{spec.workers} gthread workers x {spec.threads} threads"
    return f"{spec.workers} sync workers"


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


def run_server(spec: ServerSpec, units: list[Unit], night: Night, args, env: dict[str, str], deadline: float):
    """Start gunicorn; baseline, submissions, baseline again; always stop the server."""
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    n = args.clients
    queue = EntryQueue(units, deadline)
    sampler = WaitSampler(args.database_url)
    server = Server(spec, env, log_dir)
    meter = CpuMeter(args.database_url, server)

    def phase(target, args_for) -> Phase:
        meter.start()
        started = time.perf_counter()
        stats = run_threads(target, args_for)
        seconds = time.perf_counter() - started
        return Phase(stats, seconds, meter.stop())

    def baseline() -> Phase:
        until = time.perf_counter() + args.baseline_seconds
        return phase(baseline_worker, [(server.port, night.tokens, i, n, until) for i in range(n)])

    try:
        warm_until = time.perf_counter() + 2
        run_threads(baseline_worker, [(server.port, night.tokens, i, n, warm_until) for i in range(n)])
        before = baseline()
        sampler.start()
        submit = phase(submit_worker, [(server.port, queue) for _ in range(n)])
        sampler.stop()
        after = baseline()
    finally:
        if sampler.is_alive():
            sampler.stop()
        meter.close()
        server.stop()
    units_sent = units[: queue.handed_out // 2]  # the queue stops only between two stations
    if len(units_sent) < len(units):
        print(f"bench: --max-minutes reached: {len(units_sent):,} of {len(units):,} stations sent", file=sys.stderr)
    return RunStats(spec, n, units_sent, [before, after], submit, sampler.summary())


def combined(runs: list[RunStats]) -> list[tuple[str, object]]:
    seconds = sum(r.submit.seconds for r in runs)
    forms = sum(r.forms for r in runs)
    return [("all_forms_accepted_per_second", f"{forms / seconds:,.1f} ({forms:,} forms in {seconds:.1f} s)")]


# --- direct fill (no HTTP) ---------------------------------------------------------


def fill_direct(night: Night) -> list[tuple[str, object]]:
    """Write every matching station's accepted Form-45 and its votes with bulk_create (no entries, no audit)."""
    from django.db import transaction
    from django.db.models import Sum

    from results.models import Form45, Form45Vote

    started = time.perf_counter()
    accepted = [u for u in night.units if not u.mismatch]
    for start in range(0, len(accepted), 5000):
        batch = accepted[start : start + 5000]
        drawn = [json.loads(u.entries[0].body) for u in batch]
        with transaction.atomic():
            forms = Form45.objects.bulk_create(
                Form45(
                    contest_station_id=u.station_id,
                    source=Form45.Source.DOUBLE_ENTRY,
                    polled_male=d["polled_male"],
                    polled_female=d["polled_female"],
                    polled_total=d["polled_total"],
                    excluded=d["excluded"],
                )
                for u, d in zip(batch, drawn, strict=True)
            )
            Form45Vote.objects.bulk_create(
                (
                    Form45Vote(form=form, candidate_id=night.candidate_ids[u.contest_id][int(order) - 1], votes=votes)
                    for u, d, form in zip(batch, drawn, forms, strict=True)
                    for order, votes in d["votes"].items()
                ),
                batch_size=20000,
            )
    seconds = time.perf_counter() - started
    total = Form45Vote.objects.aggregate(s=Sum("votes"))["s"]
    expected = sum(night.expected_votes.values())
    return [
        (
            "direct_fill",
            f"{len(accepted):,} accepted forms and {Form45Vote.objects.count():,} candidate figures written by "
            f"bulk_create in {seconds:.1f} s (no HTTP, no entries, no audit); "
            f"Σ votes {total:,} {'=' if total == expected else '≠'} generated {expected:,}",
        )
    ]


# --- in-process profile ----------------------------------------------------------


def profile_in_process(units: list[Unit], night: Night) -> list[tuple[str, object]]:
    """Submit a few stations through Django's test client in this process: queries, DB time and a profile."""
    from django.db import connection
    from django.test import Client

    if len(units) < 2:
        return []
    client = Client()
    queries: dict[str, list[int]] = defaultdict(list)
    db_ms: dict[str, list[float]] = defaultdict(list)
    wall_ms: dict[str, list[float]] = defaultdict(list)
    statements: Counter = Counter()
    statement_ms: Counter = Counter()
    current: list[tuple[str, float]] = []

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            current.append((sql, time.perf_counter() - started))

    def post(kind: str, entry: Entry) -> dict:
        current.clear()
        started = time.perf_counter()
        response = client.post(
            POST_PATH, entry.body, content_type="application/json", HTTP_AUTHORIZATION=entry.auth, HTTP_HOST="127.0.0.1"
        )
        wall_ms[kind].append((time.perf_counter() - started) * 1000)
        queries[kind].append(len(current))
        db_ms[kind].append(sum(d for _, d in current) * 1000)
        for sql, seconds in current:
            statements[_shape(sql)] += 1
            statement_ms[_shape(sql)] += seconds * 1000
        answer = response.json()
        assert response.status_code in (200, 201), (response.status_code, answer)
        return answer

    for _ in range(3):  # imports and first-use caches out of the way
        client.get(BASELINE_PATH, HTTP_AUTHORIZATION=units[0].entries[0].auth, HTTP_HOST="127.0.0.1")
    warm, units = units[0], units[1:]
    for entry in warm.entries:
        client.post(
            POST_PATH, entry.body, content_type="application/json", HTTP_AUTHORIZATION=entry.auth, HTTP_HOST="127.0.0.1"
        )
    profiler = cProfile.Profile()
    with connection.execute_wrapper(timer):
        profiler.enable()
        for unit in units:
            first, second = unit.entries
            post("first_entry", first)
            replay = post("resend", first)
            assert replay["replayed"], replay
            answer = post("second_entry_" + ("mismatched" if unit.mismatch else "matched"), second)
            assert answer["status"] == ("mismatched" if unit.mismatch else "matched"), answer
        profiler.disable()

    lines: list[tuple[str, object]] = [
        ("profile_stations", f"{len(units)} (+1 to warm up; in this process, Django test client, one at a time)")
    ]
    for kind in ("first_entry", "second_entry_matched", "second_entry_mismatched", "resend"):
        if queries[kind]:
            lines.append(
                (
                    f"queries_{kind}",
                    f"{statistics.mean(queries[kind]):.1f} queries, {statistics.mean(db_ms[kind]):.2f} ms in the "
                    f"database, {statistics.mean(wall_ms[kind]):.2f} ms in all",
                )
            )
    forms = len(queries["second_entry_matched"]) or 1
    top = ", ".join(
        f"{shape} ×{statements[shape] / forms:.1f} {statement_ms[shape] / forms:.2f} ms"
        for shape, _ in statement_ms.most_common(8)
    )
    lines.append(("queries_per_accepted_form_top_by_time", top))
    lines += _profile_lines(profiler, entries=sum(len(v) for k, v in queries.items() if k != "resend"))
    return lines


def _shape(sql: str) -> str:
    """A short name for a statement: its verb and first table."""
    words = sql.split()
    verb = words[0].upper() if words else "?"
    table = ""
    for marker in ("FROM", "INTO", "UPDATE"):
        if marker in words:
            position = words.index(marker)
            if position + 1 < len(words):
                table = words[position + 1].strip('"')
                break
    if verb == "SELECT" and "pg_advisory_xact_lock" in sql:
        return "SELECT pg_advisory_xact_lock"
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb
    return f"{verb} {table}".strip()


PROJECT_DIRS = ("/results/", "/core/")
FRAMEWORK = (
    ("rest_framework/authentication.py", "authenticate"),
    ("rest_framework/views.py", "check_throttles"),
    ("rest_framework/views.py", "initial"),
    ("django/db/transaction.py", "__exit__"),
)


def _profile_lines(profiler: cProfile.Profile, *, entries: int) -> list[tuple[str, object]]:
    """Cumulative time of the project's own functions (and a few of the framework's), and the top own times."""
    raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    root = str(ROOT)
    mine = []
    for (path, _, func), v in raw.items():
        framework = any(path.endswith(suffix) and func == name for suffix, name in FRAMEWORK)
        if framework or (path.startswith(root) and any(d in path for d in PROJECT_DIRS) and "/bench/" not in path):
            label = f"{Path(path).parent.name}/{Path(path).stem}.{func}"
            mine.append((v[3], label))
    mine.sort(reverse=True)
    cumulative = ", ".join(f"{label} {seconds * 1000 / entries:.2f}" for seconds, label in mine[:16])
    by_own = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:10]
    own = ", ".join(f"{Path(path).name}:{func} {v[2] * 1000 / entries:.2f}" for (path, _, func), v in by_own)
    return [
        ("profile_cumulative_ms_per_entry", cumulative + " (cProfile adds overhead; compare, don't add)"),
        ("profile_own_time_ms_per_entry_top10", own),
    ]


# --- tally and integrity ----------------------------------------------------------


def tally_timings(night: Night, runs: int) -> list[tuple[str, object]]:
    from django.db import connection
    from django.db.models import Sum

    from results.models import Contest, Form45Vote
    from results.selectors import contest_tally, national_tally

    with connection.cursor() as cursor:  # what autovacuum would have done by now
        cursor.execute(
            "ANALYZE results_form45vote, results_form45, results_conteststation, results_candidate, results_contest"
        )
    times = []
    for _ in range(max(1, runs)):
        started = time.perf_counter()
        national_tally(election_id=night.election_id)
        times.append(time.perf_counter() - started)
    contest = Contest.objects.select_related("constituency", "election").get(pk=night.biggest_contest_id)
    contest_times = []
    for _ in range(max(1, runs)):
        started = time.perf_counter()
        contest_tally(contest=contest)
        contest_times.append(time.perf_counter() - started)
    plan = (
        Form45Vote.objects.filter(candidate__contest__election_id=night.election_id)
        .values_list("candidate__contest_id", "candidate_id")
        .annotate(total=Sum("votes"))
        .explain(analyze=True)
    )
    nodes = []
    for line in plan.splitlines():
        if match := re.search(r"(?:->\s*)?([A-Z][A-Za-z ]+?)(?: using \w+)?(?: on (\w+)(?: \w+)?)?\s+\(cost", line):
            nodes.append(match[1] + (f" {match[2]}" if match[2] else ""))
    execution = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return [
        (
            "national_tally_seconds",
            f"min {min(times):.3f}, median {statistics.median(times):.3f} over {len(times)} runs (target < 1)",
        ),
        (
            "national_tally_explain",
            f"votes query {execution[1] if execution else '?'} ms: " + " ← ".join(nodes[:6]),
        ),
        (
            "contest_tally_seconds",
            f"min {min(contest_times):.3f}, median {statistics.median(contest_times):.3f} "
            f"(biggest contest, {contest.constituency.code})",
        ),
    ]


def integrity(night: Night, units: list[Unit], runs: list[RunStats]) -> list[tuple[str, object]]:
    from django.db.models import Count, Max, Sum

    from core import audit
    from core.models import AuditEvent
    from results.models import Form45, Form45Entry, Form45Vote
    from results.selectors import national_tally

    station_ids = {u.station_id for u in units}
    expected_forms = len(units)
    planned_mismatch = sum(u.mismatch for u in units)
    accepted = Form45.objects.count()
    with_supervisor = (
        Form45Entry.objects.filter(status=Form45Entry.Status.MISMATCHED).values("contest_station").distinct().count()
    )
    double_forms = Form45.objects.values("contest_station").annotate(n=Count("pk")).filter(n__gt=1).count()
    entries = Form45Entry.objects.count()
    max_entries = Form45Entry.objects.values("contest_station").annotate(n=Count("pk")).aggregate(m=Max("n"))["m"]
    keyed_stations = Form45Entry.objects.values_list("contest_station", flat=True).distinct().count()
    unexpected_stations = keyed_stations - len(station_ids)
    votes_db = Form45Vote.objects.aggregate(s=Sum("votes"))["s"] or 0
    complete = len(units) == len(night.units)
    expected_votes = night.expected_votes if complete else None
    votes_expected = sum(night.expected_votes.values()) if complete else None
    tallied: dict[int, int] = {}
    for contest in national_tally(election_id=night.election_id).values():
        tallied.update(contest["votes"])
    per_candidate_equal = expected_votes is not None and tallied == expected_votes
    resends_ok = sum(r.submit.count("resend_ok") for r in runs)
    resends_wrong = sum(r.submit.count("resend_wrong") for r in runs)
    server_errors = sum(n for r in runs for (status, _), n in r.submit.errors().items() if status >= 500)
    other_errors = sum(n for r in runs for (status, _), n in r.submit.errors().items() if status < 500)
    results_events = AuditEvent.objects.filter(action__startswith="results.form45_").count()
    started = time.perf_counter()
    chain = audit.verify_chain()
    chain_seconds = time.perf_counter() - started

    checks = {
        "forms": accepted + with_supervisor == expected_forms,
        "mismatches": with_supervisor == planned_mismatch,
        "no_double_forms": double_forms == 0,
        "entries": entries == 2 * expected_forms and (max_entries or 0) <= 2 and unexpected_stations == 0,
        "resends": resends_wrong == 0,
        "votes": votes_expected is None or votes_db == votes_expected,
        "per_candidate": expected_votes is None or per_candidate_equal,
        "audit": chain.ok and results_events == entries,
        "no_server_errors": server_errors == 0,
        "no_refusals": other_errors == 0,
    }
    verdict = "OK" if all(checks.values()) else "FAILED: " + ", ".join(k for k, ok in checks.items() if not ok)
    return [
        (
            "integrity",
            f"{verdict} — expected {expected_forms:,} forms = {accepted:,} accepted + {with_supervisor:,} with the "
            f"supervisor (planned mismatches {planned_mismatch:,}); stations with two forms {double_forms}; "
            f"entries {entries:,} = 2 × {expected_forms:,} stations submitted, at most {max_entries} a station; "
            f"resends {resends_ok:,} answered 200 replayed with the same entry, {resends_wrong} otherwise; "
            f"Σ votes in the DB {votes_db:,} = generated "
            f"{'(partial run)' if votes_expected is None else f'{votes_expected:,}'}; per-candidate totals "
            f"{'equal' if per_candidate_equal else 'DIFFER' if expected_votes is not None else 'not compared'}; "
            f"5xx answers {server_errors} (each sent again), 4xx answers {other_errors}",
        ),
        (
            "audit_chain",
            f"{'intact' if chain.ok else 'BROKEN at ' + str(chain.broken_seq)}, {chain.checked:,} events verified in "
            f"{chain_seconds:.1f} s; {results_events:,} Form-45 events for {entries:,} entries",
        ),
    ]


# --- database -----------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(f"bench: the database URL must point at PostgreSQL, not {parts.scheme}.")
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"bench: refusing to drop database {name!r}; use a database whose name contains 'bench'.")
    maintenance = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(maintenance.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


if __name__ == "__main__":
    main()
