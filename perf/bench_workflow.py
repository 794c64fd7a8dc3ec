"""Workflow throughput: raw in-memory SpiffWorkflow user-task completions per second against
persisted transitions per second through the platform's service layer (SQLite, and PostgreSQL
when BENCH_POSTGRES_URL or TEST_DATABASE_URL names a server).

Each measuring process runs as the platform's server processes do (lowcode.process_tuning: what
was loaded frozen, young garbage collected less often).
A persisted transition = one `actions.submit` of a work item: validation, instance row lock,
restore, timer sweep, completion, state save, work-item and timer sync, notifications, audit,
commit. The measured loop is the dispatch process's sign → feedback → review cycle on fresh
dispatches (`--rounds` tasks of `--dispatches` 支队 each), a phase at a time: before a phase the
work items and answers are found and the photos uploaded (untimed), then the submits run, each in
a request of its own; the rate is submits over the phases' time.

Measured twice on fresh dispatches: one stream (one process), and `--workers` processes at once
(default: the machine's cores, as a deployment runs several gunicorn workers), each on its own
dispatches. SQLite serialises writers: it is measured as one stream only. The SQL statements of
the one-stream submits are counted (BEGIN and COMMIT not included).
Last line: `inmemory_per_s=N sqlite_per_s=N postgres_per_s=N ratio_postgres=R`, where sqlite_per_s
is one stream and postgres_per_s the processes together.
Run: .venv/bin/python perf/bench_workflow.py [--dispatches N] [--rounds N] [--workers N]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def inmemory_rate(seconds: float = 3.0) -> float:
    from bpmn import engine
    from bpmn.script_engine import RestrictedScriptEngine
    from bpmn.services import ServiceRegistry

    bundle = engine.load_spec([(ROOT / "definitions/nmv/bpmn/dispatch.bpmn").read_bytes()], "nmv_dispatch")
    # Acceptance pushes the feedback through a platform service: here, one that does nothing.
    scripts = RestrictedScriptEngine(ServiceRegistry({"platform.push_feedback": lambda dispatch_id: None}))
    answers = {"Task_Sign": {"handling": "本单位处置"}, "Task_Feedback": {},
               "Task_FeedbackReview": {"feedback_review_result": "通过"}}
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        workflow = engine.start(bundle, {"dispatch_id": 1}, scripts)
        while not engine.is_completed(workflow):
            task = engine.ready_user_tasks(workflow)[0]
            engine.complete_user_task(workflow, task.id, answers[task.name])
            done += 1
    return done / (time.perf_counter() - started)


PHASES = ("Task_Sign", "Task_Feedback", "Task_FeedbackReview")


def persisted_rates(url: str, dispatches: int, rounds: int, workers: int) -> dict:
    """Persisted transitions per second of one stream and of `workers` processes at once, and
    the SQL statements per submit (of the single stream)."""
    app, pack, receivers = _prepared(url, dispatches, rounds)
    single = _run_phases(app, pack, receivers[::2], 1)
    concurrent = _run_phases(app, pack, receivers[1::2], workers) if workers > 1 else single
    return {"single": single["rate"], "concurrent": concurrent["rate"], "statements": single["statements"],
            "latency_ms": single["latency_ms"]}


def _prepared(url: str, dispatches: int, rounds: int):
    """An application on a fresh schema and `2 * rounds` tasks, each dispatched to `dispatches`
    支队, by the clue and task processes (untimed): [(dispatch id, receiving officer)]."""
    from lowcode.app import create_app
    from lowcode.extensions import db
    from lowcode.flow import actions
    from lowcode.models import Department, Dispatch, Officer, Task
    from lowcode.server import prepare
    from perf import choose
    from tests.form_samples import sample

    instance = tempfile.mkdtemp(prefix="bench-workflow-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "REDIS_URL": None, "CELERY_EAGER": True})
    with app.app_context():
        prepare(app)
        root = db.session.scalar(select(Department).where(Department.depth == 0))
        # The loop reviews, evaluates and dispatches: a type with review and without approval.
        pack, kind = choose.warning_type(review_required=True, approval_required=False)
        detachments = db.session.scalars(select(Department).where(Department.depth == 1)).all()[:dispatches]
        by_department = {d.id: f"zd_{d.slug}" for d in detachments}
        answers = [{"review_result": "通过"}, {"evaluation_result": "采纳下发"},
                   {"receivers": [{"department_code": d.code} for d in detachments]}]
        receivers = []
        for _ in range(2 * rounds):  # the single stream takes every other task, the processes the rest
            clue_id = actions.create_clue(warning_type=kind, title="基准测试", department=root,
                                          source=pack.warning_types[kind].content["source"]).id
            for where, answer in zip(("clue_id", "clue_id", "task_id"), answers):
                key = clue_id if where == "clue_id" else db.session.scalar(
                    select(Task.id).where(Task.clue_id == clue_id).execution_options(unscoped=True))
                with app.test_request_context():
                    officer = db.session.scalar(select(Officer).where(Officer.username == "yanpan"))
                    item = _open_item(officer, **{where: key})
                    actions.submit(item.id, sample(pack, item.form_key, officer, **answer), officer)
            receivers.append([(d.id, by_department[d.receiver_department_id]) for d in db.session.scalars(
                select(Dispatch).where(Dispatch.task_id == key).execution_options(unscoped=True))])
        db.session.remove()
    return app, pack, receivers


def _open_item(officer, **where):
    from lowcode.extensions import db
    from lowcode.flow import actions
    from lowcode.models import WorkItem

    query = actions.inbox_query(officer).execution_options(unscoped=True)
    for column, value in where.items():
        query = query.where(getattr(WorkItem, column) == value)
    return db.session.scalars(query.limit(1)).one()


def _run_phases(app, pack, tasks: list, workers: int) -> dict:
    """Every dispatch of `tasks` signed, fed back and reviewed, a phase at a time; each process
    takes its share of the dispatches. Before a phase each process finds its work items and their
    answers (the checklist's photos uploaded as in the browser), untimed; then all start together
    and submit, each submit in a request of its own. The rate is the phase's submits over the time
    from the common start to the last process's end."""
    dispatches = [d for task in tasks for d in task]
    shares = [dispatches[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(workers), context.Queue()
    processes = [context.Process(target=_worker, args=(app, pack, share, barrier, results)) for share in shares]
    for process in processes:
        process.start()
    reports = [results.get() for _ in processes]
    for process in processes:
        process.join()
    submits = sum(len(r["spent"]) for r in reports)
    wall = sum(max(r["ends"][i] for r in reports) - min(r["starts"][i] for r in reports) for i in range(len(PHASES)))
    spent = [t for r in reports for t in r["spent"]]
    return {"rate": submits / wall, "statements": sum(r["statements"] for r in reports) / submits,
            "latency_ms": 1000 * sum(spent) / len(spent)}


def _worker(app, pack, share: list, barrier, results) -> None:
    from lowcode import process_tuning
    from lowcode.extensions import appbuilder, db
    from lowcode.flow import actions
    from lowcode.models import Officer
    from tests.form_samples import sample

    process_tuning.settle()  # as each server process does once loaded
    with app.app_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's
        counted = {"on": False, "count": 0}

        def count(*_):
            counted["count"] += counted["on"]

        event.listen(db.engine, "before_cursor_execute", count)
    answers = {"Task_Sign": {"handling": "本单位处置"}, "Task_FeedbackReview": {"feedback_review_result": "通过"}}
    report = {"starts": [], "ends": [], "spent": [], "statements": 0}
    for phase in PHASES:
        work = []
        for dispatch_id, username in share:
            with app.test_request_context():
                officer = db.session.scalar(select(Officer).where(Officer.username == (
                    "yanpan" if phase == "Task_FeedbackReview" else username)))
                item = _open_item(officer, dispatch_id=dispatch_id)
                work.append((item.id, officer.id, sample(pack, item.form_key, officer, **answers.get(phase, {}))))
        barrier.wait()
        report["starts"].append(time.perf_counter())
        for item_id, officer_id, data in work:
            with app.test_request_context():
                officer = appbuilder.sm.load_user(officer_id)  # as a real request starts
                counted["on"], started = True, time.perf_counter()
                actions.submit(item_id, data, officer)
                report["spent"].append(time.perf_counter() - started)
                counted["on"] = False
        report["ends"].append(time.perf_counter())
    report["statements"] = counted["count"]
    results.put(report)


@contextmanager
def postgres_database(server_url: str):
    """A fresh database on the server for one measure, dropped afterwards."""
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"bench_workflow_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dispatches", type=int, default=16, help="receiving 支队 per task, at most 16")
    parser.add_argument("--rounds", type=int, default=2, help="tasks of each measure (single stream, processes)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes of the concurrent measure")
    args = parser.parse_args()
    inmemory = inmemory_rate()
    print(f"in memory: {inmemory:.0f} user-task completions/s")
    sqlite = persisted_rates(f"sqlite:///{tempfile.mkdtemp(prefix='bench-sqlite-')}/bench.db",
                             args.dispatches, args.rounds, 1)
    print(f"sqlite: {sqlite['single']:.0f} persisted transitions/s (one stream), "
          f"{sqlite['latency_ms']:.1f} ms and {sqlite['statements']:.1f} SQL statements per submit")
    server = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_DATABASE_URL")
    postgres = {"concurrent": 0.0}
    if server:
        with postgres_database(server) as url:
            postgres = persisted_rates(url, args.dispatches, args.rounds, args.workers)
        print(f"postgres: {postgres['single']:.0f} persisted transitions/s (one stream), "
              f"{postgres['latency_ms']:.1f} ms and {postgres['statements']:.1f} SQL statements per submit; "
              f"{postgres['concurrent']:.0f}/s with {args.workers} processes")
    print(f"inmemory_per_s={inmemory:.0f} sqlite_per_s={sqlite['single']:.0f} "
          f"postgres_per_s={postgres['concurrent']:.0f} ratio_postgres={postgres['concurrent'] / inmemory:.2f}")


if __name__ == "__main__":
    main()
