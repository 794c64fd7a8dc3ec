"""The timer poller: fires due timer rows once each. Celery beat runs it on Redis; with Celery
eager, a thread in the web process runs the same function."""
from __future__ import annotations

import threading

from bpmn import engine
from sqlalchemy import select, update

from lowcode import audit, clock, notifications, pollers
from lowcode.extensions import db
from lowcode.flow import records, transitions
from lowcode.models import TimerRow, WorkItem

KIND_LABELS = {"overdue": "已超期", "reminder": "即将到期"}


def _claim(timer_id: int) -> bool:
    """Mark the row fired; only the one caller whose update matched acts on it (idempotence)."""
    result = db.session.execute(update(TimerRow).where(TimerRow.id == timer_id, TimerRow.fired_at.is_(None))
                                .values(fired_at=clock.now()).execution_options(synchronize_session=False))
    return result.rowcount == 1


def retire_closed(now) -> None:
    """Cancel the due deadline timers of items no longer open: a submit leaves them to this one
    statement of the poller rather than spending a statement of its own."""
    closed = select(WorkItem.id).where(WorkItem.state != "open")
    db.session.execute(update(TimerRow).where(TimerRow.fired_at.is_(None), TimerRow.cancelled.is_(False),
                                              TimerRow.due_at <= now, TimerRow.work_item_id.in_(closed))
                       .values(cancelled=True).execution_options(synchronize_session=False, **records.UNSCOPED))
    db.session.commit()


def fire_due(now=None, limit: int = 500) -> int:
    """Fire every due timer; returns how many fired."""
    now = now or clock.now()
    retire_closed(now)
    due = records.select_all(select(TimerRow.id).where(TimerRow.fired_at.is_(None), TimerRow.cancelled.is_(False),
                                                       TimerRow.due_at <= now).order_by(TimerRow.due_at).limit(limit))
    fired = 0
    for timer_id in due:
        timer = records.get(TimerRow, timer_id)
        if not _claim(timer_id):
            db.session.rollback()
            continue
        if timer.kind == "bpmn":
            _sweep(timer.instance_id)
        else:
            _mark(timer)
        db.session.commit()
        fired += 1
    return fired


def _mark(timer: TimerRow) -> None:
    item = records.get(WorkItem, timer.work_item_id)
    if item.state != "open":
        return
    if timer.kind == "overdue":
        item.overdue = True
    audit.record(timer.kind, "WorkItem", item.id, f"“{item.title}”{KIND_LABELS[timer.kind]}（期限 {item.due_at:%Y-%m-%d %H:%M}）")
    notifications.about_work_item(item, timer.kind, f"办理期限 {item.due_at:%Y-%m-%d %H:%M}")


def _sweep(instance_id: int) -> None:
    instance = records.lock(instance_id)
    if instance.status != "running":
        return
    from lowcode.flow.runtime import restore

    workflow = restore(instance)
    try:
        engine.sweep_timers(workflow)
    except engine.WorkflowIncident as incident:
        transitions.record_incident(instance, incident)
        return
    transitions.advance(records.context(instance), workflow)


def start_embedded_poller(app, interval_seconds: float = 30.0) -> threading.Event:
    """With Celery eager there is no beat: a daemon thread polls instead. Returns its stop flag."""
    return pollers.start(app, "timer-poller", fire_due, interval_seconds)
