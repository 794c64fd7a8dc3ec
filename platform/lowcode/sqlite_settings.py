"""Settings of the embedded SQLite database, applied to every connection it opens.

WAL lets readers (pages, the timer thread) run while one request writes, and with
synchronous=NORMAL a commit no longer waits for an fsync (a commit stays atomic and survives a
crash of the process; only a power cut can lose the last few). PostgreSQL needs none of this.
"""
from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def install() -> None:
    """Apply the settings to every engine's new connections; idempotent."""
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
