from flask import request
from flask_appbuilder import ModelRestApi
from flask_appbuilder.api import expose, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name, protect
from sqlalchemy import select

from lowcode import audit, personal, scoping
from lowcode.extensions import db
from lowcode.models import Officer
from lowcode.permissions import READ_WRITE_DELETE
from lowcode.security import OFFICER_LABELS, OFFICER_PERMISSIONS


class OfficerApi(ModelRestApi):
    """Officers within the caller's scope; the 手机号 masked, in full only through `reveal`."""

    resource_name = "officer"
    datamodel = SQLAInterface(Officer)
    class_permission_name = "Officer"
    method_permission_name = {**READ_WRITE_DELETE, "by_mobile": "read", "reveal": "reveal"}
    allow_browser_login = True
    list_columns = ["id", "username", "last_name", "first_name", "police_no", "department_id", "active"]
    show_columns = list_columns + ["mobile"]
    # Passwords are set only through the pages (hashed, under the policy); login bookkeeping, the
    # scope path and the encrypted mobile (its own token and blind index) are the system's own.
    add_columns = edit_columns = ["username", "last_name", "first_name", "police_no", "email", "department", "active",
                                  "roles"]
    search_columns = ["username", "last_name", "police_no", "department_id", "active"]
    order_columns = ["username", "last_name", "police_no"]
    label_columns = OFFICER_LABELS
    base_permissions = OFFICER_PERMISSIONS

    @expose("/by-mobile", methods=["GET"])
    @protect()
    @safe
    def by_mobile(self):
        """Officers with exactly this 手机号 (blind index; any spelling: +86, spaces, dashes)
        ---
        get:
          parameters:
          - {in: query, name: mobile, required: true, schema: {type: string}}
          responses:
            200: {description: 匹配的人员（手机号已脱敏）}
            400: {description: 未提供手机号}
        """
        mobile = (request.args.get("mobile") or "").strip()
        if not mobile:
            return self.response_400(message="请提供手机号 mobile")
        candidates = personal.index_candidates(Officer.__tablename__, "mobile", "mobile", mobile)
        found = db.session.scalars(select(Officer).where(Officer.mobile_index.in_(candidates))
                                   .order_by(Officer.id)).all()
        return self.response(200, result=[{"id": o.id, "username": o.username, "name": o.display_name,
                                           "mobile": o.mobile} for o in found])

    @expose("/<int:pk>/reveal", methods=["POST"])
    @protect()
    @permission_name("reveal")
    @safe
    def reveal(self, pk):
        """The full 手机号 of one officer; every reveal is audited
        ---
        post:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200: {description: 完整手机号}
            404: {description: 不存在或不在本人数据范围内}
        """
        officer = scoping.visible(Officer, pk)
        if officer is None:
            return self.response_404()
        audit.record("reveal_personal", "Officer", officer.id, f"查看人员「{officer.display_name}」的完整手机号")
        db.session.commit()
        return self.response(200, id=officer.id, mobile=personal.reveal(officer, "mobile"))
