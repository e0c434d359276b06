"""Benchmark: one SMS campaign to 300,000 recipients, through real Celery workers, the real ``twilio`` library
and a loopback double of Twilio's Messages API.

    .venv/bin/python bench/sms_campaign.py                          # 300,000 recipients, the default layout
    .venv/bin/python bench/sms_campaign.py --recipients 20000       # a smoke test (~1 minute)
    .venv/bin/python bench/sms_campaign.py --runs 2x1,3s:t8:k500    # compare worker layouts in one run
    .venv/bin/python bench/sms_campaign.py --recipients 20000 --cprofile   # where a worker's time goes

Uses the database ``ecp_bench_sms`` (``--database-url``), which it DROPS, creates fresh and migrates, and drops
again at the end (``--keep`` keeps it); it refuses a database whose name does not contain "bench". Redis
database 11 (``--redis-url``, flushed at the start) is the workers' cache and broker, under a key prefix of
this run's own. Worker logs: ``var/bench/sms_campaign-<run>-worker<i>.log``.

Setup (not measured): N contacts in one group by COPY (numbers +92300xxxxxxx, generated names, about 60 %
Urdu and 40 % English speakers), two SMS officers, then per run a campaign (Urdu and English templates with
{name}) made by one officer and approved by the other (maker-checker).

Each run (``--runs``, comma-separated; ``PxC`` = P prefork worker processes of C children, ``Ps`` = P solo
workers; options ``:tT`` SMS_SEND_THREADS, ``:kN`` SMS_CHUNK_SIZE, ``:dD`` SMS_DISPATCHERS, default all the
layout's slots):
- a fresh FakeTwilio (``sms/doubles/twilio_api.py``; callbacks off) in a helper process (``--double
  process``, the default) or in a thread of this process (``--double thread``);
- baseline: one bare process posting to that double with the ``twilio`` library (``TwilioProvider``) in a
  loop, one request at a time, for ``--baseline-seconds`` (no Django, database or Celery) — measured before
  each run and once after the last; the ratio is to the mean of the two around the run. Also, for
  reference, the same process with the run's number of send threads;
- the workers: ``celery -A ecp_portal worker -Q sms`` processes (DEBUG off, SMS_PROVIDER=twilio pointed at
  the double, SMS_RATE_PER_SECOND=0, PUBLIC_BASE_URL=http://127.0.0.1:1 so that every message carries a
  status-callback address with its id, which the double records and never calls), started and ready first;
- creation: ``campaign_start_run`` in this process, timed: every recipient's message rendered, counted and
  stored by COPY, the Job made; at its commit it queues the dispatch tasks;
- dispatch: from that commit to the campaign's ``finished_at`` (completed), with progress lines; messages/s
  end to end and the ratio to the baseline; CPU seconds of the workers, PostgreSQL, the double, this process
  and the rest of the machine; what the database backends waited on (sampled);
- phases inside the workers (``claim``, ``hand_over``, ``record`` of ``sms/services/dispatch.py`` wrapped
  with timers by a shim this script runs the workers under; nothing in ``sms/`` is changed): time per chunk
  and the time of one hand-over under load; with ``--cprofile`` a cProfile (CPU time of each thread) of the
  workers' dispatch loops and send threads (it slows them: not for the headline figure);
- memory: resident size (VmRSS, and the peak VmHWM) of every worker process at the end;
- integrity: the double's log counted by our message id (from the status-callback address) against the
  campaign's messages: accepted exactly once, none missing, none unknown, every one marked sent with the
  provider's id the double gave it. The script exits 1 if a run fails it.

Prints ``name: value`` lines (prefixed with the run's label when there are several runs).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import multiprocessing
import os
import platform
import pstats
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import ge_night  # noqa: E402 (bench/ is not a package)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ecp_bench_sms"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"  # 12 and 14: the tests; 13: ge_night; 15: results_portal
CALLBACK_BASE = "http://127.0.0.1:1"  # never called (the double's callbacks are off); it only records the address
BASELINE_CALLBACK = "http://127.0.0.1:1/bench-baseline?n="  # the baseline's messages, told apart from ours
FROM_NUMBER = "+15005550006"
MEASURED_CODE = (
    "sms/services/dispatch.py",
    "sms/services/campaigns.py",
    "sms/services/common.py",
    "sms/providers/twilio.py",
    "sms/tasks.py",
    "sms/doubles/twilio_api.py",
    "core/audit.py",
)
TEMPLATE_UR = "محترم {name}، الیکشن کمیشن کی تحریری امتحان کی رول نمبر سلپ پورٹل پر جاری کر دی گئی ہے۔"
TEMPLATE_EN = "Dear {name}, your ECP written-test roll number slip has been issued on the portal."
URDU_FIRST = (
    "محمد", "احمد", "علی", "حسن", "حسین", "عمر", "بلال", "عثمان", "حمزہ", "زبیر", "فاطمہ", "عائشہ", "زینب",
    "مریم", "سارہ", "نادیہ", "صائمہ", "رابعہ", "کلثوم", "شازیہ", "عبداللہ", "یاسر", "فیصل", "طارق",
)  # fmt: skip
URDU_LAST = (
    "خان", "ملک", "چوہدری", "شیخ", "قریشی", "بٹ", "رانا", "اعوان", "مرزا", "بلوچ", "یوسفزئی", "گیلانی",
    "سید", "جتوئی", "لغاری", "مینگل", "آفریدی", "شاہ",
)  # fmt: skip
ENGLISH_FIRST = (
    "Muhammad", "Ahmed", "Ali", "Hassan", "Hussain", "Umar", "Bilal", "Usman", "Hamza", "Zubair", "Fatima",
    "Ayesha", "Zainab", "Maryam", "Sara", "Nadia", "Saima", "Rabia", "Kulsoom", "Shazia", "Abdullah", "Yasir",
)  # fmt: skip
ENGLISH_LAST = (
    "Khan", "Malik", "Chaudhry", "Sheikh", "Qureshi", "Butt", "Rana", "Awan", "Mirza", "Baloch",
    "Yousafzai", "Gillani", "Syed", "Jatoi", "Leghari", "Mengal", "Afridi", "Shah",
)  # fmt: skip


# --- configuration of a run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    processes: int
    children: int  # 0: solo pool
    threads: int
    chunk: int
    dispatchers: int

    @property
    def slots(self) -> int:
        return self.processes * max(1, self.children)

    @property
    def layout(self) -> str:
        return f"{self.processes}s" if self.children == 0 else f"{self.processes}x{self.children}"

    @property
    def label(self) -> str:
        return f"{self.layout}_t{self.threads}_k{self.chunk}_d{self.dispatchers}"

    def describe(self) -> str:
        pool = (
            f"{self.processes} solo worker process(es)"
            if self.children == 0
            else f"{self.processes} prefork worker process(es) × {self.children} child(ren)"
        )
        return (
            f"{pool}; SMS_SEND_THREADS={self.threads}, SMS_CHUNK_SIZE={self.chunk}, SMS_DISPATCHERS={self.dispatchers}"
        )


def parse_run(text: str, args) -> RunSpec:
    head, *options = text.strip().split(":")
    if match := re.fullmatch(r"(\d+)x(\d+)", head):
        processes, children = int(match[1]), int(match[2])
    elif match := re.fullmatch(r"(\d+)s", head):
        processes, children = int(match[1]), 0
    else:
        sys.exit(f"bench: a run is PxC (prefork) or Ps (solo) with :tT :kN :dD options, not {text!r}.")
    values = {"t": args.threads, "k": args.chunk, "d": 0}
    for option in options:
        if not re.fullmatch(r"[tkd]\d+", option):
            sys.exit(f"bench: unknown run option {option!r} in {text!r} (:tT threads, :kN chunk, :dD dispatchers).")
        values[option[0]] = int(option[1:])
    spec = RunSpec(processes, children, values["t"], values["k"], values["d"] or args.dispatchers)
    if spec.dispatchers == 0:
        spec = RunSpec(processes, children, values["t"], values["k"], spec.slots)
    if min(spec.processes, spec.threads, spec.chunk, spec.dispatchers) < 1:
        sys.exit(f"bench: every number in {text!r} must be positive.")
    return spec


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--as-worker":  # how this script runs the Celery workers
        worker_shim(sys.argv[2:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--as-baseline":
        baseline_child(sys.argv[2:])
        return

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=300_000)
    parser.add_argument("--runs", default="2x1", help="worker layouts, comma-separated: PxC or Ps, options :tT :kN :dD")
    parser.add_argument("--threads", type=int, default=4, help="SMS_SEND_THREADS unless a run says :tT")
    parser.add_argument("--chunk", type=int, default=200, help="SMS_CHUNK_SIZE unless a run says :kN")
    parser.add_argument("--dispatchers", type=int, default=0, help="SMS_DISPATCHERS unless :dD (0: the slots)")
    parser.add_argument("--double", choices=("process", "thread"), default="process")
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--cprofile", action="store_true", help="profile the workers (slower; not the headline)")
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="the workers' -l (INFO: as docker-compose.yml and the Makefile run them) and LOG_LEVEL",
    )
    parser.add_argument(
        "--dispatch-module",
        default="",
        help="an experiment: the workers use this copy of sms/services/dispatch.py (a file outside the repository)",
    )
    parser.add_argument("--progress-seconds", type=float, default=5.0)
    parser.add_argument("--max-minutes", type=float, default=30.0, help="give a run up after this long")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args()
    specs = [parse_run(text, args) for text in args.runs.split(",") if text.strip()]
    if args.recipients < 1 or not specs:
        sys.exit("bench: --recipients and --runs must be given.")
    if args.recipients > 10_000_000:
        sys.exit("bench: at most 10,000,000 recipients (+92300 and seven digits).")

    ge_night.recreate_database(args.database_url)
    ge_night.flush_redis(args.redis_url)
    prefix = f"bench-sms-{uuid.uuid4().hex[:8]}:"
    env = {
        "DATABASE_URL": args.database_url,
        "DEBUG": "false",
        "DJANGO_ENV": "development",
        "LOG_LEVEL": args.log_level,
        "DJANGO_SETTINGS_MODULE": "ecp_portal.settings",
        "CONN_MAX_AGE": "3600",  # one backend per worker for the run, so its CPU can be read from /proc
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_KEY_PREFIX": prefix,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SMS_PROVIDER": "twilio",
        "SMS_RATE_PER_SECOND": "0",
        "PUBLIC_BASE_URL": CALLBACK_BASE,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_MESSAGING_SERVICE_SID": "",
    }
    if args.dispatch_module:
        env["BENCH_SMS_DISPATCH_MODULE"] = str(Path(args.dispatch_module).resolve())
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if args.dispatch_module:  # here only for claim_query_at_start: this process dispatches nothing
        load_dispatch_copy(Path(args.dispatch_module).resolve())

    from sms.doubles.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

    env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"] = DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
    os.environ.update(env)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    import redis

    redis_version = redis.Redis.from_url(args.redis_url).info("server")["redis_version"]
    code = code_fingerprint()
    head: list[tuple[str, object]] = [
        ("machine", f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"),
        ("postgresql", server_version),
        ("redis", redis_version),
        ("code", code),
        ("double", f"FakeTwilio in {'a helper process' if args.double == 'process' else 'a thread of the bench'}"),
        ("worker_log_level", args.log_level),
    ]
    if args.dispatch_module:
        experiment = Path(args.dispatch_module).resolve()
        digest = hashlib.sha256(experiment.read_bytes()).hexdigest()[:10]
        head.append(("experiment", f"the workers run {experiment} ({digest}) instead of sms/services/dispatch.py"))
    for name, value in head:
        print(f"{name}: {value}", flush=True)

    started = time.perf_counter()
    people = make_people(args.recipients, args.seed)
    print(f"setup_seconds: {time.perf_counter() - started:.1f} ({args.recipients:,} contacts by COPY, not measured)")

    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    results: list[RunResult] = []
    baselines: list[Baseline] = []
    failed = False
    try:
        for spec in specs:
            print(f"--- run {spec.label}: {spec.describe()}", flush=True)
            with Double(args.double) as double:
                baselines.append(measure_baseline(double, args.baseline_seconds, spec.threads))
                print(f"baseline_per_s: {baselines[-1].line()}", flush=True)
                result = run_campaign(spec, people, double, env, args, log_dir)
                results.append(result)
                if spec is specs[-1]:
                    baselines.append(measure_baseline(double, args.baseline_seconds, spec.threads))
                    print(f"baseline_after_per_s: {baselines[-1].line()}", flush=True)
    finally:
        purge_broker(args.redis_url, prefix)
        connection.close()
        if not args.keep:
            drop_database(args.database_url)

    print("--- figures", flush=True)
    for name, value in head:
        print(f"{name}: {value}")
    print(f"recipients: {args.recipients:,}")
    for i, result in enumerate(results):
        before, after = baselines[i], baselines[i + 1]
        baseline = (before.one + after.one) / 2
        prefix_ = f"{result.spec.label}_" if len(results) > 1 else ""
        for name, value in result.figures(baseline, before, after):
            print(f"{prefix_}{name}: {value}")
        failed = failed or not result.integrity_ok
    if len(results) > 1:
        best = max(results, key=lambda r: r.rate)
        print(f"best: {best.spec.label} at {best.rate:,.0f} messages/s")
    if code_fingerprint() != code:
        print(f"code_changed_during_run: {code_fingerprint()}")
    print(f"database: {'kept' if args.keep else 'dropped'} ({urlsplit(args.database_url).path.lstrip('/')})")
    if failed:
        sys.exit(1)


# --- setup -----------------------------------------------------------------------------------------------


@dataclass
class People:
    group_id: int
    maker_id: int
    checker_id: int
    urdu: int
    english: int


def make_people(n: int, seed: int) -> People:
    """N contacts in one group (COPY), two SMS officers."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from core.models import Role, RoleAssignment, User
    from sms.models import ContactGroup

    rng = random.Random(seed)
    numbers = rng.sample(range(10_000_000), n)
    now = timezone.now()
    urdu = 0
    with transaction.atomic():
        group = ContactGroup.objects.create(name="Written-test candidates", name_ur="تحریری امتحان کے امیدوار")
        with connection.cursor() as cursor:
            with cursor.cursor.copy(
                "COPY sms_contact (name, phone, language, organisation, created_at, updated_at) FROM STDIN"
            ) as copy:
                for number in numbers:
                    if rng.random() < 0.6:
                        urdu += 1
                        name, language = f"{rng.choice(URDU_FIRST)} {rng.choice(URDU_LAST)}", "ur"
                    else:
                        name, language = f"{rng.choice(ENGLISH_FIRST)} {rng.choice(ENGLISH_LAST)}", "en"
                    copy.write_row((name, f"+92300{number:07d}", language, "", now, now))
            cursor.execute(
                "INSERT INTO sms_contact_groups (contact_id, contactgroup_id) SELECT id, %s FROM sms_contact",
                [group.pk],
            )
        unusable = make_password(None)
        maker = User.objects.create(username="sms-maker", is_staff=True, password=unusable)
        checker = User.objects.create(username="sms-checker", is_staff=True, password=unusable)
        for user in (maker, checker):
            RoleAssignment.objects.create(user=user, role=Role.SMS_OFFICER)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum would have done by the time a campaign is made
    return People(group.pk, maker.pk, checker.pk, urdu, n - urdu)


