"""Personal data at rest: officers' 手机号 and inbound raw items are SM4-GCM in the database,
found by blind index, shown masked, revealed only with permission, and every reveal audited."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text, update
from gmssl import sm4 as gm_sm4_module

from lowcode import intake, keyring, personal
from lowcode.crypto import fields
from lowcode.crypto.errors import DecryptionError
from lowcode.extensions import db
from lowcode.models import AuditEvent, InboundWarning, Officer
from tests.conftest import web_login

MOBILE = "13912345678"


@pytest.fixture(scope="module")
def officer_with_mobile(app):
    with app.test_request_context():
        officer = db.session.scalar(select(Officer).where(Officer.username == "dd_huangpu"))
        officer.mobile = MOBILE
        db.session.commit()
        return officer.id


def stored_column(officer_id: int) -> str:
    return db.session.execute(text("SELECT mobile FROM ab_user WHERE id = :id"), {"id": officer_id}).scalar()


def test_the_mobile_is_stored_as_an_sm4_gcm_token_bound_to_its_row(app, officer_with_mobile):
    with app.app_context():
        token = stored_column(officer_with_mobile)
        assert token.startswith(f"v1.{keyring.keyring().current_id}.") and MOBILE not in token
        officer = db.session.get(Officer, officer_with_mobile)
        assert officer.mobile == "139****5678"
        assert personal.reveal(officer, "mobile") == MOBILE
        with pytest.raises(DecryptionError):  # copied into another row it does not decrypt
            personal.decrypt("ab_user", "mobile", officer_with_mobile + 1, token)


def test_the_token_decrypts_with_gmssl_sm4_too(app, officer_with_mobile):
    """Independent check of the cipher: CTR keystream from gmssl's SM4 (GCM counter starts at J0+1)."""
    with app.app_context():
        token = stored_column(officer_with_mobile)
        key = keyring.keyring().derive(fields.FIELD_PURPOSE, key_id=fields.token_key_id(token), length=16)
    data = fields._b64decode(token.split(".")[2])
    nonce, ciphertext = data[:12], data[12:-16]
    cipher = gm_sm4_module.CryptSM4()
    cipher.set_key(key, gm_sm4_module.SM4_ENCRYPT)
    keystream = cipher.crypt_ecb(nonce + (2).to_bytes(4, "big"))[:16]
    assert bytes(c ^ k for c, k in zip(ciphertext, keystream)).decode() == MOBILE


def test_search_by_mobile_uses_the_blind_index_in_any_spelling(api, officer_with_mobile):
    for spelling in (MOBILE, "+86 139-1234-5678", "１３９１２３４５６７８"):
        response = api("admin").get("/api/v1/officer/by-mobile", query_string={"mobile": spelling})
        assert response.status_code == 200
        assert [o["id"] for o in response.get_json()["result"]] == [officer_with_mobile]
        assert response.get_json()["result"][0]["mobile"] == "139****5678"
    assert api("admin").get("/api/v1/officer/by-mobile", query_string={"mobile": "13900000000"}).get_json()[
        "result"] == []


def test_search_by_mobile_respects_the_data_scope(api, officer_with_mobile):
    response = api("zd_xuhui").get("/api/v1/officer/by-mobile", query_string={"mobile": MOBILE})
    assert response.status_code == 200 and response.get_json()["result"] == []


def test_api_and_pages_show_the_mask_only(api, client, officer_with_mobile):
    shown = api("admin").get(f"/api/v1/officer/{officer_with_mobile}").get_json()["result"]
    assert shown["mobile"] == "139****5678"
    web_login(client, "admin")
    page = client.get(f"/users/show/{officer_with_mobile}").get_data(as_text=True)
    assert "139****5678" in page and MOBILE not in page
    edit = client.get(f"/users/edit/{officer_with_mobile}").get_data(as_text=True)
    assert MOBILE not in edit


def test_reveal_needs_the_permission_and_is_audited(app, api, officer_with_mobile, db_session):
    assert api("zd_huangpu").post(f"/api/v1/officer/{officer_with_mobile}/reveal").status_code == 403
    response = api("admin").post(f"/api/v1/officer/{officer_with_mobile}/reveal")
    assert response.status_code == 200 and response.get_json()["mobile"] == MOBILE
    db_session.expire_all()
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal_personal",
                                                        AuditEvent.object_id == str(officer_with_mobile))).all()[-1]
    assert event.actor_name != "系统" and MOBILE not in event.summary


