"""Attacks tried against the running application: SQL injection through search boxes, stored
script through form fields and records, path traversal on downloads, another district's records
by id. (Cross-district reads of workflow records, submissions and attachments are also covered in
test_workflow_paths, test_forms_pages and test_forms_attachments.)"""
import json
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from lowcode import audit, intake
from lowcode.extensions import db
from lowcode.models import ApiClient, AuditEvent, InboundWarning, Officer
from lowcode.storage import LocalStorage
from tests.conftest import web_login
from tests.test_forms_pages import EVALUATION, post_form

SQL = ["' OR '1'='1", "x'; DROP TABLE ab_user; --", "%' UNION SELECT password, 1 FROM ab_user --",
       '" OR ""="', "x\x00' OR 1=1"]
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


def escaped(body: str) -> bool:
    """The payload appears only as text, never as markup."""
    return "<script>window.__xss" not in body and "<img src=x" not in body


@pytest.fixture()
def officer_client(client):
    web_login(client, "dd_minhang")
    return client


@pytest.fixture()
def admin(client):
    web_login(client, "admin")
    return client


# ---------------------------------------------------------------- SQL injection

@pytest.mark.parametrize("payload", SQL)
@pytest.mark.parametrize("url", [
    "/users/list/?_flt_2_username={}",
    "/users/list/?_flt_0_last_name={}",
    "/audit/list/?_flt_2_summary={}",
    "/audit/list/?_flt_2_action={}",
    "/inbound-warnings/list/?_flt_2_source_id={}",
    "/inbound-warnings/list/?_flt_0_warning_type={}",
    "/api-clients/list/?_flt_2_name={}",
    "/departments/list/?_flt_2_name={}",
    "/definitions/pack/{}",
    "/definitions/diff?old={}&new={}",
    "/forms/nmv/{}",
    "/form-submissions/?business_key={}",
    "/api/v1/officer/?q=(filters:!((col:username,opr:ct,value:'{}')))",
])
def test_search_boxes_take_sql_as_plain_text(app, admin, url, payload):
    response = admin.get(url.replace("{}", quote(payload, safe="")))
    assert response.status_code in (200, 400, 404), response.status_code
    body = response.get_data(as_text=True)
    assert "scrypt:" not in body and "pbkdf2:" not in body  # no password hash leaked by a UNION
    with app.app_context():
        assert db.session.scalar(select(func.count(Officer.id))) > 40   # the table is still there


def test_a_nul_in_a_form_is_refused_before_any_query(officer_client):
    response = post_form(officer_client, EVALUATION, [("validity", "有效"), ("evaluation_opinion", "a\x00b")])
    assert response.status_code == 400


def test_an_injected_filter_matches_nothing(admin):
    body = admin.get("/users/list/?_flt_2_username=" + quote("' OR '1'='1")).get_data(as_text=True)
    assert "zd_xuhui" not in body


# ---------------------------------------------------------------- stored XSS

def test_officer_names_are_shown_as_text(app, admin):
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.username == "pda_jingan"))
        original = officer.last_name
        officer.last_name = XSS[:64]
        db.session.commit()
        officer_id = officer.id
    try:
        for path in ("/users/list/", f"/users/show/{officer_id}", f"/users/edit/{officer_id}"):
            body = admin.get(path).get_data(as_text=True)
            assert escaped(body), path
        answer = admin.get(f"/api/v1/officer/{officer_id}")   # JSON, never sniffed as a page
        assert answer.mimetype == "application/json" and answer.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        with app.app_context():
            db.session.get(Officer, officer_id).last_name = original
            db.session.commit()


def test_audit_summaries_are_shown_as_text(app, admin):
    marker = uuid.uuid4().hex[:8]
    with app.app_context():
        audit.record("test", "Officer", marker, XSS + marker)
        db.session.commit()
        event_id = db.session.scalar(select(AuditEvent.id).where(AuditEvent.object_id == marker))
    assert marker in admin.get(f"/audit/list/?_flt_2_summary={marker}").get_data(as_text=True)
    for path in (f"/audit/list/?_flt_2_summary={marker}", f"/audit/show/{event_id}"):
        assert escaped(admin.get(path).get_data(as_text=True)), path


