"""One clock for the whole product.

The product serves one city, so times are stored as naive Asia/Shanghai wall-clock time:
what officers read on screen, what deadlines are counted in, what daily statistics group by.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
