"""Flask-AppBuilder security wired to our officers, departments and audit trail."""
from __future__ import annotations

from functools import cache

from flask import abort, flash, g, has_request_context, redirect, request
from flask_appbuilder.actions import action
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, ResetPasswordView, UserDBModelView
from sqlalchemy import bindparam, select
from wtforms import StringField
from wtforms.validators import DataRequired, Optional, Regexp

from lowcode import audit, grants, lockout, notifications, passwords, publishing, request_state, scoping
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
    "locked_until": "锁定至",
}


# The user page and the officer API share one resource, so they must declare the same permissions
# (Flask-AppBuilder prunes a resource's permissions to those of the view registered last).
OFFICER_PERMISSIONS = ["can_read", "can_write", "can_delete", "can_reveal", "can_userinfo",
                       "resetmypassword", "resetpasswords", "userinfoedit"]


@cache
def _load_user_statement():
    """Built once: every request runs it, and building it (and its cache key) cost as much as running it."""
    return (select(Officer, grants.version_column(), notifications.unread_column(Officer.id),
                   publishing.release_version_column())
            .where(Officer.id == bindparam("officer_id")).execution_options(unscoped=True))


def _mobile_field() -> StringField:
    # An edit form shows the mask; posting it back unchanged keeps the stored number.
    return StringField(OFFICER_LABELS["mobile"], validators=[
        Optional(), Regexp(r"^(?:1[3-9]\d{9}|1\d{2}\*{4}\d{4})$", message="请填写有效的 11 位手机号")])


class OfficerView(UserDBModelView):
    list_title = show_title = "人员管理"
    add_title = "新增人员"
    edit_title = "修改人员"
    label_columns = {**UserDBModelView.label_columns, **OFFICER_LABELS}
    list_columns = ["last_name", "first_name", "username", "police_no", "department", "roles", "active",
                    "locked_until"]
    search_columns = ["username", "last_name", "first_name", "police_no", "department", "roles", "active"]
    order_columns = ["username", "last_name", "police_no", "active"]
    add_columns = ["last_name", "first_name", "username", "police_no", "mobile", "department", "active",
                   "email", "roles", "password", "conf_password"]
    edit_columns = ["last_name", "first_name", "username", "police_no", "mobile", "department", "active",
                    "email", "roles"]
    show_fieldsets = [
        ("人员信息", {"fields": ["last_name", "first_name", "username", "police_no", "department", "roles", "active"]}),
        ("联系方式", {"fields": ["mobile", "email"], "expanded": True}),
        ("登录记录", {"fields": ["last_login", "login_count", "fail_login_count", "locked_until", "created_on",
                                 "changed_on"],
                      "expanded": False}),
    ]
    page_size = 20
    formatters_columns = {"active": yes_no}
    # Flask-AppBuilder's check reads a groups field this page does not have (a KeyError, 500).
    validators_columns = {"roles": [DataRequired(message="请至少选择一个角色")]}
    add_form_extra_fields = {**UserDBModelView.add_form_extra_fields, "mobile": _mobile_field()}
    edit_form_extra_fields = {"mobile": _mobile_field()}

    class_permission_name = "Officer"
    method_permission_name = {**READ_WRITE_DELETE, "userinfo": "userinfo", "unlock": "write"}
    base_permissions = OFFICER_PERMISSIONS

    @action("unlock", "解除锁定", "将解除所选人员的登录锁定并清零失败次数，确定吗？", "fa-unlock")
    def unlock(self, items):
        items = items if isinstance(items, list) else [items]
        unlocked = [item.display_name for item in items if lockout.unlock(item)]
        db.session.commit()
        flash(f"已解除 {'、'.join(unlocked)} 的登录锁定。" if unlocked else "所选人员均未被锁定。", "info")
        return redirect(self.get_redirect())

    def _get_show_widget(self, pk, item, **kwargs):
        audit.record("read_personal", "Officer", item.id, f"查看人员「{item.display_name}」的个人信息")
        db.session.commit()
        return super()._get_show_widget(pk, item, **kwargs)


class PlatformAuthDBView(AuthDBView):
    @property
    def invalid_login_message(self):
        """Why the last login failed: a lock is named, anything else stays vague."""
        return g.get("login_refusal") or AuthDBView.invalid_login_message


