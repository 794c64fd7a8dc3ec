"""Workflow throughput: raw in-memory SpiffWorkflow user-task completions per second against
persisted transitions per second through the platform's service layer (SQLite, and PostgreSQL
when BENCH_POSTGRES_URL or TEST_DATABASE_URL names a server).

A persisted transition = one `actions.submit` of a work item: validation, instance row lock,
restore, timer sweep, completion, state save, work-item and timer sync, audit, commit.
The SQL statements the timed submits send are counted too (BEGIN and COMMIT not included).
The measured loop is the dispatch process's sign → feedback → review cycle on fresh dispatches.
Last line: `inmemory_per_s=N sqlite_per_s=N postgres_per_s=N ratio_postgres=R`.
Run: .venv/bin/python perf/bench_workflow.py [--dispatches N]
"""
from __future__ import annotations

import argparse
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


def persisted_rate(url: str, dispatches: int) -> float:
    from tests.form_samples import sample
    from lowcode.app import create_app
    from lowcode.extensions import db
    from lowcode.flow import actions
    from lowcode.models import Department, Dispatch, Officer, Task, WorkItem
    from lowcode.server import prepare
    from perf import choose

    instance = tempfile.mkdtemp(prefix="bench-workflow-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "REDIS_URL": None, "CELERY_EAGER": True})
    with app.app_context():
        prepare(app)
        root = db.session.scalar(select(Department).where(Department.depth == 0))
        officer_ids = {o.username: o.id for o in db.session.scalars(select(Officer))}
        # The loop below reviews, evaluates and dispatches: a type with review and without approval.
        pack, kind = choose.warning_type(review_required=True, approval_required=False)
        clue_id = actions.create_clue(warning_type=kind, title="基准测试", department=root,
                                      source=pack.warning_types[kind].content["source"]).id
    spent, statements = [], {"timed": False, "count": 0}

    def count(*_):
        statements["count"] += statements["timed"]

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    answers = {"Task_ClueReview": {"review_result": "通过"}, "Task_ClueEvaluation": {"evaluation_result": "采纳下发"},
               "Task_Sign": {"handling": "本单位处置"}, "Task_FeedbackReview": {"feedback_review_result": "通过"}}

    def act(username, **where):
        """One request: find the work item and its answers (untimed), then submit it (timed)."""
        with app.test_request_context():
            officer = db.session.get(Officer, officer_ids[username])
            query = actions.inbox_query(officer).execution_options(unscoped=True)
            for column, value in where.items():
                query = query.where(getattr(WorkItem, column) == value)
            item = db.session.scalars(query.limit(1)).one()
            # The checklist's photos are uploaded by the officer before the submit, as in the browser.
            data = sample(pack, item.form_key, officer,
                          **answers.get(item.task_name, {}))
            statements["timed"], started = True, time.perf_counter()
            actions.submit(item.id, data, officer)
            spent.append(time.perf_counter() - started)
            statements["timed"] = False

    act("yanpan", clue_id=clue_id)
    act("yanpan", clue_id=clue_id)
    with app.app_context():
        task_id = db.session.scalar(select(Task.id).where(Task.clue_id == clue_id).execution_options(unscoped=True))
        detachments = db.session.scalars(select(Department).where(Department.depth == 1)).all()
        answers["Task_Dispatch"] = {"receivers": [{"department_code": d.code} for d in detachments[:dispatches]]}
        by_department = {d.id: f"zd_{d.slug}" for d in detachments}
    act("yanpan", task_id=task_id)
    with app.app_context():
        receivers = [(d.id, by_department[d.receiver_department_id]) for d in db.session.scalars(
            select(Dispatch).where(Dispatch.task_id == task_id).execution_options(unscoped=True))]
    spent.clear()
    statements["count"] = 0
    for dispatch_id, officer in receivers:
        act(officer, dispatch_id=dispatch_id)
        act(officer, dispatch_id=dispatch_id)
        act("yanpan", dispatch_id=dispatch_id)
    return len(spent) / sum(spent), statements["count"] / len(spent)


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
    parser.add_argument("--dispatches", type=int, default=16, help="receiving 支队, at most 16")
    args = parser.parse_args()
    inmemory = inmemory_rate()
    print(f"in memory: {inmemory:.0f} user-task completions/s")
    sqlite, per_submit = persisted_rate(f"sqlite:///{tempfile.mkdtemp(prefix='bench-sqlite-')}/bench.db",
                                        args.dispatches)
    print(f"sqlite: {sqlite:.0f} persisted transitions/s, {per_submit:.1f} SQL statements per submit")
    server = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_DATABASE_URL")
    postgres = 0.0
    if server:
        with postgres_database(server) as url:
            postgres, per_submit = persisted_rate(url, args.dispatches)
        print(f"postgres: {postgres:.0f} persisted transitions/s, {per_submit:.1f} SQL statements per submit")
    print(f"inmemory_per_s={inmemory:.0f} sqlite_per_s={sqlite:.0f} postgres_per_s={postgres:.0f} "
          f"ratio_postgres={postgres / inmemory:.2f}")


if __name__ == "__main__":
    main()
