"""Benchmark: the public live results pages under a burst of readers while forms are being accepted.

    .venv/bin/python bench/results_portal.py [--full | --stations N] [--connections 256] [--seconds 20]
                                             [--accept-rate 20] [--contest-rate 0.2] [--freshness-forms 20]
                                             [--server 4x4] [--seed 1]

Uses the database ``ecp_bench_portal`` (``--database-url``), which it DROPS, creates fresh and migrates (a name
without "bench" is refused; the database is left in place afterwards), and Redis database 15 (``--redis-url``)
as the server's cache, flushed at the start (not 14: the test suite uses 14 and clears it while it runs).

Setup (not measured), with ``bench/ge_night.py``'s machinery: the synthetic election at GE-2024 scale (default;
``--stations N`` for a quick run) by ``build_night``; every station's accepted Form-45 bulk-inserted by
``fill_direct`` except the *pending* ones (enough to keep ``--accept-rate`` forms/s going through every
measured phase, ``--contest-rate`` of them in the biggest constituency, plus the freshness probe's); then every
contest published once through ``results.publication.publish`` (in a transaction, the contest's row locked, as
the services do).

Measured, against gunicorn (``--server``, DEBUG off, Redis cache) with the bench's settings module
``bench/portal_settings.py`` (the project's settings and URLs, plus ``/bench/minimal/``: a few bytes from the
Django cache through the whole middleware stack), each phase by ``wrk -t2 -c<connections> -d<seconds>s
--latency`` after a 3 s warm-up: baseline ``/bench/minimal/``; the national page; the biggest constituency's
page, its ``live.json`` and its ``regions.json`` with ``If-None-Match`` (``bench/wrk_etag.lua``: 304 until the
ETag moves, then the new ETag); the freshness probe (for ``--freshness-forms`` of that constituency's pending
stations: both entries POSTed, then ``live.json`` polled every 50 ms until the station shows as reported)
while wrk keeps polling its ``regions.json``; the baseline again. Throughout, baselines included, a background
client submits the pending forms' two entries through the API (``POST /api/v1/results/form45-entries/``, the
operators' tokens) at ``--accept-rate`` forms/s, so the national and constituency documents go out of date and
are rebuilt all the time.

Per phase: requests/s, latency p50/p90/p99/max, non-2xx/3xx and socket errors, the ratio to the baseline, the
CPU split (gunicorn, PostgreSQL, wrk, this process, other processes), the forms accepted meanwhile and the
database queries the page requests ran (counted in the server by ``bench.portal_urls.QueryCounter``); then the
database's transactions during the page phases (pg_stat_database); with the server stopped, what each URL costs
one request at a time in this process, cached and right after an acceptance; and a consistency check (the
contest's live.json against its accepted forms).

Prints ``name: value`` lines.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import ge_night  # noqa: E402 (bench/ is not a package)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ecp_bench_portal"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"  # the tests use 14 and clear it
MINIMAL_PATH = "/bench/minimal/"
POLL_SECONDS = 0.05  # the freshness probe's polling interval
PROBE_GAP_SECONDS = (1.5, 4.5)  # pause before each of the probe's forms (uniform)
FRESHNESS_TIMEOUT = 30.0  # seconds: give up on one form after this long
MEASURED_CODE = (
    "results/live.py",
    "results/views_live.py",
    "results/publication.py",
    "templates/results/live/contest.html",
    "templates/results/live/_contest_regions.html",
    "templates/results/live/_election_regions.html",
)
KINDS = ("live", "api", "minimal", "other")  # portal_urls.request_kind
WARM_SECONDS = 3  # wrk on each URL before it is measured (not reported)
GAP_SECONDS = 1.0  # between phases (plus the time the server takes to work off what wrk left queued)
DRAINED_SECONDS = 0.1  # the server has worked off its queue when /bench/minimal/ answers this fast three times
IN_PROCESS_RUNS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    full = f"GE-2024 scale, {ge_night.FULL_STATIONS:,} stations (the default)"
    parser.add_argument("--full", action="store_true", help=full)
    parser.add_argument("--stations", type=int, default=0, help="polling stations instead (each: one NA + one PA form)")
    parser.add_argument("--connections", type=int, default=256, help="wrk's concurrent connections")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20, help="each measured wrk phase")
    parser.add_argument("--accept-rate", type=float, default=20.0, help="forms a second accepted through the API")
    parser.add_argument("--accept-threads", type=int, default=8, help="client threads of the background submitter")
    parser.add_argument(
        "--contest-rate",
        type=float,
        default=0.2,
        help="of those, forms a second in the constituency whose page is measured (GE-2024 at 20 forms/s: ~0.07)",
    )
    parser.add_argument("--freshness-forms", type=int, default=20)
    parser.add_argument("--pending", type=int, default=0, help="stations left un-accepted (default: enough)")
    parser.add_argument("--server", default="4x4", help="gunicorn: WxT (gthread workers x threads) or Ws (sync)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args()
    stations = ge_night.FULL_STATIONS if args.full or not args.stations else args.stations
    spec = ge_night.parse_server(args.server)
    if stations < 10 or args.connections < 1 or args.seconds < 1 or args.accept_rate <= 0:
        sys.exit("bench: --stations (≥ 10), --connections, --seconds and --accept-rate must be positive.")
    if not Path(args.wrk).is_file():
        sys.exit(f"bench: wrk not found at {args.wrk} (Debian: apt-get install wrk).")

    ge_night.recreate_database(args.database_url)
    ge_night.flush_redis(args.redis_url)
    env = {
        "DATABASE_URL": args.database_url,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": args.redis_url,
        "API_USER_RATE": "1000000/minute",
        "API_ANON_RATE": "1000000/minute",
        "DJANGO_ENV": "development",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "bench.portal_settings",  # the project's settings + /bench/minimal/
        "CONN_MAX_AGE": "3600",  # one backend per server thread for the run (see ge_night)
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    code = code_fingerprint()
    figures: list[tuple[str, object]] = [
        ("machine", f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"),
        ("postgresql", server_version),
        ("wrk", wrk_version(args.wrk)),
        ("code", code),
    ]

    # --- setup (not measured) ---
    started = time.perf_counter()
    night = ge_night.build_night(stations=stations, seed=args.seed, mismatch=0.0, resend=0.0)
    figures.append(night.describe()[0])
    rng = random.Random(args.seed + 2)
    planned_seconds = 7 * (args.seconds + WARM_SECONDS + GAP_SECONDS + 2) + args.freshness_forms * 5 + 30
    wanted = args.pending or int(args.accept_rate * planned_seconds * 1.25)
    in_contest = round(wanted * min(1.0, args.contest_rate / args.accept_rate))
    probe, background = choose_pending(night, wanted, in_contest, args.freshness_forms, rng)
    pending_ids = {u.station_id for u in probe + background}
    filled = [u for u in night.units if u.station_id not in pending_ids]
    t = time.perf_counter()
    figures += ge_night.fill_direct(
        dataclasses.replace(night, units=filled, expected_votes=expected_votes(filled, night.candidate_ids))
    )
    fill_seconds = time.perf_counter() - t
    t = time.perf_counter()
    published = publish_all(night.election_id)
    publish_seconds = time.perf_counter() - t
    with connection.cursor() as cursor:  # what autovacuum would have done by now
        cursor.execute("ANALYZE")
    target = describe_target(night, probe)
    figures += [
        (
            "pending",
            f"{len(probe) + len(background):,} stations left un-accepted: {len(background):,} for the background "
            f"submitter ({sum(u.contest_id == target.contest_id for u in background):,} of them in {target.code}), "
            f"{len(probe)} for the freshness probe",
        ),
        (
            "published",
            f"{published} contests, one version each ({publish_seconds:.1f} s); {target.code} (the biggest "
            f"contest) has {target.reported:,} of {target.stations:,} stations reported",
        ),
        (
            "setup_seconds",
            f"{time.perf_counter() - started:.1f} ({night.setup_detail}, fill {fill_seconds:.1f} s, "
            f"publish {publish_seconds:.1f} s)",
        ),
    ]

    # --- measured ---
    election_code = "ge-bench"
    paths = {
        "national_page": f"/results/live/{election_code}/",
        "contest_page": f"/results/live/{election_code}/{target.code}/",
        "contest_json": f"/results/live/{election_code}/{target.code}/live.json",
        "contest_regions_304": f"/results/live/{election_code}/{target.code}/regions.json",
    }
    counters = redis.Redis.from_url(args.redis_url)
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    server = ge_night.Server(spec, env, log_dir, name="results_portal")
    meter = ge_night.CpuMeter(args.database_url, server)
    stats_db = DatabaseStats(args.database_url)
    base = f"http://127.0.0.1:{server.port}"
    submitter = Submitter(server.port, background, args.accept_rate, args.accept_threads)
    wrk = Wrk(args.wrk, threads=args.wrk_threads, connections=args.connections)
    phases: list[PhaseResult] = []
    freshness = Freshness()
    try:
        for path in (MINIMAL_PATH, *paths.values()):  # build the documents and the rendered regions once
            status, _, _ = get(server.port, path)
            if status != 200:
                sys.exit(f"bench: GET {path} answered {status}; see {server.log_path}")
        submitter.start()

        def phase(name: str, path: str, *, etag: bool = False, probe_units: list | None = None) -> PhaseResult:
            script = "wrk_etag.lua" if etag else "wrk_report.lua"
            script_args = [current_etag(server.port, path)] if etag else []
            drain(server.port)
            wrk.run(base + path, WARM_SECONDS, script, script_args)  # warm: connections open, caches settled
            drained = drain(server.port)
            time.sleep(GAP_SECONDS)
            queries_before = server_queries(counters)
            db_before = stats_db.read()
            meter.start()
            children_before = children_cpu()
            started = time.perf_counter()
            if probe_units is None:
                result = wrk.run(base + path, args.seconds, script, script_args)
            else:
                running = wrk.start(base + path, 3600, script, script_args)
                probe_freshness(server.port, probe_units, target, paths["contest_json"], freshness)
                result = running.stop()
            ended = time.perf_counter()
            cpu = meter.stop()
            db = diff_counts(stats_db.read(), db_before)
            return PhaseResult(
                name=name,
                path=path,
                wrk=result,
                cpu=cpu,
                wrk_cpu=children_cpu() - children_before,
                accepted=submitter.accepted_between(started, ended),
                posts=submitter.latencies_between(started, ended),
                queries=diff_counts(server_queries(counters), queries_before),
                seconds=ended - started,
                db=db,
                drained=drained,
            )

        phases.append(phase("baseline", MINIMAL_PATH))
        for name in ("national_page", "contest_page", "contest_json"):
            phases.append(phase(name, paths[name]))
        phases.append(phase("contest_regions_304", paths["contest_regions_304"], etag=True))
        # The freshness probe under the load of open pages polling: conditional GETs of regions.json.
        phases.append(phase("freshness_regions_304", paths["contest_regions_304"], etag=True, probe_units=probe))
        phases.append(phase("baseline_again", MINIMAL_PATH))
        submitter.stop()
        drain(server.port)
        time.sleep(settings.RESULTS_LIVE_REBUILD_SECONDS + 0.5)
        consistency = check_consistency(server.port, paths["contest_json"], target)
    finally:
        submitter.stop()
        stats_db.close()
        meter.close()
        server.stop()
    leftover = [u for u in submitter.units[submitter.handed_out :] if u.contest_id == target.contest_id]
    in_process = in_process_costs(paths, leftover, settings.RESULTS_LIVE_REBUILD_SECONDS)

    figures += report(
        phases,
        freshness,
        submitter,
        page_phases=[p for p in phases if p.name in paths],
        args=args,
        spec=spec,
        target=target,
        rebuild_seconds=settings.RESULTS_LIVE_REBUILD_SECONDS,
        poll_ms=settings.RESULTS_LIVE_POLL_MS,
    )
    figures += in_process
    figures.append(("consistency", consistency))
    if code_fingerprint() != code:
        figures.append(("code_changed_during_run", f"{code_fingerprint()}: the server may have run another version"))
    for name, value in figures:
        print(f"{name}: {value}", flush=True)


# --- setup ----------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """The biggest contest: the constituency page hammered and probed."""

    contest_id: int
    code: str
    stations: int
    reported: int
    numbers: dict[int, int]  # contest station id -> its number (the row of live.json's "stations")


def choose_pending(night, wanted: int, in_contest: int, probe_forms: int, rng: random.Random):
    """Stations left un-accepted: (the freshness probe's, the background submitter's, in submission order).

    ``probe_forms`` + ``in_contest`` of the biggest contest's stations (at most half of them), the rest drawn
    from the other contests; the biggest contest's are spread evenly through the submitter's order, so its
    page changes at a steady rate."""
    biggest = [u for u in night.units if u.contest_id == night.biggest_contest_id]
    others = [u for u in night.units if u.contest_id != night.biggest_contest_id]
    mine = rng.sample(biggest, min(len(biggest) // 2, probe_forms + in_contest))
    probe, mine = mine[:probe_forms], mine[probe_forms:]
    rest = rng.sample(others, max(0, min(len(others) // 2, wanted - len(mine))))
    order = [(i / max(1, len(rest)), u) for i, u in enumerate(rest)]
    order += [((i + 0.5) / max(1, len(mine)), u) for i, u in enumerate(mine)]
    order.sort(key=lambda pair: pair[0])
    return probe, [u for _, u in order]


def expected_votes(units, candidate_ids: dict[int, list[int]]) -> dict[int, int]:
    expected: dict[int, int] = defaultdict(int)
    for unit in units:
        for order, votes in json.loads(unit.entries[0].body)["votes"].items():
            expected[candidate_ids[unit.contest_id][int(order) - 1]] += votes
    return dict(expected)


def publish_all(election_id: int) -> int:
    """Publish every contest once, as the services do: in a transaction, with the contest's row locked."""
    from django.db import transaction

    from results import publication
    from results.models import Contest

    ids = list(Contest.objects.filter(election_id=election_id).order_by("pk").values_list("pk", flat=True))
    for contest_id in ids:
        with transaction.atomic():
            contest = (
                Contest.objects.select_for_update(of=("self",))
                .select_related("election", "constituency")
                .get(pk=contest_id)
            )
            publication.publish(contest=contest, reason="bench_setup")
    return len(ids)


