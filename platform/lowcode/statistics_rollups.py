"""任务统计 and 线索统计 counted ahead: tasks and clues summed per creation day and every group the
statistics pages filter or group by, recounted whole by the dashboards' poller (Celery beat on
Redis, a thread when eager) every REFRESH_MINUTES, in one transaction. A statistics request then
sums a few hundred rows; the page says when they were counted (数据更新于).

Scoping stays exact. A clue row keeps its clues' `dept_path`, so the session's scope filters it as
it filters clues. A task is visible to a department when it was issued in its subtree or dispatched
into it, which no single path states: a task row is counted once for every department (`viewer`)
that sees it, and a request reads the rows of exactly its own scope.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Optional

from sqlalchemy import case, delete, func, insert, null, select, text, union
from sqlalchemy.sql.dml import Insert

from lowcode import clock, scoping
from lowcode.extensions import db
from lowcode.models import Clue, ClueStatRollup, DashboardRefresh, Department, Dispatch, Task, TaskStatRollup

# The refresh state shares the dashboards' table: a statistics rollup is one more counted panel.
STATE_KEY = "lowcode/statistics"
SHAPE = "task+clue/day+whole/1"   # a new shape of the rows is recounted before it is read
REFRESH_MINUTES = 5
UNSCOPED = {"unscoped": True}


def refresh_due(force: bool = False) -> dict[str, int]:
    """Recount when the last count is REFRESH_MINUTES old (or `force`); {STATE_KEY: rows} if counted."""
    state = db.session.get(DashboardRefresh, STATE_KEY)
    if not force and state is not None and state.spec == SHAPE and \
            clock.now() - state.refreshed_at < dt.timedelta(minutes=REFRESH_MINUTES):
        return {}
    return {STATE_KEY: refresh()}


def refresh() -> int:
    """Replace every statistics row by a fresh count, in one transaction: readers see the old
    rows or the new ones, and a failed count leaves the old ones."""
    started = time.perf_counter()
    state = db.session.scalar(select(DashboardRefresh).where(DashboardRefresh.panel == STATE_KEY).with_for_update())
    _settings_for_counting()
    db.session.execute(delete(TaskStatRollup))
    db.session.execute(delete(ClueStatRollup).execution_options(**UNSCOPED))
    viewers = _viewers()
    for statement in (_task_counts(viewers), _receiver_counts(viewers), _clue_counts(), *_whole_period_counts()):
        db.session.execute(statement)
    rows = sum(db.session.scalar(select(func.count()).select_from(table)) for table in (TaskStatRollup, ClueStatRollup))
    state = state or DashboardRefresh(panel=STATE_KEY)
    state.spec, state.refreshed_at, state.stale = SHAPE, clock.now(), False
    state.rows, state.seconds = rows, round(time.perf_counter() - started, 3)
    db.session.add(state)
    db.session.commit()
    return rows


def _settings_for_counting() -> None:
    """PostgreSQL, for this transaction: no JIT (the planner expects millions of joined rows, and
    compiling for them cost more than the count itself), and room to sort in memory."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))


def _viewers():
    """(path, viewer): each department path records carry, with the id of every department whose
    scope contains it (the prefix rule of data scoping): a few hundred rows to join on."""
    paths = union(select(Task.dept_path.label("path")), select(Dispatch.dept_path)).subquery()
    return select(paths.c.path, Department.id.label("viewer")) \
        .join(Department, paths.c.path.startswith(Department.path)).subquery()


def _task_counts(viewers) -> Insert:
    """Each task once per viewer: issued in the viewer's subtree or dispatched into it."""
    seen = union(select(Task.id.label("task_id"), viewers.c.viewer).join(viewers, viewers.c.path == Task.dept_path),
                 select(Dispatch.task_id, viewers.c.viewer).join(viewers, viewers.c.path == Dispatch.dept_path)).subquery()
    return _task_groups(seen, None)


def _receiver_counts(viewers) -> Insert:
    """Each task once per receiver and viewer of a dispatch to that receiver (forwarded ones too)."""
    seen = select(Dispatch.task_id, Dispatch.receiver_department_id.label("receiver"), viewers.c.viewer) \
        .join(viewers, viewers.c.path == Dispatch.dept_path).distinct().subquery()
    return _task_groups(seen, seen.c.receiver)


