"""待办/已办: the user's work items listed with filters, and one work item opened with its business
context and its bound form, submitted through the workflow service. The web inbox and the PDA use
the same functions with their own renderer."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Optional

from flask import abort
from sqlalchemy import func, select

import forms
from lowcode import clock, form_service, scoping, task_queries
from lowcode.distinct import distinct_values
from lowcode.extensions import db
from lowcode.flow import actions, records
from lowcode.models import Department, ProcessInstance, Supervision, WorkItem

SORTS = {"due_at": WorkItem.due_at, "created_at": WorkItem.created_at, "title": WorkItem.title,
         "completed_at": WorkItem.completed_at, "id": WorkItem.id}


def filtered(user, state: str, args):
    """The inbox query with the list's filters: type, level, form, due before, overdue only."""
    query = actions.inbox_query(user, state).order_by(None)
    for arg, column in (("type", WorkItem.type_code), ("level", WorkItem.level_code), ("form", WorkItem.form_key),
                        ("task", WorkItem.task_name), ("business", WorkItem.business_kind)):
        if args.get(arg):
            query = query.where(column == args[arg])
    if args.get("overdue") == "1":
        query = query.where(WorkItem.overdue.is_(True))
    due = (args.get("due") or "").strip()
    if due:
        try:
            limit = dt.datetime.combine(dt.date.fromisoformat(due) + dt.timedelta(days=1), dt.time())
        except ValueError:
            limit = None
        if limit is not None:
            query = query.where(WorkItem.due_at < limit)
    return query


def page(user, state: str, args) -> task_queries.Page:
    default = "due_at" if state == "open" else "completed_at"
    # The user's own department's items are within their scope by definition; the scope's path
    # condition would only mislead PostgreSQL's row estimate into sorting every item of the department.
    return task_queries.paged(filtered(user, state, args), args, SORTS, default)


def form_choices(user) -> list[tuple[str, str]]:
    """(form key, title) of the forms bound to the user's work items, for the 表单 filter."""
    # Unscoped like the list: the user's own department is within their scope.
    keys = distinct_values(WorkItem.form_key, actions.inbox_query(user, "open").whereclause)
    return [(key, key.rsplit("/", 1)[-1]) for key in keys]


def open_item(item_id: int) -> WorkItem:
    """A work item within the caller's scope, else 404 (another district's item is not found)."""
    return scoping.visible(WorkItem, item_id) or abort(404)


def draft_key(item: WorkItem) -> str:
    return f"work-item:{item.id}"


@dataclass
class WorkContext:
    """What is shown above a work item's form."""

    item: WorkItem
    ctx: records.Context
    may_act: bool
    display: Any = None          # the display form, read-only (the warning, or the feedback under review)
    display_title: str = ""
    supervisions: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    subordinates: list = field(default_factory=list)
    labels: dict = field(default_factory=dict)


def context(item: WorkItem, user) -> WorkContext:
    ctx = records.context(records.get(ProcessInstance, item.instance_id))
    work = WorkContext(item, ctx, item.state == "open" and actions.may_act(user, item), labels=task_queries.labels())
    if item.display_form_key:
        data = _display_data(item, ctx)
        if data is not None:
            work.display = form_service.render_summary(ctx.pack, item.display_form_key, data)
            work.display_title = form_service.form_for(ctx.pack, item.display_form_key).title
    if ctx.dispatch is not None:
        work.supervisions = list(db.session.scalars(select(Supervision).where(
            Supervision.dispatch_id == ctx.dispatch.id).order_by(Supervision.id)))
        task_queries.mark_supervisions_read([(ctx.dispatch, work.supervisions)], user)
    if ctx.task is not None:
        work.steps = actions.timeline(ctx.task.id, dispatch_id=ctx.dispatch.id if ctx.dispatch else None)
    elif ctx.clue is not None:
        work.steps = _clue_steps(ctx.clue.id)
    if item.form_key and form_service.form_for(ctx.pack, item.form_key).field_at("receivers") is not None:
        sender = ctx.dispatch.receiver if ctx.dispatch is not None else ctx.task.issuer
        work.subordinates = list(db.session.scalars(select(Department).where(
            Department.parent_id == sender.id, Department.active.is_(True)).order_by(Department.sort_order, Department.code)))
    return work


