"""SM2 signatures on HTTP requests, both ways: verifying a peer's signed pushes (per calling
system: its public key and signer id) and signing the platform's own outbound requests.

The signature covers one line per element, so nothing can be moved between them:

    METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n SM3(BODY) in hex

Headers: `X-Signer-Id` (the signer id used in Z_A), `X-Timestamp` (Unix seconds), `X-Nonce`
(8-64 of [A-Za-z0-9_-], new for every request), `X-Signature` (the DER signature, base64).
A request is refused when the timestamp is outside the window (SIGNATURE_WINDOW_SECONDS either
way) or its nonce was already seen within the window (a replay).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
import time
from typing import Mapping, Optional

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from lowcode import clock, keyring
from lowcode.crypto import keys, sm2
from lowcode.crypto.errors import CryptoError

HEADERS = ("X-Signer-Id", "X-Timestamp", "X-Nonce", "X-Signature")
NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}\Z")
DEFAULT_WINDOW = 300


class SignatureRefused(ValueError):
    """The request's signature is missing, forged, stale or replayed: the message says which."""


def message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join((method.upper(), path, timestamp, nonce, keys.sm3(body).hex())).encode("utf-8")


def sign_request(body: bytes, *, method: str = "POST", path: str = "/",
                 private_key: Optional[sm2.SM2PrivateKey] = None, signer_id: Optional[str] = None,
                 timestamp: Optional[int] = None, nonce: Optional[str] = None) -> dict[str, str]:
    """The headers that sign `body` for `method path`: by default with the platform's own key.

    For connectors pushing to peers (the peer verifies with the platform's public key, shown by
    `lowcode.keyring.signing_key().public_key`, and the signer id `LOWCODE_SIGNER_ID`).
    """
    private_key = private_key or keyring.signing_key()
    signer_id = signer_id or keyring.signer_id()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(18)
    signature = sm2.sign(private_key, message(method, path, timestamp, nonce, body), signer_id=signer_id)
    return {"X-Signer-Id": signer_id, "X-Timestamp": timestamp, "X-Nonce": nonce,
            "X-Signature": base64.b64encode(signature).decode("ascii")}


def verify_request(public_key: sm2.SM2PublicKey, signer_id: str, method: str, path: str,
                   headers: Mapping[str, str], body: bytes, *, now: Optional[float] = None) -> tuple[str, str]:
    """Check the signature headers; returns (timestamp, nonce) for the replay check."""
    missing = [h for h in HEADERS if not headers.get(h)]
    if missing:
        raise SignatureRefused(f"缺少签名请求头：{'、'.join(missing)}")
    if headers["X-Signer-Id"] != signer_id:
        raise SignatureRefused(f"X-Signer-Id 与登记的签名者标识不符（应为 {signer_id}）")
    timestamp, nonce = headers["X-Timestamp"], headers["X-Nonce"]
    if not timestamp.isdigit():
        raise SignatureRefused("X-Timestamp 应为 Unix 秒数")
    window = current_app.config.get("SIGNATURE_WINDOW_SECONDS") or DEFAULT_WINDOW
    if abs((time.time() if now is None else now) - int(timestamp)) > window:
        raise SignatureRefused(f"X-Timestamp 超出允许的 {window} 秒时间窗口（时钟不同步或请求被重放）")
    if not NONCE.match(nonce):
        raise SignatureRefused("X-Nonce 应为 8-64 位字母、数字、- 或 _")
    try:
        signature = base64.b64decode(headers["X-Signature"], validate=True)
        sm2.verify(public_key, message(method, path, timestamp, nonce, body), signature, signer_id=signer_id)
    except (binascii.Error, ValueError, CryptoError):
        raise SignatureRefused("SM2 签名验证失败：签名与请求内容、公钥或签名者标识不符") from None
    return timestamp, nonce


def remember_nonce(session, client_id: int, nonce: str) -> None:
    """Record the nonce (committed with the request's work); a nonce seen before is a replay."""
    from lowcode.models import RequestNonce

    window = current_app.config.get("SIGNATURE_WINDOW_SECONDS") or DEFAULT_WINDOW
    now = clock.now()
    session.execute(delete(RequestNonce).where(RequestNonce.seen_at < now - dt.timedelta(seconds=2 * window)))
    try:
        with session.begin_nested():
            session.add(RequestNonce(client_id=client_id, nonce=nonce, seen_at=now))
    except IntegrityError:
        raise SignatureRefused("X-Nonce 已使用过：请求被重放，已拒绝") from None


def check_client_request(session, client, method: str, path: str, headers: Mapping[str, str], body: bytes) -> None:
    """Verify a calling system's request when it must sign (or signs anyway); raise SignatureRefused."""
    signs = any(headers.get(h) for h in HEADERS)
    if not client.require_signature and not signs:
        return
    if not client.public_key or not client.signer_id:
        raise SignatureRefused("该接入系统未登记 SM2 公钥与签名者标识，无法验证签名")
    _, nonce = verify_request(sm2.public_key_from_hex(client.public_key), client.signer_id, method, path,
                              headers, body)
    remember_nonce(session, client.id, nonce)


def check_client_settings(client) -> None:
    """A calling system's signing settings make sense: a key that parses, an id, both or neither."""
    client.public_key = (client.public_key or "").strip() or None
    client.signer_id = (client.signer_id or "").strip() or None
    if client.public_key:
        try:
            client.public_key = sm2.public_key_to_hex(sm2.public_key_from_hex(client.public_key))
        except CryptoError as error:
            raise ValueError(f"SM2 公钥无效：{error}") from None
    if bool(client.public_key) != bool(client.signer_id):
        raise ValueError("SM2 公钥与签名者标识须同时填写")
    if client.require_signature and not client.public_key:
        raise ValueError("要求签名的接入系统须填写 SM2 公钥与签名者标识")
