"""交通执法 II on the PDA (360×640, touch): the department's dispatched tasks awaiting sign or
feedback, one task with its warning summary, requirements and 督办 notices, the checklist form
(camera attachments, drafts) submitted through the workflow, and the notifications."""
from __future__ import annotations

from flask import abort, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from sqlalchemy import select

from lowcode import form_service, inbox, notifications, task_queries
from lowcode.extensions import db
from lowcode.models import WorkItem
from lowcode.views.inbox import WorkPage, post_work, show_work
from lowcode.views.notifications import listing
from lowcode.views.tasks import reply_to

PDA = WorkPage(form_service.render_pda, "pda/work.html", "PdaView.work", "PdaView.tasks")


class PdaView(BaseView):
    route_base = "/pda"
    default_view = "index"
    class_permission_name = "Pda"
    method_permission_name = {"index": "read", "tasks": "read", "work": "read", "notifications": "read", "dispatch": "read",
                              "submit": "write", "reply": "write"}
    base_permissions = ["can_read", "can_write"]

    def render_template(self, template, **kwargs):
        kwargs["can_write"] = self.appbuilder.sm.has_access("can_write", self.class_permission_name)
        return super().render_template(template, **kwargs)

    def _awaiting(self, args):
        return inbox.page(g.user, "open", {**args, "business": "dispatch"})

    @expose("/")
    @has_access
    def index(self):
        awaiting = self._awaiting({})
        overdue = self._awaiting({"overdue": "1"})
        return self.render_template("pda/home.html", awaiting=awaiting.total_text, overdue=overdue.total_text,
                                    unread=notifications.unread_count(g.user))

    @expose("/tasks")
    @has_access
    def tasks(self):
        return self.render_template("pda/tasks.html", page=self._awaiting(request.args), labels=task_queries.labels(),
                                    due_state=inbox.due_state)

    @expose("/work/<int:item_id>")
    @has_access
    def work(self, item_id: int):
        return show_work(self, PDA, item_id)

    @expose("/work/<int:item_id>", methods=["POST"])
    @has_access
    def submit(self, item_id: int):
        return post_work(self, PDA, item_id)

    @expose("/dispatches/<int:dispatch_id>")
    @has_access
    def dispatch(self, dispatch_id: int):
        """A dispatch's latest work item in the caller's scope (where a 督办 notice leads)."""
        item = db.session.scalar(select(WorkItem).where(WorkItem.dispatch_id == dispatch_id)
                                 .order_by(WorkItem.state != "open", WorkItem.id.desc()).limit(1))
        if item is None:
            abort(404)
        return redirect(url_for("PdaView.work", item_id=item.id))

    @expose("/notifications")
    @has_access
    def notifications(self):
        return self.render_template("pda/notifications.html", page=listing(request.args),
                                    kinds=notifications.KINDS)

    @expose("/supervisions/<int:supervision_id>/reply", methods=["POST"])
    @has_access
    def reply(self, supervision_id: int):
        return reply_to(supervision_id, lambda _dispatch: url_for("PdaView.tasks"))
