"""What people do to clues and tasks, as one service API for the web pages, the REST API and
the PDA: every action checks who may do it, changes state under the instance lock, and is audited."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from bpmn import engine
from sqlalchemy import or_, select

from lowcode import audit, clock, form_service, notifications, personal, publishing
from lowcode.extensions import appbuilder, db
from lowcode.flow import records, transitions
from lowcode.flow.platform_services import ReceiverError, receiving_departments
from lowcode.flow.runtime import restore
from lowcode.models import Clue, Department, Dispatch, ProcessInstance, Supervision, Task, WorkItem


class ActionRefused(Exception):
    """The action is not allowed now; the message says why, in Chinese."""


class FormInvalid(ActionRefused):
    """The answers are refused; `errors` maps each field's path to its Chinese messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("表单填写有误：" + "；".join(f"{k or '表单'}：{'，'.join(v)}" for k, v in errors.items()))
        self.errors = errors


def new_clue(*, warning_type: str, **fields) -> Clue:
    """A clue row of a warning type, its level and type from the pack in force that defines the
    type; no process yet."""
    clue = Clue(**clue_values(publishing.warning_packs()[warning_type], warning_type=warning_type, **fields))
    db.session.add(clue)
    return clue


def clue_values(pack, *, warning_type: str, title: str, department: Department, source: str,
                subject: Optional[dict] = None, payload: Optional[dict] = None) -> dict:
    """Every column of a new clue of a warning type of `pack` but its id (bulk intake inserts these)."""
    warning = pack.warning_types[warning_type].content
    return dict(pack_code=pack.code, warning_type=warning_type, title=title, level_code=warning["clue_level"],
                type_code=f"{warning['clue_type']['category']}/{warning['clue_type']['subtype']}", source=source,
                district_code=department.district_code, department_id=department.id, dept_path=department.path,
                subject=subject or {}, subject_key=(subject or {}).get("id"), payload=payload or {},
                status="待启动", created_at=clock.now())


def start_clue_process(clue: Clue) -> None:
    """Start the clue's process on the release in force (its version is pinned from then on)."""
    release = publishing.current_releases()[clue.pack_code]
    pack = publishing.pinned_tree(release).packs[clue.pack_code]
    warning = pack.warning_types[clue.warning_type].content
    binding = pack.process_bindings[warning["process_binding"]].content
    transitions.start(release=release, process=binding["clue_process"], business_kind="clue", business_id=clue.id,
                      data={"clue_id": clue.id, "review_required": bool(warning["review_required"])})


START_BATCH = 50  # clue processes started per transaction: one commit, audit append and reload of
                 # the release for this many; short enough not to hold SQLite's write lock for long


def start_waiting_clues(clue_ids: list[int]) -> int:
    """Start the processes of those of these clues still waiting (待启动), a batch per transaction;
    returns how many were started. Safe to run again, or in parallel on PostgreSQL: a clue started
    already is skipped, one locked by another worker is left to it."""
    started, clue_ids = 0, sorted(set(clue_ids))
    for first in range(0, len(clue_ids), START_BATCH):
        clues = records.select_all(select(Clue).where(Clue.id.in_(clue_ids[first:first + START_BATCH]),
                                                      Clue.status == "待启动")
                                   .order_by(Clue.id).with_for_update(of=Clue, skip_locked=True))
        for clue in clues:
            start_clue_process(clue)
        db.session.commit()
        started += len(clues)
    return started


def create_clue(**fields) -> Clue:
    clue = new_clue(**fields)
    db.session.flush()
    start_clue_process(clue)
    db.session.commit()
    return clue


def _role_names(user) -> frozenset[str]:
    return appbuilder.sm.grants_of(user).roles


def may_act(user, item: WorkItem) -> bool:
    return user.department_id == item.department_id and any(f"|{r}|" in item.roles for r in _role_names(user))


