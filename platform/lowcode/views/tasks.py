"""任务管理 pages: the combined task query, a task's detail (basic information, the linked clue,
every receiver's handling as a tree, the timeline), 督办, 终止, replies to 督办, and statistics."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import has_access

from lowcode import form_service, publishing, statistics_rollups, task_queries, task_statistics
from lowcode.flow import actions
from lowcode.models import Dispatch, Supervision
from lowcode.scoping import visible


def parse_due(value):
    """A reply deadline from a datetime-local input or ISO text; a bad one is a field error."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise actions.FormInvalid({"reply_due_at": ["回复期限格式应为 YYYY-MM-DDTHH:MM"]}) from None


def detail(task_id: int, user) -> dict:
    """Everything the detail page (and the API) shows of a task, within the caller's view."""
    task = task_queries.visible_task(task_id) or abort(404)
    dispatches = task_queries.visible_dispatches(task)
    tree = task_queries.handling_tree(task, dispatches)
    task_queries.mark_supervisions_read(task_queries.shown_in(tree), user)
    return {"task": task, "issuer_view": task_queries.is_issuer_view(task), "dispatches": dispatches,
            "tree": tree, "steps": task_queries.steps(task, dispatches),
            "labels": task_queries.labels(), "checklist": task_queries.checklist_key(task),
            "is_issuer": user.department_id == task.issuer_department_id}


def act(action, done: str, back: str):
    """Run a workflow action from a page: success or the Chinese refusal flashed, then back."""
    try:
        action()
        flash(done, "success")
    except actions.FormInvalid as invalid:
        for messages in invalid.errors.values():
            flash("；".join(messages), "danger")
    except actions.ActionRefused as refused:
        flash(str(refused), "danger")
    return redirect(back)


def reply_to(supervision_id: int, fallback):
    """Reply to a 督办 from a page, back to the posted `next` (a local path) or `fallback(dispatch)`."""
    supervision = visible(Supervision, supervision_id) or abort(404)
    dispatch = visible(Dispatch, supervision.dispatch_id) or abort(404)
    back = request.form.get("next") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = fallback(dispatch)
    return act(lambda: actions.reply_supervision(supervision_id, request.form.get("reply", ""), g.user),
               "已回复督办。", back)


def feedback_summary(task, item):
    """A receiver's feedback rendered read-only by the checklist form it was given on."""
    pack = publishing.current_tree().packs.get(task.pack_code)
    return form_service.render_summary(pack, item.form_key, item.data or {}) if pack and item else None


class TaskView(BaseView):
    route_base = "/tasks"
    default_view = "index"
    class_permission_name = "Task"
    method_permission_name = {"index": "read", "show": "read", "stats": "read",
                              "terminate": "write", "supervise": "write", "reply": "write"}
    base_permissions = ["can_read", "can_write"]

    def render_template(self, template, **kwargs):
        kwargs["can_write"] = self.appbuilder.sm.has_access("can_write", self.class_permission_name)
        return super().render_template(template, **kwargs)

    @expose("/")
    @has_access
    def index(self):
        page, filters = task_queries.task_page(request.args)
        for message in filters.errors.values():
            flash(message, "warning")
        return self.render_template("tasks/list.html", page=page, labels=task_queries.labels(),
                                    statuses=task_queries.statuses(),
                                    departments=[(d.id, d.name) for d in task_queries.departments_for_filter()])

    @expose("/<int:task_id>")
    @has_access
    def show(self, task_id: int):
        return self.render_template("tasks/detail.html", **detail(task_id, g.user), summary=feedback_summary,
                                    now=dt.datetime.now())

    @expose("/<int:task_id>/terminate", methods=["POST"])
    @has_access
    def terminate(self, task_id: int):
        task_queries.visible_task(task_id) or abort(404)
        return act(lambda: actions.terminate(task_id, request.form.get("reason", ""), g.user),
                         "任务已终止，各接收部门的办理随之终止。", url_for("TaskView.show", task_id=task_id))

    @expose("/dispatches/<int:dispatch_id>/supervise", methods=["POST"])
    @has_access
    def supervise(self, dispatch_id: int):
        dispatch = visible(Dispatch, dispatch_id) or abort(404)
        return act(lambda: actions.supervise(dispatch_id, request.form.get("message", ""),
                                                   parse_due(request.form.get("reply_due_at")), g.user),
                         "督办已发送。", url_for("TaskView.show", task_id=dispatch.task_id))

    @expose("/supervisions/<int:supervision_id>/reply", methods=["POST"])
    @has_access
    def reply(self, supervision_id: int):
        return reply_to(supervision_id, lambda dispatch: url_for("TaskView.show", task_id=dispatch.task_id))

    @expose("/stats")
    @has_access
    def stats(self):
        dimension = request.args.get("by") if request.args.get("by") in task_statistics.DIMENSIONS else "stage"
        filters = task_queries.filters_from(request.args)
        result = task_statistics.statistics(dimension, filters)
        return self.render_template("tasks/stats.html", rows=result.rows, refreshed_at=result.refreshed_at,
                                    refresh_minutes=statistics_rollups.REFRESH_MINUTES,
                                    dimension=dimension, dimensions=task_statistics.DIMENSIONS,
                                    labels=task_queries.labels(),
                                    figure=task_statistics.figure(result.rows, dimension) if result.rows else None)