def make_campaign(people: People, title: str) -> int:
    """A campaign made by one officer and approved by the other; the start task that the approval queues is
    taken off the queue again, as the bench starts the campaign itself (timed)."""
    from core import context
    from core.models import User
    from sms import services

    maker, checker = User.objects.get(pk=people.maker_id), User.objects.get(pk=people.checker_id)
    with context.acting(label="bench:sms_campaign"):
        campaign = services.campaign_create(
            actor=maker,
            title=title,
            audience_key=f"group:{people.group_id}",
            template_ur=TEMPLATE_UR,
            template_en=TEMPLATE_EN,
        )
        services.campaign_approve(actor=checker, campaign=campaign)
    from ecp_portal.celery import app

    with app.connection_for_write() as conn:  # the approval's start task: this bench starts the campaign itself
        conn.default_channel.queue_purge("sms")
    return campaign.pk


def purge_broker(redis_url: str, prefix: str) -> None:
    """Drop every key of this run's broker prefix (queued tasks, bindings, unacked messages)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        return
    maintenance = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(maintenance.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def code_fingerprint() -> str:
    parts = []
    for name in MEASURED_CODE:
        path = ROOT / name
        stamp = time.strftime("%H:%M", time.localtime(path.stat().st_mtime))
        parts.append(f"{Path(name).name} {hashlib.sha256(path.read_bytes()).hexdigest()[:10]} ({stamp})")
    return ", ".join(parts)


# --- the double ------------------------------------------------------------------------------------------


def double_child(conn) -> None:
    """FakeTwilio in a process of its own, answering the bench over a pipe."""
    from sms.doubles.twilio_api import FakeTwilio

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the bench stops it (Ctrl-C goes to the whole group)
    fake = FakeTwilio().start()
    conn.send(fake.base_url)
    while True:
        command = conn.recv()
        if command == "progress":
            conn.send(fake.requests_total)
        elif command == "records":
            conn.send([(r["status_callback"], r["sid"]) for r in fake.creates])
        elif command == "errors":
            conn.send(dict(fake.errors))
        else:
            fake.stop()
            conn.send(None)
            return


class Double:
    """The loopback FakeTwilio for one run: in a helper process or in a thread of this process."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.process = None
        self.fake = None
        self.conn = None
        self.base_url = ""

    def __enter__(self) -> Double:
        if self.where == "thread":
            from sms.doubles.twilio_api import FakeTwilio

            self.fake = FakeTwilio().start()
            self.base_url = self.fake.base_url
        else:
            context = multiprocessing.get_context("spawn")  # not fork: this process holds database connections
            self.conn, child = context.Pipe()
            self.process = context.Process(target=double_child, args=(child,), name="fake-twilio", daemon=True)
            self.process.start()
            self.base_url = self.conn.recv()
        return self

    def _ask(self, command: str):
        if self.fake is not None:
            return {
                "progress": lambda: self.fake.requests_total,
                "records": lambda: [(r["status_callback"], r["sid"]) for r in self.fake.creates],
                "errors": lambda: dict(self.fake.errors),
            }[command]()
        self.conn.send(command)
        return self.conn.recv()

    def progress(self) -> int:
        """Requests answered so far (every one a create while nothing fails)."""
        return self._ask("progress")

    def records(self) -> list[tuple[str, str]]:
        """(status-callback address, sid) of every accepted create, oldest first."""
        return self._ask("records")

    def errors(self) -> dict[int, int]:
        return self._ask("errors")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def __exit__(self, *exc_info) -> None:
        if self.fake is not None:
            self.fake.stop()
            return
        with contextlib.suppress(OSError, EOFError):
            self.conn.send("stop")
            self.conn.recv()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)