def inbox_query(user, state: str = "open"):
    """The user's work items: their department's, for one of their roles (scoped as usual)."""
    roles = [WorkItem.roles.contains(f"|{role}|") for role in _role_names(user)] or [WorkItem.id.is_(None)]
    return (select(WorkItem).where(WorkItem.department_id == user.department_id, WorkItem.state == state,
                                   or_(*roles)).order_by(WorkItem.due_at.is_(None), WorkItem.due_at, WorkItem.id))


def _validate(ctx: records.Context, item: WorkItem, data: dict, user) -> dict:
    """The answers as they will be stored (normalised by the form), or FormInvalid: the form
    engine's validation is the one truth for the web, the PDA and the API alike."""
    if not item.form_key:
        return data
    data = form_service.form_for(ctx.pack, item.form_key).normalise(data)
    errors = form_service.validate_submission(ctx.pack, item.form_key, data, user)
    if errors:
        raise FormInvalid(errors)
    if "receivers" in data:  # checked before the engine runs, so a wrong choice is a form error, not an incident
        sender = (records.get(Dispatch, item.dispatch_id).receiver if item.dispatch_id is not None
                  else records.get(Task, item.task_id).issuer)
        try:
            receiving_departments(sender, data["receivers"])
        except ReceiverError as error:
            raise FormInvalid({"receivers": [str(error)]}) from error
    return data


def _routing(task_properties: dict, data: dict) -> dict:
    """What of the answers the engine sees: the fields the task names, else all of them."""
    fields = task_properties.get("routingFields")
    if fields is None:
        return data
    return {name: data[name] for name in (f.strip() for f in fields.split(",")) if name and name in data}


def submit(work_item_id: int, data: dict, user) -> WorkItem:
    found = records.lock_item(work_item_id)
    if found is None:
        raise ActionRefused("待办不存在")
    item, ctx = found
    if item.state != "open":
        raise ActionRefused("该待办已处理或已失效")
    if not may_act(user, item):
        raise ActionRefused("您不是该待办的办理部门或角色")
    # One flush at commit instead of one before every query: the flow reads its own pending
    # changes through the identity map.
    with db.session.no_autoflush:
        return _apply(ctx, item, data, user)


def _apply(ctx: records.Context, item: WorkItem, data: dict, user) -> WorkItem:
    instance = ctx.instance
    if instance.status != "running":
        raise ActionRefused("流程当前不可办理（已结束、已终止或出错待处理）")
    workflow = restore(instance)
    standing = engine.standing(workflow)
    ready = {t.id: t for t in standing.user_tasks}
    # The state read under the lock is the truth: its ready user tasks are exactly the open items
    # (every save writes both), so an item whose task is no longer ready was just handled by another.
    if item.engine_task_id not in ready:
        raise ActionRefused("该待办已被他人办理")
    data = _validate(ctx, item, data, user)
    timers = transitions.timer_dues(standing)
    try:
        engine.complete_user_task(workflow, item.engine_task_id, _routing(ready[item.engine_task_id].properties, data))
    except engine.TaskNoLongerReady:
        transitions.advance(ctx, workflow, open_tasks=set(ready), timers=timers)  # the timer that won is applied
        db.session.commit()
        raise ActionRefused("该待办已因超时等原因失效，未保存本次提交")
    except engine.WorkflowIncident as incident:
        _complete_item(ctx, item, data, user)
        transitions.record_incident(instance, incident)
        db.session.commit()
        return item
    _complete_item(ctx, item, data, user)
    transitions.advance(ctx, workflow, open_tasks=set(ready) - {item.engine_task_id}, timers=timers)
    db.session.commit()
    return item


def _complete_item(ctx: records.Context, item: WorkItem, data: dict, user) -> None:
    """Done; its deadline timers are retired by the poller (timers.retire_closed)."""
    form = form_service.form_for(ctx.pack, item.form_key) if item.form_key else None
    # Personal answers (x-personal: a handler's mobile, a rider's 身份证号) are stored encrypted.
    stored = personal.protect_form(form, data) if form else data
    if form and form.attachment_refs(data):
        # Attachments belong to a submission: it claims them once and decides who may download them.
        try:
            form_service.record_submission(ctx.pack, item.form_key, stored, f"work_item:{item.id}", user,
                                           ctx.instance.release_id)
        except form_service.AttachmentTaken:
            db.session.rollback()
            raise FormInvalid({"": [form_service.ATTACHMENT_TAKEN]}) from None
    records.write(item, {"state": "done", "data": stored, "completed_at": clock.now(), "completed_by_id": user.id,
                         "completed_by_name": user.display_name})
    audit.record("submit", "WorkItem", item.id, f"{user.display_name}办理“{item.title}”")


