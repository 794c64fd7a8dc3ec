"""The garbage collector of a long-running server process (web worker, Celery worker), tuned
once its application is loaded.

Measured on the load pages: with CPython's default thresholds a request's thousands of
short-lived objects set off a young collection every 700 allocations, and every few requests a
full one that scanned the whole application (definitions, parsed BPMN, mappers, compiled
statements) again: a tenth of a page's CPU, and 30 ms pauses in the middle of requests.
"""
from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)


def settle() -> None:
    """What is alive now lives as long as the process: frozen, so that no collection scans it
    again (and forked children keep sharing its pages); young collections far less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 20)
