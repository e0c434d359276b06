"""Real Celery worker processes for tests about workers (no eager mode, no mocks).

    with celery_worker(queues="default") as worker: ...

starts ``celery -A ecp_portal worker`` as a separate process on the test
database and a Redis broker database of its own, switches this process's
Celery app to that broker, and stops the worker afterwards. ``worker.process``
is the Popen (tests may SIGKILL it); ``worker.log`` its output so far.
Use with ``@pytest.mark.django_db(transaction=True)`` so the worker sees
committed rows.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from ecp_portal.celery import app

ROOT = Path(__file__).resolve().parents[1]
BROKER_URL = "redis://127.0.0.1:6379/12"


@dataclass
class Worker:
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)

    @property
    def log(self) -> str:
        return "".join(self.lines)


def _database_url() -> str:
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    return f"postgres://{user}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def _purge_broker(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


@contextlib.contextmanager
def celery_worker(
    *,
    queues: str = "default",
    concurrency: int = 1,
    pool: str = "solo",
    ready_timeout: float = 60,
    env=None,
    beat: bool = False,
):
    # Our own key prefix: a worker of another test run on this machine never takes our tasks.
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_KEY_PREFIX": prefix,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **(env or {}),  # settings of the worker's own (e.g. the SMS provider)
    }
    command = [sys.executable, "-m", "celery", "-A", "ecp_portal", "worker", "-Q", queues, f"--pool={pool}"]
    command += [f"--concurrency={concurrency}", "-l", "INFO", "--without-gossip", "--without-mingle", "-n", "test@%h"]
    if beat:  # the beat scheduler embedded in the worker: the schedule's tasks run on their own
        command += ["--beat"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    worker = Worker(process)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            worker.lines.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options)
    app.conf.broker_url, app.conf.task_always_eager = BROKER_URL, False
    app.conf.broker_transport_options = {"global_keyprefix": prefix}
    _drop_connections()
    try:
        if not ready.wait(ready_timeout):
            raise RuntimeError("the Celery worker did not become ready:\n" + worker.log)
        try:
            yield worker
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n--- worker log ---\n{worker.log[-4000:]}") from failure
    finally:
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = saved
        _drop_connections()
        _purge_broker(prefix)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _drop_connections() -> None:
    """Forget connections and producers made for another broker configuration."""
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.2, what: str = "condition"):
    """Poll until predicate() is truthy (a worker's effect becoming visible); fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