def _task_instances(task: Task) -> list[ProcessInstance]:
    """Children before parents (an instance starts after the one that forwarded to it), the order
    in which a closing dispatch locks its parent: terminating while it closes cannot deadlock."""
    dispatch_ids = [d.id for d in records.select_all(select(Dispatch).where(Dispatch.task_id == task.id))]
    return records.select_all(select(ProcessInstance).where(or_(
        (ProcessInstance.business_kind == "task") & (ProcessInstance.business_id == task.id),
        (ProcessInstance.business_kind == "dispatch") & ProcessInstance.business_id.in_(dispatch_ids or [-1])))
        .order_by(ProcessInstance.id.desc()))


def _is_issuer(user, task: Task) -> bool:
    return user.department_id == task.issuer_department_id


def terminate(task_id: int, reason: str, user) -> Task:
    """The issuer ends the task: every open branch ends, and receivers see why."""
    task = records.get(Task, task_id)
    if task is None or not _is_issuer(user, task):
        raise ActionRefused("只有下发部门可以终止任务")
    if not reason.strip():
        raise FormInvalid({"reason": ["请填写终止原因"]})
    if task.closed_at is not None:
        raise ActionRefused("任务已结束")
    for instance in _task_instances(task):
        instance = records.lock(instance.id)
        if instance.status in ("completed", "cancelled"):
            continue
        workflow = restore(instance)
        engine.cancel(workflow)
        instance.state = engine.dump_state(workflow)
        instance.status = "cancelled"
        # Their deadline timers are retired by the poller (timers.retire_closed).
        for item in records.select_all(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                               WorkItem.state == "open")):
            item.state = "cancelled"
            item.comment = f"任务已终止：{reason}"
            notifications.about_work_item(item, "terminated", reason)
    for dispatch in records.select_all(select(Dispatch).where(Dispatch.task_id == task.id,
                                                              Dispatch.closed_at.is_(None))):
        dispatch.status = "已终止"
        dispatch.closed_at = clock.now()
    task.status = "已终止"
    task.terminated_reason = reason
    task.closed_at = clock.now()
    audit.record("terminate", "Task", task.id, f"{user.display_name}终止任务「{task.title}」：{reason}")
    db.session.commit()
    return task


def supervise(dispatch_id: int, message: str, reply_due_at: Optional[dt.datetime], user) -> Supervision:
    """督办: the issuing department presses an open dispatch, with a reply deadline."""
    dispatch = records.get(Dispatch, dispatch_id)
    task = records.get(Task, dispatch.task_id) if dispatch else None   # the issuer's, maybe outside the caller's scope
    if dispatch is None or user.department_id not in (dispatch.issuer_department_id, task.issuer_department_id):
        raise ActionRefused("只有下发部门可以督办")
    if dispatch.closed_at is not None:
        raise ActionRefused("该下发已办结，无需督办")
    if not message.strip():
        raise FormInvalid({"message": ["请填写督办内容"]})
    supervision = Supervision(dispatch_id=dispatch.id, message=message, reply_due_at=reply_due_at,
                              created_at=clock.now(), created_by=user.display_name)
    db.session.add(supervision)
    db.session.flush()
    audit.record("supervise", "Dispatch", dispatch.id, f"{user.display_name}督办{dispatch.receiver.name}：{message}")
    notifications.notify(notifications.recipients(dispatch.receiver_department_id), "supervise", task.title,
                         message, task_id=dispatch.task_id, dispatch_id=dispatch.id, supervision_id=supervision.id)
    db.session.commit()
    return supervision


