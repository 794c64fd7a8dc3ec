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

from sqlalchemy import ARRAY, JSON, Table, any_, bindparam, func, insert, select, text, tuple_, update

COPY_FROM = 20  # rows: below this a COPY's own round trips cost more than it saves


def among(dialect: str, column, values):
    """`column IN (values)` for many values. On PostgreSQL `column = ANY(array)`: one parameter,
    where hundreds of placeholders made a query psycopg parses anew each time (it keeps only short ones)."""
    values = list(values)
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def pairs_among(dialect: str, first, second, pairs):
    """`(first, second) IN (pairs)`. On PostgreSQL against the pairs unnested from two array
    parameters, so that each is looked up in an index on both columns."""
    pairs = list(pairs)
    if dialect != "postgresql":
        return tuple_(first, second).in_(pairs)
    unnested = select(func.unnest(bindparam(None, [a for a, _ in pairs], type_=ARRAY(first.type))).label("a"),
                      func.unnest(bindparam(None, [b for _, b in pairs], type_=ARRAY(second.type))).label("b")).subquery()
    return tuple_(first, second).in_(select(unnested.c.a, unnested.c.b))


def conflict_insert(dialect: str, table: Table):
    """An INSERT into `table` that can say what a unique key's conflict does (ON CONFLICT), in the
    dialect's own construct: PostgreSQL's and SQLite's take the same arguments."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)


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
    assignments = ", ".join(f"{name} = u.{name}" for name in columns)
    connection.execute(text(f"UPDATE {table.name} AS t SET {assignments} FROM {unnested(connection.dialect, table, names)} "
                            f"AS u({', '.join(names)}) WHERE t.id = u.id"), column_arrays(table, names, rows))


def unnested(dialect, table: Table, names: list[str]) -> str:
    """`unnest(...)` of one array parameter per column (PostgreSQL): rows as a few parameters, in a
    statement whose text is the same for any number of rows. Its values: `column_arrays`."""
    return "unnest(" + ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])"
                                 for name in names) + ")"


def column_arrays(table: Table, names: list[str], rows: list[dict]) -> dict[str, list]:
    """The parameters of `unnested`: each column's values in row order (JSON ones as JSON text)."""
    return {name: [json.dumps(row[name], ensure_ascii=False) if isinstance(table.c[name].type, JSON) else row[name]
                   for row in rows] for name in names}
