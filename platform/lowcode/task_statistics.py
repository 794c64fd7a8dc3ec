"""任务统计: tasks counted along one dimension by one GROUP BY, within the caller's scope and the
list's filters, as a table and a plotly bar chart. Self-contained so it can later become a spec of
the dashboards/ library."""
from __future__ import annotations

from sqlalchemy import case, func, select

from lowcode import scoping
from lowcode.extensions import db
from lowcode.models import Department, Dispatch
from lowcode.task_queries import TaskFilters, labels, task_query

DIMENSIONS = {"issuer": "下发部门", "receiver": "接收部门", "stage": "处置环节", "type": "任务类型",
              "level": "任务等级", "date": "创建日期"}


def statistics(dimension: str, f: TaskFilters) -> list[dict]:
    """[{key, label, total, closed}] ordered by key; receivers count every level of forwarding."""
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
    rows = db.session.execute(query.order_by(key).execution_options(unscoped=True)).all()
    names = _names(dimension, [r[0] for r in rows])
    return [{"key": str(k), "label": names.get(k, str(k)), "total": int(total), "closed": int(done or 0)}
            for k, total, done in rows]


def _names(dimension: str, keys: list) -> dict:
    if dimension in ("issuer", "receiver"):
        return dict(db.session.execute(select(Department.id, Department.name)
                                       .where(Department.id.in_(keys or [-1]))).all())
    if dimension in ("type", "level"):
        return labels()[dimension]
    return {}


def figure(rows: list[dict], dimension: str) -> dict:
    """A grouped bar chart (total, closed) as plotly JSON, drawn in the page by static/charts.js."""
    import plotly.graph_objects as go

    x = [r["label"] for r in rows]
    fig = go.Figure([go.Bar(name="任务数", x=x, y=[r["total"] for r in rows]),
                     go.Bar(name="已结束", x=x, y=[r["closed"] for r in rows])])
    fig.update_layout(barmode="group", title=f"按{DIMENSIONS[dimension]}统计", height=380,
                      margin={"l": 40, "r": 20, "t": 50, "b": 80}, font={"family": "Noto Sans CJK SC, sans-serif"})
    return fig.to_plotly_json()
