"""Exact search of clues by a subject's 身份证号 or 手机号, through blind indexes (never in clear)."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect
from sqlalchemy import select

from lowcode import personal
from lowcode.extensions import db
from lowcode.models import Clue

PARAMETERS = {"id_number": "身份证号", "mobile": "手机号"}


class ClueSearchApi(BaseApi):
    resource_name = "clue-search"
    openapi_spec_tag = "线索检索"
    class_permission_name = "Workflow"  # whoever may read the workflow's clues
    method_permission_name = {"search": "read"}
    base_permissions = ["can_read", "can_write"]  # the resource's set: the last view registered prunes to its own

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def search(self):
        """Clues whose warning names this 身份证号 or 手机号 (exact, any spelling), within the caller's scope
        ---
        get:
          parameters:
          - {in: query, name: id_number, schema: {type: string}}
          - {in: query, name: mobile, schema: {type: string}}
          responses:
            200: {description: 匹配的线索}
            400: {description: 未提供身份证号或手机号}
        """
        kind = next((k for k in PARAMETERS if (request.args.get(k) or "").strip()), None)
        if kind is None:
            return self.response_400(message="请提供 id_number（身份证号）或 mobile（手机号）")
        ids = personal.find_documents("Clue", kind, request.args[kind].strip())
        clues = db.session.scalars(select(Clue).where(Clue.id.in_(ids)).order_by(Clue.id.desc()).limit(100)).all()
        return self.response(200, result=[{"id": c.id, "title": c.title, "warning_type": c.warning_type,
                                           "status": c.status, "created_at": c.created_at.isoformat()}
                                          for c in clues])
