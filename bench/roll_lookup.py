"""Benchmark: the 8300 lookup — a synthetic electoral roll of 10 million electors generated and imported into
PostgreSQL, then the SMS inbound webhook and the mobile-app API driven by concurrent clients against gunicorn.

    .venv/bin/python bench/roll_lookup.py                                  # 10,000,000 electors (~9 minutes)
    .venv/bin/python bench/roll_lookup.py --electors 200000 --seconds 10   # a quick run (~3 minutes)
    .venv/bin/python bench/roll_lookup.py --keep-db                        # build the roll and keep it, then
    .venv/bin/python bench/roll_lookup.py --reuse-db --workers 3           # measure again without re-importing

Uses the database ``ecp_bench_roll`` (``--database-url``; a name without "bench" is refused), DROPPED and created
fresh, and dropped again at the end unless ``--keep-db``. ``--reuse-db`` uses the database as a previous
``--keep-db`` run left it (its import figures are read back from ``var/bench/roll_lookup-<database>.json``),
builds it when it does not exist yet, and keeps it. Redis database 10 (``--redis-url``; 11 and 13 to 15 belong to
the other benches and the tests) is the server's cache and Celery broker, flushed at the start and at the end; the
lookup counters go under a prefix of this run's own (EVP_COUNTER_PREFIX).

Setup, timed but not a target: the national polling scheme (``generate_polling_scheme --national``, 96,000
stations, then ``import_polling_scheme``; ``--stations N`` for a smaller one).

1. **Generate** ``--electors`` electors with ``manage.py generate_roll`` (it first makes the census blocks and
   station ranges of every station) into ``var/bench/``: seconds and rows/s.
2. **Import** with ``manage.py import_roll FILE --progress`` in a child process: wall time, rows/s, the command's
   own line; its peak resident memory (``os.wait4``'s ``ru_maxrss`` of that one child) and its RSS sampled from
   /proc every 0.2 s, shown when 10 %, 50 % and 90 % of the file had been read and during the SQL that follows;
   where the time went (the statement the import's database backend was running, sampled every 0.2 s:
   COPY while the file is read, then the stage index, the whole-file checks, the upsert, the commit).
   Then ``VACUUM (ANALYZE) evp_elector`` (what autovacuum would do soon after; timed, not counted), the sizes of
   the table, its TOAST and each index, and a projection to 128.6 million electors (linear: sizes and import
   time scaled by the row count; a lower bound for the indexes' build, which slows once they outgrow memory).
3. **Database-only lookups:** ``evp.selectors.elector_voting_details`` in this process, one at a time, for
   ``--db-lookups`` CNICs of electors picked uniformly (TABLESAMPLE BERNOULLI) plus 10 % CNICs not on the roll,
   after 200 lookups of warm-up: p50/p90/p99/p99.9/max, found and not found apart; the planning and execution time
   of the statement as the selector sends it (on PostgreSQL the function evp_voting_details, which keeps its plan)
   and of the nine-table join inside it (EXPLAIN ANALYZE, mean of 100), the join's plan; and, for comparison, the
   join as a prepared statement on a plain psycopg connection.
4. **HTTP,** against gunicorn (``--workers`` gthread workers x ``--threads``; DEBUG off; LOG_LEVEL ``--log-level``,
   INFO by default as production runs, so every lookup writes its log line) started with a settings module written
   to a temporary directory: the project's settings and URLs plus ``POST /bench/minimal/``, a csrf-exempt view
   answering "ok" through the whole middleware stack (the baseline; ``/healthz`` is not minimal: it checks the
   database, the cache and the broker). Phases of ``--seconds`` each after ``--warm-seconds``: baseline; the SMS
   webhook ``POST /sms/inbound/``; the API ``POST /api/v1/evp/lookup/`` (skipped, and said so, when the URL is not
   routed); the baseline again. ``--clients`` keep-alive connections in ``--client-processes`` processes (threads
   over raw sockets, requests built and signed as they go; a closed loop). Each request comes from one of
   ``--simulated-clients`` clients picked at random: its own ``X-Forwarded-For`` (gunicorn runs with PROXY_COUNT=1)
   and, for SMS, its own ``From`` number (+92300xxxxxxx); MessageSid is new for every message (and holds the run's
   id, so a ``--reuse-db`` run repeats none, which the webhook would answer as a redelivery without a lookup); the
   webhook is signed with the twilio library's RequestValidator over PUBLIC_BASE_URL + path, as Twilio signs it.
   ``--not-found`` of the CNICs are not on the roll. The limits are raised through the environment (API_ANON_RATE,
   EVP_CLIENT_LIMIT, EVP_CNIC_LIMIT, EVP_ABUSE_DISTINCT_CNICS, SMS_INBOUND_PER_SENDER) so that the run measures
   lookups, not refusals; the counters are still kept in Redis on every request, and 429s are counted and shown.

   The SMS reply, ``--sms-reply`` (SMS_INBOUND_REPLY): ``message`` — the webhook stores the reply through
   ``sms.services.message_send``, which publishes ``sms.message_dispatch`` to the Celery broker once the request's
   transaction commits; ``twiml`` — the reply goes back in the webhook's own TwiML answer (no Message, no task);
   ``both`` (the default) measures the first on the server above and then the second on a server started again with
   ``twiml``, followed by a third baseline. The server runs as production does — a real Redis broker
   (CELERY_TASK_ALWAYS_EAGER off, SMS_PROVIDER=console) — and no Celery worker runs: the web process does its whole
   share of the work (store, route, look up, store the reply, publish the task) and none of the worker's (sending).
   Eager tasks would make the web process send too; an unreachable broker would make every request wait on
   connection retries. The tasks left in the queue are counted and purged.

   Per phase: lookups (requests) per second, latency p50/p90/p99/max, answers by status (200/404/429/…), the
   ratio to the mean of the baselines, CPU seconds of gunicorn (and per request), PostgreSQL, Redis, the
   client processes and the rest of the machine, the lookup counters' outcomes by channel, and what the
   database backends were doing (sampled).
5. **In this process, the server stopped:** ``--profile-requests`` requests of each kind one at a time through
   Django's test client (milliseconds, queries and database time a request), then a cProfile of the webhook and
   of the API: the cumulative share of the steps (the lookup, the limits, message_send, the Celery publish, the
   commit, DRF's throttle) and the functions with the most own time.

Prints ``name: value`` lines, ending with the targets of the issue: import ≥ 50,000 rows/s with flat memory,
database lookup p99 < 2 ms, webhook lookups ≥ 50 % of the baseline rate.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import ge_night  # noqa: E402 (bench/ is not a package)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ecp_bench_roll"
DEFAULT_REDIS = "redis://127.0.0.1:6379/10"  # 11: sms_campaign; 12 and 14: the tests; 13: ge_night; 15: portal
TARGET_ELECTORS = 128_600_000  # Pakistan's roll, GE-2024
PUBLIC_BASE_URL = "https://ecp.bench.invalid"  # what the webhook signature is computed over (as behind a proxy)
TWILIO_TOKEN = "bench-roll-auth-token"  # noqa: S105 (the bench's own, for signing its requests)
MINIMAL_PATH = "/bench/minimal/"
SMS_PATH = "/sms/inbound/"
API_PATH = "/api/v1/evp/lookup/"
SMS_TO = "8300"
SMS_PHASE = {"message": "sms_webhook", "twiml": "sms_webhook_twiml"}  # SMS_INBOUND_REPLY -> the phase's name
MEASURED_CODE = (
    "evp/migrations/0002_voting_details_function.py",
    "sms/models.py",
    "sms/throttle.py",
    "evp/importer.py",
    "evp/roll.py",
    "evp/selectors.py",
    "evp/services.py",
    "evp/limits.py",
    "evp/sms_handler.py",
    "evp/replies.py",
    "evp/api.py",
    "evp/models.py",
    "sms/webhooks.py",
    "sms/services/inbound.py",
    "sms/services/messages.py",
)
RAISED_LIMITS = {
    "API_ANON_RATE": "100000000/minute",
    "EVP_CLIENT_LIMIT": "100000000",
    "EVP_CNIC_LIMIT": "100000000",
    "EVP_ABUSE_DISTINCT_CNICS": "100000000",
    "SMS_INBOUND_PER_SENDER": "100000000",
}
WARM_LOOKUPS = 200
EXPLAIN_RUNS = 100
SAMPLE_SECONDS = 0.2
SETTINGS_MODULE = "roll_bench_settings"
SETTINGS_PY = '''"""Settings of bench/roll_lookup.py's gunicorn: the project's, and the URLs below."""

from ecp_portal.settings import *  # noqa: F403

ROOT_URLCONF = "roll_bench_urls"
'''
URLS_PY = f'''"""The project's URLs plus {MINIMAL_PATH}: the baseline, "ok" through the whole middleware stack."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from ecp_portal.urls import handler400, handler403, handler404, handler500  # noqa: F401
from ecp_portal.urls import urlpatterns as project_urlpatterns