# --- the baseline ----------------------------------------------------------------------------------------


@dataclass
class Baseline:
    one: float  # hand-overs a second, one thread
    threaded: float  # the same process with `threads` threads
    threads: int

    def line(self) -> str:
        return (
            f"{self.one:,.0f} (one bare process, one request at a time; {self.threaded:,.0f} with {self.threads} "
            f"threads)"
        )


def baseline_child(argv: list[str]) -> None:
    """One bare process: TwilioProvider (the twilio library) posting to the double in a loop; prints the rate."""
    base_url, seconds, threads = argv[0], float(argv[1]), int(argv[2])
    sys.path.insert(0, str(ROOT))
    from sms.doubles.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
    from sms.providers.base import OutgoingSms
    from sms.providers.twilio import TwilioProvider

    bodies = [TEMPLATE_UR.format(name="محمد خان"), TEMPLATE_EN.format(name="Ayesha Malik")]
    counts = [0] * threads
    stop_at = time.monotonic() + seconds

    def loop(index: int) -> None:
        provider = TwilioProvider(
            account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN, from_number=FROM_NUMBER, api_base=base_url
        )
        provider.send(OutgoingSms(0, "+923009999999", bodies[1], BASELINE_CALLBACK + "warm"))  # connection open
        n = 0
        while time.monotonic() < stop_at:
            number = index * 10_000_000 + n
            sms = OutgoingSms(number, f"+92301{n % 10_000_000:07d}", bodies[n % 2], f"{BASELINE_CALLBACK}{number}")
            provider.send(sms)
            n += 1
        counts[index] = n

    started = time.monotonic()
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(sum(counts) / (time.monotonic() - started))