def _at(value):
    return value.isoformat() if value else None


def task_json(task, labels: dict) -> dict:
    return {"id": task.id, "title": task.title, "type_code": task.type_code,
            "type_name": labels["type"].get(task.type_code, task.type_code), "level_code": task.level_code,
            "level_name": labels["level"].get(task.level_code, task.level_code), "status": task.status,
            "issuer": task.issuer.name, "issuer_department_id": task.issuer_department_id, "clue_id": task.clue_id,
            "created_at": _at(task.created_at), "closed_at": _at(task.closed_at),
            "terminated_reason": task.terminated_reason}


def supervision_json(s) -> dict:
    return {"id": s.id, "dispatch_id": s.dispatch_id, "message": s.message, "reply_due_at": _at(s.reply_due_at),
            "created_at": _at(s.created_at), "created_by": s.created_by, "read_at": _at(s.read_at),
            "reply": s.reply, "replied_at": _at(s.replied_at), "replied_by": s.replied_by}


def handling_json(node) -> dict:
    d = node.dispatch
    return {"dispatch_id": d.id, "parent_id": d.parent_id, "issuer": d.issuer.name, "receiver": d.receiver.name,
            "receiver_department_id": d.receiver_department_id, "status": d.status, "requirements": d.requirements,
            "sign_due_at": _at(d.sign_due_at), "feedback_due_at": _at(d.feedback_due_at), "signed_at": _at(d.signed_at),
            "closed_at": _at(d.closed_at), "sign_overdue": node.sign_overdue, "overdue": node.overdue,
            "supervisions": [supervision_json(s) for s in node.supervisions],
            "feedback": {"form_key": node.feedback.form_key, "data": node.feedback.data,
                         "by": node.feedback.completed_by_name, "at": _at(node.feedback.completed_at)}
            if node.feedback else None,
            "children": [handling_json(child) for child in node.children]}


class TaskApi(BaseApi):
    resource_name = "tasks"
    class_permission_name = "Task"
    method_permission_name = {"list": "read", "detail": "read", "stats": "read"}
    base_permissions = ["can_read", "can_write"]
    allow_browser_login = True
    openapi_spec_tag = "任务"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def list(self):
        """Combined task query: tasks issued within or dispatched into my scope
        ---
        get:
          parameters:
          - {in: query, name: title, schema: {type: string}}
          - {in: query, name: type, schema: {type: string}, description: 任务类型 CATEGORY/SUBTYPE}
          - {in: query, name: level, schema: {type: string}}
          - {in: query, name: status, schema: {type: string}}
          - {in: query, name: created_from, schema: {type: string, format: date}}
          - {in: query, name: created_to, schema: {type: string, format: date}}
          - {in: query, name: issuer, schema: {type: integer}, description: 下发部门编号}
          - {in: query, name: receiver, schema: {type: integer}, description: 接收部门编号}
          - {in: query, name: page, schema: {type: integer}}
          - {in: query, name: sort, schema: {type: string, enum: [created_at, title, level, status, type]}}
          - {in: query, name: desc, schema: {type: string, enum: ["0", "1"]}}
          responses:
            200: {description: 任务列表}
            400: {description: 查询条件有误（按字段）}
        """
        page, filters = task_queries.task_page(request.args)
        if filters.errors:
            return self.response_400(message={"errors": filters.errors})
        labels = task_queries.labels()
        return self.response(200, result=[task_json(t, labels) for t in page.rows], count=page.total, more=page.more,
                             page=page.page, pages=page.pages)

    @expose("/<int:task_id>", methods=["GET"])
    @protect()
    @safe
    def detail(self, task_id: int):
        """A task: basic information, every receiver's handling (a tree), the timeline
        ---
        get:
          responses:
            200: {description: 任务详情}
            404: {description: 不存在或不在本部门范围内}
        """
        if task_queries.visible_task(task_id) is None:
            return self.response_404()
        shown = detail(task_id, g.user)
        return self.response(200, result={**task_json(shown["task"], shown["labels"]),
                                          "handling": [handling_json(n) for n in shown["tree"]],
                                          "steps": [{**s, "at": _at(s["at"])} for s in shown["steps"]]})

    @expose("/stats", methods=["GET"])
    @protect()
    @safe
    def stats(self):
        """Tasks counted by one dimension (by=issuer|receiver|stage|type|level|date), with the list's filters
        ---
        get:
          parameters:
          - {in: query, name: by, schema: {type: string, enum: [issuer, receiver, stage, type, level, date]}}
          responses:
            200: {description: 统计结果；refreshed_at 为预汇总数据的统计时间（实时统计时为空）}
            400: {description: 维度无效}
        """
        dimension = request.args.get("by", "stage")
        if dimension not in task_statistics.DIMENSIONS:
            return self.response_400(message={"errors": {"by": "统计维度无效，可选：" + "、".join(task_statistics.DIMENSIONS)}})
        result = task_statistics.statistics(dimension, task_queries.filters_from(request.args))
        return self.response(200, dimension=dimension, label=task_statistics.DIMENSIONS[dimension], result=result.rows,
                             refreshed_at=_at(result.refreshed_at))
