"""A PostgreSQL transaction that wrote nothing is ended with COMMIT where SQLAlchemy would roll it back.

psycopg forgets a connection's prepared statements at every rollback (the transaction may have
dropped what they name), and every request ends its transaction with a rollback (the session's
close). So nothing a page ran was ever prepared: the server parsed and planned each statement
anew, several times what running it cost. A transaction that wrote nothing ends the same either
way, and ending it with COMMIT keeps the statements prepared. Whether it wrote is the server's
answer (a transaction is given an id at its first write, whatever wrote: the ORM, Core or a COPY
on the driver's own cursor); a transaction in error is left to the rollback.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _rolling_back(connection) -> None:
    driver = connection.connection.dbapi_connection
    info = getattr(driver, "info", None)   # psycopg's; sqlite3 has none (and no prepared statements)
    if info is None or info.transaction_status.name != "INTRANS":
        return
    with driver.cursor() as cursor:
        cursor.execute("SELECT txid_current_if_assigned() IS NULL")
        wrote_nothing = cursor.fetchone()[0]
    if wrote_nothing:
        driver.commit()   # the rollback that follows finds no transaction and does nothing


def install() -> None:
    """For every engine; idempotent."""
    if not event.contains(Engine, "rollback", _rolling_back):
        event.listen(Engine, "rollback", _rolling_back)