def reply_supervision(supervision_id: int, reply: str, user) -> Supervision:
    supervision = db.session.get(Supervision, supervision_id)
    dispatch = records.get(Dispatch, supervision.dispatch_id) if supervision else None
    if dispatch is None or user.department_id != dispatch.receiver_department_id:
        raise ActionRefused("只有接收部门可以回复督办")
    if not reply.strip():
        raise FormInvalid({"reply": ["请填写回复内容"]})
    supervision.read_at = supervision.read_at or clock.now()
    supervision.reply, supervision.replied_at, supervision.replied_by = reply, clock.now(), user.display_name
    audit.record("reply_supervision", "Supervision", supervision.id, f"{user.display_name}回复督办：{reply}")
    notifications.notify(notifications.recipients(dispatch.issuer_department_id), "reply",
                         records.get(Task, dispatch.task_id).title,
                         f"{dispatch.receiver.name}：{reply}", task_id=dispatch.task_id, dispatch_id=dispatch.id,
                         supervision_id=supervision.id)
    db.session.commit()
    return supervision


def retry_incident(instance_id: int, user, data: Optional[dict] = None) -> ProcessInstance:
    return _resolve_incident(instance_id, user, lambda wf: engine.retry_failed(wf, data=data), "重试")


def skip_incident(instance_id: int, user, data: dict) -> ProcessInstance:
    return _resolve_incident(instance_id, user, lambda wf: engine.skip_failed(wf, data), "跳过")


def _resolve_incident(instance_id: int, user, step, label: str) -> ProcessInstance:
    instance = records.lock(instance_id)
    if instance.status != "incident":
        raise ActionRefused("该流程实例没有待处理的错误")
    workflow = restore(instance)
    ctx = records.context(instance)
    try:
        step(workflow)
    except engine.WorkflowIncident as incident:
        transitions.record_incident(instance, incident)
        db.session.commit()
        raise ActionRefused(f"{label}后仍然出错：{incident.error}")
    audit.record("resolve_incident", "ProcessInstance", instance.id, f"{user.display_name}{label}出错的步骤")
    transitions.advance(ctx, workflow)
    db.session.commit()
    return instance


def timeline(task_id: int, dispatch_id: Optional[int] = None) -> list[dict]:
    """The ordered steps of a task (issuer's view) or of one dispatch and what it forwarded."""
    dispatches = records.select_all(select(Dispatch).where(Dispatch.task_id == task_id))
    if dispatch_id is not None:
        wanted, frontier = {dispatch_id}, {dispatch_id}
        while frontier:
            frontier = {d.id for d in dispatches if d.parent_id in frontier}
            wanted |= frontier
        dispatches = [d for d in dispatches if d.id in wanted]
    dispatch_ids = [d.id for d in dispatches]
    condition = WorkItem.dispatch_id.in_(dispatch_ids or [-1])
    if dispatch_id is None:
        condition = or_(condition, WorkItem.task_id == task_id)
    steps = steps_of(records.select_all(select(WorkItem).where(condition, WorkItem.state != "open")))
    for supervision in db.session.scalars(select(Supervision).where(Supervision.dispatch_id.in_(dispatch_ids or [-1]))):
        steps.append({"at": supervision.created_at, "who": supervision.created_by, "department": "",
                      "what": "督办", "dispatch_id": supervision.dispatch_id, "comment": supervision.message})
    return sorted(steps, key=lambda s: s["at"])


def steps_of(items: list[WorkItem]) -> list[dict]:
    """Finished work items as timeline steps (who did what when), oldest first."""
    return sorted(({"at": i.completed_at or i.created_at, "who": i.completed_by_name or "", "department": i.department.name,
                    "what": i.title.split("：")[0] + ("" if i.state == "done" else "（已取消）"),
                    "dispatch_id": i.dispatch_id, "comment": i.comment or _summary(i.data)} for i in items),
                  key=lambda s: s["at"])


def _summary(data: Optional[dict]) -> str:
    if not data:
        return ""
    # Personal answers are tokens at rest and never shown in a timeline.
    return "；".join(v for v in data.values() if isinstance(v, str) and v and not personal.is_token(v))[:200]
