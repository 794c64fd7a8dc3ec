"""Background pollers of the embedded default: with Celery eager there is no beat, so a daemon
thread in the web process runs the same function the beat schedule runs on Redis."""
from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from lowcode.extensions import db


def start(app: Flask, name: str, work: Callable[[], object], interval_seconds: float) -> threading.Event:
    """Call `work` in an app context every interval; returns the thread's stop flag."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_seconds):
            with app.app_context():
                try:
                    work()
                except Exception:  # keep polling; the error is logged and the rows stay due
                    app.logger.exception("%s failed", name)
                    db.session.rollback()

    threading.Thread(target=loop, name=name, daemon=True).start()
    return stop