def measure_baseline(double: Double, seconds: float, threads: int) -> Baseline:
    def rate(n: int) -> float:
        command = [sys.executable, str(Path(__file__).resolve()), "--as-baseline", double.base_url, str(seconds)]
        command.append(str(n))
        out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])

    return Baseline(rate(1), rate(threads), threads)


# --- the workers -----------------------------------------------------------------------------------------


class Workers:
    def __init__(
        self, spec: RunSpec, env: dict[str, str], log_dir: Path, stats_dir: Path, cprofile: bool, log_level: str
    ) -> None:
        self.spec = spec
        self.stats_dir = stats_dir
        worker_env = {
            **os.environ,
            **env,
            "SMS_SEND_THREADS": str(spec.threads),
            "SMS_CHUNK_SIZE": str(spec.chunk),
            "SMS_DISPATCHERS": str(spec.dispatchers),
        }
        pool = ["--pool=solo"] if spec.children == 0 else ["--pool=prefork", f"--concurrency={spec.children}"]
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        for i in range(spec.processes):
            log = log_dir / f"sms_campaign-{spec.label}-worker{i}.log"
            command = [sys.executable, str(Path(__file__).resolve()), "--as-worker", str(stats_dir), str(int(cprofile))]
            command += ["-A", "ecp_portal", "worker", "-Q", "sms", *pool, "-l", log_level, "-n", f"bench{i}@%h"]
            command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
            with log.open("wb") as out:
                self.processes.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=worker_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                    )
                )
            self.logs.append(log)
        self._wait_ready()

    def _wait_ready(self, seconds: float = 90) -> None:
        """Each worker's main process touches ``ready-<pid>`` in the stats directory (celery's worker_ready)."""
        until = time.monotonic() + seconds
        waiting = set(range(len(self.processes)))
        while waiting and time.monotonic() < until:
            for i in list(waiting):
                if self.processes[i].poll() is not None:
                    self.stop()
                    sys.exit(f"bench: worker {i} exited; see {self.logs[i]}:\n{self.logs[i].read_text()[-3000:]}")
                if (self.stats_dir / f"ready-{self.processes[i].pid}").exists():
                    waiting.discard(i)
            time.sleep(0.1)
        if waiting:
            self.stop()
            sys.exit(f"bench: workers {sorted(waiting)} did not become ready; see {self.logs[0].parent}")

    def pids(self) -> list[int]:
        return [p for process in self.processes for p in (process.pid, *ge_night.children(process.pid))]

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def memory(self) -> list[list[tuple[int, float, float]]]:
        """Per worker: (pid, VmRSS MB, VmHWM MB) of the main process, then of each pool child."""
        return [
            [(pid, *_vm(pid)) for pid in (process.pid, *ge_night.children(process.pid))] for process in self.processes
        ]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
                process.wait(timeout=10)


