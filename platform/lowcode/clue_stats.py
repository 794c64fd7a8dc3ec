"""线索统计: counts of clues by type, level, source, warning type, time or department, as one
GROUP BY query over the filtered, scoped clues, drawn by the dashboards library. The clues are
read as counted ahead per day (statistics_rollups) unless a title is searched, which only the
clues themselves can answer."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select

import dashboards
from lowcode import clues, statistics_rollups
from lowcode.extensions import db
from lowcode.models import Clue, ClueStatRollup, Department

DIMENSIONS = {"type": "线索类型", "level": "线索等级", "source": "预警来源", "warning_type": "预警类型",
              "time": "创建时间", "department": "研判部门"}
CHARTS = {"bar": "柱状图", "line": "折线图", "pie": "饼图"}


class StatisticsInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Result:
    dimension: dashboards.Dimension
    groups: list[tuple]
    total: int
    figure: dict
    refreshed_at: Optional[dt.datetime] = None   # when counted ahead; None: counted now


def _dimension(name: str, period: str, table, created) -> dashboards.Dimension:
    """How to group `table` (clues, or their daily counts whose day is `created`)."""
    names = clues.catalogue()
    if name == "type":
        return dashboards.Dimension(name, DIMENSIONS[name], table.type_code, names.types)
    if name == "level":
        return dashboards.Dimension(name, DIMENSIONS[name], table.level_code,
                                    {code: level["name"] for code, level in names.levels.items()})
    if name == "source":
        return dashboards.Dimension(name, DIMENSIONS[name], table.source, lambda source: source)
    if name == "warning_type":
        return dashboards.Dimension(name, DIMENSIONS[name], table.warning_type, names.warning_types)
    if name == "department":
        departments = {i: name for i, name in db.session.execute(select(Department.id, Department.name))}
        return dashboards.Dimension(name, DIMENSIONS[name], table.department_id, departments)
    bucket = dashboards.time_bucket(created, period, db.session.get_bind().dialect.name)
    return dashboards.Dimension(name, f"{DIMENSIONS[name]}（{dashboards.PERIODS[period]}）", bucket, str)


def statistics(filters: clues.Filters, by: str, period: str = "day", chart: str = "bar", now: bool = False) -> Result:
    """Clues counted `by` a dimension; `now`: count the clues themselves whatever was counted ahead."""
    if by not in DIMENSIONS:
        raise StatisticsInvalid(f"统计维度只能是 {'、'.join(DIMENSIONS)}")
    if period not in dashboards.PERIODS:
        raise StatisticsInvalid(f"时间粒度只能是 {'、'.join(dashboards.PERIODS)}")
    if chart not in CHARTS:
        raise StatisticsInvalid(f"图表只能是 {'、'.join(CHARTS)}")
    counted = None if now or filters.title else statistics_rollups.refreshed_at()
    if counted is None:
        dimension = _dimension(by, period, Clue, Clue.created_at)
        groups = dashboards.aggregate(db.session, clues.filtered(filters), dimension, Clue.id)
    else:
        r = ClueStatRollup
        dimension = _dimension(by, period, r, r.day)
        dated = bool(filters.created_from or filters.created_to) or by == "time"
        rows = clues.filtered(filters, r, r.day).where(statistics_rollups.period(r.day, dated))
        groups = dashboards.aggregate(db.session, rows, dimension, r.clues, summed=True)
    spec = dashboards.Spec(title=f"线索数量（{dimension.label}）", chart=chart, value_label="线索数",
                           horizontal=by != "time")
    return Result(dimension, groups, sum(n for _, _, n in groups), dashboards.figure(spec, dimension, groups), counted)