@csrf_exempt
def minimal(request):
    return HttpResponse(b"ok\\n", content_type="text/plain; charset=utf-8")


urlpatterns = [path("{MINIMAL_PATH.strip("/")}/", minimal), *project_urlpatterns]
'''


def say(name: str, value: object) -> None:
    print(f"{name}: {value}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--electors", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stations", type=int, default=0, help="a polling scheme of N stations (default national)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--simulated-clients", type=int, default=1_000_000, help="distinct IPs / phone numbers")
    parser.add_argument("--seconds", type=float, default=20.0, help="each measured HTTP phase")
    parser.add_argument("--warm-seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gthread threads a worker (0: sync workers)")
    parser.add_argument("--log-level", default="INFO", help="the server's LOG_LEVEL (INFO: a line per lookup)")
    parser.add_argument(
        "--sms-reply",
        choices=("message", "twiml", "both"),
        default="both",
        help="SMS_INBOUND_REPLY of the server (both: a second server for the TwiML webhook phase)",
    )
    parser.add_argument("--not-found", type=float, default=0.1, help="share of HTTP lookups of CNICs not on the roll")
    parser.add_argument("--db-lookups", type=int, default=20_000)
    parser.add_argument(
        "--profile-requests", type=int, default=300, help="requests of each kind profiled in this process (0: none)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database at the end")
    parser.add_argument("--reuse-db", action="store_true", help="use the database a --keep-db run left (and keep it)")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args()
    if args.electors < 1_000 or args.clients < 1 or args.client_processes < 1 or args.seconds <= 0:
        sys.exit("bench: --electors (≥ 1,000), --clients, --client-processes and --seconds must be positive.")
    if not 0 <= args.not_found < 1:
        sys.exit("bench: --not-found is a share, 0 to below 1.")
    args.client_processes = min(args.client_processes, args.clients)
    db_name = urlsplit(args.database_url).path.lstrip("/")
    if "bench" not in db_name:
        sys.exit(f"bench: refusing database {db_name!r}; use a database whose name contains 'bench'.")

    run_id = uuid.uuid4().hex[:8]
    env = {
        "DATABASE_URL": args.database_url,
        "DEBUG": "false",
        "DJANGO_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "ecp_portal.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "3600",  # one backend per server thread for the whole run
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_KEY_PREFIX": f"bench-roll-{run_id}:",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SMS_PROVIDER": "console",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "PROXY_COUNT": "1",
        "EVP_COUNTER_PREFIX": f"bench-roll-{run_id}:",
        **RAISED_LIMITS,
    }
    os.environ.update(env)
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    stored_path = log_dir / f"roll_lookup-{db_name}.json"

    reuse = args.reuse_db and database_exists(args.database_url)
    if not reuse:
        ge_night.recreate_database(args.database_url)
    ge_night.flush_redis(args.redis_url)
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic in a bench
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    electors_now = count_electors()
    if reuse and electors_now == 0:
        reuse = False
    code = code_fingerprint()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute(
            "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings "
            "WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem', 'max_wal_size', "
            "'synchronous_commit', 'effective_cache_size')"
        )
        pg_settings = cursor.fetchone()[0]
    import redis

    redis_client = redis.Redis.from_url(args.redis_url)
    say(
        "machine", f"{os.cpu_count()} cores, {platform.machine()}, {memory_total()}, Python {platform.python_version()}"
    )
    say("postgresql", f"{pg_version} ({pg_settings})")
    say("redis", redis_client.info("server")["redis_version"])
    say("code", code)

    keep = args.keep_db or args.reuse_db
    server: Server | None = None
    scratch = Path(tempfile.mkdtemp(prefix="roll_lookup-"))
    figures: dict[str, object] = {}
    try:
        # --- the roll ---
        if reuse:
            stored = json.loads(stored_path.read_text()) if stored_path.is_file() else {}
            say("database", f"{db_name} reused: {electors_now:,} electors (no generation, no import in this run)")
            if electors_now != args.electors:
                say("note", f"--electors {args.electors:,} asked for, the reused roll has {electors_now:,}")
            for name, value in stored.get("lines", []):
                say(name, f"{value} [from the run that built it, {stored.get('at', '?')}]")
            figures.update(stored.get("figures", {}))
            electors = electors_now
        else:
            say("database", f"{db_name} created fresh")
            lines, import_figures = build_roll(args, env, scratch, log_dir)
            figures.update(import_figures)
            electors = count_electors()
            stored_path.write_text(
                json.dumps({"at": time.strftime("%Y-%m-%d %H:%M"), "lines": lines, "figures": import_figures})
            )
        say("electors", f"{electors:,} in evp_elector")
        if not reuse:
            t = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE) evp_elector")
            say("vacuum_analyze_seconds", f"{time.perf_counter() - t:.1f} (VACUUM (ANALYZE) evp_elector; setup)")
        for name, value in sizes_and_projection(electors, figures):
            say(name, value)

        # --- the database alone ---
        rng = random.Random(args.seed + 7)
        found_pool = sample_cnics(max(args.db_lookups + WARM_LOOKUPS, 50_000), rng)
        missing_pool = missing_cnics(found_pool, max(args.db_lookups // 5, 5_000), rng)
        db_lines, db_p99 = database_lookups(found_pool, missing_pool, args.db_lookups, rng)
        for name, value in db_lines:
            say(name, value)
        figures["db_p99_ms"] = db_p99

        # --- HTTP ---
        connection.close()
        (scratch / f"{SETTINGS_MODULE}.py").write_text(SETTINGS_PY)
        (scratch / "roll_bench_urls.py").write_text(URLS_PY)
        found_file, missing_file = scratch / "found.txt", scratch / "missing.txt"
        found_file.write_text("\n".join(str(c) for c in found_pool))
        missing_file.write_text("\n".join(str(c) for c in missing_pool))
        say(
            "clients",
            f"{args.clients} keep-alive connections in {args.client_processes} processes (closed loop), "
            f"{args.simulated_clients:,} simulated clients (X-Forwarded-For, SMS From), {args.not_found:.0%} of "
            f"CNICs not on the roll; limits raised: {', '.join(f'{k}={v}' for k, v in RAISED_LIMITS.items())}",
        )
        modes = ["message", "twiml"] if args.sms_reply == "both" else [args.sms_reply]
        phases: list[PhaseResult] = []
        api_routed = True
        for i, mode in enumerate(modes):
            server_env = {
                **env,
                "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
                "PYTHONPATH": os.pathsep.join([str(scratch), str(ROOT)]),
                "LOG_LEVEL": args.log_level,
                "SMS_INBOUND_REPLY": mode,
            }
            server = Server(args.workers, args.threads, server_env, log_dir, name=f"roll_lookup-{mode}")
            say(
                "server" if i == 0 else f"server_{i + 1}",
                f"gunicorn {server.describe()}, DEBUG off, LOG_LEVEL {args.log_level}, PROXY_COUNT=1, "
                f"SMS_INBOUND_REPLY={mode}, Redis cache and Celery broker ({args.redis_url}, no worker), "
                f"SMS_PROVIDER=console; log {server.log_path}",
            )
            for name, value in probes(server.port, found_pool[0], mode, api=i == 0):
                say(name, value)
                if name == "probe_api" and str(value).startswith("not routed"):
                    api_routed = False
            sms_phase = (SMS_PHASE[mode], "sms")
            if i == 0:
                plan = [("baseline", "minimal"), sms_phase, *([("api", "api")] if api_routed else [])]
                plan.append(("baseline_again", "minimal"))
            else:
                plan = [sms_phase, (f"baseline_{mode}_server", "minimal")]
            load = {
                "port": server.port,
                "connections": args.clients,
                "processes": args.client_processes,
                "simulated": args.simulated_clients,
                "not_found": args.not_found,
                "found_file": str(found_file),
                "missing_file": str(missing_file),
                "seed": args.seed + i,
                "run_id": run_id,  # in every MessageSid: a --reuse-db run sends no message id of an earlier run
            }
            for name, kind in plan:
                result = run_phase(name, kind, load, server, args, redis_client, env)
                phases.append(result)
                for line in result.lines():
                    say(*line)
            server.stop()
        if args.profile_requests:
            kinds_here = [f"sms_{mode}" for mode in modes] + (["api"] if api_routed else [])
            for name, value in in_process(found_pool, missing_pool, scratch, args.profile_requests, kinds_here):
                say(name, value)
        for name, value in report(phases, figures, redis_client, env["CELERY_KEY_PREFIX"]):
            say(name, value)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        ge_night.flush_redis(args.redis_url)
        connection.close()
        if not keep:
            drop_database(args.database_url)
            say("database", f"{db_name} dropped (--keep-db keeps it)")
        else:
            say("database", f"{db_name} kept (drop it with: dropdb -h 127.0.0.1 -U postgres {db_name})")
    if code_fingerprint() != code:
        say("code_changed_during_run", code_fingerprint())


# --- setup: scheme, roll file, import ------------------------------------------------------------------------


def manage(argv: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "manage.py"), *argv]
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(argv[:1])} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return done


def build_roll(args, env: dict[str, str], scratch: Path, log_dir: Path) -> tuple[list, dict]:
    """The scheme, the roll file and its import. Returns the printed lines (kept for --reuse-db) and figures."""
    lines: list[tuple[str, str]] = []

    def line(name: str, value: str) -> None:
        say(name, value)
        lines.append((name, value))

    scheme = scratch / "scheme.csv"
    t = time.perf_counter()
    shape = ["--national"] if not args.stations else ["--stations", str(args.stations)]
    manage(["generate_polling_scheme", *shape, "--seed", str(args.seed), "--out", str(scheme)], env)
    manage(["import_polling_scheme", str(scheme)], env)
    from core.models import PollingStation

    stations = PollingStation.objects.count()
    say("setup_scheme", f"{stations:,} polling stations generated and imported in {time.perf_counter() - t:.1f} s")

    roll = log_dir / f"roll_lookup-{args.electors}.csv"
    t = time.perf_counter()
    done = manage(["generate_roll", "--count", str(args.electors), "--seed", str(args.seed), "--out", str(roll)], env)
    seconds = time.perf_counter() - t
    made = re.search(r"Made ([\d,]+) census blocks", done.stderr)
    wrote = re.search(r"Wrote ([\d,]+) electors in ([\d,]+) census blocks .* in ([\d.]+) s", done.stderr)
    size = roll.stat().st_size
    write_s = float(wrote[3]) if wrote else seconds
    line(
        "generate",
        f"{args.electors:,} electors in {seconds:.1f} s ({args.electors / seconds:,.0f} rows/s; writing the file "
        f"{write_s:.1f} s, {args.electors / write_s:,.0f} rows/s), {size / 2**20:,.0f} MiB "
        f"({size / args.electors:.0f} bytes a row), "
        + (f"{made[1]} census blocks made first" if made else "into the existing blocks")
        + (f", {wrote[2]} blocks" if wrote else ""),
    )

    try:
        figures = import_roll(roll, env, args.database_url, line)
    finally:
        roll.unlink(missing_ok=True)
        Path(f"{roll}.bad-rows.csv").unlink(missing_ok=True)
    return lines, figures


STATEMENTS = (  # (pattern in the import backend's current query, name)
    (r"^\s*COPY ", "COPY (file read, rows checked, sent)"),
    (r"^\s*CREATE INDEX", "stage index"),
    (r"^\s*ANALYZE", "analyze stage"),
    (r"GROUP BY cnic HAVING", "duplicate-CNIC check"),
    (r"GROUP BY block_id, roll, serial HAVING", "duplicate-serial check"),
    (r"JOIN evp_elector e\s+ON e\.block_id", "serial-taken check"),
    (r"^\s*DELETE FROM evp_stage", "drop bad lines"),
    (r"^\s*SELECT count\(\*\)", "counts"),
    (r"INSERT INTO evp_electorchange", "change log"),
    (r"INSERT INTO evp_elector ", "upsert into evp_elector"),
    (r"^\s*COMMIT", "commit (the deferred FK and unique checks)"),
)


def classify(query: str) -> str:
    for pattern, name in STATEMENTS:
        if re.search(pattern, query):
            return name
    return " ".join(query.split())[:40]


@dataclass
class ImportWatch:
    """What the import process and its database backend did, sampled."""

    pid: int
    rss: list[tuple[float, float, float]] = field(default_factory=list)  # (time, VmRSS MiB, VmHWM MiB)
    progress: list[tuple[float, int, int]] = field(default_factory=list)  # (time, rows read, estimated total)
    statements: Counter = field(default_factory=Counter)  # name -> samples
    samples: int = 0
    stdout: list[str] = field(default_factory=list)
    stderr_tail: list[str] = field(default_factory=list)


def import_roll(roll: Path, env: dict[str, str], database_url: str, line) -> dict:
    import psycopg

    db_name = urlsplit(database_url).path.lstrip("/")
    cmd = [sys.executable, str(ROOT / "manage.py"), "import_roll", str(roll), "--progress"]
    started = time.monotonic()
    process = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )
    watch = ImportWatch(process.pid)
    stop = threading.Event()

    def read_stdout() -> None:
        for raw in iter(process.stdout.readline, b""):
            watch.stdout.append(raw.decode(errors="replace").rstrip())

    def read_stderr() -> None:
        pending = b""
        while chunk := process.stderr.read(4096):
            pending += chunk
            *parts, pending = re.split(rb"[\r\n]", pending)
            for part in parts:
                text = part.decode(errors="replace")
                if found := re.search(r"([\d,]+)/([\d,]+)", text):
                    done, total = (int(found[i].replace(",", "")) for i in (1, 2))
                    watch.progress.append((time.monotonic(), done, total))
                elif text.strip():
                    watch.stderr_tail = [*watch.stderr_tail[-20:], text]

    def sample() -> None:
        with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            while not stop.wait(SAMPLE_SECONDS):
                status = read_status(process.pid)
                if status:
                    watch.rss.append((time.monotonic(), status["VmRSS"], status["VmHWM"]))
                rows = conn.execute(
                    "SELECT query, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = %s "
                    "AND state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                    [db_name],
                ).fetchall()
                watch.samples += 1
                for query, wait_type, wait in rows:
                    waiting = f" [waiting: {wait_type}:{wait}]" if wait_type else ""
                    watch.statements[classify(query or "") + waiting] += 1
                if not rows:
                    watch.statements["(no statement running: Python)"] += 1

    threads = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr, sample)]
    for thread in threads:
        thread.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    if process.returncode != 0:
        sys.exit(f"bench: import_roll failed ({process.returncode}):\n" + "\n".join(watch.stderr_tail))
    said = next((s for s in watch.stdout if s.startswith("Imported")), "?")
    rows = int(m[1].replace(",", "")) if (m := re.search(r": ([\d,]+) rows in", said)) else 0
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    rate = rows / seconds if seconds else 0.0
    line(
        "import",
        f"{rows:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s (wall time of manage.py import_roll, Python start "
        f"included), peak memory {peak:,.0f} MiB (ru_maxrss of the import process)",
    )
    line("import_command_said", " | ".join(s.strip() for s in watch.stdout if s.strip()))

    # Memory over the file: RSS when 10 %, 50 % and 90 % of the rows had been read.
    marks = []
    file_read_at = None
    for share in (0.1, 0.5, 0.9):
        at = next((t for t, done, total in watch.progress if total and done / total >= share), None)
        rss = nearest(watch.rss, at)
        marks.append((share, rss))
    if watch.progress:
        file_read_at = next((t for t, done, total in watch.progress if total and done >= total), None)
    after = [r for t, r, _h in watch.rss if file_read_at is not None and t > file_read_at]
    during = [r for t, r, _h in watch.rss if file_read_at is None or t <= file_read_at]
    shown = ", ".join(f"{share:.0%} {rss:,.0f}" if rss is not None else f"{share:.0%} ?" for share, rss in marks)
    known = [rss for _s, rss in marks if rss is not None]
    flat = len(known) == 3 and known[2] <= known[0] * 1.1 + 16
    line(
        "import_memory_mib",
        f"RSS at {shown} of the file read; max {max(during, default=0):,.0f} while reading, "
        f"{max(after, default=0):,.0f} during the SQL after it; peak {peak:,.0f} — "
        + ("flat" if flat else "NOT flat")
        + f" ({len(watch.rss)} samples, every {SAMPLE_SECONDS} s)",
    )
    read_seconds = (file_read_at - started) if file_read_at is not None else float("nan")
    line(
        "import_phases_seconds",
        f"file read and COPY {read_seconds:.1f}, the rest (index, checks, upsert, commit) "
        f"{seconds - read_seconds:.1f}; the import's backend was running: "
        + ", ".join(
            f"{name} {n * SAMPLE_SECONDS:.1f}"
            for name, n in watch.statements.most_common()
            if n * SAMPLE_SECONDS >= 0.5
        ),
    )
    return {
        "import_rows": rows,
        "import_seconds": seconds,
        "import_rate": rate,
        "import_peak_mib": peak,
        "import_flat": flat,
        "read_seconds": read_seconds,
    }


def nearest(samples: list[tuple[float, float, float]], at: float | None) -> float | None:
    if at is None or not samples:
        return None
    return min(samples, key=lambda s: abs(s[0] - at))[1]


def read_status(pid: int) -> dict[str, float]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    values = {}
    for row in text.splitlines():
        name, _sep, rest = row.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024  # kB -> MiB
    return values if len(values) == 2 else {}


# --- sizes -----------------------------------------------------------------------------------------------------


def sizes_and_projection(electors: int, figures: dict) -> list[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size(c.oid), pg_relation_size(c.oid), pg_table_size(c.oid), "
            "pg_indexes_size(c.oid), coalesce(pg_total_relation_size(c.reltoastrelid), 0) "
            "FROM pg_class c WHERE c.oid = 'evp_elector'::regclass"
        )
        total, heap, table, indexes, toast = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'evp_elector'::regclass ORDER BY 2 DESC"
        )
        index_rows = cursor.fetchall()
    factor = TARGET_ELECTORS / max(electors, 1)
    per = max(electors, 1)

    def mib(n: float) -> str:
        return f"{n / 2**20:,.0f} MiB" if n < 10 * 2**30 else f"{n / 2**30:,.1f} GiB"

    lines = [
        (
            "table_size",
            f"evp_elector total {mib(total)} ({total / per:.0f} bytes an elector): heap {mib(heap)} "
            f"({heap / per:.0f} B), TOAST {mib(toast)}, other forks {mib(table - heap - toast)}, indexes "
            f"{mib(indexes)} ({indexes / per:.0f} B)",
        ),
        ("index_sizes", ", ".join(f"{name} {mib(size)} ({size / per:.1f} B)" for name, size in index_rows)),
    ]
    projection = (
        f"at {TARGET_ELECTORS:,} electors (×{factor:,.1f}, linear): evp_elector {mib(total * factor)} (heap "
        f"{mib(heap * factor)}, indexes {mib(indexes * factor)}: "
        + ", ".join(f"{name} {mib(size * factor)}" for name, size in index_rows)
        + ")"
    )
    if figures.get("import_seconds"):
        seconds = figures["import_seconds"] * TARGET_ELECTORS / max(figures["import_rows"], 1)
        projection += (
            f"; import {seconds / 60:,.0f} min at this run's {figures['import_rate']:,.0f} rows/s (a lower bound: "
            f"index inserts slow down once the indexes outgrow memory), {TARGET_ELECTORS / 50_000 / 60:,.0f} min at "
            "the 50,000 rows/s target"
        )
    lines.append(("projection", projection))
    return lines


# --- the database alone ----------------------------------------------------------------------------------------


def count_electors() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM evp_elector")
        return cursor.fetchone()[0]


def sample_cnics(n: int, rng: random.Random) -> list[int]:
    """CNICs of ``n`` electors picked uniformly over the table: TABLESAMPLE BERNOULLI (row by row, unlike SYSTEM's
    whole pages; it reads the table once)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM evp_elector")
        count = cursor.fetchone()[0]
        percent = min(100.0, n * 120.0 / max(count, 1))
        cursor.execute(
            "SELECT cnic FROM evp_elector TABLESAMPLE BERNOULLI (%s) REPEATABLE (%s)", [percent, rng.randrange(2**31)]
        )
        found = [row[0] for row in cursor.fetchall()]
    rng.shuffle(found)
    return found[:n]


def missing_cnics(found: list[int], n: int, rng: random.Random) -> list[int]:
    """CNIC-shaped numbers (an existing area prefix, eight random digits) that are not on the roll."""
    from django.db import connection

    prefixes = sorted({c // 10**8 for c in found[:5_000]})
    candidates = list({rng.choice(prefixes) * 10**8 + rng.randrange(10**8) for _ in range(n * 2)})
    with connection.cursor() as cursor:
        cursor.execute("SELECT cnic FROM evp_elector WHERE cnic = ANY(%s)", [candidates])
        taken = {row[0] for row in cursor.fetchall()}
    out = [c for c in candidates if c not in taken][:n]
    rng.shuffle(out)
    return out


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def database_lookups(found: list[int], missing: list[int], n: int, rng: random.Random) -> tuple[list, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evp.selectors import elector_voting_details

    for cnic in found[-WARM_LOOKUPS:]:  # the connection, catalog caches and the small tables
        elector_voting_details(cnic)
    with CaptureQueriesContext(connection) as captured:
        elector_voting_details(found[0])
    queries = len(captured)
    plan_of = found[0]
    n_missing = max(1, n // 10)
    work = [(c, True) for c in found[:n]] + [(c, False) for c in missing[:n_missing]]
    rng.shuffle(work)
    times: dict[bool, list[float]] = {True: [], False: []}
    wrong = 0
    no_station = 0
    houses: Counter = Counter()
    statuses: Counter = Counter()
    clock = time.perf_counter
    for cnic, expected in work:
        t = clock()
        details = elector_voting_details(cnic)
        times[expected].append((clock() - t) * 1000)
        if (details is not None) != expected:
            wrong += 1
        if details is not None:
            statuses[details.status] += 1
            houses[len(details.constituencies)] += 1
            if details.station_number is None:
                no_station += 1
    every = times[True] + times[False]
    p99 = pct(every, 99)

    def summary(values: list[float]) -> str:
        return (
            f"p50 {pct(values, 50):.3f} / p90 {pct(values, 90):.3f} / p99 {pct(values, 99):.3f} / p99.9 "
            f"{pct(values, 99.9):.3f} / max {max(values):.2f} ms, mean {statistics.mean(values):.3f}"
        )

    lines = [
        (
            "db_lookup_ms",
            f"{summary(every)} — elector_voting_details, {len(every):,} lookups one at a time in this process "
            f"({len(times[True]):,} electors picked uniformly + {len(times[False]):,} CNICs not on the roll, "
            f"shuffled; {WARM_LOOKUPS} lookups of warm-up first), {queries} quer{'y' if queries == 1 else 'ies'} each",
        ),
        ("db_lookup_found_ms", summary(times[True])),
        ("db_lookup_not_found_ms", summary(times[False])),
        (
            "db_lookup_answers",
            f"{wrong} wrong (found/not found against the sample); statuses {dict(statuses)}; constituencies a found "
            f"elector: {dict(sorted(houses.items()))}; {no_station} without a polling station",
        ),
    ]
    # What the lookup's statement costs to plan and to run, as sent (the function call) and the join inside it.
    from evp import selectors

    sql = selectors._sql() if hasattr(selectors, "_sql") else None
    sent = selectors._SQL or sql
    with connection.cursor() as cursor:
        sample = found[n : n + EXPLAIN_RUNS] or found[:EXPLAIN_RUNS]
        timings = {}
        for label, statement in (("as sent", sent), ("the join itself", sql)):
            if statement is None or (label != "as sent" and statement == sent):
                continue
            planning, execution = [], []
            for cnic in sample:
                cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + statement, [cnic])
                text = "\n".join(row[0] for row in cursor.fetchall())
                planning.append(float(re.search(r"Planning Time: ([\d.]+)", text)[1]))
                execution.append(float(re.search(r"Execution Time: ([\d.]+)", text)[1]))
            timings[label] = (statistics.mean(planning), statistics.mean(execution))
        plan = ""
        if sql is not None:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, [plan_of])
            plan = "\n".join(row[0] for row in cursor.fetchall())
    nodes: Counter = Counter()
    for text in re.findall(r"^\s*(?:->\s+)?(\S.*?)\s{2}\(cost", plan, flags=re.M):
        text = re.sub(r" using \S+", "", text)
        text = re.sub(r" on (\w+)(?: \w+)?$", r" on \1", text)
        nodes[text] += 1
    seq = [node for node in nodes if node.startswith("Seq Scan")]
    lines.append(
        (
            "db_lookup_plan",
            "; ".join(f"{label}: planning {p:.3f} ms + execution {e:.3f} ms" for label, (p, e) in timings.items())
            + f" (EXPLAIN ANALYZE, mean of {len(sample)}; sent: {' '.join(sent.split())[:60]}); the join's nodes: "
            + ", ".join(f"{k}{f' ×{v}' if v > 1 else ''}" for k, v in nodes.items())
            + (f"; SEQUENTIAL SCANS: {', '.join(seq)}" if seq else ""),
        )
    )
    if sql is not None:
        prepared = prepared_lookups(sql, work)
        lines.append(
            (
                "db_lookup_prepared_ms",
                f"{summary(prepared)} — for comparison, not the project's code path: the join itself as a prepared "
                "statement (planned once) on a plain psycopg connection, the same CNICs",
            )
        )
    return lines, p99


def prepared_lookups(sql: str, work: list[tuple[int, bool]]) -> list[float]:
    import psycopg

    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    times = []
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        for cnic, _expected in work[:WARM_LOOKUPS]:
            cursor.execute(sql, [cnic], prepare=True)
            cursor.fetchone()
        clock = time.perf_counter
        for cnic, _expected in work:
            t = clock()
            cursor.execute(sql, [cnic], prepare=True)
            cursor.fetchone()
            times.append((clock() - t) * 1000)
    return times


# --- the server -------------------------------------------------------------------------------------------------


class Server(ge_night.Server):
    """ge_night's gunicorn (its own session, stopped by its pid only) with the bench's settings module, ready
    when the minimal endpoint answers a POST."""

    def __init__(self, workers: int, threads: int, env: dict[str, str], log_dir: Path, name: str) -> None:
        self.workers, self.threads = workers, threads
        super().__init__(ge_night.ServerSpec(workers, threads), env, log_dir, name=name)

    def _wait_ready(self, seconds: float = 60) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until and self.process.poll() is None:
            try:
                if post(self.port, MINIMAL_PATH, b"x=1", "application/x-www-form-urlencoded")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"bench: gunicorn did not start; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")

    def describe(self) -> str:
        if self.threads:
            return f"{self.workers} gthread workers × {self.threads} threads"
        return f"{self.workers} sync workers"


def post(port: int, path: str, body: bytes, content_type: str, headers: dict[str, str] | None = None):
    """One request on a fresh connection (probes): (status, body)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body, {"Content-Type": content_type, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def sign(url: str, params: dict[str, str]) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(TWILIO_TOKEN).compute_signature(url, params)


def probes(port: int, cnic: int, mode: str, *, api: bool) -> list[tuple[str, str]]:
    """One request of each kind before the load: the webhook answers and replies, the API is there or not."""
    from sms.models import InboundMessage

    lines = []
    params = {"MessageSid": f"SMprobe{uuid.uuid4().hex}", "From": "+923001234567", "To": SMS_TO, "Body": str(cnic)}
    status, body = post(
        port,
        SMS_PATH,
        urlencode(params).encode(),
        "application/x-www-form-urlencoded",
        {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + SMS_PATH, params), "X-Forwarded-For": "10.0.0.1"},
    )
    row = InboundMessage.objects.select_related("reply").filter(provider_id=params["MessageSid"]).first()
    if status != 200 or row is None:
        sys.exit(f"bench: the signed webhook probe answered {status}: {body[:300]!r}")
    if mode == "twiml":
        answered = re.search(rb"<Message>(.*?)</Message>", body, flags=re.S)
        text = answered[1].decode(errors="replace") if answered else ""
        lines.append(
            (
                "probe_sms_twiml",
                f"{status}, handler {row.handler!r}, the reply in the TwiML answer ({len(text)} characters; "
                f"{len(body)} bytes of TwiML){'' if answered else ' — NO <Message> IN THE ANSWER'}",
            )
        )
    else:
        reply = getattr(row, "reply", None)
        lines.append(
            (
                "probe_sms",
                f"{status}, handler {row.handler!r}, reply {reply.status if reply else 'none'} "
                f"({len(reply.body) if reply else 0} characters, {reply.segments if reply else 0} segments)",
            )
        )
    bad = post(port, SMS_PATH, urlencode(params).encode(), "application/x-www-form-urlencoded")[0]
    lines.append((f"probe_sms_unsigned{'' if mode == 'message' else '_' + mode}", f"{bad} (without a signature)"))
    if not api:
        return lines
    status, body = post(port, API_PATH, b'{"cnic": "1"}', "application/json", {"X-Forwarded-For": "10.0.0.2"})
    if status == 404:
        lines.append(("probe_api", f"not routed: POST {API_PATH} with an invalid CNIC answered 404; API phase skipped"))
    else:
        found = post(port, API_PATH, json.dumps({"cnic": str(cnic)}).encode(), "application/json")
        lines.append(
            (
                "probe_api",
                f"invalid CNIC {status}; a CNIC on the roll {found[0]}, {len(found[1])} bytes: "
                f"{found[1][:160].decode(errors='replace')}",
            )
        )
    return lines


# --- load generation (child processes) -------------------------------------------------------------------------


class RawHttp:
    """One keep-alive HTTP/1.1 connection over a plain socket: requests are prebuilt bytes, answers are read just
    enough to find the status and the end of the body (cheaper than http.client, so the clients take less CPU)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buf = b""
        self.reconnects = 0

    def _connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("closed by the server")
        self.buf += chunk

    def _until(self, mark: bytes) -> bytes:
        while (i := self.buf.find(mark)) < 0:
            self._fill()
        head, self.buf = self.buf[:i], self.buf[i + len(mark) :]
        return head

    def _exactly(self, n: int) -> None:
        while len(self.buf) < n:
            self._fill()
        self.buf = self.buf[n:]

    def request(self, data: bytes) -> int:
        for attempt in range(2):
            fresh = self.sock is None
            if fresh:
                self._connect()
            try:
                self.sock.sendall(data)
                return self._response()
            except (ConnectionError, BrokenPipeError):
                self.close()
                self.reconnects += 1
                if fresh or attempt:  # a new connection failing is an error; an idle one closed: once more
                    raise
        raise AssertionError("unreachable")

    def _response(self) -> int:
        head = self._until(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, close = None, False, False
        for row in head.split(b"\r\n")[1:]:
            name, _sep, value = row.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            while True:
                size = int(self._until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._until(b"\r\n")
                    break
                self._exactly(size + 2)
        elif length is not None:
            self._exactly(length)
        else:
            close = True  # the body ends with the connection
        if close:
            self.close()
        return status


def client_process(spec: dict, out) -> None:
    """A load-generating process: ``spec['threads']`` threads, one connection each, closed loop from warm_at to
    stop_at; requests started from start_at on are recorded. Sends back statuses, latencies and CPU."""
    found = [line for line in Path(spec["found_file"]).read_text().split("\n") if line]
    missing = [line for line in Path(spec["missing_file"]).read_text().split("\n") if line]
    kind, port, simulated, run_id = spec["kind"], spec["port"], spec["simulated"], spec["run_id"]
    host = f"Host: 127.0.0.1:{port}\r\n".encode()
    path = {"minimal": MINIMAL_PATH, "sms": SMS_PATH, "api": API_PATH}[kind]
    url = PUBLIC_BASE_URL + SMS_PATH
    validator = None
    if kind == "sms":
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(TWILIO_TOKEN)
    lock = threading.Lock()
    statuses: Counter = Counter()
    errors: Counter = Counter()
    latencies = array.array("d")
    reconnects = [0]

    def build(rng: random.Random) -> bytes:
        cnic = (
            missing[rng.randrange(len(missing))]
            if rng.random() < spec["not_found"]
            else found[rng.randrange(len(found))]
        )
        who = rng.randrange(simulated)
        ip = f"10.{who >> 16 & 255}.{who >> 8 & 255}.{who & 255}".encode()
        extra = b""
        if kind == "sms":
            params = {
                "MessageSid": f"SM{run_id}{rng.getrandbits(96):024x}",
                "From": f"+92300{who % 10_000_000:07d}",
                "To": SMS_TO,
                "Body": cnic,
            }
            body = urlencode(params).encode()
            extra = b"X-Twilio-Signature: " + validator.compute_signature(url, params).encode() + b"\r\n"
            ctype = b"application/x-www-form-urlencoded"
        elif kind == "api":
            body = b'{"cnic": "' + cnic.encode() + b'"}'
            ctype = b"application/json"
        else:
            body = b"cnic=" + cnic.encode()
            ctype = b"application/x-www-form-urlencoded"
        return (
            b"POST " + path.encode() + b" HTTP/1.1\r\n" + host + b"Content-Type: " + ctype + b"\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\nX-Forwarded-For: " + ip + b"\r\n" + extra + b"\r\n" + body
        )  # fmt: skip

    def worker(index: int) -> None:
        rng = random.Random(spec["seed"] * 100_003 + index)
        conn = RawHttp(port)
        mine = array.array("d")
        seen: Counter = Counter()
        failed: Counter = Counter()
        wait = spec["warm_at"] - time.time()
        if wait > 0:
            time.sleep(wait)
        start_at, stop_at = spec["start_at"], spec["stop_at"]
        clock = time.perf_counter
        while True:
            began = time.time()
            if began >= stop_at:
                break
            data = build(rng)
            t = clock()
            try:
                status = conn.request(data)
            except OSError as exc:
                if began >= start_at:
                    failed[type(exc).__name__] += 1
                time.sleep(0.05)
                continue
            if began >= start_at:
                mine.append((clock() - t) * 1000)
                seen[status] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(seen)
            errors.update(failed)
            reconnects[0] += conn.reconnects

    threads = [threading.Thread(target=worker, args=(spec["index"] * 1000 + i,)) for i in range(spec["threads"])]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, spec["start_at"] - time.time()))
    cpu0 = time.process_time()
    time.sleep(max(0.0, spec["stop_at"] - time.time()))
    cpu1 = time.process_time()
    for thread in threads:
        thread.join()
    out.send(
        {
            "latencies": latencies.tobytes(),
            "statuses": dict(statuses),
            "errors": dict(errors),
            "reconnects": reconnects[0],
            "cpu": cpu1 - cpu0,
        }
    )
    out.close()


# --- one phase -------------------------------------------------------------------------------------------------


def redis_pid() -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    return int(entry.name)
            except OSError:
                continue
    return None


class Meter:
    """CPU seconds of gunicorn, PostgreSQL (this database's backends and the shared processes), Redis, this
    process, and the machine, between start() and stop()."""

    def __init__(self, database_url: str, server: Server) -> None:
        import psycopg

        self.conn = psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True)
        self.database = urlsplit(database_url).path.lstrip("/")
        self.server = server
        self.redis = redis_pid()

    def read(self) -> tuple:
        pids = [
            row[0]
            for row in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE (datname = %s OR datname IS NULL) AND pid <> pg_backend_pid()",
                [self.database],
            )
        ]
        times = os.times()
        return (
            ge_night.cpu_by_pid(self.server.pids()),
            ge_night.cpu_by_pid(pids),
            ge_night.cpu_by_pid([self.redis] if self.redis else []),
            times.user + times.system,
            ge_night.machine_busy(),
        )

    @staticmethod
    def diff(after: tuple, before: tuple) -> dict[str, float]:
        def delta(a: dict, b: dict) -> float:
            return sum(v - b.get(pid, 0.0) for pid, v in a.items())

        return {
            "gunicorn": delta(after[0], before[0]),
            "postgres": delta(after[1], before[1]),
            "redis": delta(after[2], before[2]),
            "bench": after[3] - before[3],
            "busy": after[4][0] - before[4][0],
            "total": after[4][1] - before[4][1],
        }

    def close(self) -> None:
        self.conn.close()


@dataclass
class PhaseResult:
    name: str
    kind: str
    seconds: float
    latencies: list[float]
    statuses: Counter
    errors: Counter
    reconnects: int
    client_cpu: float
    cpu: dict[str, float]
    outcomes: dict[str, int]
    waits: str
    inbound: dict[str, int] = field(default_factory=dict)
    replies: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def lines(self) -> list[tuple[str, str]]:
        path = {"minimal": MINIMAL_PATH, "sms": SMS_PATH, "api": API_PATH}[self.kind]
        answers = ", ".join(f"{k} {v:,}" for k, v in sorted(self.statuses.items()))
        lat = self.latencies
        out = [
            (
                self.name,
                f"{self.rate:,.1f} req/s ({self.requests:,} in {self.seconds:.0f} s), latency p50 {pct(lat, 50):.1f} / "
                f"p90 {pct(lat, 90):.1f} / p99 {pct(lat, 99):.1f} / max {max(lat, default=0):.0f} ms; answers "
                f"{answers or 'none'}; socket errors {dict(self.errors) or 0}, reconnects {self.reconnects} — "
                f"POST {path}",
            )
        ]
        c = self.cpu
        others = max(0.0, c["busy"] - c["gunicorn"] - c["postgres"] - c["redis"] - c["bench"] - self.client_cpu)
        n = max(self.requests, 1)
        out.append(
            (
                f"{self.name}_cpu_seconds",
                f"gunicorn {c['gunicorn']:.1f} ({c['gunicorn'] * 1000 / n:.2f} ms a request), postgres "
                f"{c['postgres']:.1f} ({c['postgres'] * 1000 / n:.2f} ms), redis {c['redis']:.1f}, clients "
                f"{self.client_cpu:.1f} ({self.client_cpu * 1000 / n:.2f} ms), bench {c['bench']:.1f}, other "
                f"processes {others:.1f}; {c['busy'] / c['total']:.0%} of {os.cpu_count()} cores busy",
            )
        )
        if self.kind != "minimal":
            counted = ", ".join(f"{k} {v:,}" for k, v in sorted(self.outcomes.items())) or "none"
            extra = ""
            if self.kind == "sms":
                handlers = ", ".join(f"{k or '(none)'} {v:,}" for k, v in sorted(self.inbound.items()))
                extra = f"; inbound messages stored by handler: {handlers}; reply messages queued {self.replies:,}"
            share = sum(self.outcomes.values()) / n
            out.append(
                (
                    f"{self.name}_lookups",
                    f"counted by evp.limits (channel:outcome): {counted} ({share:.0%} of the answered requests; "
                    "each server process adds its counts once a second, so the warm-up's last second can land in "
                    f"the window and the window's last second in the next phase){extra}",
                )
            )
        out.append((f"{self.name}_db_backends", self.waits))
        return out


def counter_totals(client, prefix: str) -> Counter:
    hour = int(time.time() // 3600)
    totals: Counter = Counter()
    for h in (hour - 1, hour, hour + 1):
        for k, v in client.hgetall(f"{prefix}counts:{h}").items():
            totals[k.decode()] += int(v)
    return totals


def run_phase(name: str, kind: str, load: dict, server: Server, args, redis_client, env) -> PhaseResult:
    from django.db import connection
    from django.db.models import Count, Max

    from sms.models import InboundMessage, Message

    ctx = multiprocessing.get_context("spawn")
    now = time.time()
    warm_at = now + 2.0  # the processes are spawned and have read the CNICs by then
    start_at = warm_at + args.warm_seconds
    stop_at = start_at + args.seconds
    per = [args.clients // load["processes"] + (i < args.clients % load["processes"]) for i in range(load["processes"])]
    procs, pipes = [], []
    for i, threads in enumerate(per):
        receive, send = ctx.Pipe(duplex=False)
        spec = {
            **load,
            "kind": kind,
            "threads": threads,
            "index": i + 1,
            "warm_at": warm_at,
            "start_at": start_at,
            "stop_at": stop_at,
        }
        proc = ctx.Process(target=client_process, args=(spec, send), daemon=True)
        proc.start()
        send.close()
        procs.append(proc)
        pipes.append(receive)
    last_inbound = InboundMessage.objects.aggregate(m=Max("id"))["m"] or 0
    last_message = Message.objects.aggregate(m=Max("id"))["m"] or 0
    connection.close()
    meter = Meter(args.database_url, server)
    sampler = ge_night.WaitSampler(args.database_url)
    time.sleep(max(0.0, start_at - time.time()))
    counters_before = counter_totals(redis_client, env["EVP_COUNTER_PREFIX"])
    inbound_before = InboundMessage.objects.aggregate(m=Max("id"))["m"] or 0
    message_before = Message.objects.aggregate(m=Max("id"))["m"] or 0
    before = meter.read()
    sampler.start()
    time.sleep(max(0.0, stop_at - time.time()))
    after = meter.read()
    sampler.stop()
    results = [pipe.recv() for pipe in pipes]
    for proc in procs:
        proc.join(timeout=30)
    meter.close()
    time.sleep(0.5)  # the last answers' counters
    time.sleep(1.0)  # each server process adds its counts to Redis at most once a second
    channel = {"sms": "sms:", "api": "api:"}.get(kind, "-")
    counters = Counter(
        {
            k: v
            for k, v in (counter_totals(redis_client, env["EVP_COUNTER_PREFIX"]) - counters_before).items()
            if k.startswith(channel)
        }
    )
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()
    for r in results:
        lat = array.array("d")
        lat.frombytes(r["latencies"])
        latencies += lat
        statuses.update({int(k): v for k, v in r["statuses"].items()})
        errors.update(r["errors"])
    inbound = {}
    replies = 0
    if kind == "sms":
        # Messages stored from the start of the measured window (the warm-up's before it are left out; a few
        # answered just after it ended are in): close enough to check that each request was a lookup.
        inbound = dict(
            InboundMessage.objects.filter(id__gt=max(inbound_before, last_inbound))
            .values_list("handler")
            .annotate(n=Count("id"))
            .order_by()
        )
        replies = Message.objects.filter(id__gt=max(message_before, last_message)).count()
    return PhaseResult(
        name=name,
        kind=kind,
        seconds=stop_at - start_at,
        latencies=latencies,
        statuses=statuses,
        errors=errors,
        reconnects=sum(r["reconnects"] for r in results),
        client_cpu=sum(r["cpu"] for r in results),
        cpu=Meter.diff(after, before),
        outcomes=dict(counters),
        waits=sampler.summary(),
        inbound=inbound,
        replies=replies,
    )


# --- one request at a time, in this process ------------------------------------------------------------------


PROFILED = (  # (file ending, function): their cumulative share of a request
    ("twilio/request_validator.py", "validate"),
    ("sms/services/inbound.py", "inbound_receive"),
    ("sms/webhooks.py", "reply_twiml"),
    ("evp/selectors.py", "elector_voting_details"),
    ("evp/services.py", "voting_details_lookup"),
    ("evp/limits.py", "check"),
    ("evp/limits.py", "count"),
    ("evp/replies.py", "sms_reply"),
    ("sms/services/inbound.py", "_over_limit"),
    ("sms/services/messages.py", "message_send"),
    ("celery/app/task.py", "apply_async"),
    ("django/db/transaction.py", "__exit__"),
    ("rest_framework/views.py", "check_throttles"),
    ("logging/__init__.py", "info"),
)


def in_process(found: list[int], missing: list[int], scratch: Path, n: int, kinds: list[str]) -> list:
    """With the server stopped: ``n`` requests of each kind through Django's test client in this process, one at
    a time — time, queries and database time a request; then a cProfile of each lookup kind: own time by
    function, and the cumulative share of the steps that matter."""
    import pstats

    from django.test import Client
    from django.test.utils import override_settings
    from twilio.request_validator import RequestValidator

    sys.path.insert(0, str(scratch))
    validator = RequestValidator(TWILIO_TOKEN)
    rng = random.Random(5)
    client = Client(HTTP_HOST="127.0.0.1")

    def one(kind: str):
        cnic = str(rng.choice(missing) if rng.random() < 0.1 else rng.choice(found))
        who = rng.randrange(10_000_000)
        ip = f"10.{who >> 16 & 255}.{who >> 8 & 255}.{who & 255}"
        if kind.startswith("sms"):
            params = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": f"+92300{who:07d}", "To": SMS_TO, "Body": cnic}
            signature = validator.compute_signature(PUBLIC_BASE_URL + SMS_PATH, params)
            return client.post(
                SMS_PATH,
                urlencode(params),
                content_type="application/x-www-form-urlencoded",  # as Twilio posts (the test client's is multipart)
                headers={"X-Twilio-Signature": signature, "X-Forwarded-For": ip},
            )
        if kind == "api":
            body = json.dumps({"cnic": cnic})
            return client.post(API_PATH, body, content_type="application/json", headers={"X-Forwarded-For": ip})
        return client.post(
            MINIMAL_PATH,
            f"cnic={cnic}",
            content_type="application/x-www-form-urlencoded",
            headers={"X-Forwarded-For": ip},
        )

    logging.getLogger("django.request").setLevel(logging.ERROR)  # a 404 for a CNIC not on the roll is no news
    lines = []
    costs = []
    profiles: dict[str, pstats.Stats] = {}
    with override_settings(ROOT_URLCONF="roll_bench_urls"):
        for kind in ["minimal", *kinds]:
            mode = kind.removeprefix("sms_") if kind.startswith("sms_") else None
            reply_mode = override_settings(SMS_INBOUND_REPLY=mode) if mode else contextlib.nullcontext()
            with reply_mode:
                cost, profile = in_process_kind(kind, one, n)
            if cost is None:
                return [("in_process", f"skipped: {kind} answered {profile} in this process")]
            costs.append(cost)
            if profile is not None:
                profiles[kind] = profile
    lines.append(
        (
            "in_process_ms",
            "; ".join(costs) + f" — mean of {n} requests one at a time through Django's test client, server stopped",
        )
    )
    for kind, stats in profiles.items():
        total = stats.total_tt
        ranked = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:8]
        own = ", ".join(f"{_func(f)} {tt / total:.0%}" for f, (_cc, _nc, tt, _ct, _callers) in ranked)
        steps = []
        for ending, name in PROFILED:
            cumulative = sum(
                ct for f, (_cc, _nc, _tt, ct, _callers) in stats.stats.items() if f[0].endswith(ending) and f[2] == name
            )
            if cumulative:
                steps.append(f"{ending.rsplit('/', 1)[-1][:-3]}.{name} {cumulative / total:.0%}")
        lines.append(
            (
                f"in_process_profile_{kind}",
                f"{total * 1000 / n:.2f} ms a request under cProfile; cumulative: {', '.join(steps)}; own time: {own}",
            )
        )
    return lines


def in_process_kind(kind: str, one, n: int):
    """(cost line, cProfile stats) of ``n`` requests of one kind; (None, status) when the warm-up fails."""
    import cProfile
    import pstats

    from django.db import connection

    for _ in range(20):
        if (status := one(kind).status_code) not in (200, 404):
            return None, status
    timer = QueryTimer()
    statuses: Counter = Counter()
    with connection.execute_wrapper(timer):
        t = time.perf_counter()
        for _ in range(n):
            statuses[one(kind).status_code] += 1
        took = time.perf_counter() - t
    cost = (
        f"{kind} {took * 1000 / n:.2f} ms ({timer.queries / n:.1f} queries, {timer.seconds * 1000 / n:.2f} ms of "
        "them; " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + ")"
    )
    if kind == "minimal":
        return cost, None
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        one(kind)
    profiler.disable()
    return cost, pstats.Stats(profiler)


class QueryTimer:
    """A connection.execute_wrapper: counts the queries and the time spent in them."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - t


def _func(f: tuple[str, int, str]) -> str:
    filename, line, name = f
    if filename == "~":
        return name
    parts = Path(filename).parts
    return f"{'/'.join(parts[-2:])}:{line}({name})"


# --- the report --------------------------------------------------------------------------------------------------


def report(phases: list[PhaseResult], figures: dict, redis_client, celery_prefix: str) -> list[tuple[str, str]]:
    by_name = {p.name: p for p in phases}
    baselines = [(p.name, p.rate) for p in phases if p.kind == "minimal"]
    baseline = statistics.mean(rate for _n, rate in baselines)
    lines = [
        (
            "baseline_requests_per_second",
            f"{baseline:,.1f} (POST {MINIMAL_PATH}: 'ok' through the whole middleware stack; mean of "
            + ", ".join(f"{name} {rate:,.1f}" for name, rate in baselines)
            + ")",
        )
    ]
    for p in phases:
        if p.kind != "minimal":
            lines.append(
                (
                    f"{p.name}_ratio_to_baseline",
                    f"{p.rate / baseline:.2f} ({p.rate:,.1f} lookups/s, p50 {pct(p.latencies, 50):.1f} / p99 "
                    f"{pct(p.latencies, 99):.1f} ms; the database alone: p99 "
                    f"{figures.get('db_p99_ms', float('nan')):.3f} ms)",
                )
            )
    queued = 0
    for key in redis_client.scan_iter(match=f"{celery_prefix}*"):
        if redis_client.type(key) == b"list":
            queued += redis_client.llen(key)
    lines.append(("broker_queue", f"{queued:,} reply tasks waiting in the broker (no worker ran): purged"))

    verdicts = []
    if "import_rate" in figures:
        rate, flat = figures["import_rate"], figures.get("import_flat")
        verdicts.append(
            f"import {rate:,.0f} rows/s {'≥' if rate >= 50_000 else '<'} 50,000 "
            f"({'met' if rate >= 50_000 else 'NOT met'}), memory {'flat' if flat else 'NOT flat'} "
            f"(peak {figures.get('import_peak_mib', 0):,.0f} MiB)"
        )
    p99 = figures.get("db_p99_ms", float("nan"))
    verdicts.append(f"database lookup p99 {p99:.3f} ms {'<' if p99 < 2 else '≥'} 2 ({'met' if p99 < 2 else 'NOT met'})")
    for mode, name in SMS_PHASE.items():
        if name in by_name:
            ratio = by_name[name].rate / baseline
            verdicts.append(
                f"webhook lookups (SMS_INBOUND_REPLY={mode}) {ratio:.0%} of the baseline rate "
                f"{'≥' if ratio >= 0.5 else '<'} 50 % ({'met' if ratio >= 0.5 else 'NOT met'})"
            )
    if "api" in by_name:
        verdicts.append(f"(API {by_name['api'].rate / baseline:.0%} of the baseline; no target)")
    else:
        verdicts.append(f"(API not measured: {API_PATH} is not routed)")
    lines.append(("targets", "; ".join(verdicts)))
    return lines


# --- helpers -----------------------------------------------------------------------------------------------------


def code_fingerprint() -> str:
    parts = []
    for name in MEASURED_CODE:
        path = ROOT / name
        if path.is_file():
            parts.append(f"{name} {hashlib.sha256(path.read_bytes()).hexdigest()[:10]}")
        else:
            parts.append(f"{name} (missing)")
    return ", ".join(parts)


def memory_total() -> str:
    for row in Path("/proc/meminfo").read_text().splitlines():
        if row.startswith("MemTotal:"):
            return f"{int(row.split()[1]) / 2**20:.0f} GiB RAM"
    return "? RAM"


def maintenance_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    return maintenance.replace("postgres://", "postgresql://", 1), name


def database_exists(url: str) -> bool:
    import psycopg

    maintenance, name = maintenance_url(url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def drop_database(url: str) -> None:
    import psycopg

    maintenance, name = maintenance_url(url)
    if "bench" not in name:
        return
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
