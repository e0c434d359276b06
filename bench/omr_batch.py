"""Benchmark: a 70,000-sheet scan batch end to end through real Celery workers (issue 8's "≤ 15 minutes on 2
cores"), with the engine alone measured in the same run for comparison.

    .venv/bin/python bench/omr_batch.py                        # 70,000 sheets (~20 minutes on 2 cores)
    .venv/bin/python bench/omr_batch.py --sheets 2000          # a smoke test (~2 minutes)
    .venv/bin/python bench/omr_batch.py --sheets 20000 --no-score

Uses the database ``ecp_bench_omr`` (``--database-url``), which it DROPS, creates fresh and migrates, and drops
again at the end (``--keep`` keeps it and the media); it refuses a database whose name does not contain "bench".
Redis database 9 (``--redis-url``) is the broker, under a key prefix of this run's own (deleted at the end).
Scans, ZIPs and the workers' media go under ``var/bench/omr_batch-<pid>/`` (removed at the end unless
``--keep``); the worker log is ``var/bench/omr_batch-worker.log``.

1. **Setup (timed, not measured):** through the services, as an operator would: ``exam_create`` (100
   questions × 4 options, 8-digit roll, series A–D, two sections, −0.25 for a wrong answer), ``key_import``
   (a random key per series) and ``candidates_import`` (one candidate for every roll of the run: N distinct
   random 8-digit rolls, names, centres, dates of birth, quota buckets).
2. **Scans (timed, not measured):** rendering 70,000 sheets with ``omr.synth.make_sheet`` one by one is too
   slow (about 60 ms each), so: a *pool* of ``--pool`` distinct filled sheets (``synth.random_truth``: answers
   and series, 5 % blank and 1 % multiple-marked questions; clean pen or pencil fills) is rendered **without a
   roll number**, and each of the N sheets is a copy of pool sheet ``k mod pool`` with its own roll number's
   eight bubbles filled (solid discs of a dark grey, as a pen fill), encoded as JPEG (``--quality``, 80 by
   default: about 240 KB a sheet at 150 DPI, what a document scanner gives). So every sheet has a distinct roll
   and a distinct file (its SHA-256); the answers and the QR code's sheet id repeat every ``--pool`` sheets.
   Written by two processes into ZIP files (stored, not deflated: JPEG does not shrink) of ``--zip-size``
   sheets, before the workers start.
3. **Engine baseline,** in this process on one core (``cv2.setNumThreads(1)``): ``engine.decode`` +
   ``engine.read_sheet`` of the first ``--baseline-sheets`` sheets of the first ZIP, CPU time → sheets/s a
   core. The ideal for 2 cores is twice that.
4. **The run (measured):** ``celery -A ecp_portal worker -Q omr --pool=prefork --concurrency=2`` (``-l INFO``,
   as the Makefile runs workers; DEBUG off), ready first. Then the batches are uploaded one after another
   through ``services.batch_upload`` — ``--per-batch`` sheets a batch (5,000 is the most one upload may hold,
   ``omr/uploads.py``), each batch ``--per-batch / --zip-size`` ZIP files read from disk — while the workers
   already read the earlier batches (as operators upload while the scanner runs). Each batch's Job is
   followed to its end. Figures: end to end from the first upload's start to the last Job's ``finished_at``
   (sheets/s and minutes), the upload calls alone (seconds, sheets/s: unpacking, hashing, storing each image,
   inserting the rows), the time the workers needed after the last upload, the ratio of the end-to-end rate
   to the engine baseline (one core, and the ideal of two), CPU seconds of the workers, PostgreSQL, Redis, this
   process and the rest of the machine, the workers' CPU milliseconds a sheet against the engine's, and each
   worker process's resident memory (VmRSS, and the peak VmHWM) at the end.
5. **Integrity:** every sheet read (status ``read``), its roll the one drawn, matched to that candidate, its
   answers those of its pool sheet; one ``omr.sheet_read`` audit event a sheet; every Job succeeded with done =
   total; the audit chain's length.
6. **Scoring** (``--no-score`` skips it): ``services.exam_score`` over all the sheets, timed, with this
   process's peak memory.

With ``--sheets`` below 70,000 the 70,000-sheet time is also printed, extrapolated linearly from the measured
end-to-end rate, and labelled so. Prints ``name: value`` lines.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import date
from decimal import Decimal
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ecp_bench_omr"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"  # 10 roll_lookup, 11 sms, 12/14 tests, 13 ge_night, 15 results_portal
TARGET_SHEETS = 70_000
TARGET_MINUTES = 15.0
QUESTIONS = 100
EXAM_CODE = "bench-assistant-2026"  # also the layout's code (exam_create names the layout after the exam)
EXAM_TITLE = "Assistant (BPS-16) written test"
SERIES = ("A", "B", "C", "D")
ROLL_DIGITS = 8
FIRST = ("Muhammad", "Ahmed", "Ali", "Hassan", "Fatima", "Ayesha", "Zainab", "Maryam", "Bilal", "Sana", "Usman")
LAST = ("Khan", "Malik", "Chaudhry", "Sheikh", "Qureshi", "Butt", "Awan", "Mirza", "Baloch", "Shah", "Afridi")
MEASURED_CODE = ("omr/services.py", "omr/engine.py", "omr/tasks.py", "omr/uploads.py", "core/audit.py")


def say(name: str, value: object) -> None:
    print(f"{name}: {value}", flush=True)


def bench_layout():
    from omr.layout import build_layout

    return build_layout(
        code=EXAM_CODE, questions=QUESTIONS, options=4, roll_digits=ROLL_DIGITS, series=SERIES, title=EXAM_TITLE,
    )  # fmt: skip


# --- scans (child processes: pure code, no Django) ------------------------------------------------------------


def render_pool_part(folder: str, first: int, count: int, dpi: int) -> list[tuple[int, str, dict[str, str]]]:
    """Pool sheets first … first+count-1, filled but with no roll marked, each saved as ``pool-<i>.npy``."""
    import cv2
    import numpy as np

    from omr import synth

    cv2.setNumThreads(1)
    layout = bench_layout()
    out = []
    for i in range(first, first + count):
        truth = synth.random_truth(layout, 10_000 + i, blank_rate=0.05, multi_rate=0.01, sheet_id=f"P{i:05d}")
        image, _ = synth.make_sheet(layout, replace(truth, roll=""), dpi, seed=10_000 + i)
        np.save(Path(folder) / f"pool-{i}.npy", image)
        out.append((i, truth.series, {str(q): letters for q, letters in truth.answers.items()}))
    return out


def write_zip(path: str, pool_folder: str, pool: int, sheets: list[tuple[int, str]], dpi: int, quality: int) -> int:
    """A ZIP (stored) of the given sheets (number k, roll): pool sheet k mod pool with the roll's bubbles filled."""
    import cv2
    import numpy as np

    cv2.setNumThreads(1)
    layout = bench_layout()
    s = dpi / 72
    radius = round(layout.bubble_radius * 0.92 * s * 16)
    bases: dict[int, np.ndarray] = {}
    size = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for k, roll in sheets:
            index = k % pool
            if index not in bases:
                bases = {index: np.load(Path(pool_folder) / f"pool-{index}.npy")}  # sheets come in order
            image = bases[index].copy()
            grey = 25 + (k * 7919) % 50  # pen or dark pencil
            for digit, value in enumerate(roll):
                x = layout.roll_x + digit * layout.option_pitch
                y = layout.roll_y + int(value) * layout.row_pitch
                centre = (round((x * s - 0.5) * 16), round((y * s - 0.5) * 16))
                cv2.circle(image, centre, radius, grey, -1, cv2.LINE_AA, 4)
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            assert ok
            archive.writestr(f"sheet-{k:06d}.jpg", data.tobytes())
            size += len(data)
    return size


