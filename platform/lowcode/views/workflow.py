"""REST API of the workflow (inbox, submit, terminate, supervise, timelines) and the 流程异常 page."""
from __future__ import annotations

import datetime as dt

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from lowcode import form_service, inbox, personal, scoping, task_queries
from lowcode.extensions import db
from lowcode.flow import actions
from lowcode.models import Dispatch, ProcessInstance, Supervision, WorkItem
from lowcode.scoping import visible
from lowcode.task_queries import visible_task
from lowcode.views.tasks import parse_due, supervision_json

WORK_ITEM_FIELDS = ("id", "title", "task_name", "form_key", "display_form_key", "warning_type", "level_code",
                    "type_code", "clue_id", "task_id", "dispatch_id", "state", "overdue")


def _plain(value):
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _work_item(item) -> dict:
    return {**{f: getattr(item, f) for f in WORK_ITEM_FIELDS}, "department": item.department.name,
            "created_at": _plain(item.created_at), "due_at": _plain(item.due_at)}


def _steps(steps: list[dict]) -> list[dict]:
    return [{**step, "at": _plain(step["at"])} for step in steps]


class WorkflowApi(BaseApi):
    resource_name = "workflow"
    class_permission_name = "Workflow"
    method_permission_name = {"inbox": "read", "task_timeline": "read", "dispatch_timeline": "read",
                              "work_item": "read", "draft": "write", "submit": "write", "terminate": "write", "supervise": "write", "reply": "write"}
    base_permissions = ["can_read", "can_write"]
    allow_browser_login = True
    openapi_spec_tag = "流程"

    def _refused(self, refused: actions.ActionRefused):
        if isinstance(refused, actions.FormInvalid):
            return self.response_400(message={"errors": refused.errors})
        return self.response(409, message=str(refused))

    @expose("/inbox", methods=["GET"])
    @protect()
    @safe
    def inbox(self):
        """My department's work items for my roles (待办 state=open, 已办 state=done), paged
        ---
        get:
          parameters:
          - {in: query, name: state, schema: {type: string, enum: [open, done]}}
          - {in: query, name: type, schema: {type: string}, description: 任务类型代码}
          - {in: query, name: level, schema: {type: string}, description: 等级代码}
          - {in: query, name: form, schema: {type: string}, description: 表单}
          - {in: query, name: due, schema: {type: string, format: date}, description: 期限不晚于}
          - {in: query, name: overdue, schema: {type: string, enum: ["1"]}}
          - {in: query, name: business, schema: {type: string, enum: [clue, task, dispatch]}}
          - {in: query, name: page, schema: {type: integer}}
          - {in: query, name: sort, schema: {type: string, enum: [due_at, created_at, title, completed_at]}}
          - {in: query, name: desc, schema: {type: string, enum: ["0", "1"]}}
          responses:
            200: {description: 待办列表}
        """
        state = "done" if request.args.get("state") == "done" else "open"
        page = inbox.page(g.user, state, request.args)
        return self.response(200, result=[_work_item(i) for i in page.rows], count=page.total, more=page.more,
                             page=page.page, pages=page.pages)

    @expose("/work-items/<int:item_id>", methods=["GET"])
    @protect()
    @safe
    def work_item(self, item_id: int):
        """One work item with its business context, the user's draft and whether they may act
        ---
        get:
          responses:
            200: {description: 待办详情}
            404: {description: 不存在或不在本部门范围内}
        """
        item = scoping.visible(WorkItem, item_id)
        if item is None:
            return self.response_404()
        work = inbox.context(item, g.user)
        data, draft = inbox.initial_data(work, g.user) if item.form_key else ({}, None)
        ctx = work.ctx
        if item.state != "open" and item.form_key:   # answers given: personal ones masked
            data = personal.mask_form(form_service.form_for(ctx.pack, item.form_key), data)
        return self.response(200, result={
            **_work_item(item), "may_act": work.may_act, "data": data, "draft_saved_at": _plain(draft.saved_at) if draft else None,
            "task": {"id": ctx.task.id, "title": ctx.task.title, "status": ctx.task.status} if ctx.task else None,
            "clue_id": ctx.clue.id if ctx.clue else None,
            "dispatch": {"id": ctx.dispatch.id, "receiver": ctx.dispatch.receiver.name, "requirements": ctx.dispatch.requirements,
                         "sign_due_at": _plain(ctx.dispatch.sign_due_at), "feedback_due_at": _plain(ctx.dispatch.feedback_due_at)}
            if ctx.dispatch else None,
            "supervisions": [supervision_json(s) for s in work.supervisions],
            "receiver_choices": [{"code": d.code, "name": d.name} for d in work.subordinates],
            "steps": _steps(work.steps)})

    @expose("/work-items/<int:item_id>/draft", methods=["PUT"])
    @protect()
    @safe
    def draft(self, item_id: int):
        """Save my draft of a work item's form ({"data": {...}}), unvalidated
        ---
        put:
          responses:
            200: {description: 已保存草稿}
        """
        item = scoping.visible(WorkItem, item_id)
        if item is None or not item.form_key:
            return self.response_404()
        work = inbox.context(item, g.user)
        form_service.save_draft(work.ctx.pack.code, item.form_key, inbox.draft_key(item),
                                (request.get_json(silent=True) or {}).get("data", {}), g.user)
        return self.response(200, message="草稿已保存")

    @expose("/work-items/<int:item_id>/submit", methods=["POST"])
    @protect()
    @safe
    def submit(self, item_id: int):
        """Submit a work item's form ({"data": {...}})
        ---
        post:
          responses:
            200: {description: 已办理}
            400: {description: 表单错误（按字段）}
            404: {description: 不存在或不在本部门范围内}
            409: {description: 当前不可办理}
        """
        item = scoping.visible(WorkItem, item_id)
        if item is None:
            return self.response_404()
        outcome = inbox.submit(inbox.context(item, g.user), (request.get_json(silent=True) or {}).get("data", {}), g.user)
        if outcome.kind == "invalid":
            return self.response_400(message={"errors": outcome.errors})
        if outcome.kind == "refused":
            return self.response(409, message="；".join(outcome.errors.get("", [])))
        return self.response(200, result=_work_item(item))

    @expose("/tasks/<int:task_id>/terminate", methods=["POST"])
    @protect()
    @safe
    def terminate(self, task_id: int):
        """Terminate a task (issuer only)
        ---
        post:
          responses:
            200: {description: 已终止}
        """
        if visible_task(task_id) is None:
            return self.response_404()
        try:
            task = actions.terminate(task_id, (request.get_json(silent=True) or {}).get("reason", ""), g.user)
        except actions.ActionRefused as refused:
            return self._refused(refused)
        return self.response(200, result={"id": task.id, "status": task.status})

    @expose("/dispatches/<int:dispatch_id>/supervise", methods=["POST"])
    @protect()
    @safe
    def supervise(self, dispatch_id: int):
        """督办 a dispatch
        ---
        post:
          responses:
            200: {description: 已督办}
        """
        if visible(Dispatch, dispatch_id) is None:
            return self.response_404()
        body = request.get_json(silent=True) or {}
        try:
            supervision = actions.supervise(dispatch_id, body.get("message", ""),
                                            parse_due(body.get("reply_due_at")), g.user)
        except actions.ActionRefused as refused:
            return self._refused(refused)
        return self.response(200, result={"id": supervision.id})

    @expose("/supervisions/<int:supervision_id>/reply", methods=["POST"])
    @protect()
    @safe
    def reply(self, supervision_id: int):
        """Reply to a 督办
        ---
        post:
          responses:
            200: {description: 已回复}
        """
        supervision = visible(Supervision, supervision_id)
        if supervision is None or visible(Dispatch, supervision.dispatch_id) is None:
            return self.response_404()
        try:
            supervision = actions.reply_supervision(supervision_id, (request.get_json(silent=True) or {}).get("reply", ""),
                                                    g.user)
        except actions.ActionRefused as refused:
            return self._refused(refused)
        return self.response(200, result={"id": supervision.id})

    @expose("/tasks/<int:task_id>/timeline", methods=["GET"])
    @protect()
    @safe
    def task_timeline(self, task_id: int):
        """A task's steps, issuer's view: every receiver
        ---
        get:
          responses:
            200: {description: 时间轴}
        """
        task = visible_task(task_id)
        if task is None:
            return self.response_404()
        return self.response(200, task={"id": task.id, "title": task.title, "status": task.status},
                             steps=_steps(task_queries.steps(task)))

    @expose("/dispatches/<int:dispatch_id>/timeline", methods=["GET"])
    @protect()
    @safe
    def dispatch_timeline(self, dispatch_id: int):
        """One dispatch's steps, receiver's view
        ---
        get:
          responses:
            200: {description: 时间轴}
        """
        dispatch = visible(Dispatch, dispatch_id)
        if dispatch is None:
            return self.response_404()
        return self.response(200, dispatch={"id": dispatch.id, "status": dispatch.status,
                                            "receiver": dispatch.receiver.name},
                             steps=_steps(actions.timeline(dispatch.task_id, dispatch_id=dispatch.id)))


