"""Clues and tasks at scale on PostgreSQL, bulk-loaded.

The engine decides every state: a few hundred demo stories are told through the real processes
first (`lowcode.demo_activity`), then copied server-side with INSERT … SELECT over
generate_series, each copy with its own ids, its titles numbered and its times moved back up to
half a year, so lists, searches and statistics meet realistic shapes and volumes (the tables'
indexes dropped before and built once after). Running
instances get their engine state rewritten to their own business ids in Python, so work on a
copy routes like work on the original. Audit rows and attachments are not copied.

Run: DATABASE_URL=postgresql+psycopg://… python -m perf.datagen.closed_loop --tasks 200000
"""
from __future__ import annotations

import argparse
import math
import re
import time

from sqlalchemy import DateTime, func, select, text

from perf.datagen import in_prepared_app

# Which ids each copied table carries, and which table each points into.
REFERENCES = {
    "clue": {},
    "task": {"clue_id": "clue"},
    "dispatch": {"task_id": "task", "parent_id": "dispatch"},
    "supervision": {"dispatch_id": "dispatch"},
    "process_instance": {"parent_id": "process_instance"},
    "work_item": {"instance_id": "process_instance", "clue_id": "clue", "task_id": "task", "dispatch_id": "dispatch"},
    "timer": {"instance_id": "process_instance", "work_item_id": "work_item"},
}
BUSINESS_KINDS = {"clue": "clue", "task": "task", "dispatch": "dispatch"}
TITLED = {"clue", "task", "work_item"}
MAX_DAYS_BACK = 180
_ENGINE_IDS = re.compile(r'"(clue_id|task_id|dispatch_id)": ?(\d+)')


def load(tasks_wanted: int, templates: int = 300, progress=print) -> dict:
    """Bring the database to at least `tasks_wanted` tasks; returns what it did and how long it took."""
    from lowcode import demo_activity, task_visibility
    from lowcode.extensions import db
    from lowcode.models import Task

    timings = {}
    started = time.perf_counter()
    if db.session.scalar(select(func.count(Task.id)).execution_options(unscoped=True)) == 0:
        demo_activity.seed(templates, progress=lambda done, total: done % 50 == 0 and progress(f"模板故事 {done}/{total}"))
    timings["templates_s"] = time.perf_counter() - started
    have = db.session.scalar(select(func.count(Task.id)).execution_options(unscoped=True))
    if have >= tasks_wanted:
        return {"copies": 0, "tasks": have, **timings}
    if db.session.scalar(text("SELECT count(*) FROM clue WHERE title LIKE '%·副本%'")):
        raise SystemExit(f"已有 {have} 条任务的复制数据，少于所需 {tasks_wanted} 条：请在空数据库上重新生成")
    # The templates are all rows so far: copy n of row `id` gets `id + n * span`.
    spans = {table: db.session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) for table in REFERENCES}
    copies = math.ceil((tasks_wanted - have) / max(have, 1))
    first = 1
    started = time.perf_counter()
    db.session.commit()   # its reads hold locks that dropping the indexes would wait for
    with db.engine.begin() as connection:
        rebuilt = _drop_indexes(connection, list(REFERENCES))
        for table in REFERENCES:
            step = time.perf_counter()
            connection.execute(text(_copy_sql(table, spans)),
                               {"first": first, "last": first + copies - 1, "days": MAX_DAYS_BACK})
            progress(f"已复制 {table}：{time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        _copy_running_states(connection, spans, first, first + copies - 1)
        _mark_overdue(connection, spans)
        progress(f"运行中实例与超期：{time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        task_visibility.rebuild(connection)
        progress(f"任务可见范围：{time.perf_counter() - step:.1f} s")
        for table in REFERENCES:
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        step = time.perf_counter()
        _build_indexes(connection, rebuilt)
        progress(f"重建索引 {len(rebuilt)} 个：{time.perf_counter() - step:.1f} s")
    # Statistics for the planner, and the visibility map that lets counts use index-only scans.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in (*REFERENCES, "task_visibility"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))
    timings["copy_s"] = time.perf_counter() - started
    tasks = db.session.scalar(select(func.count(Task.id)).execution_options(unscoped=True))
    return {"copies": copies, "tasks": tasks, **timings}


def _columns(table: str) -> list:
    from lowcode.extensions import db

    return list(db.metadata.tables[table].columns)


def _expression(table: str, column, spans: dict[str, int]) -> str:
    name = column.name
    if name == "id":
        return f"t.id + n * {spans[table]}"
    if name in REFERENCES[table]:
        return f"t.{name} + n * {spans[REFERENCES[table][name]]}"
    if table == "process_instance" and name == "business_id":
        cases = " ".join(f"WHEN '{kind}' THEN t.business_id + n * {spans[target]}"
                         for kind, target in BUSINESS_KINDS.items())
        return f"CASE t.business_kind {cases} END"
    if isinstance(column.type, DateTime):
        return f"t.{name} - make_interval(days => (n * 7) % CAST(:days AS integer))"
    if table in TITLED and name == "title":
        return "t.title || '·副本' || n"
    return f"t.{name}"


def _copy_sql(table: str, spans: dict[str, int]) -> str:
    columns = _columns(table)
    names = ", ".join(c.name for c in columns)
    values = ", ".join(_expression(table, c, spans) for c in columns)
    return (f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} t "
            f"CROSS JOIN generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n "
            f"WHERE t.id <= {spans[table]}")


def _drop_indexes(connection, tables: list[str]) -> list[str]:
    """Drop the tables' indexes that back no constraint, as the database defines them (migrations
    add some the models do not name); returns their definitions. Building an index once over the
    copied rows costs a fraction of maintaining it row by row."""
    found = connection.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = to_regclass(quote_ident(i.indexname)))"), {"tables": tables}).all()
    for name, _ in found:
        connection.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _, definition in found]


