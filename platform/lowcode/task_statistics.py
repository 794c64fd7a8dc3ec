"""任务统计: tasks counted along one dimension within the caller's scope and the list's filters, as
a table and a plotly bar chart. Read as counted ahead per day (statistics_rollups); counted by one
GROUP BY over the tasks when the rows cannot answer (a title search, a receiver filter)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import case, func, select

from dashboards.charts import FONT
from lowcode import scoping, statistics_rollups
from lowcode.extensions import db
from lowcode.models import Department, Dispatch
from lowcode.task_queries import TaskFilters, labels, task_query

DIMENSIONS = {"issuer": "下发部门", "receiver": "接收部门", "stage": "处置环节", "type": "任务类型",
              "level": "任务等级", "date": "创建日期"}


@dataclass(frozen=True)
class Result:
    rows: list[dict]                          # [{key, label, total, closed}] ordered by key
    refreshed_at: Optional[dt.datetime]       # when counted ahead; None: counted now


def statistics(dimension: str, f: TaskFilters, now: bool = False) -> Result:
    """The groups of `dimension`; receivers count every level of forwarding. `now`: count the
    tasks themselves whatever was counted ahead."""
    ahead = None if now else statistics_rollups.task_counts(dimension, f)
    groups, counted = ahead if ahead is not None else (_counted_now(dimension, f), None)
    names = _names(dimension, [key for key, *_ in groups])
    return Result([{"key": str(k), "label": names.get(k, str(k)), "total": int(total), "closed": int(done or 0)}
                   for k, total, done in groups], counted)


def _counted_now(dimension: str, f: TaskFilters) -> list[tuple]:
    base = task_query(f).subquery()
    closed = func.sum(case((base.c.closed_at.isnot(None), 1), else_=0))
    if dimension == "receiver":
        key = Dispatch.receiver_department_id
        on = Dispatch.task_id == base.c.id
        prefix = scoping.current_prefix()
        if prefix is not None:   # only receivers the caller may see
            on = on & Dispatch.dept_path.startswith(prefix)
        query = select(key, func.count(func.distinct(base.c.id)), closed).join(Dispatch, on).group_by(key)
    else:
        key = {"issuer": base.c.issuer_department_id, "stage": base.c.status, "type": base.c.type_code,
               "level": base.c.level_code, "date": func.date(base.c.created_at)}[dimension]
        query = select(key, func.count(base.c.id), closed).group_by(key)
    return db.session.execute(query.order_by(key).execution_options(unscoped=True)).all()


def _names(dimension: str, keys: list) -> dict:
    if dimension in ("issuer", "receiver"):
        return dict(db.session.execute(select(Department.id, Department.name)
                                       .where(Department.id.in_(keys or [-1]))).all())
    if dimension in ("type", "level"):
        return labels()[dimension]
    return {}


def figure(rows: list[dict], dimension: str) -> dict:
    """A grouped bar chart (total, closed) as plotly JSON, drawn in the page by static/charts.js.
    Plain JSON: plotly.py's validating figure objects cost tens of milliseconds per chart."""
    x = [r["label"] for r in rows]
    return {"data": [{"type": "bar", "name": "任务数", "x": x, "y": [r["total"] for r in rows]},
                     {"type": "bar", "name": "已结束", "x": x, "y": [r["closed"] for r in rows]}],
            "layout": {"barmode": "group", "title": {"text": f"按{DIMENSIONS[dimension]}统计"}, "height": 380,
                       "margin": {"l": 40, "r": 20, "t": 50, "b": 80}, "font": FONT}}
