"""REST API of the workflow (inbox, submit, terminate, supervise, timelines) and the 流程异常 page."""
from __future__ import annotations

import datetime as dt

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from lowcode.extensions import db
from lowcode.flow import actions
from lowcode.models import Dispatch, ProcessInstance, Task
from lowcode.scoping import visible

WORK_ITEM_FIELDS = ("id", "title", "task_name", "form_key", "display_form_key", "warning_type", "level_code",
                    "type_code", "clue_id", "task_id", "dispatch_id", "state", "overdue")


def _plain(value):
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _work_item(item) -> dict:
    return {**{f: getattr(item, f) for f in WORK_ITEM_FIELDS}, "department": item.department.name,
            "created_at": _plain(item.created_at), "due_at": _plain(item.due_at)}


def _steps(steps: list[dict]) -> list[dict]:
    return [{**step, "at": _plain(step["at"])} for step in steps]


def visible_task(task_id: int):
    """A task the caller may see: issued within their scope, or dispatched into it."""
    task = visible(Task, task_id)
    if task is None and db.session.scalar(select(Dispatch.id).where(Dispatch.task_id == task_id).limit(1)):
        task = db.session.get(Task, task_id, execution_options={"unscoped": True})
    return task


class WorkflowApi(BaseApi):
    resource_name = "workflow"
    class_permission_name = "Workflow"
    method_permission_name = {"inbox": "read", "task_timeline": "read", "dispatch_timeline": "read",
                              "submit": "write", "terminate": "write", "supervise": "write", "reply": "write"}
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
        """My department's open work items for my roles
        ---
        get:
          responses:
            200: {description: 待办列表}
        """
        state = request.args.get("state", "open")
        items = db.session.scalars(actions.inbox_query(g.user, state).limit(200)).all()
        return self.response(200, result=[_work_item(i) for i in items], count=len(items))

    @expose("/work-items/<int:item_id>/submit", methods=["POST"])
    @protect()
    @safe
    def submit(self, item_id: int):
        """Submit a work item's form
        ---
        post:
          responses:
            200: {description: 已办理}
            400: {description: 表单错误（按字段）}
            409: {description: 当前不可办理}
        """
        try:
            item = actions.submit(item_id, (request.get_json(silent=True) or {}).get("data", {}), g.user)
        except actions.ActionRefused as refused:
            return self._refused(refused)
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
        body = request.get_json(silent=True) or {}
        due = body.get("reply_due_at")
        try:
            supervision = actions.supervise(dispatch_id, body.get("message", ""),
                                            dt.datetime.fromisoformat(due) if due else None, g.user)
        except (actions.ActionRefused, ValueError) as refused:
            return self._refused(refused if isinstance(refused, actions.ActionRefused)
                                 else actions.FormInvalid({"reply_due_at": ["时间格式应为 YYYY-MM-DDTHH:MM"]}))
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
        mine = visible(Task, task_id) is not None  # issued within my scope: the whole task
        if not mine:
            own = db.session.scalars(select(Dispatch).where(Dispatch.task_id == task_id)).all()
            roots = [d for d in own if d.parent_id not in {o.id for o in own}]
            steps = [s for d in roots for s in actions.timeline(task_id, dispatch_id=d.id)]
            return self.response(200, task={"id": task.id, "title": task.title, "status": task.status},
                                 steps=_steps(sorted(steps, key=lambda s: s["at"])))
        return self.response(200, task={"id": task.id, "title": task.title, "status": task.status},
                             steps=_steps(actions.timeline(task_id)))

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
