"""Cost of the work pages at city scale: 待办, task query and detail, statistics, notifications,
the PDA list and the unread badge every page carries.

Fills a fresh database (DATABASE_URL, else a temporary SQLite file) with N tasks (default 20,000)
spread over the districts, each dispatched to a 支队 with an open work item, and notifications for
the demo officers; the lists read only these tables, so rows are inserted directly. Then times
signed-in page requests with the test client.
Last line: `inbox_ms_p95=N tasks_city_ms_p95=N tasks_district_ms_p95=N detail_ms_p95=N
stats_ms_p95=N notifications_ms_p95=N pda_ms_p95=N home_ms_p95=N`.
Run: .venv/bin/python perf/bench_work_pages.py [--tasks N] [--requests N]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile

from sqlalchemy import insert, select

from bench_foundation import p95, timed   # perf/ is the script's own folder


def fill(tasks: int) -> int:
    """Insert the rows; returns the id of a task dispatched to 徐汇."""
    from lowcode import clock, publishing
    from lowcode.extensions import db
    from lowcode.models import Department, Dispatch, Notification, Officer, ProcessInstance, Task, WorkItem

    release = publishing.current_releases()["nmv"]
    pack = publishing.current_tree().packs["nmv"]
    code, warning = next(iter(pack.warning_types.items()))
    warning = warning.content
    type_code = f"{warning['task_type']['category']}/{warning['task_type']['subtype']}"
    bpmn = next(f for f in release.files if f.path.endswith(".bpmn"))
    now = clock.now()
    instance = ProcessInstance(pack_code="nmv", process_id="bench", release_id=release.id, bpmn_file_id=bpmn.id,
                               business_kind="dispatch", business_id=0, status="running", state={},
                               created_at=now, updated_at=now)
    db.session.add(instance)
    city = db.session.scalar(select(Department).where(Department.depth == 0))
    districts = db.session.scalars(select(Department).where(Department.kind == "支队")).all()
    levels = list(pack.task_levels)
    db.session.execute(insert(Task.__table__), [
        {"pack_code": "nmv", "warning_type": code, "title": f"基准任务{i:06d}", "level_code": levels[i % len(levels)],
         "type_code": type_code, "issuer_department_id": city.id, "dept_path": city.path, "sign_hours": 4,
         "feedback_hours": 72, "reminder_hours": 12, "status": ("已下发", "等待各接收部门办结", "已办结归档")[i % 3],
         "created_at": now} for i in range(tasks)])
    db.session.flush()
    task_ids = db.session.scalars(select(Task.id).order_by(Task.id)).all()
    db.session.execute(insert(Dispatch.__table__), [
        {"task_id": t, "issuer_department_id": city.id, "receiver_department_id": districts[i % len(districts)].id,
         "dept_path": districts[i % len(districts)].path, "requirements": "请按期反馈", "status": "任务签收",
         "created_at": now} for i, t in enumerate(task_ids)])
    dispatches = db.session.execute(select(Dispatch.id, Dispatch.task_id, Dispatch.receiver_department_id,
                                           Dispatch.dept_path)).all()
    db.session.execute(insert(WorkItem.__table__), [
        {"instance_id": instance.id, "engine_task_id": f"b{d.id}", "task_name": "Task_Sign", "title": f"任务签收：基准{d.id}",
         "form_key": "forms/workflow/task_sign", "department_id": d.receiver_department_id, "dept_path": d.dept_path,
         "roles": "|支队民警|", "business_kind": "dispatch", "task_id": d.task_id, "dispatch_id": d.id,
         "warning_type": code, "level_code": levels[d.id % len(levels)], "type_code": type_code, "state": "open",
         "created_at": now, "due_at": now, "overdue": d.id % 4 == 0} for d in dispatches])
    officers = db.session.scalars(select(Officer.id)).all()
    db.session.execute(insert(Notification.__table__), [
        {"user_id": officers[i % len(officers)], "kind": "work", "title": f"新待办：基准{i}", "body": "",
         "created_at": now, "read_at": None if i % 2 else now} for i in range(tasks)])
    db.session.commit()
    xuhui = db.session.scalar(select(Department.id).where(Department.code == "310104000000"))
    return next(d.task_id for d in dispatches if d.receiver_department_id == xuhui)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="bench-work-pages-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/bench.db"
    from lowcode.app import create_app
    from lowcode.server import prepare

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "REDIS_URL": None,
                      "CELERY_EAGER": True})
    with app.app_context():
        prepare(app)
        with app.test_request_context():
            task_id = fill(args.tasks)

    def signed_in(username: str):
        client = app.test_client()
        page = client.get("/login/").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/login/", data={"username": username, "password": app.config["DEMO_PASSWORD"], "csrf_token": token})
        return client

    district, city, pda = signed_in("zd_xuhui"), signed_in("yanpan"), signed_in("pda_xuhui")
    measures = {
        "inbox": lambda: district.get("/inbox/?overdue=1"),
        "tasks_city": lambda: city.get("/tasks/?title=基准&sort=level"),
        "tasks_district": lambda: district.get("/tasks/?title=基准"),
        "detail": lambda: city.get(f"/tasks/{task_id}"),
        "stats": lambda: city.get("/tasks/stats?by=receiver"),
        "notifications": lambda: district.get("/notifications/?unread=1"),
        "pda": lambda: pda.get("/pda/tasks"),
        "home": lambda: district.get("/"),
    }
    results = {name: timed(call, args.requests) for name, call in measures.items()}
    print(f"database: {url.split(':')[0]}, tasks: {args.tasks}, requests per measure: {args.requests}")
    for name, samples in results.items():
        print(f"{name:>15}: p50 {statistics.median(samples):6.1f} ms  p95 {p95(samples):6.1f} ms")
    print(" ".join(f"{name}_ms_p95={p95(samples):.1f}" for name, samples in results.items()))


if __name__ == "__main__":
    main()