def describe_target(night, probe) -> Target:
    from results.models import Contest, ContestStation, Form45

    contest = Contest.objects.select_related("constituency").get(pk=night.biggest_contest_id)
    numbers = dict(ContestStation.objects.filter(contest=contest).values_list("pk", "number"))
    assert all(u.station_id in numbers for u in probe)
    return Target(
        contest_id=contest.pk,
        code=contest.constituency.code,
        stations=len(numbers),
        reported=Form45.objects.filter(contest_station__contest=contest).count(),
        numbers=numbers,
    )


def code_fingerprint() -> str:
    parts = []
    for name in MEASURED_CODE:
        path = ROOT / name
        stamp = time.strftime("%H:%M", time.localtime(path.stat().st_mtime))
        parts.append(f"{Path(name).name} {hashlib.sha256(path.read_bytes()).hexdigest()[:12]} ({stamp})")
    return ", ".join(parts)


# --- HTTP -----------------------------------------------------------------------------------------------------


def get(port: int, path: str, headers: dict[str, str] | None = None, conn=None) -> tuple[int, dict[str, str], bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        if own:
            conn.close()


def current_etag(port: int, path: str) -> str:
    status, headers, _ = get(port, path)
    if status != 200 or "etag" not in headers:
        sys.exit(f"bench: GET {path} answered {status} without an ETag")
    return headers["etag"]


@dataclass
class WrkResult:
    requests: int
    seconds: float
    bytes: int
    p50: float  # ms
    p90: float
    p99: float
    max: float
    non_2xx_3xx: int
    socket_errors: dict[str, int]
    etag: dict[str, int] = field(default_factory=dict)  # fresh / unchanged / other (wrk_etag.lua)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Wrk:
    def __init__(self, binary: str, *, threads: int, connections: int) -> None:
        self.binary, self.threads, self.connections = binary, threads, connections

    def _cmd(self, url: str, seconds: int, script: str, script_args: list[str]) -> list[str]:
        cmd = [self.binary, f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s", "--latency"]
        cmd += ["--timeout", "10s", "-s", str(ROOT / "bench" / script), url]
        return cmd + (["--", *script_args] if script_args else [])

    def run(self, url: str, seconds: int, script: str, script_args: list[str]) -> WrkResult:
        done = subprocess.run(self._cmd(url, seconds, script, script_args), capture_output=True, text=True)
        return parse_wrk(done.stdout + done.stderr)

    def start(self, url: str, seconds: int, script: str, script_args: list[str]) -> RunningWrk:
        return RunningWrk(
            subprocess.Popen(
                self._cmd(url, seconds, script, script_args),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )


class RunningWrk:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def stop(self) -> WrkResult:
        """SIGINT: wrk stops, prints its summary and runs done()."""
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=60)
        return parse_wrk(out)


def parse_wrk(output: str) -> WrkResult:
    line = re.search(r"^WRK (.*)$", output, re.M)
    if not line:
        sys.exit(f"bench: wrk printed no summary:\n{output[-2000:]}")
    v = {k: float(x) for k, x in re.findall(r"(\w+)=([\d.]+)", line[1])}
    etag = re.search(r"^ETAG (.*)$", output, re.M)
    return WrkResult(
        requests=int(v["requests"]),
        seconds=v["duration_us"] / 1e6,
        bytes=int(v["bytes"]),
        p50=v["p50"] / 1000,
        p90=v["p90"] / 1000,
        p99=v["p99"] / 1000,
        max=v["max"] / 1000,
        non_2xx_3xx=int(v["status"]),
        socket_errors={k: int(v[k]) for k in ("connect", "read", "write", "timeout") if v[k]},
        etag={k: int(x) for k, x in re.findall(r"(\w+)=(\d+)", etag[1])} if etag else {},
    )


def wrk_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    return (out.stdout + out.stderr).split("Copyright")[0].strip()


# --- the background submitter ------------------------------------------------------------------------------------


class Submitter:
    """Both entries of each pending form POSTed through the API, form k due at start + k / rate.

    ``threads`` clients with their own keep-alive connection take the next form when it is due; a form is
    accepted when its second entry answers 201 ``matched``."""

    def __init__(self, port: int, units: list, rate: float, threads: int) -> None:
        self.port, self.units, self.rate, self.threads_n = port, units, rate, threads
        self.accepted_at: list[float] = []
        self.posts: list[tuple[float, float]] = []  # (ended, seconds)
        self.outcomes: Counter = Counter()
        self.errors: Counter = Counter()
        self.started = 0.0
        self.ended = 0.0
        self.exhausted_at: float | None = None
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self.started = time.perf_counter()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(self.threads_n)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            for thread in self._threads:
                thread.join(timeout=120)
            self.ended = time.perf_counter()

    def _work(self) -> None:
        conn = ge_night.Connection(self.port)
        try:
            while not self._stop.is_set():
                with self._lock:
                    k = self._next
                    if k >= len(self.units):
                        self.exhausted_at = self.exhausted_at or time.perf_counter()
                        return
                    self._next += 1
                wait = self.started + k / self.rate - time.perf_counter()
                if wait > 0 and self._stop.wait(wait):
                    return
                answer: dict = {}
                for entry in self.units[k].entries:
                    t = time.perf_counter()
                    status, data = conn.request("POST", ge_night.POST_PATH, entry.body, entry.auth)
                    ended = time.perf_counter()
                    answer = ge_night._json(data)
                    with self._lock:
                        self.posts.append((ended, ended - t))
                        if status == 201:
                            self.outcomes[answer.get("status", "?")] += 1
                        else:
                            self.errors[status, answer.get("code", "?")] += 1
                    if status != 201:
                        break
                if answer.get("status") == "matched":
                    with self._lock:
                        self.accepted_at.append(time.perf_counter())
        finally:
            conn.close()

    @property
    def handed_out(self) -> int:
        return self._next

    def accepted_between(self, start: float, end: float) -> int:
        with self._lock:
            return sum(start <= t < end for t in self.accepted_at)

    def latencies_between(self, start: float, end: float) -> list[float]:
        with self._lock:
            return [s for t, s in self.posts if start <= t < end]


# --- the freshness probe -----------------------------------------------------------------------------------------


@dataclass
class Freshness:
    seen: list[float | None] = field(default_factory=list)  # 201 → the answer that showed the station reported
    sent: list[float] = field(default_factory=list)  # 201 → that request sent (the rest: its wait in the server)
    polls: list[float] = field(default_factory=list)  # every poll's latency


def probe_freshness(port: int, units: list, target: Target, json_path: str, out: Freshness) -> None:
    """For each form: POST both entries; from the moment the second returned (accepted), poll the contest's
    live.json every POLL_SECONDS (If-None-Match, as a client would) until the station's row shows it reported."""
    rng = random.Random(7)
    poster = ge_night.Connection(port)
    reader = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    etag = ""
    try:
        for unit in units:
            # One form every ~4 s: the constituency's page then changes about as often as the background's
            # --contest-rate makes it (the regions.json pollers get 304s in between), not in step with the rebuilds.
            time.sleep(rng.uniform(PROBE_GAP_SECONDS[0], PROBE_GAP_SECONDS[1]))
            answer: dict = {}
            for entry in unit.entries:
                status, data = poster.request("POST", ge_night.POST_PATH, entry.body, entry.auth)
                answer = ge_night._json(data)
                if status != 201:
                    sys.exit(f"bench: the freshness probe's entry answered {status}: {answer}")
            accepted = time.perf_counter()
            if answer.get("status") != "matched":
                sys.exit(f"bench: the freshness probe's form was not accepted: {answer}")
            number = target.numbers[unit.station_id]
            seen = None
            while time.perf_counter() - accepted < FRESHNESS_TIMEOUT:
                tick = time.perf_counter()
                status, headers, body = get(port, json_path, {"If-None-Match": etag} if etag else None, reader)
                out.polls.append(time.perf_counter() - tick)
                if status == 200:
                    etag = headers.get("etag", "")
                    doc = json.loads(body)
                    if any(s["number"] == number and s["reported"] for s in doc["stations"]):
                        seen = time.perf_counter() - accepted
                        out.sent.append(tick - accepted)
                        break
                time.sleep(max(0.0, POLL_SECONDS - (time.perf_counter() - tick)))
            out.seen.append(seen)
    finally:
        poster.close()
        reader.close()


# --- counters -------------------------------------------------------------------------------------------------


def server_queries(client) -> dict[str, int]:
    """What bench.portal_urls.QueryCounter has counted in the server (plain counters in the cache's Redis)."""
    from bench.portal_urls import QUERIES_KEY, REQUESTS_KEY  # imports the project's URLs: once Django is set up

    names = [f"{what}:{kind}" for what in ("queries", "requests") for kind in KINDS]
    values = client.mget([QUERIES_KEY + kind for kind in KINDS] + [REQUESTS_KEY + kind for kind in KINDS])
    return {name: int(value or 0) for name, value in zip(names, values, strict=True)}


def drain(port: int, seconds: float = 120.0) -> float:
    """Wait until the server has worked off the requests wrk left queued when it stopped (their connections are
    closed, but the server still answers them): /bench/minimal/ answers in DRAINED_SECONDS three times in a row."""
    started = time.perf_counter()
    fast = 0
    while fast < 3 and time.perf_counter() - started < seconds:
        t = time.perf_counter()
        get(port, MINIMAL_PATH)
        fast = fast + 1 if time.perf_counter() - t < DRAINED_SECONDS else 0
        time.sleep(0.05)
    return time.perf_counter() - started


def diff_counts(after: dict, before: dict) -> dict:
    return {k: after[k] - before.get(k, 0) for k in after}


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the wrk runs)."""
    times = os.times()
    return times.children_user + times.children_system


class DatabaseStats:
    """pg_stat_database counters of the bench database."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)
        self.name = urlsplit(url).path.lstrip("/")

    def read(self) -> dict[str, int]:
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute(
            "SELECT xact_commit, tup_returned, tup_fetched, tup_inserted + tup_updated + tup_deleted "
            "FROM pg_stat_database WHERE datname = %s",
            [self.name],
        ).fetchone()
        return dict(zip(("xact_commit", "tup_returned", "tup_fetched", "tup_written"), row, strict=True))

    def close(self) -> None:
        self.conn.close()


def check_consistency(port: int, json_path: str, target: Target) -> str:
    """After the run: what the contest's live.json says against the accepted forms in the database."""
    from results.models import Form45

    status, _, body = get(port, json_path)
    shown = json.loads(body)["figures"]["stations"]["reported"] if status == 200 else None
    in_db = Form45.objects.filter(contest_station__contest_id=target.contest_id).count()
    verdict = "OK" if shown == in_db else "DIFFERS"
    return f"{verdict}: {target.code} live.json shows {shown} stations reported, the database has {in_db} forms"


# --- one request at a time, in this process ---------------------------------------------------------------------


def in_process_costs(paths: dict[str, str], leftover: list, rebuild_seconds: float) -> list[tuple[str, object]]:
    """With the server stopped, one request at a time through Django's test client in this process: what each
    URL costs served from the cache, and the first requests after a form of the contest is accepted here (the
    documents rebuilt, the regions rendered once)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")

    def once(path: str, headers: dict[str, str] | None = None) -> tuple[float, int, str]:
        with CaptureQueriesContext(connection) as queries:
            t = time.perf_counter()
            response = client.get(path, headers=headers)
            ms = (time.perf_counter() - t) * 1000
        assert response.status_code in (200, 304), (path, response.status_code)
        return ms, len(queries), response.get("ETag", "")

    def cached(path: str, headers: dict[str, str] | None = None) -> float:
        client.get(path, headers=headers)
        times = []
        for _ in range(IN_PROCESS_RUNS):
            t = time.perf_counter()
            client.get(path, headers=headers)
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)

    time.sleep(rebuild_seconds + 0.1)  # the server's last rebuild locks have expired
    for path in paths.values():
        once(path)
    etag = once(paths["contest_regions_304"])[2]
    costs = {
        "minimal": cached(MINIMAL_PATH),
        "national page": cached(paths["national_page"]),
        "contest page": cached(paths["contest_page"]),
        "contest live.json": cached(paths["contest_json"]),
        "contest regions.json 304": cached(paths["contest_regions_304"], {"If-None-Match": etag}),
    }
    lines: list[tuple[str, object]] = [
        (
            "in_process_cached_ms",
            ", ".join(f"{name} {ms:.2f}" for name, ms in costs.items())
            + f" (median of {IN_PROCESS_RUNS}, one request at a time, Django test client, server stopped)",
        )
    ]
    after: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, list[int]] = defaultdict(list)
    for unit in leftover[:5]:
        time.sleep(rebuild_seconds + 0.1)  # the previous rebuild's lock has expired
        for entry in unit.entries:
            response = client.post(
                ge_night.POST_PATH, entry.body, content_type="application/json", headers={"Authorization": entry.auth}
            )
            assert response.status_code == 201, (response.status_code, response.content[:300])
        for name, path in (
            ("contest live.json", paths["contest_json"]),  # the contest's document rebuilt
            ("contest page", paths["contest_page"]),  # its regions rendered (the document is cached now)
            ("national page", paths["national_page"]),  # the election's document rebuilt, its regions rendered
        ):
            ms, n, _ = once(path)
            after[name].append(ms)
            queries[name].append(n)
    if after:
        lines.append(
            (
                "in_process_after_an_acceptance_ms",
                f"contest live.json {statistics.median(after['contest live.json']):.1f} (document rebuilt, "
                f"{statistics.median(queries['contest live.json']):.0f} queries), then the contest page "
                f"{statistics.median(after['contest page']):.1f} (its regions rendered), national page "
                f"{statistics.median(after['national page']):.1f} (rebuilt, "
                f"{statistics.median(queries['national page']):.0f} queries, and rendered); median over "
                f"{len(after['contest page'])} forms accepted in this process",
            )
        )
    return lines


# --- the report ---------------------------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    path: str
    wrk: WrkResult
    cpu: ge_night.CpuUse
    wrk_cpu: float
    accepted: int
    posts: list[float]
    queries: dict[str, int]
    seconds: float
    db: dict[str, int]
    drained: float  # seconds the server took to work off the warm-up's queue


def report(phases, freshness, submitter, *, page_phases, args, spec, target, rebuild_seconds, poll_ms):
    by_name = {p.name: p for p in phases}
    baselines = [by_name["baseline"].wrk.rps, by_name["baseline_again"].wrk.rps]
    baseline = statistics.mean(baselines)
    lines: list[tuple[str, object]] = [
        (
            "server",
            f"gunicorn {ge_night.describe_spec(spec)}, DEBUG off, Redis cache ({args.redis_url}), settings "
            f"bench.portal_settings; wrk -t{args.wrk_threads} -c{args.connections} -d{args.seconds}s --timeout 10s "
            f"(closed loop: each connection waits for its answer), {WARM_SECONDS} s of warm-up before each phase",
        ),
        (
            "background",
            f"{args.accept_rate:g} forms/s planned through POST {ge_night.POST_PATH} ({args.accept_threads} client "
            f"threads; {args.contest_rate:g}/s of them in {target.code}), during every phase, baselines included",
        ),
        (
            "baseline_requests_per_second",
            f"{baseline:,.1f} (GET {MINIMAL_PATH}: a few bytes from the Django cache through the full middleware "
            f"stack; before {baselines[0]:,.1f}, after {baselines[1]:,.1f})",
        ),
    ]
    for p in phases:
        w = p.wrk
        ratio = "" if p.name.startswith("baseline") else f", ratio to the baseline {w.rps / baseline:.2f}"
        errors = ", ".join(f"{k} {v}" for k, v in w.socket_errors.items()) or "0"
        extra = ""
        if w.etag:
            extra = f"; 304 {w.etag.get('unchanged', 0):,}, 200 {w.etag.get('fresh', 0):,} (ETag moved)"
        lines.append(
            (
                p.name,
                f"{w.rps:,.1f} req/s ({w.requests:,} in {w.seconds:.1f} s), latency p50 {w.p50:.1f} / p90 "
                f"{w.p90:.1f} / p99 {w.p99:.1f} / max {w.max:.0f} ms, non-2xx/3xx {w.non_2xx_3xx}, socket errors "
                f"{errors}, {w.bytes / max(w.requests, 1) / 1024:,.1f} KiB a response{ratio}{extra} — GET {p.path}",
            )
        )
        cpu = p.cpu
        others = max(0.0, cpu.others - p.wrk_cpu)
        live_q, live_r = p.queries["queries:live"], p.queries["requests:live"]
        lines.append(
            (
                f"{p.name}_cpu_seconds",
                f"gunicorn {cpu.server:.1f} ({cpu.server * 1000 / max(w.requests, 1):.2f} ms a request), postgres "
                f"{cpu.postgres:.1f}, wrk {p.wrk_cpu:.1f}, bench (submitter, probe) {cpu.client:.1f}, other processes "
                f"{others:.1f}; {cpu.busy / cpu.total:.0%} of {os.cpu_count()} cores busy over "
                f"{cpu.total / (os.cpu_count() or 1):.1f} s",
            )
        )
        lines.append(
            (
                f"{p.name}_meanwhile",
                f"{p.accepted:,} forms accepted ({p.accepted / p.seconds:.1f}/s), POST p50 "
                f"{ge_night.pct(p.posts, 50):.0f} / p99 {ge_night.pct(p.posts, 99):.0f} ms; queries run by live "
                f"page requests {live_q:,} in {live_r:,} requests (rebuilds), by the API "
                f"{p.queries['queries:api']:,}; the warm-up's queue took {p.drained:.1f} s to work off",
            )
        )

    # Targets.
    verdicts = []
    for p in page_phases:
        ratio = p.wrk.rps / baseline
        verdicts.append(
            f"{p.name} {ratio:.2f} {'≥' if ratio >= 0.5 else '<'} 0.50, p99 {p.wrk.p99:.0f} "
            f"{'<' if p.wrk.p99 < 100 else '≥'} 100 ms"
        )
    needed = args.connections / 0.1
    lines.append(
        (
            "targets",
            "; ".join(verdicts)
            + f". With {args.connections} connections each waiting for its answer, the mean latency is "
            f"{args.connections} ÷ req/s (Little's law): under 100 ms takes ≥ {needed:,.0f} req/s — the baseline "
            f"made {baseline:,.0f} (p99 {by_name['baseline'].wrk.p99:.0f} and "
            f"{by_name['baseline_again'].wrk.p99:.0f} ms)",
        )
    )

    seen = [d for d in freshness.seen if d is not None]
    missed = len(freshness.seen) - len(seen)
    if seen:
        worst = max(seen)
        lines.append(
            (
                "freshness_seconds",
                f"p50 {statistics.median(seen):.2f}, max {worst:.2f} over {len(seen)} forms"
                f"{f' ({missed} not seen within {FRESHNESS_TIMEOUT:.0f} s)' if missed else ''} — from the second "
                f"entry's 201 to {target.code}'s live.json showing the station reported, polled every "
                f"{POLL_SECONDS * 1000:.0f} ms while wrk polls its regions.json (target ≤ 5; "
                f"RESULTS_LIVE_REBUILD_SECONDS {rebuild_seconds})",
            )
        )
        lines.append(
            (
                "freshness_breakdown",
                f"the poll that first showed it was sent p50 {statistics.median(freshness.sent):.2f}, max "
                f"{max(freshness.sent):.2f} s after the 201; the rest is that request's own wait under the load "
                f"(the probe's polls took p50 {ge_night.pct(freshness.polls, 50):.0f} / p99 "
                f"{ge_night.pct(freshness.polls, 99):.0f} ms)",
            )
        )
        lines.append(
            (
                "freshness_in_a_browser_seconds",
                f"up to {worst + poll_ms / 1000:.2f} (max above + one poll interval: the page polls regions.json every "
                f"RESULTS_LIVE_POLL_MS {poll_ms} ms, so a browser adds up to {poll_ms / 1000:.1f} s)",
            )
        )
    else:
        lines.append(("freshness_seconds", f"no form seen within {FRESHNESS_TIMEOUT:.0f} s ({missed} tried)"))

    requests = sum(p.wrk.requests for p in page_phases)
    live_q = sum(p.queries["queries:live"] for p in page_phases)
    live_r = sum(p.queries["requests:live"] for p in page_phases)
    api_q = sum(p.queries["queries:api"] for p in page_phases)
    accepted = sum(p.accepted for p in page_phases)
    db = {k: sum(p.db[k] for p in page_phases) for k in page_phases[0].db}
    lines.append(
        (
            "database_share",
            f"{live_q / requests * 1000:.2f} queries per 1,000 page requests ({live_q:,} queries in {live_r:,} of "
            f"{requests:,} page requests: the document rebuilds); meanwhile the API ran {api_q:,} queries for "
            f"{accepted:,} accepted forms ({api_q / max(accepted, 1):.1f} a form)",
        )
    )
    lines.append(
        (
            "database_stats",
            f"pg_stat_database over the four measured page phases: {db['xact_commit']:,} transactions committed "
            f"({db['xact_commit'] / requests * 1000:.1f} per 1,000 page requests, the accepted forms' included), "
            f"{db['tup_returned']:,} rows returned, {db['tup_fetched']:,} fetched, {db['tup_written']:,} written "
            "(backends report every second or so, idle ones up to 10 s late)",
        )
    )
    posts = [s for _, s in submitter.posts]
    ran = (submitter.ended or time.perf_counter()) - submitter.started
    outcome = ", ".join(f"{k} {v:,}" for k, v in sorted(submitter.outcomes.items()))
    exhausted = (
        f"; ran out of pending forms after {submitter.exhausted_at - submitter.started:.0f} s"
        if submitter.exhausted_at
        else ""
    )
    lines.append(
        (
            "background_submitter",
            f"{len(submitter.accepted_at):,} forms accepted in {ran:.0f} s ({len(submitter.accepted_at) / ran:.1f}/s "
            f"of {args.accept_rate:g} planned), POST p50 {ge_night.pct(posts, 50):.0f} / p99 "
            f"{ge_night.pct(posts, 99):.0f} ms; {outcome}; errors {dict(submitter.errors) or 0}{exhausted}",
        )
    )
    return lines


if __name__ == "__main__":
    main()
