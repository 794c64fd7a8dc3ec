"""待办/已办 pages: the user's work items, and one work item with its context and form."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from markupsafe import Markup

from lowcode import form_service, inbox, notifications, task_queries


@dataclass(frozen=True)
class WorkPage:
    """One way of showing a work item: renderer, template, and where the list is."""

    render: Callable[..., Markup]
    template: str
    show_endpoint: str
    list_endpoint: str


WEB = WorkPage(form_service.render_web, "inbox/show.html", "InboxView.show", "InboxView.index")


def show_work(view, page: WorkPage, item_id: int, data=None, errors=None, status: int = 200):
    item = inbox.open_item(item_id)
    work = inbox.context(item, g.user)
    notifications.seen(g.user, item)
    draft = None
    if data is None:
        data, draft = inbox.initial_data(work, g.user) if item.form_key else ({}, None)
    body = None
    if item.form_key and work.may_act:
        body = page.render(work.ctx.pack, item.form_key, data, errors)
    elif item.form_key:
        body = form_service.render_summary(work.ctx.pack, item.form_key, data)
    return view.render_template(page.template, work=work, item=item, body=body, draft=draft, errors=errors or {},
                                pack_code=work.ctx.pack.code, key=item.form_key, business_key=inbox.draft_key(item),
                                action=url_for(page.show_endpoint, item_id=item.id),
                                due_state=inbox.due_state(item)), status


def post_work(view, page: WorkPage, item_id: int):
    item = inbox.open_item(item_id)
    work = inbox.context(item, g.user)
    if not item.form_key:
        return redirect(url_for(page.show_endpoint, item_id=item.id))
    outcome = inbox.post(work, request.form, g.user)
    if outcome.kind == "discarded":
        flash("草稿已删除。", "info")
    elif outcome.kind == "saved":
        flash("草稿已保存，可稍后在网页或 PDA 上继续办理。", "success")
    elif outcome.kind == "done":
        flash(outcome.message, "success")
        return redirect(url_for(page.list_endpoint))
    else:
        return show_work(view, page, item_id, outcome.data, outcome.errors, status=422 if outcome.kind == "invalid" else 409)
    return redirect(url_for(page.show_endpoint, item_id=item.id))


class InboxView(BaseView):
    route_base = "/inbox"
    default_view = "index"
    class_permission_name = "Inbox"
    method_permission_name = {"index": "read", "done": "read", "show": "read", "submit": "write"}
    base_permissions = ["can_read", "can_write"]

    def render_template(self, template, **kwargs):
        kwargs["can_write"] = self.appbuilder.sm.has_access("can_write", self.class_permission_name)
        return super().render_template(template, **kwargs)

    def _list(self, state: str):
        return self.render_template("inbox/list.html", state=state, page=inbox.page(g.user, state, request.args),
                                    labels=task_queries.labels(), forms=inbox.form_choices(g.user),
                                    due_state=inbox.due_state)

    @expose("/")
    @has_access
    def index(self):
        return self._list("open")

    @expose("/done")
    @has_access
    def done(self):
        return self._list("done")

    @expose("/<int:item_id>")
    @has_access
    def show(self, item_id: int):
        return show_work(self, WEB, item_id)

    @expose("/<int:item_id>", methods=["POST"])
    @has_access
    def submit(self, item_id: int):
        return post_work(self, WEB, item_id)
