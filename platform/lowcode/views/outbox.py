"""反馈推送: the outbox of pushes to other systems, by state, with re-send of dead messages."""
from __future__ import annotations

import json

from flask import flash, redirect
from flask_appbuilder import ModelView, action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from markupsafe import Markup

from lowcode import outbox
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

    @action("resend", "重新发送", "将所选的发送失败（或待发送）消息立即重新发送，接收方按幂等键去重，确定吗？", "fa-repeat")
    def resend(self, items):
        items = items if isinstance(items, list) else [items]
        count = outbox.resend(i.id for i in items)
        flash(f"已安排重新发送 {count} 条（已送达或发送中的消息不受影响）。", "info")
        return redirect(self.get_redirect())
