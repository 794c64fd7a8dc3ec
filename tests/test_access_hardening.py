"""Access hardening: lockout, password policy, session timeout and cookies, security headers,
rate limits."""
import datetime as dt
import re
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from lowcode import clock, passwords
from lowcode.extensions import appbuilder, db
from lowcode.models import AuditEvent, Department, Officer
from tests.conftest import DEMO_PASSWORD, csrf_token, web_login

LOCKED = "账号因连续 5 次登录失败已被锁定"


@pytest.fixture()
def officer(app):
    """A fresh 支队民警 of 徐汇 with the demo password, so locking it disturbs no other test.
    Requests run outside this app context: one held open would share `g` between test clients."""
    with app.app_context():
        department = db.session.scalar(select(Department).where(Department.name.like("%徐汇%"))
                                       .order_by(Department.depth))
        user = Officer(username=f"t_{uuid.uuid4().hex[:8]}", last_name="测", first_name="试", active=True,
                       email=f"{uuid.uuid4().hex[:8]}@test.cn", password=generate_password_hash(DEMO_PASSWORD),
                       roles=[appbuilder.sm.find_role("支队民警")])
        user.department = department
        db.session.add(user)
        db.session.commit()
        # Ids are reused once a row is deleted (SQLite): this officer's events come after this one.
        made = SimpleNamespace(id=user.id, username=user.username,
                               first_event=db.session.scalar(select(func.max(AuditEvent.id))))
    yield made
    with app.app_context():  # other tests count a district's officers
        db.session.delete(db.session.get(Officer, made.id))
        db.session.commit()


def stored(app, officer, **changes) -> SimpleNamespace:
    """The officer's login columns as stored now (after applying `changes`)."""
    with app.app_context():
        user = db.session.get(Officer, officer.id)
        for name, value in changes.items():
            setattr(user, name, value)
        db.session.commit()
        return SimpleNamespace(fail_login_count=user.fail_login_count, locked_until=user.locked_until,
                               password=user.password)


def attempt(client, username, password):
    page = client.get("/login/")
    response = client.post("/login/", data={"username": username, "password": password,
                                            "csrf_token": csrf_token(page.get_data(as_text=True))},
                           follow_redirects=True)
    return response.get_data(as_text=True)


def signed_in(client) -> bool:
    return client.get("/users/userinfo/").status_code == 200


def audit_actions(app, officer) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "Officer", AuditEvent.object_id == str(officer.id),
            AuditEvent.id > officer.first_event).order_by(AuditEvent.id)))


# ---------------------------------------------------------------- lockout

def test_five_failures_lock_the_account_even_against_the_right_password(app, client, officer):
    for _ in range(4):
        assert "无效的用户名或密码" in attempt(client, officer.username, "Wrong@2026")
    assert LOCKED in attempt(client, officer.username, "Wrong@2026")
    page = attempt(client, officer.username, DEMO_PASSWORD)
    assert LOCKED in page and "联系系统管理员解锁" in page
    assert not signed_in(client)
    assert stored(app, officer).locked_until > clock.now() + dt.timedelta(minutes=14)
    actions = audit_actions(app, officer)
    assert actions.count("login_failed") == 5
    assert "account_locked" in actions and actions[-1] == "login_refused"


def test_administrator_unlocks_on_the_officer_page(app, client, officer):
    for _ in range(5):
        attempt(client, officer.username, "Wrong@2026")
    admin = app.test_client()
    web_login(admin, "admin")
    listing = admin.get("/users/list/").get_data(as_text=True)
    assert "解除锁定" in listing and "锁定至" in listing
    response = admin.post("/users/action_post", data={"action": "unlock", "rowid": officer.id,
                                                      "csrf_token": csrf_token(listing)}, follow_redirects=True)
    assert "已解除" in response.get_data(as_text=True)
    assert "account_unlocked" in audit_actions(app, officer)
    assert "无效" not in attempt(client, officer.username, DEMO_PASSWORD)
    assert signed_in(client)


def test_a_lock_that_ran_out_starts_a_new_count(app, client, officer):
    stored(app, officer, fail_login_count=5, locked_until=clock.now() - dt.timedelta(minutes=1))
    assert LOCKED not in attempt(client, officer.username, "Wrong@2026")
    row = stored(app, officer)
    assert (row.fail_login_count, row.locked_until) == (1, None)
    attempt(client, officer.username, DEMO_PASSWORD)
    assert signed_in(client)
    assert stored(app, officer).fail_login_count == 0