def _vm(pid: int) -> tuple[float, float]:
    rss = hwm = 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return rss, hwm


def worker_shim(argv: list[str]) -> None:
    """``celery`` with timers (and optionally cProfile) around the dispatch phases; argv: stats dir, 0/1, celery's."""
    stats_dir, profile, celery_args = Path(argv[0]), argv[1] == "1", argv[2:]
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecp_portal.settings")
    import django

    django.setup()
    if override := os.environ.get("BENCH_SMS_DISPATCH_MODULE"):
        load_dispatch_copy(Path(override))
    install_timers(stats_dir, profile)
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", *celery_args]
    celery_main()


def load_dispatch_copy(path: Path) -> None:
    """Put a copy of sms/services/dispatch.py kept outside the repository (``--dispatch-module``, an experiment)
    in the place of the real one in this worker, before the timers wrap it."""
    import importlib.util

    import sms.services as package

    spec = importlib.util.spec_from_file_location("sms.services.dispatch", path)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "sms.services"
    spec.loader.exec_module(module)
    sys.modules["sms.services.dispatch"] = package.dispatch = module
    for name in ("campaign_dispatch_run", "message_dispatch_run", "recover_expired_leases", "sweep"):
        setattr(package, name, getattr(module, name))


def install_timers(stats_dir: Path, profile: bool) -> None:
    """Wrap claim / hand_over / _hand_over_one / record / campaign_dispatch_run of sms.services.dispatch (the
    dispatch loop looks them up in the module at every call) with timers — wall time, and CPU time of the
    thread — and note each task's answer; the prefork children inherit it. Each process writes its sums to
    ``stats_dir/phases-<pid>.json`` now and then and after each task (and its profiles after each task)."""
    import cProfile

    from celery.signals import task_postrun, worker_ready

    import sms.services as package
    from sms.services import dispatch

    lock = threading.Lock()
    sums: Counter = Counter()
    local = threading.local()
    thread_profiles: list[cProfile.Profile] = []
    # CPU time of the thread, not wall time: a wall-clock profile of these threads is mostly waits for the GIL.
    main_profile = cProfile.Profile(time.thread_time) if profile else None
    state = {"flushed": 0.0}

    def add(key: str, seconds: float, cpu: float, n: int) -> None:
        with lock:
            sums[f"{key}_s"] += seconds
            sums[f"{key}_cpu"] += cpu
            sums[f"{key}_calls"] += 1
            sums[f"{key}_n"] += n

    def flush(profiles: bool = False) -> None:
        pid = os.getpid()
        with lock:
            data = dict(sums)
        path = stats_dir / f"phases-{pid}.json"
        path.with_suffix(".tmp").write_text(json.dumps({"pid": pid, "ppid": os.getppid(), "sums": data}))
        path.with_suffix(".tmp").replace(path)
        if profiles and main_profile is not None:  # dump_stats disables a profiler: only between tasks
            main_profile.dump_stats(stats_dir / f"main-{pid}.prof")
            for i, p in enumerate(thread_profiles):
                p.dump_stats(stats_dir / f"send-{pid}-{i}.prof")
        state["flushed"] = time.monotonic()

    claim, hand_over, record = dispatch.claim, dispatch.hand_over, dispatch.record
    one, run = dispatch._hand_over_one, dispatch.campaign_dispatch_run

    def timed_claim(*a, **k):
        t, c = time.perf_counter(), time.thread_time()
        batch = claim(*a, **k)
        add("claim", time.perf_counter() - t, time.thread_time() - c, len(batch.messages))
        return batch

    def timed_hand_over(batch):
        t, c = time.perf_counter(), time.thread_time()
        outcomes = hand_over(batch)
        add("hand_over", time.perf_counter() - t, time.thread_time() - c, len(batch.messages))
        return outcomes

    def timed_one(batch, message):
        if profile:
            p = getattr(local, "profile", None)
            if p is None:
                p = local.profile = cProfile.Profile(time.thread_time)
                with lock:
                    thread_profiles.append(p)
            p.enable()
        t, c = time.perf_counter(), time.thread_time()
        try:
            return one(batch, message)
        finally:
            add("send", time.perf_counter() - t, time.thread_time() - c, 1)
            if profile:
                p.disable()

    def timed_record(batch, outcomes, **k):
        t, c = time.perf_counter(), time.thread_time()
        counts = record(batch, outcomes, **k)
        add("record", time.perf_counter() - t, time.thread_time() - c, len(outcomes))
        if time.monotonic() - state["flushed"] > 1.0:
            flush()
        return counts

    def timed_run(**k):
        if main_profile is not None:
            main_profile.enable()
        t, c = time.perf_counter(), time.thread_time()
        try:
            return run(**k)
        finally:
            add("task", time.perf_counter() - t, time.thread_time() - c, 1)
            if main_profile is not None:
                main_profile.disable()
            flush(profiles=True)

    dispatch.claim, dispatch.hand_over, dispatch.record = timed_claim, timed_hand_over, timed_record
    dispatch._hand_over_one, dispatch.campaign_dispatch_run = timed_one, timed_run
    package.campaign_dispatch_run = timed_run  # tasks.py imports it from the package at each call

    @worker_ready.connect(weak=False)
    def ready(**_kwargs) -> None:
        (stats_dir / f"ready-{os.getpid()}").touch()

    @task_postrun.connect(weak=False)
    def answered(task=None, retval=None, **_kwargs) -> None:
        with lock:
            sums[f"answer:{getattr(task, 'name', '?')}: {retval}"] += 1
        flush()