def test_received_warnings_are_shown_as_text(app, client, admin):
    with app.app_context():
        peer = ApiClient(code=f"x{uuid.uuid4().hex[:6]}", name=XSS[:60], active=True)
        key = intake.issue_key(peer)
        from lowcode import clock

        peer.created_at = clock.now()
        db.session.add(peer)
        db.session.commit()
    answer = client.post("/api/v1/warnings/", data=json.dumps({"warning_type": XSS, "source_id": XSS[:60]}),
                         headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(InboundWarning.id).order_by(InboundWarning.id.desc()))
    for path in ("/inbound-warnings/list/", f"/inbound-warnings/show/{row}", "/api-clients/list/"):
        body = admin.get(path).get_data(as_text=True)
        assert escaped(body), path


def submitted_with_script(client) -> str:
    """A submission whose free-text answer is a script; returns its web summary URL."""
    response = post_form(client, EVALUATION, [("validity", "无效"), ("evaluation_result", "无效"),
                                              ("invalid_reason", "其他"), ("evaluation_opinion", XSS)])
    assert response.status_code == 302
    return response.headers["Location"]


def test_form_answers_are_shown_as_text_on_the_web_and_the_pda(client):
    web_login(client, "dd_minhang")
    summary = submitted_with_script(client)
    pda_summary = summary.replace("/form-submissions/", "/pda/submissions/")
    post_form(client, EVALUATION, [("evaluation_result", "无效"), ("evaluation_opinion", XSS)], action="draft")
    for path in (summary, pda_summary, "/form-submissions/", EVALUATION, "/pda" + EVALUATION):
        body = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;" in body or path == "/form-submissions/", path
        assert escaped(body), path
    post_form(client, EVALUATION, [], action="discard")


# ---------------------------------------------------------------- path traversal

@pytest.mark.parametrize("attachment_id", [
    "../../../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "....//....//etc/passwd",
    "..\\..\\secret_key", "%00", "0" * 31 + "/", "/etc/passwd",
])
def test_attachment_download_cannot_walk_the_disk(admin, attachment_id):
    response = admin.get(f"/form-attachments/{attachment_id}")
    # 405: a slash makes it the upload URL, POST only; 400: a NUL is refused outright
    assert response.status_code in (400, 404, 405)
    assert b"root:" not in response.data


@pytest.mark.parametrize("key", ["../secret_key", "../../etc/passwd", "ab/../../x", "/etc/passwd",
                                 "a" * 31 + "/", "A" * 32, "a" * 33])
def test_storage_refuses_any_key_it_did_not_make(tmp_path, key):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).open(key)


@pytest.mark.parametrize("path", ["/users/download/..", "/users/download/..%2f..%2fetc%2fpasswd",
                                  "/static/..%2f..%2fconfig.py", "/static/../config.py"])
def test_other_downloads_do_not_walk_the_disk(admin, path):
    response = admin.get(path)
    assert response.status_code in (400, 404, 500)
    assert b"SECRET" not in response.data and b"root:" not in response.data


# ---------------------------------------------------------------- another district's records

def test_another_districts_submission_and_attachment_are_not_found(app, client):
    web_login(client, "dd_minhang")
    summary = submitted_with_script(client)
    stranger = app.test_client()
    web_login(stranger, "zd_xuhui")
    for path in (summary, summary.replace("/form-submissions/", "/pda/submissions/")):
        assert stranger.get(path).status_code == 404
    assert "/form-submissions/" + summary.rsplit("/", 1)[1] not in stranger.get("/form-submissions/").get_data(as_text=True)


def test_another_districts_officer_cannot_be_read_changed_or_reset(app, api, client):
    with app.app_context():
        other = db.session.scalar(select(Officer.id).where(Officer.username == "dd_huangpu"))
    assert api("zd_xuhui").get(f"/api/v1/officer/{other}").status_code == 404
    web_login(client, "zd_xuhui")
    for path in (f"/users/show/{other}", f"/users/edit/{other}", f"/resetpassword/form?pk={other}"):
        assert client.get(path).status_code in (403, 404) or "/login/" in client.get(path).headers.get("Location", "")


def test_district_users_cannot_open_received_warnings(app, client):
    with app.app_context():
        row = db.session.scalar(select(InboundWarning.id).limit(1))
    web_login(client, "zd_xuhui")
    for path in ("/inbound-warnings/list/", f"/inbound-warnings/show/{row or 1}"):
        response = client.get(path)
        assert response.status_code in (302, 403) and "raw" not in response.get_data(as_text=True)
