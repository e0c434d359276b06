"""The provider's messages-per-second limit, shared by every worker: a token bucket kept in Redis and
changed atomically by a Lua script (time from the Redis server, so workers' clocks don't matter). With no
Redis (the embedded default) the bucket lives in this process, which is then the only sender."""

from __future__ import annotations

import threading
import time

from django.conf import settings

_SCRIPT = """
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 60)
return granted
"""

_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""

_lock = threading.Lock()
_local_buckets: dict[str, tuple[float, float]] = {}
_scripts: dict[str, object] = {}


def _redis_script(source: str):
    if source not in _scripts:
        import redis

        _scripts[source] = redis.Redis.from_url(settings.REDIS_URL).register_script(source)
    return _scripts[source]


def _redis_take(key: str, rate: float, burst: float, want: int) -> int:
    return int(_redis_script(_SCRIPT)(keys=[key], args=[rate, burst, want]))  # type: ignore[operator]


def window_count(key: str, seconds: int) -> int:
    """Count one more event under ``key`` in a window that starts with its first event and lasts ``seconds``;
    returns the count so far. One round trip to Redis (the local-memory cache without Redis)."""
    if settings.REDIS_URL:
        return int(_redis_script(_COUNT)(keys=[key], args=[seconds]))  # type: ignore[operator]
    from django.core.cache import cache  # the local-memory cache of the embedded default

    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        return 1


def _local_take(key: str, rate: float, burst: float, want: int) -> int:
    with _lock:
        now = time.monotonic()
        tokens, ts = _local_buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - ts) * rate)
        granted = min(want, int(tokens))
        _local_buckets[key] = (tokens - granted, now)
        return granted


def acquire(provider: str, n: int) -> None:
    """Wait until ``n`` hand-overs to ``provider`` are allowed under SMS_RATE_PER_SECOND (0: no limit)."""
    rate = float(settings.SMS_RATE_PER_SECOND)
    if rate <= 0 or n <= 0:
        return
    burst = max(1.0, rate)  # at most one second's worth at once
    key = f"sms:bucket:{provider}"
    take = _redis_take if settings.REDIS_URL else _local_take
    while n > 0:
        got = take(key, rate, burst, min(n, int(burst)))
        n -= got
        if n > 0:
            time.sleep(min(1.0, max(0.005, min(n, burst) / rate)))