def test_posting_the_masked_value_back_keeps_the_number(app, officer_with_mobile):
    with app.test_request_context():
        officer = db.session.get(Officer, officer_with_mobile)
        officer.mobile = "139****5678"
        db.session.commit()
        db.session.expire_all()
        assert personal.reveal(db.session.get(Officer, officer_with_mobile), "mobile") == MOBILE


def test_inbound_items_are_kept_verbatim_but_encrypted(app, client, db_session):
    from lowcode import clock
    from lowcode.models import ApiClient

    with app.app_context():
        peer = ApiClient(code="raw-peer", name="原文测试系统", created_at=clock.now())
        key = intake.issue_key(peer)
        db.session.add(peer)
        db.session.commit()
    item = {"type": "NOT_A_TYPE", "source_id": "RAW-1", "subject": {"id_card": "31010519491231002X"}}
    body = json.dumps(item, ensure_ascii=False)
    response = client.post("/api/v1/warnings/", data=body, headers={"X-API-Key": key,
                                                                    "Content-Type": "application/json"})
    assert response.status_code == 200
    row = db_session.scalar(select(InboundWarning).where(InboundWarning.source_id == "RAW-1"))
    assert "31010519491231002X" not in row.raw and row.raw.startswith("v1.")
    assert json.loads(intake.raw_text(row)) == item
    assert row.status == "rejected"
    with app.app_context():  # replay decrypts it again
        [answer] = intake.replay([row.id])
        assert answer["status"] == "rejected"
        swapped = db.session.scalar(select(InboundWarning).where(InboundWarning.id != row.id,
                                                                 InboundWarning.raw.like("v1.%")).limit(1))
        if swapped is not None:  # a token moved to another row does not decrypt there
            db.session.execute(update(InboundWarning).where(InboundWarning.id == row.id).values(raw=swapped.raw))
            with pytest.raises(DecryptionError):
                intake.raw_text(db.session.get(InboundWarning, row.id))
            db.session.rollback()


def test_the_officer_pages_add_and_edit_a_mobile_encrypted(app, client, db_session):
    from sqlalchemy import select as select_

    from lowcode.models import Department
    from tests.conftest import csrf_token

    web_login(client, "admin")
    department = db_session.scalar(select_(Department).where(Department.depth == 1))
    role_id = db_session.execute(text("SELECT id FROM ab_role WHERE name = '大队民警'")).scalar()
    page = client.get("/users/add").get_data(as_text=True)
    response = client.post("/users/add", data={
        "csrf_token": csrf_token(page), "last_name": "加", "first_name": "密", "username": "crypto_add",
        "police_no": "990001", "mobile": "13655556666", "department": str(department.id), "active": "y",
        "email": "crypto_add@example.cn", "roles": [str(role_id)], "password": "Abcd@12345",
        "conf_password": "Abcd@12345"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()
    officer = db_session.scalar(select_(Officer).where(Officer.username == "crypto_add"))
    assert stored_column(officer.id).startswith("v1.") and officer.mobile == "136****6666"
    edit = client.get(f"/users/edit/{officer.id}").get_data(as_text=True)
    assert "136****6666" in edit and "13655556666" not in edit
    fields_ = {"csrf_token": csrf_token(edit), "last_name": "加", "first_name": "密", "username": "crypto_add",
               "police_no": "990001", "department": str(department.id), "active": "y",
               "email": "crypto_add@example.cn", "roles": [str(role_id)]}
    assert client.post(f"/users/edit/{officer.id}", data={**fields_, "mobile": "136****6666"}).status_code == 302
    db_session.expire_all()
    assert personal.reveal(db_session.get(Officer, officer.id), "mobile") == "13655556666"
    assert client.post(f"/users/edit/{officer.id}", data={**fields_, "mobile": "13700007777"}).status_code == 302
    db_session.expire_all()
    assert personal.reveal(db_session.get(Officer, officer.id), "mobile") == "13700007777"
    bad = client.post(f"/users/edit/{officer.id}", data={**fields_, "mobile": "12345"})
    assert "请填写有效的 11 位手机号" in bad.get_data(as_text=True)
    update_event = db_session.scalars(select_(AuditEvent).where(AuditEvent.object_id == str(officer.id),
                                                                AuditEvent.action == "update")).all()[-1]
    assert update_event.before["mobile"] == "136****6666" and update_event.after["mobile"] == "137****7777"
