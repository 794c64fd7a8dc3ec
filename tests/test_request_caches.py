"""What a request no longer reads every time, and when it must read it again: the officer's grants
(kept per security version, moved by database triggers) and the unread badge (read with the
officer, counted again after the request itself notifies or reads)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select, text

from lowcode.extensions import db
from lowcode.models import Notification, Officer, SecurityStamp
from tests.conftest import web_login


def _version(app) -> int:
    with app.app_context():
        return db.session.scalar(select(SecurityStamp.version))


def _badge(html: str) -> int:
    found = re.search(r'class="badge lc-unread"[^>]*>(\d+)<', html)
    return int(found.group(1)) if found else 0


@pytest.fixture()
def statements(app):
    """The SQL statements run while the test runs."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_a_revoked_permission_is_refused_at_the_next_request(client, app):
    web_login(client, "zd_xuhui")
    assert client.get("/tasks/").status_code == 200   # the grants are now kept for this version
    with app.app_context():
        sm = app.appbuilder.sm
        role_name = sm.find_user(username="zd_xuhui").roles[0].name
        sm.del_permission_role(sm.find_role(role_name), sm.find_permission_view_menu("can_read", "Task"))
    try:
        assert client.get("/tasks/").status_code == 403
    finally:
        with app.app_context():
            sm.add_permission_role(sm.find_role(role_name), sm.find_permission_view_menu("can_read", "Task"))
    assert client.get("/tasks/").status_code == 200


def test_an_officer_losing_a_role_by_plain_sql_loses_its_access_at_the_next_request(client, app):
    """Another process (or a hand-written statement) changes the table: the trigger still moves the version."""
    web_login(client, "dd_xuhui")
    assert client.get("/inbox/").status_code == 200
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.username == "dd_xuhui"))
        links = [(officer.id, role.id) for role in officer.roles]
        db.session.rollback()
    before = _version(app)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM ab_user_role WHERE user_id = :u"), {"u": links[0][0]})
    try:
        assert _version(app) > before
        assert client.get("/inbox/").status_code == 403
    finally:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("INSERT INTO ab_user_role (user_id, role_id) VALUES (:u, :r)"),
                               [{"u": u, "r": r} for u, r in links])
    assert client.get("/inbox/").status_code == 200


def test_the_version_moves_with_roles_and_permissions_but_not_with_a_login(client, app):
    before = _version(app)
    web_login(client, "zd_pudong")   # writes the officer's login time and count
    assert _version(app) == before
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.add_role("临时测试角色")
        assert _version(app) > before
        moved = _version(app)
        sm.add_permission_role(role, sm.find_permission_view_menu("can_read", "Task"))
        assert _version(app) > moved
        moved = _version(app)
        assert sm.delete_role(role)
    assert _version(app) > moved


def test_the_grants_are_read_once_per_version(client, app, statements):
    web_login(client, "zd_xuhui")
    client.get("/inbox/")
    statements.clear()
    client.get("/inbox/")
    client.get("/tasks/")
    assert not [s for s in statements if "ab_permission_view" in s or "ab_user_role" in s]
    assert len([s for s in statements if "FROM ab_user" in s]) == 2   # the officer, once a request
    with app.app_context():
        db.session.execute(text("UPDATE ab_role SET name = name WHERE id = (SELECT min(id) FROM ab_role)"))
        db.session.commit()
    statements.clear()
    client.get("/inbox/")
    assert [s for s in statements if "ab_permission_view" in s]   # a new version: read again


def test_the_badge_follows_notifications_made_and_read_elsewhere(client, app):
    from lowcode import notifications

    web_login(client, "zd_jingan")
    before = _badge(client.get("/tasks/").get_data(as_text=True))
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.username == "zd_jingan"))
        notifications.notify(notifications.recipients(officer.department_id), "reminder", "角标测试")
        db.session.commit()
    assert _badge(client.get("/tasks/").get_data(as_text=True)) == before + 1
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.username == "zd_jingan"))
        notifications.mark_read(officer)
    assert _badge(client.get("/tasks/").get_data(as_text=True)) == 0


def test_the_badge_counts_again_after_the_request_itself_notifies_or_reads(app):
    """A page that marks notifications read (a work item opened) or makes some draws the badge after."""
    from flask import g

    from lowcode import notifications

    with app.test_request_context("/inbox/"):
        officer = db.session.scalar(select(Officer).where(Officer.username == "zd_jingan"))
        g.user = app.appbuilder.sm.load_user(officer.id)   # as Flask-Login loads the signed-in officer
        notifications.mark_read(g.user)
        assert notifications.badge() == 0
        notifications.notify(notifications.recipients(officer.department_id), "reminder", "角标测试二")
        db.session.commit()
        assert notifications.badge() == 1
        notifications.mark_read(g.user)
        assert notifications.badge() == 0
