"""Flask-AppBuilder security wired to our officers, departments and audit trail."""
from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import UserDBModelView
from wtforms import StringField
from wtforms.validators import Optional, Regexp

from lowcode import audit
from lowcode.extensions import db
from lowcode.permissions import READ_WRITE_DELETE
from lowcode.views.formatting import yes_no
from lowcode.models import Officer

OFFICER_LABELS = {
    "department": "所属部门",
    "police_no": "警号",
    "mobile": "手机号",
    "first_name": "名",
    "last_name": "姓",
    "username": "登录名",
    "email": "电子邮箱",
    "active": "启用",
    "roles": "角色",
}


# The user page and the officer API share one resource, so they must declare the same permissions
# (Flask-AppBuilder prunes a resource's permissions to those of the view registered last).
OFFICER_PERMISSIONS = ["can_read", "can_write", "can_delete", "can_reveal", "can_userinfo",
                       "resetmypassword", "resetpasswords", "userinfoedit"]


def _mobile_field() -> StringField:
    # An edit form shows the mask; posting it back unchanged keeps the stored number.
    return StringField(OFFICER_LABELS["mobile"], validators=[
        Optional(), Regexp(r"^(?:1[3-9]\d{9}|1\d{2}\*{4}\d{4})$", message="请填写有效的 11 位手机号")])


class OfficerView(UserDBModelView):
    list_title = show_title = "人员管理"
    add_title = "新增人员"
    edit_title = "修改人员"
    label_columns = {**UserDBModelView.label_columns, **OFFICER_LABELS}
    list_columns = ["last_name", "first_name", "username", "police_no", "department", "roles", "active"]
    search_columns = ["username", "last_name", "first_name", "police_no", "department", "roles", "active"]
    order_columns = ["username", "last_name", "police_no", "active"]
    add_columns = ["last_name", "first_name", "username", "police_no", "mobile", "department", "active",
                   "email", "roles", "password", "conf_password"]
    edit_columns = ["last_name", "first_name", "username", "police_no", "mobile", "department", "active",
                    "email", "roles"]
    show_fieldsets = [
        ("人员信息", {"fields": ["last_name", "first_name", "username", "police_no", "department", "roles", "active"]}),
        ("联系方式", {"fields": ["mobile", "email"], "expanded": True}),
        ("登录记录", {"fields": ["last_login", "login_count", "fail_login_count", "created_on", "changed_on"],
                      "expanded": False}),
    ]
    page_size = 20
    formatters_columns = {"active": yes_no}
    add_form_extra_fields = {**UserDBModelView.add_form_extra_fields, "mobile": _mobile_field()}
    edit_form_extra_fields = {"mobile": _mobile_field()}

    class_permission_name = "Officer"
    method_permission_name = {**READ_WRITE_DELETE, "userinfo": "userinfo"}
    base_permissions = OFFICER_PERMISSIONS

    def _get_show_widget(self, pk, item, **kwargs):
        audit.record("read_personal", "Officer", item.id, f"查看人员「{item.display_name}」的个人信息")
        db.session.commit()
        return super()._get_show_widget(pk, item, **kwargs)


class PlatformSecurityManager(SecurityManager):
    user_model = Officer
    userdbmodelview = OfficerView

    def update_user_auth_stat(self, user, success=True):
        audit.set_actor(user)
        audit.record(
            "login" if success else "login_failed",
            "Officer",
            user.id,
            f"{user.username} {'登录成功' if success else '登录失败'}",
        )
        super().update_user_auth_stat(user, success)