def _task_groups(seen, receiver) -> Insert:
    """The tasks of `seen` (task_id, viewer[, receiver]) counted per viewer, day and group."""
    groups = [seen.c.viewer, func.date(Task.created_at), Task.issuer_department_id, Task.type_code, Task.level_code,
              Task.status] + ([receiver] if receiver is not None else [])
    closed = func.sum(case((Task.closed_at.isnot(None), 1), else_=0))
    counted = select(*groups[:6], receiver if receiver is not None else null(), func.count(), closed) \
        .select_from(seen).join(Task, Task.id == seen.c.task_id).group_by(*groups)
    r = TaskStatRollup
    return insert(r).from_select([r.viewer, r.day, r.issuer_department_id, r.type_code, r.level_code, r.status,
                                  r.receiver_department_id, r.tasks, r.closed], counted)


def _clue_counts() -> Insert:
    r = ClueStatRollup
    groups = [func.date(Clue.created_at), Clue.dept_path, Clue.department_id, Clue.warning_type, Clue.type_code,
              Clue.level_code, Clue.source, Clue.status]
    return insert(r).from_select([r.day, r.dept_path, r.department_id, r.warning_type, r.type_code, r.level_code,
                                  r.source, r.status, r.clues], select(*groups, func.count()).group_by(*groups))


def _whole_period_counts() -> list[Insert]:
    """The daily rows summed over every day (`day` empty): what a request without dates reads."""
    t, c = TaskStatRollup, ClueStatRollup
    tasks = [t.viewer, t.issuer_department_id, t.receiver_department_id, t.type_code, t.level_code, t.status]
    clues = [c.dept_path, c.department_id, c.warning_type, c.type_code, c.level_code, c.source, c.status]
    return [insert(t).from_select([*tasks, t.tasks, t.closed], select(*tasks, func.sum(t.tasks), func.sum(t.closed))
                                  .where(t.day.isnot(None)).group_by(*tasks)),
            insert(c).from_select([*clues, c.clues], select(*clues, func.sum(c.clues))
                                  .where(c.day.isnot(None)).group_by(*clues))]


def period(day, dated: bool):
    """The rows to read: daily ones when the request names dates or groups by day, else the
    whole-period ones (far fewer)."""
    return day.isnot(None) if dated else day.is_(None)


# ------------------------------------------------------------------ reading

def refreshed_at() -> Optional[dt.datetime]:
    """When the rows now stored were counted; None when there are none of the current shape."""
    state = db.session.get(DashboardRefresh, STATE_KEY)
    return state.refreshed_at if state is not None and state.spec == SHAPE else None


TASK_KEYS = {"issuer": TaskStatRollup.issuer_department_id, "receiver": TaskStatRollup.receiver_department_id,
             "stage": TaskStatRollup.status, "type": TaskStatRollup.type_code, "level": TaskStatRollup.level_code,
             "date": TaskStatRollup.day}


def task_counts(dimension: str, f) -> Optional[tuple[list[tuple], dt.datetime]]:
    """(key, tasks, closed) per group of `dimension` in key order, for the caller's scope and the
    filters `f` (task_queries.TaskFilters), and when they were counted; None when the rows cannot
    answer: a title search or a receiver filter, a scope that is no department's, none counted."""
    counted = refreshed_at()
    viewer = None if f.title or f.receiver_id or counted is None else _viewer(scoping.current_prefix())
    if viewer is None:
        return None
    r, key = TaskStatRollup, TASK_KEYS[dimension]
    receivers = r.receiver_department_id.isnot(None) if dimension == "receiver" else r.receiver_department_id.is_(None)
    dated = bool(f.created_from or f.created_to) or dimension == "date"
    query = select(key, func.sum(r.tasks), func.sum(r.closed)).where(r.viewer == viewer, receivers, period(r.day, dated))
    for column, value in ((r.type_code, f.type_code), (r.level_code, f.level_code), (r.status, f.status),
                          (r.issuer_department_id, f.issuer_id)):
        if value:
            query = query.where(column == value)
    if f.created_from:
        query = query.where(r.day >= f.created_from)
    if f.created_to:
        query = query.where(r.day <= f.created_to)
    return db.session.execute(query.group_by(key).order_by(key)).all(), counted


def _viewer(prefix: Optional[str]) -> Optional[int]:
    """The department whose rows a scope reads: rows are counted for departments' paths; 0 (no
    department's id) for a user without a department, who sees none; None when no department's."""
    if prefix is None or prefix == scoping.NOTHING:
        return None if prefix is None else 0
    return db.session.scalar(select(Department.id).where(Department.path == prefix))
