"""One clock for the whole product.

The product serves one city, so times are stored as naive Asia/Shanghai wall-clock time:
what officers read on screen, what deadlines are counted in, what daily statistics group by.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_offset: ContextVar[dt.timedelta] = ContextVar("clock_offset", default=dt.timedelta(0))


def now() -> dt.datetime:
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None) + _offset.get()


@contextmanager
def shifted(moment: dt.datetime) -> Iterator[None]:
    """Replay the past: inside, now() reads `moment` plus the time elapsed since. Demo and
    benchmark data use it so their records carry the times their stories happened at."""
    token = _offset.set(moment - (now() - _offset.get()))
    try:
        yield
    finally:
        _offset.reset(token)


def from_utc(moment: dt.datetime) -> dt.datetime:
    """An aware (or naive UTC) engine time as the product's naive Shanghai wall-clock time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


def to_utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=SHANGHAI).astimezone(dt.timezone.utc)
