"""统计大屏 figures, counted ahead: every panel of every dashboard in force is aggregated per
district (and day, group, map cell) into dashboard_rollup by a poller (Celery beat on Redis, a
thread when eager), and a screen only sums the rows of the districts its viewer may see.

A panel is counted again when its refresh interval has passed, when its definition changed, or
when the records it counts changed (`mark_stale`, called by whatever writes them in bulk).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from dashboards import panels as panel_queries
from lowcode import clock, publishing, statistics_rollups
from lowcode.entities import catalogue
from lowcode.definitions.content import canonical_json
from lowcode.extensions import db
from lowcode.models import DashboardRefresh, DashboardRollup

# Daily snapshots are kept this long: enough for "compared with yesterday" and a month's look back.
SNAPSHOT_DAYS = 31


@dataclass(frozen=True)
class Panel:
    pack: str
    dashboard: dict
    spec: dict
    key: str
    sha: str


_SHAS: dict[tuple[str, int], str] = {}


def _sha(dashboard, index: int) -> str:
    # Hashed once per version of the dashboard: screens ask for every panel on every view.
    key = (dashboard.sha256, index)
    if key not in _SHAS:
        _SHAS[key] = hashlib.sha256(canonical_json(dashboard.content["panels"][index])).hexdigest()
    return _SHAS[key]


def panels_in_force() -> Iterator[Panel]:
    for pack in publishing.current_tree().packs.values():
        for dashboard in pack.dashboards.values():
            for index, spec in enumerate(dashboard.content["panels"]):
                yield Panel(pack.code, dashboard.content, spec, f"{pack.code}/{dashboard.code}/{spec['code']}",
                            _sha(dashboard, index))


def _due(panel: Panel, state: DashboardRefresh | None, now: dt.datetime) -> bool:
    if state is None or state.stale or state.spec != panel.sha:
        return True
    return now - state.refreshed_at >= dt.timedelta(minutes=panel.dashboard["refresh_minutes"])


def refresh_due(force: bool = False) -> dict[str, int]:
    """Count every panel that is due (all of them with `force`), one transaction each, and the
    task and clue statistics when due; returns the rows written per panel counted."""
    now = clock.now()
    states = {state.panel: state for state in db.session.scalars(select(DashboardRefresh))}
    done = {}
    for panel in panels_in_force():
        if force or _due(panel, states.get(panel.key), now):
            done[panel.key] = refresh(panel)
    done.update(statistics_rollups.refresh_due(force))
    return done


def refresh(panel: Panel) -> int:
    started, today = time.perf_counter(), clock.now().date()
    entity = catalogue.find(panel.pack, panel.spec["entity"])
    statement = panel_queries.aggregate(panel.spec, catalogue.table(entity), entity.district,
                                        db.session.get_bind().dialect.name, today)
    rows = [{"panel": panel.key, "spec": panel.sha, "bucket": _day(row.bucket), "district_code": row.district or "",
             "group_key": row.group_key or "", "x": row.x, "y": row.y, "value": float(row.value)}
            for row in db.session.execute(statement)]
    # A time panel is counted whole over its window; a snapshot panel replaces today's snapshot.
    replaced = delete(DashboardRollup).where(DashboardRollup.panel == panel.key)
    if not panel.spec.get("time"):
        replaced = replaced.where((DashboardRollup.spec != panel.sha) | (DashboardRollup.bucket == today)
                                  | (DashboardRollup.bucket < today - dt.timedelta(days=SNAPSHOT_DAYS)))
    db.session.execute(replaced)
    if rows:
        db.session.execute(insert(DashboardRollup), rows)
    state = db.session.get(DashboardRefresh, panel.key) or DashboardRefresh(panel=panel.key)
    state.spec, state.refreshed_at, state.stale = panel.sha, clock.now(), False
    state.rows, state.seconds = len(rows), round(time.perf_counter() - started, 3)
    db.session.add(state)
    db.session.commit()
    return len(rows)


def _day(bucket) -> dt.date:
    return bucket if isinstance(bucket, dt.date) else dt.date.fromisoformat(str(bucket)[:10])


def mark_stale(pack: str, entity: str) -> None:
    """The records of `entity` changed: its panels are counted at the next poll."""
    keys = [panel.key for panel in panels_in_force() if panel.pack == pack and panel.spec["entity"] == entity]
    if keys:
        db.session.execute(update(DashboardRefresh).where(DashboardRefresh.panel.in_(keys)).values(stale=True))


def start_embedded_poller(app):
    from lowcode import pollers
    from lowcode.jobs import DASHBOARD_INTERVAL_SECONDS

    return pollers.start(app, "dashboard-poller", refresh_due, DASHBOARD_INTERVAL_SECONDS)