def _build_indexes(connection, definitions: list[str]) -> None:
    connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for definition in definitions:
        connection.execute(text(definition))


def _copy_running_states(connection, spans: dict[str, int], first: int, last: int) -> None:
    """Running instances act again: their engine data must name their own clue, task, dispatch.
    One UPDATE per running template rewrites all its copies in the database: each id it names is
    first replaced by a marker (chr(1) cannot occur raw in JSON text), then by the copy's id."""
    rows = connection.execute(text(f"SELECT id, CAST(state AS text) FROM process_instance "
                                   f"WHERE id <= {spans['process_instance']} AND status = 'running'")).all()
    for instance_id, state in rows:
        named = sorted(set(_ENGINE_IDS.findall(state)))
        expression = "CAST(p.state AS text)"
        for i, (key, value) in enumerate(named):
            expression = (f"regexp_replace({expression}, '\"{key}\": ?{value}(?![0-9])', "
                          f"'\"{key}\": ' || chr(1) || '{i}' || chr(1), 'g')")
        for i, (key, value) in enumerate(named):
            expression = f"replace({expression}, chr(1) || '{i}' || chr(1), CAST({value} + c.n * {spans[key[:-3]]} AS text))"
        if named:
            connection.execute(text(
                f"UPDATE process_instance p SET state = CAST({expression} AS json) "
                f"FROM (SELECT {instance_id} + n * {spans['process_instance']} AS id, n FROM generate_series("
                f"CAST(:first AS integer), CAST(:last AS integer)) AS n) c WHERE p.id = c.id"),
                {"first": first, "last": last})


def _mark_overdue(connection, spans: dict[str, int]) -> None:
    """Deadlines the copies moved into the past have passed: as the timer poller would have found."""
    connection.execute(text("UPDATE work_item SET overdue = true WHERE state = 'open' AND due_at < now() "
                            f"AND id > {spans['work_item']}"))
    connection.execute(text("UPDATE timer SET fired_at = due_at WHERE fired_at IS NULL AND due_at < now() "
                            f"AND id > {spans['timer']}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--templates", type=int, default=300)
    args = parser.parse_args()
    result = in_prepared_app(lambda: load(args.tasks, args.templates))
    print(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
