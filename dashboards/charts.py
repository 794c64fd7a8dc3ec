"""A chart from a spec: which dimension to group by, how to draw it. The caller brings the rows to
count as a SQLAlchemy select (already filtered, and scoped by its session) and the dimensions as
SQL expressions with labels; this module only groups in SQL and draws, so it knows no tables."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql import ColumnElement, Select

PERIODS = {"day": "按日", "week": "按周", "month": "按月"}
FONT = {"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}


@dataclass(frozen=True)
class Dimension:
    """A way to group: its SQL expression, and how to name a group for people."""

    name: str
    label: str
    expression: ColumnElement
    names: Mapping[Any, str] | Callable[[Any], str] = field(default_factory=dict)

    def name_of(self, key: Any) -> str:
        if callable(self.names):
            return self.names(key)
        return self.names.get(key, "（未设置）" if key is None else str(key))


@dataclass(frozen=True)
class Spec:
    title: str
    chart: str = "bar"          # bar | line | pie
    value_label: str = "数量"
    horizontal: bool = False    # bars along the y axis: long category names stay readable

    @property
    def bars_across(self) -> bool:
        return self.horizontal and self.chart == "bar"


def time_bucket(column: ColumnElement, period: str, dialect: str) -> ColumnElement:
    """The start of the day, week (Monday) or month of `column`, as 'YYYY-MM-DD' text."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    if dialect == "postgresql":
        return func.to_char(func.date_trunc(period, column), "YYYY-MM-DD")
    if dialect == "sqlite":
        modifiers = {"day": (), "week": ("weekday 0", "-6 days"), "month": ("start of month",)}[period]
        # weekday 0 moves to the next Sunday (or stays); minus six days is that week's Monday.
        return func.date(column, *modifiers)
    raise ValueError(f"no time buckets for dialect {dialect!r}")


def aggregate(session, rows: Select, dimension: Dimension, count_of: ColumnElement,
              summed: bool = False) -> list[tuple[Any, str, int]]:
    """(key, name, count) per group, in key order: one GROUP BY query. `summed` when `count_of`
    holds counts already (rows counted ahead): they are added up instead of counted."""
    key = dimension.expression.label("key")
    measure = func.sum(count_of) if summed else func.count(count_of)
    statement = rows.with_only_columns(key, measure.label("n"), maintain_column_froms=True) \
        .group_by(key).order_by(key)
    return [(k, dimension.name_of(k), n) for k, n in session.execute(statement)]


def _height(spec: Spec, groups: int) -> int:
    return max(360, 120 + 28 * groups) if spec.bars_across else 420


def figure(spec: Spec, dimension: Dimension, groups: list[tuple[Any, str, int]]) -> dict:
    """The plotly figure as a JSON-ready dict (data + layout) for Plotly.newPlot. Plain JSON:
    plotly.py's validating figure objects cost tens of milliseconds per chart."""
    names, counts = [name for _, name, _ in groups], [n for _, _, n in groups]
    if spec.chart == "pie":
        trace = {"type": "pie", "labels": names, "values": counts, "hole": 0.35}
    elif spec.chart == "line":
        trace = {"type": "scatter", "x": names, "y": counts, "mode": "lines+markers", "name": spec.value_label}
    elif spec.bars_across:
        trace = {"type": "bar", "y": names, "x": counts, "orientation": "h", "name": spec.value_label,
                 "text": counts, "textposition": "auto"}
    else:
        trace = {"type": "bar", "x": names, "y": counts, "name": spec.value_label, "text": counts, "textposition": "auto"}
    axes = (spec.value_label, dimension.label) if spec.bars_across else (dimension.label, spec.value_label)
    layout = {"title": {"text": spec.title}, "xaxis": {"title": {"text": axes[0]}}, "yaxis": {"title": {"text": axes[1]}},
              "height": _height(spec, len(groups)), "margin": {"l": 50, "r": 20, "t": 50, "b": 60}, "font": FONT}
    if spec.bars_across:
        layout["yaxis"].update(automargin=True, autorange="reversed")  # first group on top, as in the table
    return {"data": [trace], "layout": layout}
