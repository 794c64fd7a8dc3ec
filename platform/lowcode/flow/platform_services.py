"""Services that BPMN service tasks call by name: they create the business records of the next
step and start their processes. Connectors register theirs the same way."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lowcode import audit, clock, task_visibility
from lowcode.definitions import time_limits
from lowcode.extensions import db
from lowcode.flow import records, transitions
from lowcode.flow.push import push_feedback
from lowcode.models import Clue, Department, DefinitionRelease, Dispatch, Task


class ReceiverError(ValueError):
    """A receiving department the sender may not send to; reported on the form's field."""


def receiving_departments(sender: Department, receivers: list[dict]) -> list[Department]:
    """The departments named by code, each strictly below the sender in the hierarchy."""
    codes = [r.get("department_code") for r in receivers or []]
    if not codes:
        raise ReceiverError("请至少选择一个接收部门")
    found = {d.code: d for d in db.session.scalars(select(Department).where(Department.code.in_(codes)))}
    for code in codes:
        department = found.get(code)
        if department is None:
            raise ReceiverError(f"接收部门 {code} 不存在")
        if department.path == sender.path or not department.path.startswith(sender.path):
            raise ReceiverError(f"{department.name}不是{sender.name}的下级部门，不能下发")
    if len(set(codes)) != len(codes):
        raise ReceiverError("接收部门重复")
    return [found[code] for code in codes]


def create_task(clue_id: int) -> int:
    clue = records.get(Clue, clue_id)
    clue_instance = records.instance_of("clue", clue_id)
    release = records.get(DefinitionRelease, clue_instance.release_id)
    ctx = records.context(clue_instance)
    warning = ctx.pack.warning_types[clue.warning_type].content
    limits = time_limits(ctx.pack, clue.warning_type)
    task = Task(pack_code=clue.pack_code, clue_id=clue.id, warning_type=clue.warning_type, title=clue.title,
                level_code=warning["task_level"], type_code=f"{warning['task_type']['category']}/{warning['task_type']['subtype']}",
                issuer_department_id=clue.department_id, dept_path=clue.department.path,
                sign_hours=int(limits.sign_hours), feedback_hours=int(limits.feedback_hours),
                reminder_hours=int(limits.reminder_before_hours), status="已创建", created_at=clock.now())
    db.session.add(task)
    db.session.flush()
    task_visibility.add(task.id, task.dept_path, task.created_at)
    audit.record("create_task", "Task", task.id, f"线索「{clue.title}」采纳下发，创建任务")
    transitions.start(release=release, process=ctx.binding["task_process"], business_kind="task",
                      business_id=task.id, data={"task_id": task.id,
                                                 "approval_required": bool(warning["approval_required"])},
                      parent_id=clue_instance.id)
    return task.id


def _dispatch(task: Task, sender: Department, receivers: list[dict], requirements: str, parent=None) -> list[int]:
    departments = receiving_departments(sender, receivers)
    instance = records.instance_of("dispatch", parent.id) if parent else records.instance_of("task", task.id)
    release = records.get(DefinitionRelease, instance.release_id)
    binding = records.context(instance).binding
    now = clock.now()
    sign_due = now + dt.timedelta(hours=task.sign_hours)
    feedback_due = now + dt.timedelta(hours=task.feedback_hours)
    if parent is not None:  # a forward never gives more time than the forwarder has
        sign_due, feedback_due = min(sign_due, parent.feedback_due_at), min(feedback_due, parent.feedback_due_at)
    ids = []
    for department in departments:
        dispatch = Dispatch(task_id=task.id, parent_id=parent.id if parent else None,
                            issuer_department_id=sender.id, receiver_department_id=department.id,
                            dept_path=department.path, requirements=requirements or "", status="待签收",
                            sign_due_at=sign_due, feedback_due_at=feedback_due, created_at=now)
        db.session.add(dispatch)
        db.session.flush()
        task_visibility.add(task.id, department.path, task.created_at)
        audit.record("dispatch", "Dispatch", dispatch.id,
                     f"{sender.name}{'转发' if parent else '下发'}任务「{task.title}」至{department.name}")
        transitions.start(release=release, process=binding["dispatch_process"], business_kind="dispatch",
                          business_id=dispatch.id, data={"dispatch_id": dispatch.id}, parent_id=instance.id)
        ids.append(dispatch.id)
    return ids


def dispatch_task(task_id: int, receivers: list, requirements: str = "") -> list[int]:
    task = records.get(Task, task_id)
    task.status = "已下发"
    return _dispatch(task, task.issuer, receivers, requirements)


def forward_dispatch(dispatch_id: int, receivers: list, requirements: str = "") -> list[int]:
    parent = records.get(Dispatch, dispatch_id)
    return _dispatch(parent.task, parent.receiver, receivers, requirements, parent=parent)


def register_all(registry) -> None:
    registry.register("platform.create_task", create_task)
    registry.register("platform.dispatch_task", dispatch_task)
    registry.register("platform.forward_dispatch", forward_dispatch)
    registry.register("platform.push_feedback", push_feedback)
