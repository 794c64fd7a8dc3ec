"""One clock for the whole product.

The product serves one city, so times are stored as naive Asia/Shanghai wall-clock time:
what officers read on screen, what deadlines are counted in, what daily statistics group by.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None)


def from_utc(moment: dt.datetime) -> dt.datetime:
    """An aware (or naive UTC) engine time as the product's naive Shanghai wall-clock time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


def to_utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=SHANGHAI).astimezone(dt.timezone.utc)
