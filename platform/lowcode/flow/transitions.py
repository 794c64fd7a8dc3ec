"""After every engine change: save state, bring work items and timers in line, set statuses,
and react to completion. Work items are the only thing task lists read."""
from __future__ import annotations

import datetime as dt
from functools import cache

from bpmn import engine
from flask import g
from sqlalchemy import bindparam, insert, select, update

from lowcode import audit, clock, notifications
from lowcode.definitions import resolve_form_key
from lowcode.extensions import db
from lowcode.flow import lanes, records
from lowcode.flow.records import Context
from lowcode.models import DefinitionFile, Dispatch, ProcessInstance, TimerRow, WorkItem
from lowcode.models.definitions import release_file
from lowcode.flow.runtime import script_engine


def start(*, release, process: dict, business_kind: str, business_id: int, data: dict,
          parent_id=None) -> ProcessInstance:
    """Start a process on the pinned release's BPMN file version and advance it to its first wait."""
    bpmn_file = _release_file(release.id, process["file"])
    now = clock.now()
    instance = ProcessInstance(pack_code=release.pack_code, process_id=process["process_id"], release_id=release.id,
                               bpmn_file_id=bpmn_file.id, business_kind=business_kind, business_id=business_id,
                               parent_id=parent_id, status="running", state={}, created_at=now, updated_at=now)
    db.session.add(instance)
    db.session.flush()
    bundle = engine.load_spec([bpmn_file.content], process["process_id"])
    try:
        workflow = engine.start(bundle, data, script_engine())
    except engine.WorkflowIncident as incident:
        record_incident(instance, incident)
        return instance
    advance(records.context(instance), workflow, open_tasks=set(), timers=set())  # a new instance has no rows yet
    return instance


def _release_file(release_id: int, path: str):
    """(id, content) of one file of a release, read once per request or job (a release never
    changes): not the release's every file, which each commit would have expired and reloaded."""
    files = g.setdefault("release_files", {})
    if (release_id, path) not in files:
        files[release_id, path] = db.session.execute(
            select(DefinitionFile.id, DefinitionFile.content).join(release_file, release_file.c.file_id == DefinitionFile.id)
            .where(release_file.c.release_id == release_id, DefinitionFile.path == path)).one()
    return files[release_id, path]


def record_incident(instance: ProcessInstance, incident: engine.WorkflowIncident) -> None:
    instance.state = engine.dump_state(incident.workflow)
    instance.status = "incident"
    instance.incident = {"task_id": incident.task_id, "task_name": incident.task_name,
                         "task_title": incident.task_title, "error": str(incident.error)[:2000], "at": clock.now().isoformat()}
    instance.updated_at = clock.now()
    audit.record("incident", "ProcessInstance", instance.id,
                 f"流程实例 {instance.id} 在“{incident.task_title or incident.task_name}”出错：{str(incident.error)[:200]}")


def advance(ctx: Context, workflow: engine.Workflow, *, open_tasks: set[str] | None = None,
            timers: set[dt.datetime] | None = None) -> None:
    """Save the state and bring work items and timer rows in line with it.

    A caller that holds the lock and restored the saved state may pass what that state says, since
    the save that wrote it also wrote the items and timer rows: `open_tasks`, the ids of the user
    tasks with an open item, and `timers`, the due times of its BPMN timers (see `timer_dues`).
    """
    instance = ctx.instance
    standing = engine.standing(workflow)
    records.write(instance, {"state": engine.dump_state(workflow), "updated_at": clock.now(),
                             "status": "completed" if standing.completed else "running", "incident": None})
    _sync_work_items(ctx, standing.user_tasks, open_tasks)
    pending = timer_dues(standing)
    if pending != timers:
        _sync_process_timers(instance, pending)
    closing = {"closed_at": clock.now()} if standing.completed and instance.business_kind in ("dispatch", "task") else {}
    records.write(ctx.record, {"status": standing.label, **closing})
    if standing.completed and instance.business_kind == "dispatch":
        _notify_parent(ctx.dispatch)


def timer_dues(standing: engine.Standing) -> set[dt.datetime]:
    return {clock.from_utc(timer.due) for timer in standing.timers}


def _due(ctx: Context, deadline: str | None) -> dt.datetime | None:
    if ctx.dispatch is None or deadline is None:
        return None
    return {"sign": ctx.dispatch.sign_due_at, "feedback": ctx.dispatch.feedback_due_at}.get(deadline)


def _sync_work_items(ctx: Context, ready: list, open_tasks: set[str] | None) -> None:
    instance = ctx.instance
    if open_tasks is None:
        open_tasks = set(records.select_all(select(WorkItem.engine_task_id).where(
            WorkItem.instance_id == instance.id, WorkItem.state == "open")))
    ready_ids = {task.id for task in ready}
    if open_tasks - ready_ids:  # their deadline timers are retired by the poller (timers.retire_closed)
        db.session.execute(update(WorkItem).where(
            WorkItem.instance_id == instance.id, WorkItem.state == "open",
            WorkItem.engine_task_id.in_(open_tasks - ready_ids)).values(state="cancelled")
            .execution_options(synchronize_session="evaluate", **records.UNSCOPED))
    for task in ready:
        if task.id not in open_tasks:
            _create_work_item(ctx, task)


