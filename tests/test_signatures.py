"""SM2-signed requests: a calling system that must sign is refused when the signature is missing,
forged, stale or replayed; the platform's own outbound signature verifies in gmssl too."""
from __future__ import annotations

import base64
import json
import time

import pytest

from lowcode import keyring, signatures
from lowcode.crypto import sm2
from lowcode.extensions import db
from lowcode.models import ApiClient
from tests.test_crypto_sm2 import gm_digest, gmssl_for, gmssl_safe_key

PATH = "/api/v1/warnings/"
BODY = json.dumps({"items": [{"type": "NOT_A_TYPE", "source_id": "SIG-1"}]}, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def peer_key():
    return sm2.generate_keypair()


@pytest.fixture(scope="module")
def signing_client(app, peer_key):
    from lowcode import clock, intake

    with app.app_context():
        client = ApiClient(code="signed-peer", name="签名测试系统", created_at=clock.now(),
                           public_key=sm2.public_key_to_hex(peer_key.public_key), signer_id="peer@310104",
                           require_signature=True)
        key = intake.issue_key(client)
        db.session.add(client)
        db.session.commit()
    return key


def post(client, api_key, headers=None, body=BODY):
    return client.post(PATH, data=body, headers={"X-API-Key": api_key, "Content-Type": "application/json",
                                                 **(headers or {})})


def signed(app, peer_key, body=BODY, **kwargs):
    with app.app_context():
        return signatures.sign_request(body, path=PATH, private_key=peer_key, signer_id="peer@310104", **kwargs)


def test_a_correctly_signed_push_is_taken(client, app, signing_client, peer_key):
    response = post(client, signing_client, signed(app, peer_key))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["count"] == 1


def test_an_unsigned_push_is_refused_when_the_system_must_sign(client, signing_client):
    response = post(client, signing_client)
    assert response.status_code == 401
    assert "缺少签名请求头" in response.get_json()["message"]


def test_a_forged_signature_is_refused(client, app, signing_client, peer_key):
    other = sm2.generate_keypair()
    headers = signed(app, other)
    response = post(client, signing_client, headers)
    assert response.status_code == 401 and "SM2 签名验证失败" in response.get_json()["message"]
    tampered_body = BODY.replace(b"SIG-1", b"SIG-2")
    response = post(client, signing_client, signed(app, peer_key), body=tampered_body)
    assert response.status_code == 401 and "SM2 签名验证失败" in response.get_json()["message"]


def test_a_replayed_request_is_refused(client, app, signing_client, peer_key):
    headers = signed(app, peer_key)
    assert post(client, signing_client, headers).status_code == 200
    response = post(client, signing_client, headers)
    assert response.status_code == 401 and "重放" in response.get_json()["message"]


def test_a_stale_timestamp_is_refused(client, app, signing_client, peer_key):
    response = post(client, signing_client, signed(app, peer_key, timestamp=int(time.time()) - 3600))
    assert response.status_code == 401 and "时间窗口" in response.get_json()["message"]


def test_a_wrong_signer_id_is_refused(client, app, signing_client, peer_key):
    with app.app_context():
        headers = signatures.sign_request(BODY, path=PATH, private_key=peer_key, signer_id="someone-else")
    response = post(client, signing_client, headers)
    assert response.status_code == 401 and "X-Signer-Id" in response.get_json()["message"]


def test_the_outbound_signature_verifies_in_gmssl(app):
    with app.app_context():
        ours = keyring.signing_key()
    key = gmssl_safe_key()  # gmssl cannot take every public key (see test_crypto_sm2)
    body = "{\"反馈\": \"已处置\"}".encode()
    with app.app_context():
        headers = signatures.sign_request(body, path="/feedback", private_key=key, signer_id="lowcode-platform")
    signed_message = signatures.message("POST", "/feedback", headers["X-Timestamp"], headers["X-Nonce"], body)
    digest = gm_digest(key, b"lowcode-platform", signed_message)
    assert gmssl_for(key).verify(base64.b64decode(headers["X-Signature"]).hex(), digest)
    with app.app_context():  # by default the platform's own key signs
        headers = signatures.sign_request(body, path="/feedback")
        signatures.verify_request(ours.public_key, keyring.signer_id(), "POST", "/feedback", headers, body)


def test_client_settings_are_checked(app):
    client = ApiClient(code="x", name="x", public_key="04abcd", signer_id="x")
    with pytest.raises(ValueError, match="SM2 公钥无效"):
        signatures.check_client_settings(client)
    client = ApiClient(code="x", name="x", require_signature=True)
    with pytest.raises(ValueError, match="须填写 SM2 公钥"):
        signatures.check_client_settings(client)