def test_failures_counted_by_concurrent_workers_lock_once(app, officer):
    """Several web processes counting one user's failures at the same moment lose none and lock
    the account once (threads with their own sessions stand in for the processes)."""
    from lowcode import lockout

    def fail():
        with app.test_request_context():
            lockout.register_failure(db.session.get(Officer, officer.id))
            db.session.remove()

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row = stored(app, officer)
    assert row.fail_login_count == 8 and row.locked_until is not None
    assert audit_actions(app, officer).count("account_locked") == 1


# ---------------------------------------------------------------- password policy

@pytest.mark.parametrize("password, rule", [
    ("Ab1@xyz", "不能少于 8 位"),
    ("abcdefgh12", "至少三类"),
    ("ABCDEFGH!!", "至少三类"),
    ("Xu@hui2026zd_xuhui", "不能包含登录名"),
])
def test_policy_names_the_broken_rule(password, rule):
    found = passwords.problems(password, "zd_xuhui")
    assert any(rule in problem for problem in found), found


def test_demo_password_passes_and_the_current_one_is_refused():
    assert passwords.problems(DEMO_PASSWORD, "zd_xuhui") == []
    assert passwords.problems("Abcdefg1", "x") == []
    current = generate_password_hash(DEMO_PASSWORD)
    assert passwords.problems(DEMO_PASSWORD, "zd_xuhui", current) == ["新密码不能与当前密码相同"]


def test_reset_my_password_enforces_the_policy(app, client, officer):
    attempt(client, officer.username, DEMO_PASSWORD)
    form = client.get("/resetmypassword/form").get_data(as_text=True)
    for weak, rule in (("short1!", "不能少于 8 位"), (DEMO_PASSWORD, "不能与当前密码相同"),
                       (f"A1!{officer.username}", "不能包含登录名")):
        page = client.post("/resetmypassword/form", data={"password": weak, "conf_password": weak,
                                                          "csrf_token": csrf_token(form)})
        assert page.status_code == 200 and rule in page.get_data(as_text=True)
    client.post("/resetmypassword/form", data={"password": "Xinmima#2027", "conf_password": "Xinmima#2027",
                                               "csrf_token": csrf_token(form)})
    assert passwords.problems("Xinmima#2027", current_hash=stored(app, officer).password) == ["新密码不能与当前密码相同"]


def test_an_administrators_reset_checks_the_officers_own_username(app, client, officer):
    web_login(client, "admin")
    url = f"/resetpassword/form?pk={officer.id}"
    form = client.get(url).get_data(as_text=True)
    weak = f"Aa1!{officer.username}"
    page = client.post(url, data={"password": weak, "conf_password": weak, "csrf_token": csrf_token(form)})
    assert "不能包含登录名" in page.get_data(as_text=True)
    done = client.post(url, data={"password": "Chongzhi#2027", "conf_password": "Chongzhi#2027",
                                  "csrf_token": csrf_token(form)})
    assert done.status_code == 302
    assert passwords.problems("Chongzhi#2027", current_hash=stored(app, officer).password) == ["新密码不能与当前密码相同"]
    assert client.get("/resetpassword/form?pk=999999").status_code == 404


def test_adding_an_officer_with_a_weak_password_is_refused(app, client):
    web_login(client, "admin")
    form = client.get("/users/add").get_data(as_text=True)
    with app.app_context():
        role = appbuilder.sm.find_role("大队民警").id
    page = client.post("/users/add", data={"last_name": "弱", "first_name": "密码", "username": "weakpw",
                                           "email": "weak@test.cn", "active": "y", "roles": role,
                                           "password": "weakpw123",
                                           "conf_password": "weakpw123", "csrf_token": csrf_token(form)})
    body = page.get_data(as_text=True)
    assert "至少三类" in body and "不能包含登录名" in body
    no_role = client.post("/users/add", data={"last_name": "无", "first_name": "角色", "username": "norole",
                                              "email": "norole@test.cn", "password": DEMO_PASSWORD,
                                              "conf_password": DEMO_PASSWORD, "csrf_token": csrf_token(form)})
    assert no_role.status_code == 200 and "请至少选择一个角色" in no_role.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Officer.id).where(Officer.username == "weakpw")) is None


