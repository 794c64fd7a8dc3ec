"""Inserting and updating many rows at once, in the caller's transaction, at the speed each
database allows.

On PostgreSQL rows go in by COPY: an executemany costs the server one executed INSERT per row,
and a multi-row INSERT ... RETURNING of thousands of parameters costs psycopg and the server more
still. On SQLite they go in as one executemany, whose ids are the consecutive run ending at the
last one inserted (see insert_rows). Rows must carry every column that has no server-side default: COPY does
not apply SQLAlchemy's Python-side defaults.
"""
from __future__ import annotations

import json

from sqlalchemy import JSON, Table, bindparam, func, insert, select, text, update

COPY_FROM = 20  # rows: below this a COPY's own round trips cost more than it saves


def insert_rows(connection, table: Table, rows: list[dict]) -> list[int]:
    """Insert `rows` into `table`, whose integer primary key `id` is generated; returns their ids
    in the order of `rows` (on PostgreSQL drawn from the column's sequence in one statement)."""
    if not rows:
        return []
    if connection.dialect.name != "postgresql":
        # SQLite gives a new row the largest rowid plus one, and the transaction holds the write
        # lock from its first insert on: the rows got consecutive ids. (An INSERT ... RETURNING in
        # parameter order would be executed once per row.)
        connection.execute(insert(table), rows)
        last = connection.scalar(text("SELECT last_insert_rowid()"))
        return list(range(last - len(rows) + 1, last + 1))
    ids = list(connection.scalars(select(func.nextval(func.pg_get_serial_sequence(table.name, "id")))
                                  .select_from(func.generate_series(1, len(rows)).alias("n"))))
    copy_rows(connection, table, [{**row, "id": row_id} for row, row_id in zip(rows, ids)])
    return ids


def copy_rows(connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (each with the columns of the first) into `table`; a few rows as an executemany."""
    if not rows:
        return
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM:
        connection.execute(insert(table), rows)
        return
    from psycopg import sql

    columns = list(rows[0])
    as_json = {name for name in columns if isinstance(table.c[name].type, JSON)}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name),
                                                          sql.SQL(", ").join(map(sql.Identifier, columns)))
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            # JSON columns as SQLAlchemy writes them: None too is the JSON null (none_as_null is off)
            copy.write_row([json.dumps(row[name], ensure_ascii=False) if name in as_json else row[name]
                            for name in columns])


def update_rows(connection, table: Table, rows: list[dict]) -> None:
    """Update rows of `table` by `id`, each to its own values (every row with the keys of the first).
    On PostgreSQL in one statement joining the table to the values as arrays (unnest): a few
    parameters instead of one executed UPDATE per row; elsewhere an executemany."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != "id"]
    if connection.dialect.name != "postgresql":
        statement = update(table).where(table.c.id == bindparam("new_id")).values(
            {name: bindparam(f"new_{name}") for name in columns})  # a column's own name is reserved
        connection.execute(statement, [{f"new_{name}": value for name, value in row.items()} for row in rows])
        return
    names = ["id", *columns]
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=connection.dialect)}[])" for name in names)
    assignments = ", ".join(f"{name} = u.{name}" for name in columns)
    values = {name: [json.dumps(row[name], ensure_ascii=False) if isinstance(table.c[name].type, JSON) else row[name]
                     for row in rows] for name in names}
    connection.execute(text(f"UPDATE {table.name} AS t SET {assignments} FROM unnest({arrays}) AS u({', '.join(names)}) "
                            "WHERE t.id = u.id"), values)