class ScopedResetPasswordView(ResetPasswordView):
    """An administrator resets the password of an officer within their own scope only."""

    def form_get(self, form):
        _target_or_404()

    def form_post(self, form):
        _target_or_404()
        super().form_post(form)


def _target_or_404():
    return scoping.visible(Officer, request.args.get("pk", type=int)) or abort(404)


def check_password(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: the policy, for the officer whose password a form sets
    (a new officer's username on the add form, `?pk=` on the reset form, else oneself)."""
    view = (request.endpoint or "").split(".")[0]
    if view == OfficerView.__name__:
        username, current = request.form.get("username", ""), None
    else:
        owner = _target_or_404() if view == ScopedResetPasswordView.__name__ else g.user
        username, current = owner.username, owner.password
    try:
        passwords.check(password, username, current)
    except passwords.PasswordRefused as refused:
        raise PasswordComplexityValidationError(str(refused)) from None


class PlatformSecurityManager(SecurityManager):
    user_model = Officer
    userdbmodelview = OfficerView
    authdbview = PlatformAuthDBView
    resetpasswordview = ScopedResetPasswordView

    def load_user(self, pk):
        """The officer of a session or token, read in one statement with what every request asks
        next: the security version (their grants), their unread notifications (the badge) and the
        release version (the definitions in force)."""
        row = db.session.execute(_load_user_statement(), {"officer_id": int(pk)}).first()
        if row is None or not row[0].is_active:
            return None
        officer, version, unread, releases = row
        request_state.remember(grants.VERSION, officer.id, version)
        request_state.remember(publishing.RELEASE_VERSION, officer.id, releases)
        request_state.remember(notifications.UNREAD, officer.id, unread)
        return officer

    def _has_view_access(self, user, permission_name, view_name):
        """Answered from the user's grants, kept per security version: a page asks dozens of times
        (its views, buttons and menu), and each answer would otherwise be a query."""
        known = self.request_permissions(user)
        if known is None:
            return super()._has_view_access(user, permission_name, view_name)
        return (permission_name, view_name) in known

    def grants_of(self, user) -> grants.Grants:
        return grants.of(user, self._read_grants)

    def _read_grants(self, user) -> grants.Grants:
        return grants.Grants(frozenset(role.name for role in self.get_user_roles(user)),
                             frozenset(self.get_user_permissions(user)))

    def request_permissions(self, user):
        """The (permission, view) pairs of a signed-in user without a built-in role; None where
        Flask-AppBuilder's own check applies."""
        if not has_request_context() or user is None or not user.is_authenticated:
            return None
        found = self.grants_of(user)
        if any(role in self.builtin_roles for role in found.roles):
            return None
        return found.permissions

    def permitted(self, permission_name: str, names) -> frozenset:
        """Which of the resources `names` the signed-in user holds `permission_name` on (menu
        entries, entities): one look at their permissions where Flask-AppBuilder's per-name check
        would walk its proxies and roles for each."""
        user = g.get("user")
        signed_in = user is not None and user.is_authenticated and user.is_active
        known = self.request_permissions(user) if signed_in else None
        if known is None:
            return frozenset(name for name in names if self.has_access(permission_name, name))
        return frozenset(name for name in names if (permission_name, name) in known)

    def auth_user_db(self, username, password):
        g.pop("login_refusal", None)
        user = self.find_user(username=username) if username else None
        until = lockout.locked_until(user) if user is not None else None
        if until is None:
            authenticated = super().auth_user_db(username, password)
            until = lockout.locked_until(user) if user is not None and authenticated is None else None
            if until is None:
                return authenticated
        else:
            audit.set_actor(user)
            audit.record("login_refused", "Officer", user.id, f"{user.username} 账号已锁定，拒绝登录")
            db.session.commit()
        g.login_refusal = lockout.message(until)
        return None

    def update_user_auth_stat(self, user, success=True):
        audit.set_actor(user)
        audit.record(
            "login" if success else "login_failed",
            "Officer",
            user.id,
            f"{user.username} {'登录成功' if success else '登录失败'}",
        )
        if success:
            user.locked_until = None
            super().update_user_auth_stat(user, success)
        else:
            lockout.register_failure(user)