@pytest.mark.parametrize("field, value", [("password", "plain"), ("locked_until", None),
                                          ("fail_login_count", 0), ("dept_path", "/")])
def test_the_officer_api_cannot_set_passwords_or_login_state(app, api, officer, field, value):
    response = api("admin").put(f"/api/v1/officer/{officer.id}", json={field: value})
    assert response.status_code == 422 and field in response.get_json()["message"]
    assert stored(app, officer).password.startswith(("scrypt:", "pbkdf2:"))


# ---------------------------------------------------------------- session and cookies

def test_session_cookie_flags(client):
    response = web_login(client, "zd_xuhui")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # served over http here; LOWCODE_HTTPS=1 adds it


def test_idle_session_expires(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", dt.timedelta(seconds=2))
    web_login(client, "zd_xuhui")
    assert signed_in(client)
    time.sleep(1.2)
    assert signed_in(client)   # activity renews the session
    time.sleep(1.2)
    assert signed_in(client)
    time.sleep(3)
    response = client.get("/users/userinfo/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


# ---------------------------------------------------------------- headers

@pytest.mark.parametrize("path", ["/login/", "/health", "/api/v1/officer/", "/no-such-page",
                                  "/static/lowcode.js"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def inline_scripts_use_the_nonce(response) -> str:
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script([^>]*)>", response.get_data(as_text=True))
    assert scripts
    for attributes in scripts:
        assert "src=" in attributes or f'nonce="{nonce}"' in attributes, attributes
    return nonce


def test_inline_scripts_carry_this_requests_nonce(client):
    inline_scripts_use_the_nonce(client.get("/login/"))
    web_login(client, "admin")
    for path in ("/users/list/", "/swagger/v1"):
        nonce = inline_scripts_use_the_nonce(client.get(path))
    assert nonce not in client.get("/users/list/").headers["Content-Security-Policy"]


# ---------------------------------------------------------------- rate limits

def test_login_is_rate_limited_per_client_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3/minute")
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    caller = app.test_client()
    caller.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(caller.get("/login/").get_data(as_text=True))
    statuses = [caller.post("/login/", data={"username": "nobody", "password": "x",
                                              "csrf_token": token}).status_code for _ in range(4)]
    assert statuses[:3] == [302, 302, 302] and statuses[3] == 429
    refused = caller.post("/login/", data={"username": "nobody", "password": "x", "csrf_token": token})
    assert "请求过于频繁" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    api = caller.post("/api/v1/security/login", json={"username": "x", "password": "y", "provider": "db"})
    assert api.status_code == 429 and "请求过于频繁" in api.get_json()["message"]
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.255.255.1"
    assert elsewhere.post("/login/", data={"username": "nobody", "password": "x"}).status_code != 429


def test_the_redis_counter_is_shared_by_processes(app):
    """Two counters on one Redis stand in for two web processes."""
    if not app.config["REDIS_URL"]:
        pytest.skip("embedded default: one process, counted in memory")
    from lowcode.ratelimit import RedisCounter

    key, window = f"test:{uuid.uuid4().hex}", int(time.time())
    first, second = RedisCounter(app.config["REDIS_URL"]), RedisCounter(app.config["REDIS_URL"])
    assert [first.hit(key, window, 60), second.hit(key, window, 60), first.hit(key, window, 60)] == [1, 2, 3]


def test_receiving_api_is_rate_limited_per_api_key(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "INTAKE_RATE_LIMIT", "2/minute")
    key = f"test-{uuid.uuid4().hex}"
    statuses = [client.post("/api/v1/warnings/", data=b"{}", headers={"X-API-Key": key}).status_code
                for _ in range(3)]
    assert statuses == [401, 401, 429]
    refused = client.post("/api/v1/warnings/", data=b"{}", headers={"X-API-Key": key})
    assert "请求过于频繁" in refused.get_json()["message"] and refused.headers["Retry-After"]
    other = client.post("/api/v1/warnings/", data=b"{}", headers={"X-API-Key": key + "x"})
    assert other.status_code == 401
