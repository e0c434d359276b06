"""The lookup's counters, in one round trip to Redis per lookup (a Lua script), or in this process when there is
no Redis (the embedded default, where runserver is the only process):

- a block on the sender (set when it asked for too many different CNICs), checked first;
- hits per sender in a fixed window, hits per CNIC in a fixed window (any sender, any channel);
- the different CNICs one sender asked for in the abuse window (a set of keyed hashes);
- lookups per hour, channel and outcome (counted in the process, added to a hash per hour once a second,
  written to LookupCount by a task, and at the process's exit; a process that is killed loses at most its last
  second of counts, and an idle one holds its last second until its next lookup or its exit).

Senders and CNICs arrive here already hashed (services._token): no personal data goes into Redis.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from dataclasses import dataclass

from django.conf import settings

_CHECK = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, 0, 0, 0} end
local client = redis.call('INCR', KEYS[2])
if client == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
local cnic = redis.call('INCR', KEYS[3])
if cnic == 1 then redis.call('EXPIRE', KEYS[3], ARGV[2]) end
redis.call('SADD', KEYS[4], ARGV[4])
local distinct = redis.call('SCARD', KEYS[4])
if distinct == 1 then redis.call('EXPIRE', KEYS[4], ARGV[3]) end
return {0, client, cnic, distinct}
"""


@dataclass(frozen=True)
class Hits:
    blocked: bool
    client: int  # this sender's lookups in the current window
    cnic: int  # this CNIC's lookups in the current window
    distinct: int  # different CNICs this sender asked for in the abuse window


def _prefix() -> str:
    return settings.EVP_COUNTER_PREFIX


def _window(seconds: int, now: float) -> int:
    return int(now // seconds)


_redis = None
_script = None
_lock = threading.Lock()
_local: dict[str, tuple[float, object]] = {}  # key -> (expires at, int | set)


def _client():
    global _redis, _script
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL)
        _script = _redis.register_script(_CHECK)
    return _redis


def _local_get(key: str, now: float, default):
    expires, value = _local.get(key, (0.0, None))
    if value is None or expires <= now:
        return default
    return value


def check(*, sender: str, cnic: str) -> Hits:
    """Count one lookup of ``cnic`` (a hash) by ``sender`` (a hash)."""
    now = time.time()
    p = _prefix()
    client_s, cnic_s, abuse_s = (
        settings.EVP_CLIENT_WINDOW_SECONDS,
        settings.EVP_CNIC_WINDOW_SECONDS,
        settings.EVP_ABUSE_WINDOW_SECONDS,
    )
    keys = [
        f"{p}blocked:{sender}",
        f"{p}client:{sender}:{_window(client_s, now)}",
        f"{p}cnic:{cnic}:{_window(cnic_s, now)}",
        f"{p}distinct:{sender}:{_window(abuse_s, now)}",
    ]
    if settings.REDIS_URL:
        _client()
        blocked, client, per_cnic, distinct = _script(keys=keys, args=[client_s, cnic_s, abuse_s, cnic])  # type: ignore[misc]
        return Hits(bool(blocked), int(client), int(per_cnic), int(distinct))
    with _lock:
        if _local_get(keys[0], now, None) is not None:
            return Hits(True, 0, 0, 0)
        counts = []
        for key, seconds in ((keys[1], client_s), (keys[2], cnic_s)):
            value = int(_local_get(key, now, 0)) + 1  # type: ignore[call-overload]
            _local[key] = (now + seconds, value)
            counts.append(value)
        seen = _local_get(keys[3], now, None)
        if not isinstance(seen, set):
            seen = set()
            _local[keys[3]] = (now + abuse_s, seen)
        seen.add(cnic)
        return Hits(False, counts[0], counts[1], len(seen))


def block(*, sender: str, seconds: int) -> None:
    key = f"{_prefix()}blocked:{sender}"
    if settings.REDIS_URL:
        _client().set(key, 1, ex=max(1, seconds))
    else:
        with _lock:
            _local[key] = (time.time() + seconds, 1)


def unblock(*, sender: str) -> None:
    """Lift a block: the blocked flag and the sender's count of different CNICs in the current window go, so
    the sender is let through at once and not blocked again for the CNICs it already asked for."""
    p = _prefix()
    keys = [f"{p}blocked:{sender}", f"{p}distinct:{sender}:{_window(settings.EVP_ABUSE_WINDOW_SECONDS, time.time())}"]
    if settings.REDIS_URL:
        _client().delete(*keys)
    else:
        with _lock:
            for key in keys:
                _local.pop(key, None)


def _hour_key(hour: int) -> str:
    return f"{_prefix()}counts:{hour}"


PUSH_SECONDS = 1.0  # a process adds its lookups to the shared counters at most this often
_pending: dict[tuple[int, str], int] = {}
_pushed_at = [0.0]


def _push_at_exit() -> None:
    with contextlib.suppress(Exception):  # Redis gone at shutdown: those counts are lost, the exit goes on
        push()


atexit.register(_push_at_exit)  # a web process that stops keeps no counts back


def count(*, channel: str, outcome: str) -> None:
    """One lookup of this channel and outcome in the current hour. Counted in the process and added to the
    shared counters at most once a second (one round trip a second, not one a lookup)."""
    now = time.time()
    key = (int(now // 3600), f"{channel}:{outcome}")
    with _lock:
        _pending[key] = _pending.get(key, 0) + 1
        due = now - _pushed_at[0] >= PUSH_SECONDS
    if due:
        push()


def push() -> None:
    """Add this process's pending counts to the shared ones (Redis, or this process's own store)."""
    with _lock:
        pending = dict(_pending)
        _pending.clear()
        _pushed_at[0] = time.time()
    if not pending:
        return
    if settings.REDIS_URL:
        pipe = _client().pipeline(transaction=False)
        for (hour, field), n in pending.items():
            pipe.hincrby(_hour_key(hour), field, n)
            pipe.expire(_hour_key(hour), 3 * 86400)
        pipe.execute()
        return
    with _lock:
        for (hour, field), n in pending.items():
            _expires, value = _local.get(_hour_key(hour), (0.0, None))
            if not isinstance(value, dict):
                value = {}
                _local[_hour_key(hour)] = (time.time() + 3 * 86400, value)
            value[field] = value.get(field, 0) + n


def counts(hours: list[int]) -> dict[int, dict[str, int]]:
    """{hour number (seconds since the epoch // 3600): {"channel:outcome": lookups}} for the given hours."""
    if settings.REDIS_URL:
        pipe = _client().pipeline(transaction=False)
        for hour in hours:
            pipe.hgetall(_hour_key(hour))
        return {
            hour: {k.decode(): int(v) for k, v in found.items()}
            for hour, found in zip(hours, pipe.execute(), strict=True)
        }
    with _lock:
        out = {}
        for hour in hours:
            _expires, value = _local.get(_hour_key(hour), (0.0, None))
            out[hour] = dict(value) if isinstance(value, dict) else {}
        return out


def reset_local() -> None:
    """Forget the in-process counters and pending counts (tests)."""
    with _lock:
        _local.clear()
        _pending.clear()
