"""预警接收: the receiving API for peer systems (API key), and the admin pages for the calling
systems and for received items (rejected ones can be replayed)."""
from __future__ import annotations

from flask import flash, redirect, request
from flask_appbuilder import ModelView, action, expose
from apispec.exceptions import DuplicateComponentNameError
from flask_appbuilder.api import BaseApi
from flask_appbuilder.models.sqla.interface import SQLAInterface

from lowcode import clock, intake, signatures
from lowcode.extensions import db
from lowcode.models import ApiClient, InboundWarning
from lowcode.permissions import READ_WRITE_DELETE
from lowcode.views.formatting import yes_no


def calling_client(api: BaseApi):
    """(the calling system, None) for a request with a valid API key and, where its system must
    sign, a valid SM2 signature; else (None, the 401 answer saying why)."""
    client = intake.authenticate(request.headers.get("X-API-Key"))
    if client is None:
        return None, api.response_401()
    try:
        signatures.check_client_request(db.session, client, request.method, request.path, request.headers,
                                        request.get_data())
    except signatures.SignatureRefused as refused:
        db.session.rollback()
        return None, api.response(401, message=str(refused))
    return client, None


CALLER_HEADERS = {
    "ApiKey": {"name": "X-API-Key", "required": True, "schema": {"type": "string"}},
    "Signature": {"name": "X-Signature", "schema": {"type": "string"},
                  "description": "登记了 SM2 公钥的系统须签名（另带 X-Signer-Id、X-Timestamp、X-Nonce），见 README"},
}


class CallerApi(BaseApi):
    """An API peer systems call with their key (see calling_client); its operations name the
    headers as the OpenAPI parameters `ApiKey` and `Signature`."""

    base_permissions: list[str] = []   # authenticated by API key, not by a user session

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        for name, header in CALLER_HEADERS.items():
            try:
                api_spec.components.parameter(name, "header", header)
            except DuplicateComponentNameError:
                pass   # the other caller API registered it


class WarningsApi(CallerApi):
    """Peer systems push warnings here with their own key in the X-API-Key header."""

    resource_name = "warnings"
    openapi_spec_tag = "预警接收"

    @expose("/", methods=["POST"])
    def receive(self):
        """Receive one warning or a batch {"items": [...]} of up to 10,000
        ---
        post:
          description: 每条先原样存储，再按预警类型的报文表单校验；逐条答复 accepted（线索号）、duplicate 或 rejected（字段错误）。
          parameters: [ApiKey, Signature]
          responses:
            200: {description: 逐条处理结果}
            400: {description: 请求体无法处理，未存储任何内容}
            401: {description: API key 无效，或签名缺失、伪造、过期、重放}
        """
        client, refusal = calling_client(self)
        if refusal is not None:
            return refusal
        try:
            result = intake.receive(client, request.get_data())
        except intake.BatchRefused as refused:
            return self.response_400(message=str(refused))
        return self.response(200, **result)


class ApiClientView(ModelView):
    route_base = "/api-clients"
    datamodel = SQLAInterface(ApiClient)
    class_permission_name = "ApiClient"
    method_permission_name = {**READ_WRITE_DELETE, "new_key": "write"}
    base_permissions = ["can_read", "can_write"]
    list_title = show_title = "接入系统"
    add_title = "新增接入系统"
    edit_title = "修改接入系统"
    label_columns = {"code": "系统代码", "name": "系统名称", "key_prefix": "密钥前缀", "active": "启用",
                     "created_at": "创建时间", "last_used_at": "最近调用", "public_key": "SM2 公钥（十六进制）",
                     "signer_id": "签名者标识", "require_signature": "必须签名"}
    list_columns = ["code", "name", "key_prefix", "active", "require_signature", "created_at", "last_used_at"]
    show_columns = list_columns + ["signer_id", "public_key"]
    add_columns = ["code", "name", "public_key", "signer_id", "require_signature"]
    edit_columns = ["name", "active", "public_key", "signer_id", "require_signature"]
    search_columns = ["code", "name", "active"]
    formatters_columns = {"active": yes_no, "require_signature": yes_no}

    def pre_add(self, item):
        signatures.check_client_settings(item)  # Flask-AppBuilder shows the error and saves nothing
        item.created_at = clock.now()
        self._new_key = intake.issue_key(item)

    def pre_update(self, item):
        signatures.check_client_settings(item)

    def post_add(self, item):
        flash(f"接入系统“{item.name}”的 API key（只显示这一次，请妥善交付）：{self._new_key}", "warning")

    @action("new_key", "重新生成密钥", "将作废原密钥并生成新密钥，确定吗？", "fa-key", multiple=False)
    def new_key(self, item):
        key = intake.issue_key(item)
        db.session.commit()
        flash(f"接入系统“{item.name}”的新 API key（只显示这一次）：{key}", "warning")
        return redirect(self.get_redirect())


class InboundWarningView(ModelView):
    route_base = "/inbound-warnings"
    datamodel = SQLAInterface(InboundWarning)
    class_permission_name = "InboundWarning"
    # Received items are evidence: nobody edits or deletes them; they can only be replayed.
    method_permission_name = {**READ_WRITE_DELETE, "replay": "replay"}
    base_permissions = ["can_read", "can_replay"]
    list_title = "接收记录"
    show_title = "接收记录详情"
    label_columns = {"client": "接入系统", "batch_id": "批次", "position": "批内序号", "received_at": "接收时间",
                     "warning_type": "预警类型", "source_id": "来源编号", "status": "状态", "errors": "错误",
                     "clue_id": "线索号", "processed_at": "处理时间", "raw_stored": "原始报文"}
    list_columns = ["received_at", "client", "warning_type", "source_id", "status", "clue_id", "errors"]
    show_columns = ["received_at", "client", "batch_id", "position", "warning_type", "source_id", "status",
                    "errors", "clue_id", "processed_at", "raw_stored"]
    search_columns = ["received_at", "client", "warning_type", "source_id", "status", "batch_id"]
    order_columns = ["received_at", "warning_type", "status"]
    base_order = ("id", "desc")
    page_size = 30

    @action("replay", "重新处理", "将按当前定义重新校验并处理所选记录（仅限被退回的），确定吗？", "fa-refresh")
    def replay(self, items):
        items = items if isinstance(items, list) else [items]
        answers = intake.replay([i.id for i in items])
        accepted = sum(1 for a in answers if a["status"] == "accepted")
        flash(f"已重新处理 {len(answers)} 条，其中受理 {accepted} 条。", "info")
        return redirect(self.get_redirect())
