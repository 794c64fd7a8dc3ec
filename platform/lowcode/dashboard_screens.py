"""A dashboard as its viewer sees it: every panel's pre-counted figures summed over the viewer's
districts in one query, with group names from the entity definitions and plotly figures."""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import func, select, tuple_

from dashboards import panels as panel_queries
from lowcode import dashboard_rollups, scoping
from lowcode.entities import catalogue
from lowcode.extensions import db
from lowcode.models import DashboardRefresh, DashboardRollup, Department


class NoSuchDashboard(LookupError):
    pass


@dataclass(frozen=True)
class PanelView:
    code: str
    title: str
    chart: str
    width: int
    value_label: str
    group_label: str
    counted: bool
    total: float = 0
    previous: Optional[float] = None
    groups: list[tuple[str, float, Optional[float]]] = field(default_factory=list)
    figure: Optional[dict] = None


@dataclass(frozen=True)
class Screen:
    pack: str
    code: str
    name: str
    description: str
    large: bool
    refresh_minutes: int
    panels: list[PanelView]
    refreshed_at: Optional[dt.datetime]


def dashboards_in_force() -> list[tuple[str, str, str]]:
    """(pack, code, name) of every dashboard, for menus and the index page."""
    seen = {}
    for panel in dashboard_rollups.panels_in_force():
        seen.setdefault((panel.pack, panel.dashboard["code"]), panel.dashboard["name"])
    return [(pack, code, name) for (pack, code), name in seen.items()]


def screen(pack: str, code: str, only: Optional[str] = None) -> Screen:
    """The dashboard `pack/code` summed over the districts in the caller's scope; with `only`,
    just that panel of it. Assembled once per refresh of its panels and set of districts."""
    panels = [p for p in dashboard_rollups.panels_in_force()
              if p.pack == pack and p.dashboard["code"] == code and only in (None, p.spec["code"])]
    if not panels:
        raise NoSuchDashboard(f"{pack}/{code}")
    states = {s.panel: s for s in db.session.scalars(
        select(DashboardRefresh).where(DashboardRefresh.panel.in_([p.key for p in panels])))}
    owners = scoping.owners_in_scope()
    districts = None if owners is None else frozenset(owners[1])
    # The stamp of what the screen is made of: any refresh or edited panel makes another key.
    key = (pack, code, only, districts,
           tuple((p.sha, states[p.key].spec, states[p.key].refreshed_at) for p in panels if p.key in states))
    with _ASSEMBLED_LOCK:
        found = _ASSEMBLED.get(key)
    if found is None:
        found = _assemble(panels, states, districts)
        with _ASSEMBLED_LOCK:
            _ASSEMBLED[key] = found
            while len(_ASSEMBLED) > ASSEMBLED_KEPT:
                _ASSEMBLED.popitem(last=False)
    return found


# Screens as assembled, by their stamp: a few per dashboard and district set. Per process, and
# never stale: a refresh changes the stamp, and the oldest screens give way.
ASSEMBLED_KEPT = 256
_ASSEMBLED: OrderedDict[tuple, Screen] = OrderedDict()
_ASSEMBLED_LOCK = threading.Lock()


def _assemble(panels: list, states: dict, districts: Optional[frozenset[str]]) -> Screen:
    counted = [p for p in panels if p.key in states and states[p.key].spec == p.sha]
    rows = _rows(counted, districts)
    definition = panels[0].dashboard
    large = definition["screen"] == "large"
    views = [_view(p, rows.get(p.key, []), p in counted, large) for p in panels]
    times = [states[p.key].refreshed_at for p in counted]
    return Screen(panels[0].pack, definition["code"], definition["name"], definition.get("description", ""), large,
                  definition["refresh_minutes"], views, min(times) if times else None)


def _rows(panels: list, districts: Optional[frozenset[str]]) -> dict[str, list[tuple]]:
    if not panels:
        return {}
    r = DashboardRollup
    statement = select(r.panel, r.bucket, r.group_key, r.x, r.y, func.sum(r.value)) \
        .where(tuple_(r.panel, r.spec).in_([(p.key, p.sha) for p in panels])) \
        .group_by(r.panel, r.bucket, r.group_key, r.x, r.y)
    if districts is not None:
        statement = statement.where(r.district_code.in_(sorted(districts)))
    found = defaultdict(list)
    for panel, *rest in db.session.execute(statement):
        found[panel].append(tuple(rest))
    return found


def _view(panel, rows: list[tuple], counted: bool, large: bool) -> PanelView:
    spec = panel.spec
    measure = spec.get("measure") or {"function": "count"}
    value_label = measure.get("label", "数量")
    entity = catalogue.find(panel.pack, spec["entity"])
    group_label = entity.field(spec["group_by"]).title if spec.get("group_by") else "分组"
    base = dict(code=spec["code"], title=spec["title"], chart=spec["chart"], width=spec.get("width", 4),
                value_label=value_label, group_label=group_label, counted=counted)
    if not counted:
        return PanelView(**base)
    names = _value_names(panel.pack, entity, spec.get("group_by"), {row[1] for row in rows})
    if spec.get("time"):
        series = [(bucket.isoformat(), group, value) for bucket, group, _, _, value in rows]
        figure = panel_queries.figure(spec, series, names, value_label, large)
        return PanelView(**base, total=sum(v for *_, v in series), figure=figure)
    days = sorted({bucket for bucket, *_ in rows}, reverse=True)
    latest = [row for row in rows if days and row[0] == days[0]]
    before = [row for row in rows if len(days) > 1 and row[0] == days[1]]
    if spec["chart"] == "map":
        figure = panel_queries.figure(spec, [(x, y, g, v) for _, g, x, y, v in latest], names, value_label, large)
        return PanelView(**base, total=sum(row[-1] for row in latest), figure=figure)
    now_totals = panel_queries.totals((g, v) for _, g, _, _, v in latest)
    old_totals = panel_queries.totals((g, v) for _, g, _, _, v in before) if before else None
    groups = [(names.get(g, g or "全部"), v, old_totals.get(g, 0) if old_totals is not None else None)
              for g, v in panel_queries.ranked(now_totals, spec.get("top"))]
    figure = None
    if spec["chart"] in ("bar", "pie"):
        figure = panel_queries.figure(spec, [(g, v) for g, v in now_totals.items()], names, value_label, large)
    return PanelView(**base, total=sum(now_totals.values()),
                     previous=sum(old_totals.values()) if old_totals is not None else None, groups=groups, figure=figure)


def _value_names(pack: str, entity, field_name: Optional[str], keys: set[str]) -> dict[str, str]:
    """How people call a group: a choice's label, 是/否, the district's name, or for a reference
    the referenced record's `name` field (its key when it has none)."""
    if not field_name:
        return {}
    field = entity.field(field_name)
    if field.choices:
        return dict(field.choices)
    if field.type == "boolean":   # text of a boolean: 'true'/'false' on PostgreSQL, '1'/'0' on SQLite
        return {"true": "是", "1": "是", "false": "否", "0": "否"}
    if field_name == entity.district:
        return dict(db.session.execute(select(Department.district_code, Department.district_name)
                                       .where(Department.district_code.in_(keys)).distinct()).all())
    target = catalogue.find(pack, field.ref) if field.ref else None
    if target is not None and "name" in target.by_name and not target.field("name").personal:
        table = catalogue.table(target)
        key = table.c[target.key]
        return dict(db.session.execute(select(key, table.c.name).where(key.in_(keys))).all())
    return {}
