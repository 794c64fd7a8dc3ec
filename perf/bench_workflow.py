"""Workflow throughput: raw in-memory SpiffWorkflow user-task completions per second against
persisted transitions per second through the platform's service layer (SQLite, and PostgreSQL
when BENCH_POSTGRES_URL or TEST_DATABASE_URL names a server).

A persisted transition = one `actions.submit` of a work item: validation, instance row lock,
restore, timer sweep, completion, state save, work-item and timer sync, audit, commit.
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
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def inmemory_rate(seconds: float = 3.0) -> float:
    from bpmn import engine
    from bpmn.script_engine import RestrictedScriptEngine

    bundle = engine.load_spec([(ROOT / "definitions/nmv/bpmn/dispatch.bpmn").read_bytes()], "nmv_dispatch")
    scripts = RestrictedScriptEngine()
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
    from lowcode import publishing

    instance = tempfile.mkdtemp(prefix="bench-workflow-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "REDIS_URL": None, "CELERY_EAGER": True})
    with app.test_request_context():
        prepare(app)
        root = db.session.scalar(select(Department).where(Department.depth == 0))
        officers = {o.username: o for o in db.session.scalars(select(Officer))}
        pack = publishing.current_tree().packs["nmv"]
        clue = actions.create_clue(warning_type="STATION_PLATE_COVERAGE_LOW", title="基准测试", department=root,
                                   source="总队研判")

        def act(username, **where):
            query = actions.inbox_query(officers[username]).execution_options(unscoped=True)
            for column, value in where.items():
                query = query.where(getattr(WorkItem, column) == value)
            item = db.session.scalars(query.limit(1)).one()
            actions.submit(item.id, sample(pack, item.form_key, **answers.get(item.task_name, {})), officers[username])

        answers = {"Task_ClueReview": {"review_result": "通过"}, "Task_ClueEvaluation": {"evaluation_result": "采纳下发"},
                   "Task_Sign": {"handling": "本单位处置"}, "Task_FeedbackReview": {"feedback_review_result": "通过"}}
        act("yanpan", clue_id=clue.id)
        act("yanpan", clue_id=clue.id)
        task = db.session.scalar(select(Task).where(Task.clue_id == clue.id).execution_options(unscoped=True))
        detachments = db.session.scalars(select(Department).where(Department.depth == 1)).all()
        answers["Task_Dispatch"] = {"receivers": [{"department_code": d.code} for d in detachments[:dispatches]]}
        act("yanpan", task_id=task.id)
        detachment_officer = {o.department_id: name for name, o in officers.items() if name.startswith("zd_")}
        receivers = [(d.id, detachment_officer[d.receiver_department_id]) for d in db.session.scalars(
            select(Dispatch).where(Dispatch.task_id == task.id).execution_options(unscoped=True))]
        transitions, started = 0, time.perf_counter()
        for dispatch_id, officer in receivers:
            act(officer, dispatch_id=dispatch_id)
            act(officer, dispatch_id=dispatch_id)
            act("yanpan", dispatch_id=dispatch_id)
            transitions += 3
        return transitions / (time.perf_counter() - started)


def postgres_database(server_url: str) -> str:
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"bench_workflow_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dispatches", type=int, default=16, help="receiving 支队, at most 16")
    args = parser.parse_args()
    inmemory = inmemory_rate()
    print(f"in memory: {inmemory:.0f} user-task completions/s")
    sqlite = persisted_rate(f"sqlite:///{tempfile.mkdtemp(prefix='bench-sqlite-')}/bench.db", args.dispatches)
    print(f"sqlite: {sqlite:.0f} persisted transitions/s")
    server = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_DATABASE_URL")
    postgres = persisted_rate(postgres_database(server), args.dispatches) if server else 0.0
    if server:
        print(f"postgres: {postgres:.0f} persisted transitions/s")
    print(f"inmemory_per_s={inmemory:.0f} sqlite_per_s={sqlite:.0f} postgres_per_s={postgres:.0f} "
          f"ratio_postgres={postgres / inmemory:.2f}")


if __name__ == "__main__":
    main()
