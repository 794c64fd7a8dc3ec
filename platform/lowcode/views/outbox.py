"""反馈推送: the outbox of pushes to other systems, by state, with re-send of dead messages."""
from __future__ import annotations

import json

from flask import flash, redirect, request
from flask_appbuilder import ModelView, action, expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from markupsafe import Markup
from sqlalchemy import func, select

from lowcode import outbox
from lowcode.extensions import db
from lowcode.models import OutboxMessage
from lowcode.permissions import READ_WRITE_DELETE


def _payload(value) -> Markup:
    return Markup("<pre class=\"lc-mono\">{}</pre>").format(json.dumps(value, ensure_ascii=False, indent=2))


class OutboxView(ModelView):
    route_base = "/outbox"
    datamodel = SQLAInterface(OutboxMessage)
    class_permission_name = "OutboxMessage"
    # Messages are evidence of what was sent: nobody edits or deletes them; dead ones are re-sent.
    method_permission_name = {**READ_WRITE_DELETE, "resend": "write"}
    base_permissions = ["can_read", "can_write"]
    list_title = "反馈推送"
    show_title = "推送消息详情"
    label_columns = {"kind": "类别", "target": "推送目标", "idempotency_key": "幂等键", "payload": "报文", "state": "状态",
                     "attempts": "已尝试次数", "next_attempt_at": "下次尝试", "last_error": "最近错误",
                     "dispatch_id": "下发号", "created_at": "创建时间", "sent_at": "送达时间", "claimed_at": "最近发送"}
    list_columns = ["created_at", "idempotency_key", "state", "attempts", "next_attempt_at", "sent_at", "last_error"]
    show_columns = ["created_at", "kind", "target", "idempotency_key", "dispatch_id", "state", "attempts",
                    "claimed_at", "next_attempt_at", "sent_at", "last_error", "payload"]
    search_columns = ["state", "idempotency_key", "created_at", "dispatch_id"]
    order_columns = ["created_at", "state", "attempts", "next_attempt_at", "sent_at"]
    base_order = ("id", "desc")
    page_size = 30
    formatters_columns = {"state": lambda state: outbox.STATE_LABELS.get(state, state), "payload": _payload,
                          "target": lambda target: outbox.TARGET_LABELS.get(target, target)}

    list_template = "outbox/list.html"

    def render_template(self, template, **kwargs):
        counts = {state: n for state, n in db.session.execute(
            select(OutboxMessage.state, func.count(OutboxMessage.id)).group_by(OutboxMessage.state))}
        return super().render_template(template, state_labels=outbox.STATE_LABELS, state_counts=counts, **kwargs)

    @action("resend", "重新发送", "将所选的发送失败（或待发送）消息立即重新发送，接收方按幂等键去重，确定吗？", "fa-repeat")
    def resend(self, items):
        items = items if isinstance(items, list) else [items]
        count = outbox.resend(i.id for i in items)
        flash(f"已安排重新发送 {count} 条（已送达或发送中的消息不受影响）。", "info")
        return redirect(self.get_redirect())


def _plain(value):
    return value.isoformat(timespec="seconds") if value else None


def _message(row: OutboxMessage) -> dict:
    return {"id": row.id, "kind": row.kind, "target": row.target, "idempotency_key": row.idempotency_key,
            "state": row.state, "state_label": outbox.STATE_LABELS.get(row.state, row.state), "attempts": row.attempts,
            "next_attempt_at": _plain(row.next_attempt_at), "sent_at": _plain(row.sent_at), "last_error": row.last_error,
            "dispatch_id": row.dispatch_id, "created_at": _plain(row.created_at), "payload": row.payload}


class OutboxApi(BaseApi):
    resource_name = "outbox"
    class_permission_name = "OutboxMessage"
    method_permission_name = {"get_list": "read", "resend": "write"}
    base_permissions = ["can_read", "can_write"]
    allow_browser_login = True
    openapi_spec_tag = "反馈推送"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """Outbox messages, newest first, optionally of one state
        ---
        get:
          parameters:
          - {in: query, name: state, schema: {type: string, enum: [pending, sending, sent, dead]}}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 100}}
          responses:
            200: {description: 一页推送消息与总数}
        """
        statement = select(OutboxMessage)
        state = request.args.get("state")
        if state:
            if state not in outbox.STATE_LABELS:
                return self.response_400(message={"state": f"状态只能是 {'、'.join(outbox.STATE_LABELS)}"})
            statement = statement.where(OutboxMessage.state == state)
        page = max(1, request.args.get("page", 1, type=int) or 1)
        size = min(100, max(1, request.args.get("page_size", 20, type=int) or 20))
        total = db.session.scalar(statement.with_only_columns(func.count(OutboxMessage.id)))
        rows = db.session.scalars(statement.order_by(OutboxMessage.id.desc()).offset((page - 1) * size).limit(size))
        return self.response(200, count=total, result=[_message(r) for r in rows])

    @expose("/resend", methods=["POST"])
    @protect()
    @safe
    def resend(self):
        """Re-send dead (or waiting) messages now
        ---
        post:
          description: '请求体 {"ids": [...]}；已送达或发送中的消息不受影响。'
          responses:
            200: {description: 安排重发的条数}
        """
        ids = (request.get_json(silent=True) or {}).get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            return self.response_400(message={"ids": "应为消息编号（整数）的数组"})
        return self.response(200, resent=outbox.resend(ids))