def _display_data(item: WorkItem, ctx: records.Context) -> Optional[dict]:
    """The warning's payload, or the latest answers given on that form in this dispatch or task."""
    warning = ctx.pack.warning_types.get(ctx.warning_type)
    if warning is not None and item.display_form_key == warning.content.get("payload_form"):
        return (ctx.clue.payload if ctx.clue else None) or {}
    same = WorkItem.dispatch_id == item.dispatch_id if item.dispatch_id else WorkItem.task_id == item.task_id
    earlier = records.select_all(select(WorkItem).where(same, WorkItem.form_key == item.display_form_key,
                                                        WorkItem.state == "done")
                                 .order_by(WorkItem.completed_at.desc()).limit(1))
    return earlier[0].data if earlier else None


def _clue_steps(clue_id: int) -> list[dict]:
    items = records.select_all(select(WorkItem).where(WorkItem.clue_id == clue_id, WorkItem.task_id.is_(None),
                                                      WorkItem.state != "open").order_by(WorkItem.completed_at))
    return [{"at": i.completed_at or i.created_at, "who": i.completed_by_name or "", "department": i.department.name,
             "what": i.title.split("：")[0], "comment": i.comment or ""} for i in items]


def initial_data(work: WorkContext, user) -> tuple[Any, Any]:
    """(data, draft): the user's draft for this work item, else the form's defaults."""
    draft = form_service.find_draft(work.ctx.pack.code, work.item.form_key, draft_key(work.item), user)
    if draft is not None:
        return draft.data, draft
    if work.item.state != "open":
        return work.item.data or {}, None
    return form_service.form_for(work.ctx.pack, work.item.form_key).defaults(), None


@dataclass
class Outcome:
    """What a post did: `done` (submitted), `saved`/`discarded` (draft), or errors to show."""

    kind: str
    data: Any = None
    errors: forms.Errors = field(default_factory=dict)
    message: str = ""


def post(work: WorkContext, post_data, user) -> Outcome:
    """Handle a post of the work item's form: draft, discard, or submit through the workflow.
    The server's validation decides; its messages are returned by field path."""
    pack, key, item = work.ctx.pack, work.item.form_key, work.item
    action = post_data.get("_action", "submit")
    if action == "discard":
        form_service.discard_draft(pack.code, key, draft_key(item), user)
        return Outcome("discarded")
    data = form_service.form_for(pack, key).decode(post_data)
    if action == "draft":
        form_service.save_draft(pack.code, key, draft_key(item), data, user)
        return Outcome("saved")
    return submit(work, data, user)


def submit(work: WorkContext, data: Any, user) -> Outcome:
    """Submit answers through the workflow service: it validates them with the form engine (field
    messages in Chinese, attachments the submitter's own) and claims their attachments."""
    pack, key, item = work.ctx.pack, work.item.form_key, work.item
    if not work.may_act:
        return Outcome("refused", data, {"": ["您不是该待办的办理部门或角色，或该待办已处理"]})
    try:
        actions.submit(item.id, data, user)
    except actions.FormInvalid as refused:
        db.session.rollback()
        return Outcome("invalid", data, refused.errors)
    except actions.ActionRefused as refused:
        db.session.rollback()
        return Outcome("refused", data, {"": [str(refused)]})
    if key:
        form_service.discard_draft(pack.code, key, draft_key(item), user)
    return Outcome("done", data, message=f"已办理：{item.title}")


def due_state(item: WorkItem) -> str:
    """逾期 / 临期 (within a day) / '' for the list's badge."""
    if item.overdue or (item.state == "open" and item.due_at is not None and item.due_at < clock.now()):
        return "逾期"
    if item.state == "open" and item.due_at is not None and item.due_at - clock.now() < dt.timedelta(days=1):
        return "临期"
    return ""


def open_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(actions.inbox_query(user, "open").order_by(None).subquery()))

