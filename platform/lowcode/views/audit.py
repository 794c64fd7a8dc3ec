from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

from lowcode.models import AuditEvent
from lowcode.permissions import READ_WRITE_DELETE

LABELS = {
    "at": "时间",
    "actor_name": "操作人",
    "actor_id": "操作人ID",
    "action": "动作",
    "object_type": "对象类型",
    "object_id": "对象ID",
    "summary": "摘要",
    "before": "变更前",
    "after": "变更后",
    "request_id": "请求号",
    "client_addr": "客户端地址",
}
# The trail is append-only: no page or API may change it.
READ_ONLY_VIEW = ["can_read"]


class AuditEventView(ModelView):
    route_base = "/audit"
    datamodel = SQLAInterface(AuditEvent)
    class_permission_name = "AuditEvent"
    method_permission_name = READ_WRITE_DELETE
    base_permissions = READ_ONLY_VIEW
    list_title = "审计日志"
    show_title = "审计事件"
    label_columns = LABELS
    list_columns = ["at", "actor_name", "action", "object_type", "object_id", "summary", "client_addr"]
    show_columns = ["at", "actor_name", "actor_id", "action", "object_type", "object_id", "summary",
                    "before", "after", "request_id", "client_addr"]
    search_columns = ["at", "actor_name", "action", "object_type", "object_id", "summary", "request_id",
                      "client_addr"]
    order_columns = ["at", "actor_name", "action", "object_type"]
    base_order = ("id", "desc")
    page_size = 30


class AuditEventApi(ModelRestApi):
    resource_name = "audit"
    datamodel = SQLAInterface(AuditEvent)
    class_permission_name = "AuditEvent"
    method_permission_name = READ_WRITE_DELETE
    base_permissions = READ_ONLY_VIEW
    allow_browser_login = True
    list_columns = ["id", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "summary",
                    "request_id", "client_addr"]
    show_columns = list_columns + ["before", "after"]
    search_columns = ["at", "actor_id", "actor_name", "action", "object_type", "object_id", "request_id"]
    order_columns = ["id", "at", "actor_name", "action"]
    base_order = ("id", "desc")
    label_columns = LABELS