# --- one run ---------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    spec: RunSpec
    campaign_id: int
    messages: int
    creation_seconds: float
    creation_answer: str
    dispatch_seconds: float
    first_accept_seconds: float
    progress: list[str]
    cpu: dict[str, float]
    waits: str
    memory: list[list[tuple[int, float, float]]]
    phases: dict[str, float]
    profile: list[str]
    claim_plan: str
    integrity: str
    integrity_ok: bool
    double_errors: dict[int, int]
    double_process: bool
    worker_answers: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.messages / self.dispatch_seconds if self.dispatch_seconds > 0 else 0.0

    def figures(self, baseline: float, before: Baseline, after: Baseline) -> list[tuple[str, object]]:
        cpu = self.cpu
        wall = cpu["wall"]
        cores = os.cpu_count() or 1
        figures: list[tuple[str, object]] = [
            ("run", self.spec.describe()),
            ("creation_seconds", f"{self.creation_seconds:.1f} ({self.creation_answer}; target ≤ 30)"),
            (
                "dispatch_seconds",
                f"{self.dispatch_seconds:.1f} (commit of the messages → campaign completed; first message at the "
                f"double after {self.first_accept_seconds:.2f} s)",
            ),
            ("dispatch_per_s", f"{self.rate:,.0f} (target ≥ 1,000)"),
            (
                "baseline_per_s",
                f"{baseline:,.0f} (mean of {before.one:,.0f} before and {after.one:,.0f} after; one bare process, "
                f"one request at a time; with {before.threads} threads: {before.threaded:,.0f} / "
                f"{after.threaded:,.0f})",
            ),
            ("ratio_to_baseline", f"{self.rate / baseline:.2f}" if baseline else "n/a"),
            (
                "cpu_seconds",
                f"workers {cpu['workers']:.1f}, postgres {cpu['postgres']:.1f}, "
                + (
                    f"double {cpu['double']:.1f}, bench {cpu['bench']:.1f}"
                    if self.double_process
                    else f"bench with the double {cpu['bench']:.1f}"
                )
                + f", redis {cpu['redis']:.1f}, other processes {cpu['others']:.1f}; "
                f"{cpu['busy'] / cpu['total']:.0%} of {cores} cores busy over {wall:.1f} s",
            ),
            (
                "cpu_ms_per_message",
                f"workers {1000 * cpu['workers'] / self.messages:.2f}, postgres "
                f"{1000 * cpu['postgres'] / self.messages:.2f}, double "
                f"{1000 * (cpu['double'] if self.double_process else cpu['bench']) / self.messages:.2f}"
                + ("" if self.double_process else " (the bench process, the double's thread included)"),
            ),
            ("database_waits", self.waits),
            ("claim_query_at_start", self.claim_plan),
            ("phases", self.phase_line()),
            ("memory_mb", self.memory_line()),
            ("worker_tasks", ", ".join(f"{n} × {answer!r}" for answer, n in self.worker_answers.most_common())),
        ]
        if self.double_errors:
            figures.append(("double_errors", self.double_errors))
        figures += [("profile", line) for line in self.profile]
        figures.append(("integrity", self.integrity))
        return figures

    def phase_line(self) -> str:
        s = self.phases
        chunks = s.get("record_calls", 0)
        if not chunks:
            return "no phase timings (the workers wrote none)"
        claim, hand, record, task = s["claim_s"], s["hand_over_s"], s["record_s"], s.get("task_s", 0.0)
        other = max(0.0, task - claim - hand - record)
        per = 1000 / chunks
        sends = s.get("send_calls", 0) or 1
        messages = s["record_n"]
        total = claim + hand + record + other
        return (
            f"{chunks:,.0f} chunks of {messages / chunks:.0f} messages; a chunk: claim {claim * per:.0f} ms "
            f"({claim / total:.0%}), hand-over {hand * per:.0f} ms ({hand / total:.0%}), record {record * per:.0f} ms "
            f"({record / total:.0%}), the rest of the loop {other * per:.0f} ms ({other / total:.0%}); one hand-over "
            f"(twilio library round trip) {1000 * s['send_s'] / sends:.2f} ms wall, "
            f"{1000 * s['send_cpu'] / sends:.2f} ms CPU of its thread, {self.spec.threads} at a time; claim + record "
            f"{1000 * (claim + record) / messages:.3f} ms wall, "
            f"{1000 * (s['claim_cpu'] + s['record_cpu']) / messages:.3f} ms CPU a message; "
            f"time in dispatch tasks {task:.0f} s over {self.spec.dispatchers} dispatcher(s)"
        )

    def memory_line(self) -> str:
        parts = []
        for i, processes in enumerate(self.memory):
            rss = " + ".join(f"{r:.0f}" for _, r, _ in processes)
            peak = " + ".join(f"{h:.0f}" for _, _, h in processes)
            parts.append(f"worker {i}: {rss} (peak {peak})")
        total = sum(r for processes in self.memory for _, r, _ in processes)
        return f"VmRSS main process + pool children at the end: {'; '.join(parts)}; total {total:.0f}"


