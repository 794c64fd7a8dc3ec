"""通知 page and API: the signed-in user's notifications, newest first, with read state."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import has_access
from lowcode import notifications, task_queries
from lowcode.extensions import db
from lowcode.models import Notification

SORTS = {"created_at": Notification.created_at, "kind": Notification.kind}


def listing(args) -> task_queries.Page:
    query = notifications.mine(g.user, unread_only=args.get("unread") == "1")
    if args.get("kind") in notifications.KINDS:
        query = query.where(Notification.kind == args["kind"])
    return task_queries.paged(query, args, SORTS, "created_at", unscoped=False)


def link(notification: Notification, pda: bool = False) -> str:
    """Where a notification leads: its work item, else its dispatch (PDA) or task (web)."""
    if notification.work_item_id:
        return url_for("PdaView.work" if pda else "InboxView.show", item_id=notification.work_item_id)
    if pda and notification.dispatch_id:
        return url_for("PdaView.dispatch", dispatch_id=notification.dispatch_id)
    if notification.task_id and not pda:
        return url_for("TaskView.show", task_id=notification.task_id)
    return url_for("PdaView.notifications" if pda else "NotificationView.index")


def as_json(n: Notification) -> dict:
    return {"id": n.id, "kind": n.kind, "kind_label": notifications.KINDS[n.kind], "title": n.title, "body": n.body,
            "work_item_id": n.work_item_id, "task_id": n.task_id, "dispatch_id": n.dispatch_id,
            "supervision_id": n.supervision_id, "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None}


class NotificationView(BaseView):
    route_base = "/notifications"
    default_view = "index"
    class_permission_name = "Notification"
    method_permission_name = {"index": "read", "open": "read", "read": "read", "read_all": "read"}
    base_permissions = ["can_read"]

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("notifications/list.html", page=listing(request.args), kinds=notifications.KINDS,
                                    link=link)

    @expose("/<int:notification_id>/open")
    @has_access
    def open(self, notification_id: int):
        """Open what a notification is about, marking it read."""
        notification = db.session.scalar(notifications.mine(g.user).where(Notification.id == notification_id))
        if notification is None:
            return redirect(url_for("NotificationView.index"))
        notifications.mark_read(g.user, [notification.id])
        return redirect(link(notification, pda=request.args.get("pda") == "1"))

    @expose("/read", methods=["POST"])
    @has_access
    def read(self):
        ids = [int(i) for i in request.form.getlist("id") if i.isdigit()]
        notifications.mark_read(g.user, ids)
        flash("已标记为已读。", "success")
        return redirect(request.referrer if (request.referrer or "").startswith(request.host_url)
                        else url_for("NotificationView.index"))

    @expose("/read-all", methods=["POST"])
    @has_access
    def read_all(self):
        count = notifications.mark_read(g.user)
        flash(f"已将 {count} 条通知标记为已读。", "success")
        return redirect(url_for("NotificationView.index"))


class NotificationApi(BaseApi):
    resource_name = "notifications"
    class_permission_name = "Notification"
    method_permission_name = {"list": "read", "unread": "read", "mark_read": "read", "mark_all_read": "read"}
    base_permissions = ["can_read"]
    allow_browser_login = True
    openapi_spec_tag = "通知"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def list(self):
        """My notifications, newest first (page, unread=1, kind)
        ---
        get:
          parameters:
          - {in: query, name: page, schema: {type: integer}}
          - {in: query, name: unread, schema: {type: string, enum: ["1"]}}
          - {in: query, name: kind, schema: {type: string}}
          responses:
            200: {description: 通知列表}
        """
        page = listing(request.args)
        return self.response(200, result=[as_json(n) for n in page.rows], count=page.total, more=page.more,
                             page=page.page, pages=page.pages, unread=notifications.unread_count(g.user))

    @expose("/unread-count", methods=["GET"])
    @protect()
    @safe
    def unread(self):
        """How many of my notifications are unread
        ---
        get:
          responses:
            200: {description: 未读数}
        """
        return self.response(200, unread=notifications.unread_count(g.user))

    @expose("/read", methods=["POST"])
    @protect()
    @safe
    def mark_read(self):
        """Mark notifications read: {"ids": [...]}
        ---
        post:
          responses:
            200: {description: 已标记数}
        """
        ids = (request.get_json(silent=True) or {}).get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            return self.response_400(message={"errors": {"ids": "请提供通知编号列表"}})
        return self.response(200, marked=notifications.mark_read(g.user, ids))

    @expose("/read-all", methods=["POST"])
    @protect()
    @safe
    def mark_all_read(self):
        """Mark all my notifications read
        ---
        post:
          responses:
            200: {description: 已标记数}
        """
        return self.response(200, marked=notifications.mark_read(g.user))

