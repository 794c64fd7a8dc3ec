"""A PostgreSQL transaction that only read is ended with COMMIT where SQLAlchemy would roll it back.

psycopg forgets a connection's prepared statements at every rollback (the transaction may have
dropped what they name), and every request ends its transaction with a rollback (the session's
close). So nothing a page ran was ever prepared: the server parsed and planned each statement
anew, several times what running it cost. A transaction that wrote nothing ends the same either
way, and ending it with COMMIT keeps the statements prepared. Any statement that is not a SELECT
counts as a write (the flag is only cleared when a transaction begins), and a transaction in
error is left to the rollback.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

WROTE = "lowcode_wrote"


def _began(connection) -> None:
    connection.info[WROTE] = False


def _executing(connection, _cursor, statement: str, _parameters, _context, _many) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        connection.info[WROTE] = True


def _rolling_back(connection) -> None:
    if connection.info.get(WROTE, True):
        return
    driver = connection.connection.dbapi_connection
    info = getattr(driver, "info", None)   # psycopg's connection info; sqlite3 has none (and no prepared statements)
    if info is not None and info.transaction_status.name == "INTRANS":
        driver.commit()   # the rollback that follows finds no transaction and does nothing


def install() -> None:
    """For every engine; idempotent."""
    for name, listener in (("begin", _began), ("before_cursor_execute", _executing), ("rollback", _rolling_back)):
        if not event.contains(Engine, name, listener):
            event.listen(Engine, name, listener)