class Meter:
    """CPU seconds of the workers, this database's PostgreSQL backends (and the shared PostgreSQL processes),
    Redis, the double's process, this process and the machine. Celery closes a task's database connection when
    the task ends, so the backends are sampled every half second and each one's last reading counts."""

    def __init__(self, database_url: str, workers: Workers, double: Double) -> None:
        import psycopg

        self.conn = psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True)
        self.database = urlsplit(database_url).path.lstrip("/")
        self.workers, self.double = workers, double
        self.redis = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/comm") if _comm(p) == "redis-server"]
        self.postgres: dict[int, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample_postgres(self) -> None:
        pids = [
            row[0]
            for row in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE (datname = %s OR datname IS NULL) AND pid <> pg_backend_pid()",
                [self.database],
            )
        ]
        with self._lock:
            self.postgres.update(ge_night.cpu_by_pid(pids))

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._sample_postgres()

    def read(self) -> tuple:
        self._sample_postgres()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        with self._lock:
            postgres = dict(self.postgres)
        times = os.times()
        double = ge_night.cpu_by_pid([self.double.pid]) if self.double.pid else {}
        return (
            ge_night.cpu_by_pid(self.workers.pids()),
            postgres,
            double,
            times.user + times.system,
            ge_night.machine_busy(),
            time.monotonic(),
            ge_night.cpu_by_pid(self.redis),
        )

    @staticmethod
    def diff(after: tuple, before: tuple) -> dict[str, float]:
        def delta(a: dict, b: dict) -> float:
            return sum(v - b.get(pid, 0.0) for pid, v in a.items())

        use = {
            "workers": delta(after[0], before[0]),
            "postgres": delta(after[1], before[1]),
            "double": delta(after[2], before[2]),
            "bench": after[3] - before[3],
            "busy": after[4][0] - before[4][0],
            "total": max(1e-9, after[4][1] - before[4][1]),
            "wall": after[5] - before[5],
            "redis": delta(after[6], before[6]),
        }
        mine = use["workers"] + use["postgres"] + use["double"] + use["bench"] + use["redis"]
        use["others"] = max(0.0, use["busy"] - mine)
        return use

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.conn.close()