def _create_work_item(ctx: Context, task) -> None:
    """The item, its notifications and deadline timers, each written by one statement at once
    (Core: nothing reads them back as objects in this transaction)."""
    assignment = lanes.assign(ctx.binding, task.lane, clue=ctx.clue, task=ctx.task, dispatch=ctx.dispatch)
    properties = task.properties
    form_key = resolve_form_key(ctx.pack, ctx.warning_type, properties["formKey"]) if "formKey" in properties else None
    display = properties.get("displayFormKey")
    now = clock.now()
    item = dict(
        instance_id=ctx.instance.id, engine_task_id=task.id, task_name=task.name, title=f"{task.title}：{ctx.title}",
        form_key=form_key, display_form_key=resolve_form_key(ctx.pack, ctx.warning_type, display) if display else None,
        lane=task.lane, department_id=assignment.department.id, dept_path=assignment.department.path,
        roles="|" + "|".join(assignment.roles) + "|", business_kind=ctx.instance.business_kind,
        clue_id=ctx.clue.id if ctx.clue else None, task_id=ctx.task.id if ctx.task else None,
        dispatch_id=ctx.dispatch.id if ctx.dispatch else None, warning_type=ctx.warning_type,
        level_code=(ctx.task or ctx.clue).level_code, type_code=(ctx.task or ctx.clue).type_code,
        state="open", created_at=now, due_at=_due(ctx, properties.get("deadline")),
    )
    item_id, returned = records.execute(_insert_work_item(), {**item, "of_instance": ctx.instance.id,
                                                              "of_task": task.name}).one()
    notifications.notify(notifications.recipients(item["department_id"], assignment.roles),
                         "returned" if returned else "work", item["title"], work_item_id=item_id,
                         task_id=item["task_id"], dispatch_id=item["dispatch_id"])
    due = item["due_at"]
    if due is not None:
        timers = [{"kind": "overdue", "due_at": due}]
        reminder_hours = ctx.task.reminder_hours if ctx.task else 0
        if reminder_hours:
            timers.append({"kind": "reminder", "due_at": max(due - dt.timedelta(hours=reminder_hours), now)})
        records.execute(_insert_timers(), [{**t, "work_item_id": item_id, "cancelled": False} for t in timers])


@cache
def _insert_timers():
    return insert(TimerRow.__table__)


@cache
def _insert_work_item():
    """Inserts an item, returning its id and whether its step was done once already (coming back
    to it is a return, 退回重办): one statement answers both."""
    items, earlier = WorkItem.__table__, WorkItem.__table__.alias("earlier")
    done_before = (select(earlier.c.id).where(earlier.c.instance_id == bindparam("of_instance"),
                                              earlier.c.task_name == bindparam("of_task"), earlier.c.state == "done")
                   .exists())
    return insert(items).returning(items.c.id, done_before)


def _sync_process_timers(instance: ProcessInstance, wanted: set[dt.datetime]) -> None:
    """BPMN timers become rows the poller fires; rows of timers no longer pending are cancelled."""
    rows = records.select_all(select(TimerRow).where(TimerRow.instance_id == instance.id, TimerRow.kind == "bpmn",
                                                      TimerRow.fired_at.is_(None), TimerRow.cancelled.is_(False)))
    for row in rows:
        if row.due_at not in wanted:
            row.cancelled = True
    for due in wanted - {row.due_at for row in rows}:
        db.session.add(TimerRow(kind="bpmn", instance_id=instance.id, due_at=due))


def _notify_parent(dispatch: Dispatch) -> None:
    """When the last sibling closes, the forwarding dispatch (or the task) may go on. The waiting
    instance is locked before the siblings are counted: two siblings closing at once would each
    see the other open and neither signal; locked, the second counts after the first committed.
    (Locks go child → parent, as `actions.terminate` takes them.)"""
    if dispatch.parent_id is not None:
        kind, business_id, signal = "dispatch", dispatch.parent_id, "children_closed"
    else:
        kind, business_id, signal = "task", dispatch.task_id, "dispatches_closed"
    waiting = records.execute(_waiting_statement(), {"kind": kind, "business_id": business_id}).scalars().all()
    if not waiting:
        return
    siblings = _open_sibling_statement(dispatch.parent_id is None)
    if records.execute(siblings, {"task_id": dispatch.task_id, "parent_id": dispatch.parent_id,
                                  "dispatch_id": dispatch.id}).first() is not None:
        return
    for instance_id in waiting:
        send_signal(instance_id, signal)


@cache
def _waiting_statement():
    return (select(ProcessInstance.id).where(ProcessInstance.business_kind == bindparam("kind"),
                                             ProcessInstance.business_id == bindparam("business_id"),
                                             ProcessInstance.status == "running").with_for_update())


@cache
def _open_sibling_statement(top: bool):
    """An open dispatch of the same task and parent: of the task itself (`top`), or of the parent."""
    return select(Dispatch.id).where(
        Dispatch.task_id == bindparam("task_id"),
        Dispatch.parent_id.is_(None) if top else Dispatch.parent_id == bindparam("parent_id"),
        Dispatch.id != bindparam("dispatch_id"), Dispatch.closed_at.is_(None)).limit(1)


def send_signal(instance_id: int, name: str) -> None:
    instance = records.lock(instance_id)
    workflow = _restore(instance)
    try:
        engine.send_signal(workflow, name)
    except engine.WorkflowIncident as incident:
        record_incident(instance, incident)
        return
    advance(records.context(instance), workflow)


def _restore(instance: ProcessInstance) -> engine.Workflow:
    from lowcode.flow.runtime import restore

    return restore(instance)
