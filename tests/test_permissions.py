"""Roles come from definitions/core/roles.json; a role without a permission gets 403."""
import json
from pathlib import Path

from tests.conftest import web_login

ROLES = json.loads((Path(__file__).resolve().parents[1] / "definitions/core/roles.json").read_text())


def test_every_defined_role_exists_with_its_permissions(app):
    with app.app_context():
        sm = app.appbuilder.sm
        for spec in ROLES["roles"]:
            role = sm.find_role(spec["name"])
            assert role is not None, spec["name"]
            granted = {(p.view_menu.name, p.permission.name) for p in role.permissions}
            for grant in spec["permissions"]:
                for action in grant["actions"]:
                    assert spec.get("admin") or (grant["resource"], action) in granted


def test_anonymous_api_call_is_refused(client):
    assert client.get("/api/v1/officer/").status_code == 401


def test_role_without_read_permission_gets_403(api):
    response = api("dd_xuhui").get("/api/v1/officer/")
    assert response.status_code == 403
    assert api("zd_xuhui").get("/api/v1/officer/").status_code == 200


def test_read_only_leader_cannot_write(api, app):
    department_id = api("lingdao").get("/api/v1/department/?q=(page_size:1)").get_json()["ids"][0]
    response = api("lingdao").put(f"/api/v1/department/{department_id}", json={"name": "改名"})
    assert response.status_code == 403


def test_audit_trail_is_read_only_even_for_admin(api):
    caller = api("admin")
    assert caller.get("/api/v1/audit/").status_code == 200
    assert caller.post("/api/v1/audit/", json={"action": "x"}).status_code in (403, 405)
    assert caller.delete("/api/v1/audit/1").status_code in (403, 404, 405)


def test_web_page_without_permission_is_403_in_chinese(client):
    web_login(client, "pda_xuhui")
    response = client.get("/audit/list/")
    assert response.status_code == 403
    assert "无权访问" in response.get_data(as_text=True)


def test_menu_follows_read_permission(client):
    web_login(client, "lingdao")
    html = client.get("/").get_data(as_text=True)
    assert "审计日志" in html
    client.get("/logout/")
    web_login(client, "pda_xuhui")
    assert client.get("/").headers["Location"].endswith("/pda/")   # a handheld user lands on 交通执法 II
    html = client.get("/inbox/").get_data(as_text=True)
    assert "待办事项" in html and "审计日志" not in html


def test_the_menu_follows_a_change_of_permissions_on_the_next_page(client, app):
    web_login(client, "pda_xuhui")
    assert "审计日志" not in client.get("/inbox/").get_data(as_text=True)   # the menu is drawn once for this role
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_user(username="pda_xuhui").roles[0]
        entry = sm.find_permission_view_menu("menu_access", "AuditEvents")
        sm.add_permission_role(role, entry)
    try:
        assert "审计日志" in client.get("/inbox/").get_data(as_text=True)
    finally:
        with app.app_context():
            sm.del_permission_role(sm.find_role(role.name), sm.find_permission_view_menu("menu_access", "AuditEvents"))
    assert "审计日志" not in client.get("/inbox/").get_data(as_text=True)
