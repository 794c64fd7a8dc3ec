"""The domain's reference data at city scale, bulk-loaded, then clues and tasks (closed_loop.py).

Deterministic: the same seed and scale give the same records (personal values are encrypted with
fresh nonces, so their tokens differ; their blind indexes do not). Every entity of the nmv pack is
generated (city_values.py) and turned into table rows by the function the sync API uses
(lowcode.entities.records.rows: personal fields SM4-GCM encrypted and blind-indexed a column at a
time), then loaded by lowcode.bulk.copy_rows (COPY on PostgreSQL, executemany on SQLite). The
tables' indexes are dropped first and rebuilt once at the end by the schema sync. On PostgreSQL
slices of 20,000 records are generated, encrypted and copied by `--workers` forked processes
(default one per core); each slice has its own seeded random generator, so the data are the same
whatever the number of workers. Prints the elapsed time per table and in total.

Run: DATABASE_URL=postgresql+psycopg://…/lowcode_city python -m perf.datagen.city --scale city
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import time

from sqlalchemy import func, select, text

from perf.datagen import city_values, in_prepared_app

PACK = "nmv"
SCALES = {
    "tiny": {"enterprise": 8, "supplier": 30, "station": 120, "rider": 400, "vehicle": 400, "violation": 1_500,
             "accident": 100, "tasks": 0},
    "small": {"enterprise": 40, "supplier": 300, "station": 2_000, "rider": 30_000, "vehicle": 30_000,
              "violation": 200_000, "accident": 5_000, "tasks": 20_000},
    "city": {"enterprise": 200, "supplier": 3_000, "station": 20_000, "rider": 300_000, "vehicle": 300_000,
             "violation": 2_000_000, "accident": 50_000, "tasks": 200_000},
}
def _world():
    from lowcode.extensions import db
    from lowcode.models import Department

    districts = db.session.execute(select(Department.district_code, Department.district_name)
                                   .where(Department.depth == 1).order_by(Department.code)).all()
    return city_values.World([code for code, _ in districts], dict(districts))


def _drop_indexes(table) -> None:
    """Indexes are built once after the load: far cheaper than maintaining them row by row."""
    from lowcode.extensions import db

    with db.engine.begin() as connection:
        for index in table.indexes:
            connection.execute(text(f'DROP INDEX IF EXISTS "{index.name}"'))


# The unit of work: a slice of consecutive records with a random generator of its own, so the data
# do not depend on how many processes share the slices (they do on the slice size).
SLICE = 20_000
# Set in the parent before forking; what a worker inherits.
_JOB: dict = {}


def _slice(bounds: tuple[int, int]) -> list:
    """Generate, encrypt and load records [start, stop) of the job's entity; returns their World entries."""
    from lowcode import bulk
    from lowcode.entities import records
    from lowcode.extensions import db

    entity, table, world, seed, now = (_JOB[k] for k in ("entity", "table", "world", "seed", "now"))
    rng = random.Random(f"{seed}:{entity.name}:{bounds[0]}")
    generated = list(city_values.GENERATORS[entity.name](world, range(*bounds), rng))
    columns = [c.name for c in table.columns if c.name != "id"]
    rows = records.rows(entity, [values for _, values in generated], now)
    with db.engine.begin() as connection:   # COPY on PostgreSQL, an executemany on SQLite
        bulk.copy_rows(connection, table, [{c: row.get(c) for c in columns} for row in rows])
    return [entry for entry, _ in generated]


def _worker_start() -> None:
    from lowcode.extensions import db

    db.engine.dispose(close=False)   # the parent's pooled connections are not this process's
    _JOB["app"].app_context().push()


def load_entity(entity, table, count: int, world, seed: int, workers: int, size: int = SLICE) -> float:
    """Generate and load `count` records of one entity; returns the seconds it took. With more
    than one worker (PostgreSQL only: each COPYs on its own connection) slices run in forked
    processes, which inherit the World as generated so far."""
    from flask import current_app

    from lowcode import clock

    started = time.perf_counter()
    _JOB.update(entity=entity, table=table, world=world, seed=seed, now=clock.now(),
                app=current_app._get_current_object())
    slices = [(start, min(start + size, count)) for start in range(0, count, size)]
    if workers > 1 and len(slices) > 1:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start) as pool:
            entries = pool.map(_slice, slices, chunksize=1)
    else:
        entries = [_slice(bounds) for bounds in slices]
    world.add(entity.name, [entry for part in entries for entry in part])
    return time.perf_counter() - started


def generate(scale: str, seed: int = 2026, workers: int = 1, size: int = SLICE, progress=print) -> dict:
    """Fill empty entity tables at `scale`, then clues and tasks; returns seconds by step."""
    from lowcode.extensions import db

    counts = SCALES[scale]
    timings, started = _entities(counts, seed, workers, size, progress), time.perf_counter()
    if counts["tasks"] and db.engine.dialect.name == "postgresql":   # closed_loop copies with PostgreSQL's SQL
        from perf.datagen import closed_loop

        result = closed_loop.load(counts["tasks"], progress=progress)   # itself skips tasks loaded before
        timings["clues_tasks"] = time.perf_counter() - started
        progress(f"线索与任务：{result['tasks']} 条任务，{timings['clues_tasks']:.1f} s")
    timings["total"] = sum(timings.values())
    return timings


def _entities(counts: dict, seed: int, workers: int, size: int, progress) -> dict:
    """Every entity's records, unless loaded before (the load tests run again on the same data)."""
    from lowcode import bootstrap, keyring
    from lowcode.entities import catalogue
    from lowcode.extensions import db

    entities = catalogue.of_pack(PACK)
    tables = {name: catalogue.table(entities[name]) for name in city_values.GENERATORS}
    filled = [table.name for table in tables.values() if db.session.scalar(select(func.count()).select_from(table))]
    db.session.commit()
    if len(filled) == len(tables):
        progress("基础信息已生成，跳过")
        return {}
    if filled:
        raise SystemExit(f"{'、'.join(filled)} 已有数据而其他表为空：请在空数据库上生成")
    timings, world = {}, _world()
    keyring.keyring()   # loaded once, before any fork
    workers = workers if db.engine.dialect.name == "postgresql" else 1
    for table in tables.values():
        _drop_indexes(table)
    for name, table in tables.items():
        timings[name] = load_entity(entities[name], table, counts[name], world, seed, workers, size)
        progress(f"{table.name}: {counts[name]} 条，{timings[name]:.1f} s")
    step = time.perf_counter()
    bootstrap.sync_entities()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in tables.values():
                connection.execute(text(f'ANALYZE "{table.name}"'))
    timings["indexes"] = time.perf_counter() - step
    progress(f"索引与统计信息：{timings['indexes']:.1f} s")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="tiny")
    parser.add_argument("--seed", type=int, default=2026)
    # One per core: city scale took 7.3 min with two on this 2-core machine when it was otherwise idle
    # (when other work holds the cores, one can be faster).
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes generating and loading slices (PostgreSQL); the data do not depend on it")
    parser.add_argument("--slice", type=int, default=SLICE, help="records per slice")
    args = parser.parse_args()
    timings = in_prepared_app(lambda: generate(args.scale, args.seed, args.workers, args.slice))
    print(" ".join(f"{k}={v:.1f}s" for k, v in timings.items()))


if __name__ == "__main__":
    main()