class IncidentsView(BaseView):
    """流程异常: instances stopped by a failing step, to retry or skip. Nothing is lost meanwhile."""

    route_base = "/incidents"
    default_view = "index"
    class_permission_name = "ProcessIncident"
    method_permission_name = {"index": "read", "retry": "write", "skip": "write"}
    base_permissions = ["can_read", "can_write"]

    @expose("/")
    @has_access
    def index(self):
        instances = db.session.scalars(select(ProcessInstance).where(ProcessInstance.status == "incident")
                                       .order_by(ProcessInstance.updated_at.desc()).limit(200)).all()
        return self.render_template("workflow/incidents.html", instances=instances)

    @expose("/<int:instance_id>/retry", methods=["POST"])
    @has_access
    def retry(self, instance_id: int):
        return self._resolve(lambda: actions.retry_incident(instance_id, g.user), "已重试，流程继续运行。")

    @expose("/<int:instance_id>/skip", methods=["POST"])
    @has_access
    def skip(self, instance_id: int):
        return self._resolve(lambda: actions.skip_incident(instance_id, g.user, {}), "已跳过出错步骤，流程继续运行。")

    def _resolve(self, action, done: str):
        try:
            action()
            flash(done, "success")
        except actions.ActionRefused as refused:
            flash(str(refused), "danger")
        return redirect(url_for("IncidentsView.index"))