# --- the workers ----------------------------------------------------------------------------------------------


class Workers:
    """One ``celery worker -Q omr`` process, prefork with ``concurrency`` children, in its own session."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int) -> None:
        self.log = log
        command = [sys.executable, "-m", "celery", "-A", "ecp_portal", "worker", "-Q", "omr", "--pool=prefork"]
        command += [f"--concurrency={concurrency}", "-l", "INFO", "-n", f"omrbench-{os.getpid()}@%h"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        until = time.monotonic() + 90
        while time.monotonic() < until:
            if self.process.poll() is not None:
                sys.exit(f"bench: the worker exited:\n{log.read_text()[-3000:]}")
            if " ready." in log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        self.stop()
        sys.exit(f"bench: the worker did not become ready; see {log}")

    def pids(self) -> list[int]:
        import ge_night

        return [self.process.pid, *ge_night.children(self.process.pid)]

    def memory(self) -> list[tuple[int, float, float]]:
        return [(pid, *vm(pid)) for pid in self.pids()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only what it started
                self.process.wait(timeout=10)


def vm(pid: int) -> tuple[float, float]:
    rss = hwm = 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return rss, hwm


class Meter:
    """CPU seconds of the workers, PostgreSQL, Redis, this process and the whole machine. The workers open a new
    database connection for every task (Celery's Django fix-up closes it before and after each one), so
    PostgreSQL's backends live for one sheet: PostgreSQL is counted as its postmaster's own and reaped children's
    CPU (cutime + cstime) plus its live children's — every database on the server, not only the bench's."""

    def __init__(self, workers: Workers) -> None:
        self.workers = workers
        comms = {int(p.parent.name): _comm(p) for p in Path("/proc").glob("[0-9]*/comm")}
        self.redis = [pid for pid, comm in comms.items() if comm == "redis-server"]
        self.postmaster = [p for p, comm in comms.items() if comm == "postgres" and comms.get(_ppid(p)) != "postgres"]

    def _postgres(self) -> float:
        import ge_night

        total = 0.0
        for pid in self.postmaster:
            fields = ge_night._stat_fields(pid)
            if fields:
                total += sum(int(v) for v in fields[11:15]) / ge_night.CLOCK_TICKS  # utime stime cutime cstime
            total += sum(ge_night.cpu_by_pid(ge_night.children(pid)).values())
        return total

    def read(self) -> dict:
        import ge_night

        times = os.times()
        return {
            "workers": ge_night.cpu_by_pid(self.workers.pids()),
            "postgres": {0: self._postgres()},
            "redis": ge_night.cpu_by_pid(self.redis),
            "bench": times.user + times.system,
            "machine": ge_night.machine_busy(),
            "wall": time.monotonic(),
        }

    @staticmethod
    def diff(after: dict, before: dict) -> dict[str, float]:
        def delta(key: str) -> float:
            return sum(v - before[key].get(pid, 0.0) for pid, v in after[key].items())

        use = {key: delta(key) for key in ("workers", "postgres", "redis")}
        use["bench"] = after["bench"] - before["bench"]
        use["busy"] = after["machine"][0] - before["machine"][0]
        use["total"] = max(1e-9, after["machine"][1] - before["machine"][1])
        use["wall"] = after["wall"] - before["wall"]
        use["others"] = max(0.0, use["busy"] - sum(use[k] for k in ("workers", "postgres", "redis", "bench")))
        return use


def _ppid(pid: int) -> int:
    import ge_night

    fields = ge_night._stat_fields(pid)
    return int(fields[1]) if fields else 0


def _comm(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def purge_broker(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def code_fingerprint() -> str:
    return ", ".join(
        f"{Path(name).name} {hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:10]}" for name in MEASURED_CODE
    )


# --- main -----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sheets", type=int, default=TARGET_SHEETS)
    parser.add_argument("--pool", type=int, default=500, help="distinct filled sheets the scans are made from")
    parser.add_argument("--per-batch", type=int, default=5_000, help="sheets a batch (one batch_upload call)")
    parser.add_argument(
        "--zip-size", type=int, default=200, help="sheets a ZIP file (an uploaded file may hold 60 MB: ~240 sheets)"
    )
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's prefork children")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--quality", type=int, default=80, help="JPEG quality of the scans")
    parser.add_argument("--baseline-sheets", type=int, default=300)
    parser.add_argument(
        "--overlap",
        action="store_true",
        help="start the workers first and upload while they read (deadlocks at present: see docs/performance.md)",
    )
    parser.add_argument("--no-score", action="store_true", help="skip timing exam_score at the end")
    parser.add_argument("--max-minutes", type=float, default=40.0, help="give the run up after this long")
    parser.add_argument("--progress-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database, scans and media")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args()
    if args.sheets < 1 or args.pool < 1 or args.zip_size < 1 or args.per_batch < args.zip_size:
        sys.exit("bench: --sheets, --pool, --zip-size must be positive and --per-batch at least --zip-size.")
    if args.per_batch > 5_000:
        sys.exit("bench: one upload holds at most 5,000 pages (omr/uploads.py MAX_PAGES).")
    import ge_night

    ge_night.recreate_database(args.database_url)
    work = ROOT / "var" / "bench" / f"omr_batch-{os.getpid()}"
    media, scans, pool_dir = work / "media", work / "scans", work / "pool"
    for folder in (media, scans, pool_dir):
        folder.mkdir(parents=True, exist_ok=True)
    prefix = f"bench-omr-{uuid.uuid4().hex[:8]}:"
    env = {
        "DATABASE_URL": args.database_url,
        "DEBUG": "false",
        "DJANGO_ENV": "development",
        "LOG_LEVEL": "INFO",
        "DJANGO_SETTINGS_MODULE": "ecp_portal.settings",
        "CONN_MAX_AGE": "3600",
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_KEY_PREFIX": prefix,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(media),
    }
    os.environ.update(env)
    import django

    django.setup()
    import cv2
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    import redis

    head = [
        ("machine", f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"),
        ("postgresql", pg_version),
        ("redis", redis.Redis.from_url(args.redis_url).info("server")["redis_version"]),
        ("opencv", cv2.__version__),
        ("code", code_fingerprint()),
    ]
    for name, value in head:
        say(name, value)
    say(
        "run",
        f"{args.sheets:,} sheets, {args.dpi} DPI JPEG q{args.quality}, batches of {args.per_batch:,} "
        f"({args.per_batch // args.zip_size} ZIPs of {args.zip_size:,}), pool of {args.pool} filled sheets, "
        f"1 worker × {args.concurrency} prefork children",
    )
    started: list[Workers] = []
    failed = False
    try:
        setup = make_exam(args)
        scans_info = make_scans(args, setup["rolls"], scans, pool_dir)
        shutil.rmtree(pool_dir, ignore_errors=True)
        baseline = engine_baseline(scans_info["zips"][0][0][0], args.baseline_sheets)
        say(
            "engine_baseline",
            f"{baseline['rate']:.1f} sheets/s a core (decode + read_sheet of {baseline['n']} of these scans, "
            f"CPU time; {baseline['ms']:.1f} ms a sheet; {baseline['statuses']})",
        )

        def start_workers() -> Workers:
            started.append(Workers({**os.environ}, ROOT / "var" / "bench" / "omr_batch-worker.log", args.concurrency))
            return started[0]

        result = run(args, setup, scans_info, start_workers)
        failed = not result["ok"]
        report(args, setup, scans_info, baseline, result)
        if not args.no_score:
            score(setup)
    finally:
        for worker in started:
            worker.stop()
        purge_broker(args.redis_url, prefix)
        connection.close()
        if not args.keep:
            import sms_campaign

            sms_campaign.drop_database(args.database_url)
            shutil.rmtree(work, ignore_errors=True)
        say("cleanup", "kept: " + str(work) if args.keep else "database dropped, scans and media removed")
    if failed:
        sys.exit(1)


def make_exam(args) -> dict:
    from django.contrib.auth import get_user_model

    from core.context import acting
    from omr import services

    rng = random.Random(args.seed)
    started = time.perf_counter()
    actor = get_user_model().objects.create(username="omr-bench", is_staff=True)
    rolls = [str(r) for r in rng.sample(range(10 ** (ROLL_DIGITS - 1), 10**ROLL_DIGITS), args.sheets)]
    with acting(label="bench:omr_batch"):
        exam = services.exam_create(
            actor=actor, code=EXAM_CODE, title=EXAM_TITLE,
            held_on=date(2026, 11, 29),
            questions=QUESTIONS, options=4, roll_digits=ROLL_DIGITS, series=SERIES,
            sections=[("General knowledge", 1, 60), ("English and arithmetic", 61, 100)],
            marks_correct=Decimal(1), marks_wrong=Decimal("0.25"),
        )  # fmt: skip
        # the exam's layout must be the one the scans are drawn from
        assert exam.layout.layout == bench_layout()
        key = ["series,question,options"]
        key += [f"{s},{q},{rng.choice('ABCD')}" for s in SERIES for q in range(1, QUESTIONS + 1)]
        services.key_import(actor=actor, exam=exam, text="\n".join(key) + "\n")
        key_seconds = time.perf_counter() - started
        lines = ["roll,name,born,centre,buckets"]
        for n, roll in enumerate(rolls):
            born = date(1990 + n % 12, 1 + n % 12, 1 + n % 28).isoformat()
            buckets = "merit;" + ("punjab" if n % 2 else "sindh") + (";women" if n % 3 == 0 else "")
            lines.append(f"{roll},{rng.choice(FIRST)} {rng.choice(LAST)},{born},Centre {1 + n // 5000},{buckets}")
        t = time.perf_counter()
        services.candidates_import(actor=actor, exam=exam, text="\n".join(lines) + "\n")
        candidates_seconds = time.perf_counter() - t
    say(
        "setup_seconds",
        f"{time.perf_counter() - started:.1f} (exam and key {key_seconds:.1f} s; candidates_import of "
        f"{args.sheets:,} rows {candidates_seconds:.1f} s, {args.sheets / candidates_seconds:,.0f} rows/s; "
        "not measured)",
    )
    return {"exam": exam, "actor": actor, "rolls": rolls, "candidates_seconds": candidates_seconds}


def make_scans(args, rolls: list[str], scans: Path, pool_dir: Path) -> dict:
    started = time.perf_counter()
    context = get_context("spawn")  # not fork: this process holds database connections
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        half = (args.pool + 1) // 2
        parts = [(0, half), (half, args.pool - half)]
        truths: dict[int, tuple[str, dict[str, str]]] = {}
        futures = [pool.submit(render_pool_part, str(pool_dir), a, b, args.dpi) for a, b in parts if b]
        for part in (future.result() for future in futures):
            for i, series, answers in part:
                truths[i] = (series, answers)
        pool_seconds = time.perf_counter() - started
        t = time.perf_counter()
        jobs = []
        batches: list[list[tuple[Path, int]]] = []
        for b, first in enumerate(range(0, args.sheets, args.per_batch)):
            batch = []
            for z, start in enumerate(range(first, min(args.sheets, first + args.per_batch), args.zip_size)):
                stop = min(args.sheets, first + args.per_batch, start + args.zip_size)
                path = scans / f"batch{b + 1:02d}-part{z + 1}.zip"
                sheets = [(k, rolls[k]) for k in range(start, stop)]
                jobs.append(pool.submit(write_zip, str(path), str(pool_dir), args.pool, sheets, args.dpi, args.quality))
                batch.append((path, stop - start))
            batches.append(batch)
        size = sum(job.result() for job in jobs)
    from omr.uploads import MAX_MEMBER_BYTES

    largest = max(path.stat().st_size for batch in batches for path, _count in batch)
    if largest > MAX_MEMBER_BYTES:
        sys.exit(
            f"bench: a ZIP of {largest / 2**20:.0f} MB would be refused (> {MAX_MEMBER_BYTES / 2**20:.0f} MB); "
            "lower --zip-size."
        )
    seconds = time.perf_counter() - t
    say(
        "scans_seconds",
        f"{time.perf_counter() - started:.1f} (pool of {args.pool} rendered in {pool_seconds:.1f} s; {args.sheets:,} "
        f"JPEGs with their rolls drawn in {seconds:.1f} s by 2 processes; {size / args.sheets / 1024:.0f} KiB a "
        f"sheet, {size / 2**30:.2f} GiB; not measured)",
    )
    return {"zips": batches, "truths": truths, "bytes": size}


def engine_baseline(zip_path: Path, n: int) -> dict:
    import cv2

    from omr import engine

    layout = bench_layout()
    with zipfile.ZipFile(zip_path) as archive:
        members = [archive.read(name) for name in archive.namelist()[:n]]
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    engine.read_sheet(engine.decode(members[0])[0], layout)  # warm
    statuses: Counter[str] = Counter()
    cpu = time.process_time()
    for data in members:
        statuses[engine.read_sheet(engine.decode(data)[0], layout).status] += 1
    cpu = time.process_time() - cpu
    cv2.setNumThreads(threads)
    return {"rate": len(members) / cpu, "ms": 1000 * cpu / len(members), "n": len(members), "statuses": dict(statuses)}


def run(args, setup: dict, scans_info: dict, start_workers) -> dict:
    from django.db import close_old_connections, connection
    from django.utils import timezone

    from core.context import acting
    from core.models import Job
    from omr import services

    started_at = timezone.now()
    started = time.perf_counter()
    workers = meter = before = None
    if args.overlap:  # upload while the workers read: see --overlap
        workers = start_workers()
        meter = Meter(workers)
        before = meter.read()
    job_ids: list = []
    uploads: list[float] = []
    progress: list[str] = []
    done_event = threading.Event()

    def report_progress() -> None:
        while not done_event.wait(args.progress_seconds):
            with contextlib.suppress(Exception):
                done = sum(Job.objects.filter(pk__in=list(job_ids)).values_list("done", flat=True))
                line = f"{time.perf_counter() - started:6.0f} s: {len(uploads)} batches uploaded, {done:,} sheets read"
                progress.append(line)
                say("progress", line)
        connection.close()

    watcher = threading.Thread(target=report_progress, daemon=True)
    watcher.start()
    with acting(label="bench:omr_batch"):
        for b, batch in enumerate(scans_info["zips"]):
            files = [(path.name, path.read_bytes()) for path, _count in batch]
            t = time.perf_counter()
            uploaded = services.batch_upload(actor=setup["actor"], exam=setup["exam"], name=f"Bench batch {b + 1}",
                                             files=files)  # fmt: skip
            uploads.append(time.perf_counter() - t)
            job_ids.append(uploaded.job_id)
            del files
            for path, _count in batch:
                path.unlink()  # the stored copies are in the media folder now
    upload_done = time.perf_counter()
    if workers is None:
        workers = start_workers()
        meter = Meter(workers)
        before = meter.read()
    workers_ready = time.perf_counter()
    deadline = started + args.max_minutes * 60
    while time.perf_counter() < deadline:
        close_old_connections()
        if not Job.objects.filter(pk__in=job_ids).exclude(status="succeeded").exists():
            break
        time.sleep(0.5)
    finished = time.perf_counter()
    after = meter.read()
    memory = workers.memory()
    done_event.set()
    watcher.join(timeout=5)
    jobs = list(Job.objects.filter(pk__in=job_ids))
    last = max((j.finished_at for j in jobs if j.finished_at), default=None)
    complete = all(j.status == "succeeded" for j in jobs) and len(jobs) == len(job_ids)
    e2e = (last - started_at).total_seconds() if complete and last else finished - started
    return {
        "ok": complete and integrity(args, setup, scans_info, jobs),
        "complete": complete,
        "e2e": e2e,
        "uploads": uploads,
        "after_upload": max(0.0, e2e - (upload_done - started)),
        "read_phase": max(1e-9, e2e - (workers_ready - started)),
        "cpu": Meter.diff(after, before),
        "memory": memory,
        "progress": progress,
    }


def integrity(args, setup: dict, scans_info: dict, jobs) -> bool:
    from core.models import AuditEvent
    from omr.models import Sheet

    rolls, truths = setup["rolls"], scans_info["truths"]
    statuses: Counter[str] = Counter()
    wrong_roll = wrong_answers = wrong_series = unmatched = 0
    reasons: Counter[str] = Counter()
    rows = (
        Sheet.objects.filter(batch__exam=setup["exam"])
        .values_list("source", "status", "roll", "series", "answers", "candidate__roll", "review_reasons")
        .iterator(chunk_size=2_000)
    )
    seen = 0
    for source, status, roll, series, answers, candidate_roll, review in rows:
        seen += 1
        statuses[status] += 1
        reasons.update(review)
        if "/sheet-" not in source:  # a whole file refused
            wrong_roll += 1
            continue
        k = int(source.rsplit("/sheet-", 1)[1].split(".")[0])
        truth_series, truth_answers = truths[k % args.pool]
        wrong_roll += roll != rolls[k]
        unmatched += candidate_roll != rolls[k]
        wrong_series += series != truth_series
        wrong_answers += {q: "".join(v) for q, v in answers.items()} != truth_answers
    audits = AuditEvent.objects.filter(action="omr.sheet_read").count()
    jobs_ok = all(j.done == j.total for j in jobs) and sum(j.total for j in jobs) == args.sheets
    ok = (
        seen == args.sheets == statuses.get("read", 0) == audits
        and not (wrong_roll or wrong_answers or wrong_series or unmatched)
        and jobs_ok
    )
    say(
        "integrity",
        f"{'OK' if ok else 'FAILED'}: {seen:,} sheets ({', '.join(f'{k} {v:,}' for k, v in statuses.most_common())}); "
        f"roll wrong {wrong_roll}, not matched to its candidate {unmatched}, series wrong {wrong_series}, answers "
        f"wrong {wrong_answers}; {audits:,} omr.sheet_read events; jobs done = total: {jobs_ok}; audit chain "
        f"{AuditEvent.objects.count():,} events"
        + (f"; review reasons: {dict(reasons.most_common(5))}" if reasons else ""),
    )
    return ok


def report(args, setup: dict, scans_info: dict, baseline: dict, result: dict) -> None:
    from django.db.models import Avg, FloatField
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast

    from omr.models import Sheet

    n = args.sheets
    e2e, uploads, cpu = result["e2e"], result["uploads"], result["cpu"]
    rate = n / e2e
    say("sheets", f"{n:,} in {len(uploads)} batches")
    say(
        "end_to_end",
        f"{e2e:.1f} s = {e2e / 60:.2f} min from the first upload's start to the last Job finished; "
        f"{rate:.1f} sheets/s" + ("" if result["complete"] else " (NOT complete: gave up)"),
    )
    say(
        "upload_store",
        f"{sum(uploads):.1f} s in batch_upload for {n:,} sheets ({n / sum(uploads):.0f} sheets/s; per batch "
        f"min {min(uploads):.1f} s, max {max(uploads):.1f} s), "
        + (
            f"while the workers read; the workers finished {result['after_upload']:.1f} s after the last upload"
            if args.overlap
            else f"before the workers started; then {result['read_phase']:.1f} s from the workers' start to the "
            f"last Job finished: {n / result['read_phase']:.1f} sheets/s reading"
        ),
    )
    say(
        "ratio_to_engine",
        f"{rate / baseline['rate']:.2f}× the engine alone on one core ({baseline['rate']:.1f}/s); "
        f"{rate / (2 * baseline['rate']):.0%} of two cores' worth of engine",
    )
    cores = os.cpu_count() or 1
    say(
        "cpu_seconds",
        f"workers {cpu['workers']:.0f}, postgres (all databases) {cpu['postgres']:.0f}, redis {cpu['redis']:.0f}, "
        f"bench (uploads) {cpu['bench']:.0f}, other processes {cpu['others']:.0f}; "
        f"{cpu['busy'] / cpu['total']:.0%} of {cores} cores busy over {cpu['wall']:.0f} s",
    )
    timings = Sheet.objects.filter(batch__exam=setup["exam"]).aggregate(
        **{
            step: Avg(Cast(KT(f"reading__timings__{step}"), FloatField()))
            for step in ("locate", "qr", "bubbles", "total")
        }
    )
    shown = ", ".join(f"{k} {v:.1f}" for k, v in timings.items() if v is not None)
    say(
        "cpu_ms_per_sheet",
        f"workers {1000 * cpu['workers'] / n:.1f}, postgres {1000 * cpu['postgres'] / n:.1f}, bench "
        f"{1000 * cpu['bench'] / n:.1f}; the engine alone {baseline['ms']:.1f} (baseline) — engine steps as the "
        f"workers timed them, mean ms: {shown or 'n/a'}",
    )
    lines = [f"pid {pid}: {rss:.0f} MB (peak {hwm:.0f})" for pid, rss, hwm in result["memory"]]
    say("worker_memory", "VmRSS main process, then each prefork child: " + "; ".join(lines))
    size = Sheet.objects.filter(batch__exam=setup["exam"])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('omr_sheet'), pg_total_relation_size('core_auditevent')")
        sheet_bytes, audit_bytes = cursor.fetchone()
    say(
        "database_size",
        f"omr_sheet {sheet_bytes / 2**20:.0f} MB ({sheet_bytes / max(1, size.count()) / 1024:.1f} KiB a sheet, the "
        f"engine's figures included), core_auditevent {audit_bytes / 2**20:.0f} MB",
    )
    target = TARGET_SHEETS / rate / 60
    label = "measured" if n >= TARGET_SHEETS else f"EXTRAPOLATED linearly from {n:,} sheets"
    say(
        "target",
        f"{'met' if target <= TARGET_MINUTES else 'MISSED'}: {TARGET_SHEETS:,} sheets in {target:.1f} min ({label}) "
        f"≤ {TARGET_MINUTES:.0f} min on {cores} cores",
    )


def score(setup: dict) -> None:
    from core.context import acting
    from omr import services

    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the present size
    before = vm(os.getpid())[0]
    t = time.perf_counter()
    with acting(label="bench:omr_batch"):
        report = services.exam_score(actor=setup["actor"], exam=setup["exam"])
    seconds = time.perf_counter() - t
    peak = vm(os.getpid())[1]
    say(
        "exam_score",
        f"{seconds:.1f} s for {report.scored:,} sheets scored ({report.waiting} waiting); this process's "
        f"resident memory {before:.0f} MB before, peak {peak:.0f} MB during",
    )


if __name__ == "__main__":
    main()
