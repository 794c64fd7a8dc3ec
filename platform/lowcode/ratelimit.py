"""Rate limits on logging in (per client address) and on the receiving API (per API key).

Fixed windows counted in Redis when REDIS_URL is set, so every web process shares them; without
Redis (the embedded default: one process) in this process. Limits are read from the configuration
at each request ("20/minute"), so they can be changed without a restart of the code.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time

from flask import Flask, current_app, request

from lowcode import errors

log = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600}
# endpoint → the configuration key of its limit; only POSTs are counted.
LIMITED = {
    "PlatformAuthDBView.login": "LOGIN_RATE_LIMIT",
    "SecurityApi.login": "LOGIN_RATE_LIMIT",
    "WarningsApi.receive": "INTAKE_RATE_LIMIT",
    "EntityApi.sync": "INTAKE_RATE_LIMIT",
}


def parse(limit: str) -> tuple[int, int]:
    """"20/minute" → (20, 60); a number of seconds may stand for the period ("20/90")."""
    count, _, period = limit.partition("/")
    seconds = PERIODS.get(period.strip()) or int(period)
    return int(count), seconds


class MemoryCounter:
    """Windows counted in this process."""

    def __init__(self):
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int, period: int) -> int:
        with self._lock:
            if len(self._counts) > 10_000:  # forget finished windows now and then
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            self._counts[key, window] = self._counts.get((key, window), 0) + 1
            return self._counts[key, window]


class RedisCounter:
    """Windows counted in Redis, shared by every process; a key expires with its window."""

    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2)

    def hit(self, key: str, window: int, period: int) -> int:
        pipe = self._redis.pipeline()
        name = f"lowcode:ratelimit:{key}:{window}"
        pipe.incr(name)
        pipe.expire(name, period)
        return pipe.execute()[0]


def _counter():
    extensions = current_app.extensions
    if "lowcode_ratelimit" not in extensions:
        url = current_app.config.get("REDIS_URL")
        extensions["lowcode_ratelimit"] = RedisCounter(url) if url else MemoryCounter()
    return extensions["lowcode_ratelimit"]


def _caller(setting: str) -> str:
    """Whom a request is counted against: its API key (hashed) on the receiving API, else its address."""
    api_key = request.headers.get("X-API-Key") if setting == "INTAKE_RATE_LIMIT" else None
    if api_key:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:32]
    return f"addr:{request.remote_addr}"


def check(setting: str) -> int:
    """Count this request against `setting`; 0 if allowed, else the seconds until it may retry."""
    count, period = parse(current_app.config[setting])
    now = time.time()
    window = int(now // period)
    try:
        used = _counter().hit(f"{setting}:{_caller(setting)}", window, period)
    except Exception:  # the limit protects the service; an unreachable Redis must not stop it
        log.warning("rate limit store unavailable; request let through", exc_info=True)
        return 0
    return 0 if used <= count else max(1, int((window + 1) * period - now))


def _limit():
    setting = LIMITED.get(request.endpoint or "") if request.method == "POST" else None
    if setting is None:
        return None
    retry_after = check(setting)
    if retry_after:
        return errors.too_many_requests(retry_after)
    return None


def install(app: Flask) -> None:
    app.before_request(_limit)