def _comm(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def run_campaign(spec: RunSpec, people: People, double: Double, env: dict[str, str], args, log_dir: Path) -> RunResult:
    from django.conf import settings
    from django.db import connection

    from core.models import Job
    from sms.models import Campaign, CampaignStatus
    from sms.services import campaign_start_run

    stats_dir = Path(log_dir / f"sms_campaign-{spec.label}-stats")
    stats_dir.mkdir(parents=True, exist_ok=True)
    for old in stats_dir.iterdir():
        old.unlink()
    env = {**env, "TWILIO_API_BASE": double.base_url}
    os.environ.update(env)
    settings.TWILIO_API_BASE = double.base_url
    settings.SMS_DISPATCHERS = spec.dispatchers  # campaign_start_run queues this many dispatch tasks at its commit
    campaign_id = make_campaign(people, f"Roll number slips ({spec.label})")

    workers = Workers(spec, env, log_dir, stats_dir, args.cprofile, args.log_level)
    meter = Meter(args.database_url, workers, double)
    sampler = ge_night.WaitSampler(args.database_url)
    progress: list[str] = []
    try:
        accepted_before = double.progress()
        t0 = time.perf_counter()
        answer = campaign_start_run(campaign_id=campaign_id)  # its commit queues the dispatch tasks
        committed_wall = datetime.now(UTC)
        committed = time.perf_counter()
        creation = committed - t0
        print(f"creation_seconds: {creation:.1f} ({answer})", flush=True)
        plan = claim_plan(campaign_id, spec.chunk)
        print(f"claim_query_at_start: {plan}", flush=True)
        before = meter.read()
        sampler.start()
        total = Campaign.objects.get(pk=campaign_id).recipients
        job_id = Campaign.objects.filter(pk=campaign_id).values_list("job_id", flat=True).get()
        first_accept = None
        last_print, last_count, last_at = committed, 0, committed
        deadline = committed + args.max_minutes * 60
        finished_at = None
        stalled_since, stalled_count = committed, -1
        while True:
            time.sleep(0.25 if first_accept is None else 1.0)
            now = time.perf_counter()
            accepted = double.progress() - accepted_before
            if first_accept is None and accepted > 0:
                first_accept = now - committed
            status, finished_at = Campaign.objects.filter(pk=campaign_id).values_list("status", "finished_at").get()
            if now - last_print >= args.progress_seconds or status == CampaignStatus.COMPLETED:
                done = Job.objects.filter(pk=job_id).values_list("done", flat=True).get()
                line = (
                    f"  t+{now - committed:6.1f} s  accepted by the double {accepted:>9,}  recorded {done:>9,} "
                    f"of {total:,}  ({(accepted - last_count) / (now - last_at):,.0f}/s lately, "
                    f"{accepted / (now - committed):,.0f}/s overall)"
                )
                print(line, flush=True)
                progress.append(line)
                last_print, last_count, last_at = now, accepted, now
            if status == CampaignStatus.COMPLETED:
                break
            if accepted != stalled_count:
                stalled_since, stalled_count = now, accepted
            if not workers.alive() or now > deadline or now - stalled_since > 180:
                why = "a worker exited" if not workers.alive() else "no progress for 3 minutes"
                why = f"the run took longer than {args.max_minutes} minutes" if now > deadline else why
                print(f"bench: giving the run up: {why}; see {workers.logs[0].parent}", flush=True)
                break
        after = meter.read()
        sampler.stop()
        memory = workers.memory()
        time.sleep(0.5)  # the last task's timers are written when it returns
    finally:
        workers.stop()
        meter.close()
        sampler.stop()
    dispatch_seconds = (finished_at - committed_wall).total_seconds() if finished_at else float("nan")
    connection.close()
    phases = read_phases(stats_dir)
    answers = Counter({k.split(": ", 1)[1]: int(v) for k, v in phases.items() if k.startswith("answer:sms.")})
    integrity, ok = check_integrity(campaign_id, double.records(), finished_at is not None)
    return RunResult(
        spec=spec,
        campaign_id=campaign_id,
        messages=total,
        creation_seconds=creation,
        creation_answer=answer,
        dispatch_seconds=dispatch_seconds,
        first_accept_seconds=first_accept or float("nan"),
        progress=progress,
        cpu=Meter.diff(after, before),
        waits=sampler.summary(),
        memory=memory,
        phases=phases,
        profile=read_profiles(stats_dir, log_dir / f"sms_campaign-{spec.label}-profile.txt") if args.cprofile else [],
        claim_plan=plan,
        integrity=integrity,
        integrity_ok=ok,
        double_errors=double.errors(),
        double_process=double.pid is not None,
        worker_answers=answers,
    )


def claim_plan(campaign_id: int, chunk: int) -> str:
    """EXPLAIN ANALYZE of the claim's query (as sms/services/dispatch.py builds it, without FOR UPDATE: it
    locks nothing) right after the messages were made: what one claim of a chunk reads."""
    from django.db.models.sql.query import Query

    from sms.models import Message
    from sms.services import dispatch

    captured: list = []
    original = Query.get_compiler

    def capture(self, *a, **k):  # the claim's own queryset, whatever order and filters it uses
        compiler = original(self, *a, **k)
        if self.model is Message and self.select_for_update:
            captured.append(self.clone())
            raise LookupError("captured")
        return compiler

    Query.get_compiler = capture
    try:
        with contextlib.suppress(LookupError):
            dispatch.claim(campaign_id=campaign_id, limit=chunk)
    finally:
        Query.get_compiler = original
    if not captured:
        return "not captured"
    query = captured[0]
    query.select_for_update = False
    qs = Message.objects.all()
    qs.query = query
    plan = qs.explain(analyze=True)
    took = re.search(r"Execution Time: ([0-9.]+) ms", plan)
    scans = re.findall(
        r"(\w+(?: Only)? Scan)[^\n]*?on sms_message[^\n]*actual time=[0-9.]+\.\.[0-9.]+ rows=(\d+)", plan
    )
    sort = "sorted" if "Sort" in plan else "no sort"
    read = ", ".join(f"{kind} returned {int(rows):,} rows" for kind, rows in scans) or "?"
    return f"{took[1] if took else '?'} ms for one chunk: {read}, {sort} (ORDER BY {', '.join(query.order_by)})"


def read_phases(stats_dir: Path) -> dict[str, float]:
    sums: Counter = Counter()
    for path in stats_dir.glob("phases-*.json"):
        sums.update(json.loads(path.read_text())["sums"])
    return dict(sums)


def read_profiles(stats_dir: Path, out: Path) -> list[str]:
    """Merge the workers' profiles; write the top functions to ``out`` and return a few summary lines."""
    lines: list[str] = []
    text = []
    for kind, pattern in (("dispatch loop (main thread)", "main-*.prof"), ("send threads", "send-*.prof")):
        files = [str(p) for p in stats_dir.glob(pattern) if p.stat().st_size]
        if not files:
            continue
        stats = pstats.Stats(*files)
        total = stats.total_tt
        buffer = io.StringIO()
        stats.stream = buffer
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        text.append(f"===== {kind}: {total:.1f} CPU s profiled =====\n{buffer.getvalue()}")
        ranked = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:6]
        top = ", ".join(f"{_func(f)} {tt / total:.0%}" for f, (_cc, _nc, tt, _ct, _callers) in ranked)
        lines.append(f"{kind}: {total:.1f} CPU s; own time: {top}")
        cumulative = sorted(
            (
                (ct, _func(f))
                for f, (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
                if (f[0].endswith("services/dispatch.py") and f[2] in PROFILED)
                or (f[0].endswith("core/audit.py") and f[2] == "record")
                or (f[0].endswith("services/common.py") and f[2] == "add_events")
            ),
            reverse=True,
        )
        if cumulative:
            lines.append(f"{kind}, cumulative: " + ", ".join(f"{name} {ct / total:.0%}" for ct, name in cumulative))
    out.write_text("\n".join(text))
    lines.append(f"full listing: {out.relative_to(ROOT)}")
    return lines


PROFILED = ("claim", "hand_over", "record", "_mark_sent", "_count_done", "_dispatch_loop", "campaign_finish_if_done")


def _func(f: tuple[str, int, str]) -> str:
    filename, line, name = f
    if filename == "~":
        return name
    parts = Path(filename).parts
    short = "/".join(parts[-2:]) if len(parts) > 1 else filename
    return f"{short}:{line}({name})"


# --- integrity -------------------------------------------------------------------------------------------


def check_integrity(campaign_id: int, records: list[tuple[str, str]], completed: bool) -> tuple[str, bool]:
    """The double's log against the campaign's messages: each accepted exactly once, marked sent with its sid."""
    from sms.models import Message, MessageEvent
    from sms.services.common import status_callback

    expected_prefix = status_callback(0)[:-1]  # ".../sms/status/?m="
    rows = list(Message.objects.filter(campaign_id=campaign_id).values_list("pk", "status", "provider_id"))
    ids = {pk for pk, _, _ in rows}
    seen: Counter = Counter()
    sids: dict[int, list[str]] = defaultdict(list)
    unknown = 0
    for callback, sid in records:
        if callback.startswith(BASELINE_CALLBACK):
            continue
        if not callback.startswith(expected_prefix):
            unknown += 1
            continue
        pk = int(parse_qs(urlsplit(callback).query)["m"][0])
        if pk not in ids:
            unknown += 1
            continue
        seen[pk] += 1
        sids[pk].append(sid)
    accepted = sum(seen.values())
    twice = sum(1 for n in seen.values() if n > 1)
    missing = len(ids) - len(seen)
    marked = sum(1 for _, status, _ in rows if status == "sent")
    wrong_sid = sum(1 for pk, status, pid in rows if status == "sent" and sids.get(pk) and pid not in sids[pk])
    events = MessageEvent.objects.filter(message__campaign_id=campaign_id).count()
    ok = (
        completed
        and accepted == len(ids)
        and twice == 0
        and missing == 0
        and unknown == 0
        and marked == len(ids)
        and wrong_sid == 0
    )
    line = (
        f"{'OK' if ok else 'FAILED'}: {len(ids):,} messages, {accepted:,} accepted by the provider, {twice} twice, "
        f"{missing} missing, {marked:,} marked sent in the database; {unknown} unknown to the campaign, "
        f"{wrong_sid} with another provider id than the double's; {events:,} message events"
        + ("" if completed else "; the campaign did NOT complete")
    )
    return line, ok


if __name__ == "__main__":
    main()
