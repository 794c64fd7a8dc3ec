"""Bring the database in line with the entity tables of the definitions in force: create missing
tables, columns and indexes. Nothing is ever dropped or altered: a field removed from a definition
keeps its column (and its data) until someone decides otherwise. Runs after Alembic, at
`lowcode migrate`, at start and after every publish."""
from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, Index, Table, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateTable

log = logging.getLogger(__name__)


def _trigram_available(connection: Connection) -> bool:
    """pg_trgm is what lets an index serve `LIKE '%x%'`; creating it needs a privileged role, so
    without it `contains` filters scan (and say so in the log)."""
    if connection.dialect.name != "postgresql":
        return False
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        return True
    except DBAPIError as error:   # any refusal (privilege, missing contrib) means: no trigram indexes
        log.warning("pg_trgm unavailable, contains filters will scan: %s", error)
        return False


def _wanted(index: Index, trigram: bool) -> bool:
    return trigram or not index.name.endswith("_trgm")


def sync(engine: Engine, tables: list[Table]) -> list[str]:
    """What was created, as lines (`table`, `table.column`, `table index name`)."""
    done = []
    with engine.begin() as connection:
        trigram = _trigram_available(connection)
        inspector = inspect(connection)
        for table in tables:
            if not inspector.has_table(table.name):
                connection.execute(CreateTable(table))
                done.append(table.name)
                existing_indexes: set[str] = set()
            else:
                done += _add_columns(connection, table, {c["name"] for c in inspector.get_columns(table.name)})
                existing_indexes = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in sorted(table.indexes, key=lambda i: i.name):
                if index.name not in existing_indexes and _wanted(index, trigram):
                    index.create(connection)
                    done.append(f"{table.name} {index.name}")
    return done


def _add_columns(connection: Connection, table: Table, existing: set[str]) -> list[str]:
    added = []
    for column in table.columns:
        if column.name not in existing:
            # Added columns are nullable whatever the definition says: the rows already there have no value.
            kind = column.type.compile(dialect=connection.dialect)
            connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
            added.append(f"{table.name}.{column.name}")
    return added
