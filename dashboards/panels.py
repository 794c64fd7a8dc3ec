"""Dashboard panels: the aggregate a panel's spec asks of a table, and the figure of its result.

A panel (a dict valid against the dashboard meta-schema) counts or sums the rows of one table,
per district and optionally per time bucket, group value and map cell. The caller stores those
aggregates (pre-summed, so that a screen reads a few hundred rows, not millions) and later draws
them, summed over the districts the viewer may see. This module knows no tables of its own.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Iterable, Mapping

from sqlalchemy import Integer, String, and_, cast, func, literal, select
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.schema import Table

from dashboards.charts import FONT, time_bucket

_OPERATORS = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}


def window_start(panel: Mapping, today: dt.date) -> dt.date | None:
    """The first day a time panel counts (its last N days or months, today's included)."""
    time = panel.get("time")
    if not time:
        return None
    if time["period"] == "day":
        return today - dt.timedelta(days=time["last"] - 1)
    month = today.year * 12 + today.month - 1 - (time["last"] - 1)
    return dt.date(month // 12, month % 12 + 1, 1)


def _condition(column: ColumnElement, op: str, value: Any) -> ColumnElement:
    if op == "in":
        return column.in_(value if isinstance(value, list) else [value])
    return getattr(column, _OPERATORS[op])(value)


def aggregate(panel: Mapping, table: Table, district: str, dialect: str, today: dt.date) -> Select:
    """SELECT district, bucket, group_key, x, y, value … GROUP BY: one row per aggregate to store.

    `bucket` is the period's first day as 'YYYY-MM-DD' text for time panels, and today for the
    others (a daily snapshot, which is what "compared with yesterday" compares).
    """
    c = table.c
    measure = panel.get("measure") or {"function": "count"}
    value = func.count() if measure["function"] == "count" else func.coalesce(func.sum(c[measure["field"]]), 0)
    time = panel.get("time")
    bucket = time_bucket(c[time["field"]], time["period"], dialect) if time else literal(today.isoformat())
    group = cast(c[panel["group_by"]], String) if panel.get("group_by") else literal("")
    where = [_condition(c[f["field"]], f["op"], f["value"]) for f in panel.get("filters", ())]
    if time:
        where.append(c[time["field"]] >= window_start(panel, today))
    spot = panel.get("map")
    if spot:
        # Cells as whole multiples of the cell size: a screen draws thousands of cells, not every point.
        x, y = (cast(c[spot[axis]] / spot["cell"], Integer) for axis in ("lng", "lat"))
        where += [c[spot["lng"]].is_not(None), c[spot["lat"]].is_not(None)]
    else:
        x = y = literal(0)
    keys = {"district": c[district], "bucket": bucket, "group_key": group, "x": x, "y": y}
    varying = [key for key in keys.values() if not isinstance(key, BindParameter)]
    return select(*(key.label(name) for name, key in keys.items()), value.label("value")) \
        .where(and_(*where)).group_by(*varying)


def totals(rows: Iterable[tuple]) -> dict[str, float]:
    """(group_key, value) rows summed per group."""
    summed: dict[str, float] = defaultdict(float)
    for group, value in rows:
        summed[group] += value
    return dict(summed)


def ranked(summed: Mapping[str, float], top: int | None) -> list[tuple[str, float]]:
    """Groups by value, largest first, the first `top` of them."""
    order = sorted(summed.items(), key=lambda item: (-item[1], item[0]))
    return order[:top] if top else order


def _axis(title: str | None = None, **more) -> dict:
    return {**({"title": {"text": title}} if title else {}), "automargin": True, **more}


def figure(panel: Mapping, rows: list[tuple], names: Mapping[str, str], value_label: str, dark: bool) -> dict:
    """The plotly figure (data + layout, JSON-ready for Plotly.newPlot) of a bar, line, pie or map
    panel. Built as plain JSON: plotly.py's validating figure objects cost tens of milliseconds
    per chart, and a screen draws a dozen on every view.

    Rows are (bucket, group_key, value) for time panels, (x, y, group_key, value) for maps and
    (group_key, value) otherwise, already summed over the viewer's districts.
    """
    label = lambda key: names.get(key, key or "全部")  # noqa: E731 - a one-line lookup
    chart = panel["chart"]
    if chart == "map":
        cell = panel["map"]["cell"]
        by_group = defaultdict(list)
        for x, y, group, value in rows:
            by_group[group].append(((x + 0.5) * cell, (y + 0.5) * cell, value))
        peak = max((value for *_, value in rows), default=1) or 1
        # The value rides along as customdata, named once by a hover template rather than a text per
        # point: thousands of cells make the map's data, and each byte of it crosses the network.
        traces = [{"type": "scatter", "mode": "markers", "name": label(group),
                   "hovertemplate": f"{label(group)}：%{{customdata}}<extra></extra>",
                   "x": [round(p[0], 6) for p in points], "y": [round(p[1], 6) for p in points],
                   "customdata": [p[2] for p in points],
                   "marker": {"size": [round(6 + 18 * (p[2] / peak) ** 0.5, 1) for p in points], "opacity": 0.7}}
                  for group, points in sorted(by_group.items())]
        layout = {"xaxis": _axis("经度"), "yaxis": _axis("纬度", scaleanchor="x")}
    elif panel.get("time"):
        series = defaultdict(dict)
        for bucket, group, value in rows:
            series[group][bucket] = value
        buckets = sorted({bucket for bucket, _, _ in rows})
        shape = {"type": "bar"} if chart == "bar" else {"type": "scatter", "mode": "lines+markers"}
        traces = [{**shape, "name": label(group), "x": buckets, "y": [values.get(b, 0) for b in buckets]}
                  for group, values in sorted(series.items())]
        layout = {"xaxis": _axis(), "yaxis": _axis(value_label), "barmode": "group"}
    else:
        order = ranked(totals(rows), panel.get("top"))
        groups, values = [label(g) for g, _ in order], [v for _, v in order]
        if chart == "pie":
            traces = [{"type": "pie", "labels": groups, "values": values, "hole": 0.4}]
            layout = {}
        else:
            traces = [{"type": "bar", "orientation": "h", "y": groups, "x": values, "text": values,
                       "textposition": "auto", "name": value_label}]
            layout = {"yaxis": _axis(autorange="reversed"), "xaxis": _axis(value_label)}
    ink, grid = ("#dfe8f5", "#1e3a5f") if dark else ("#333333", "#e5e5e5")
    for axis in ("xaxis", "yaxis"):
        if axis in layout:
            layout[axis].update(gridcolor=grid, zerolinecolor=grid)
    # No title: the panel's heading names the chart; the legend sits above the plot, clear of the axes.
    return {"data": traces, "layout": {
        "height": 340, "margin": {"l": 50, "r": 20, "t": 36, "b": 40}, "font": {**FONT, "color": ink},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}, **layout}}
