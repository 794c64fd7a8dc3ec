"""Definition packs are signed when published and verified when loaded in production.

A release's manifest lists the SM3 digest of every file; the platform's SM2 key signs the pack
code and the manifest. With LOWCODE_ENV=production, the tree is loaded only if every release's
signature verifies and every file — as stored and as materialised on disk — has the digest its
manifest gives; otherwise loading stops with an error naming the file (重要可执行程序签名验签).
"""
from __future__ import annotations

import json
from pathlib import Path

from flask import current_app

from lowcode import keyring
from lowcode.crypto import keys, sm2
from lowcode.crypto.errors import CryptoError

LABEL = b"lowcode/definition-release/v1"


class PackSignatureError(RuntimeError):
    """A release or file of the definitions does not match what was signed at publication."""


def manifest(files: dict[str, bytes]) -> str:
    return json.dumps({path: keys.sm3(content).hex() for path, content in sorted(files.items())},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _message(pack_code: str, manifest_text: str) -> bytes:
    return b"|".join((LABEL, pack_code.encode("utf-8"), manifest_text.encode("utf-8")))


def sign(release, files: dict[str, bytes]) -> None:
    """Fill the release's manifest and signature (called at publication)."""
    release.manifest = manifest(files)
    release.signer_id = keyring.signer_id()
    release.signature = sm2.sign(keyring.signing_key(), _message(release.pack_code, release.manifest),
                                 signer_id=release.signer_id).hex()


def production() -> bool:
    return current_app.config.get("LOWCODE_ENV") == "production"


def verify(release, files: dict[str, bytes], directory: Path | None = None) -> None:
    """Raise PackSignatureError naming the pack release or file that does not match its signature."""
    where = f"定义包 {release.pack_code} 第 {release.number} 版"
    if not release.signature or not release.manifest:
        raise PackSignatureError(f"{where}没有发布签名，生产模式下拒绝加载：请重新发布")
    try:
        sm2.verify(keyring.signing_key().public_key, _message(release.pack_code, release.manifest),
                   bytes.fromhex(release.signature), signer_id=release.signer_id)
    except (CryptoError, ValueError):
        raise PackSignatureError(f"{where}的发布签名无效（清单被改动或不是本平台签发），拒绝加载") from None
    signed = json.loads(release.manifest)
    _compare(release.pack_code, signed, files, "数据库中")
    if directory is not None:
        on_disk = {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}
        _compare(release.pack_code, signed, on_disk, "磁盘上")


def _compare(pack_code: str, signed: dict[str, str], files: dict[str, bytes], place: str) -> None:
    for path in sorted(set(signed) | set(files)):
        name = f"{pack_code}/{path}"
        if path not in files:
            raise PackSignatureError(f"定义文件 {name} 在{place}缺失（已签名的文件），拒绝加载")
        if path not in signed:
            raise PackSignatureError(f"定义文件 {name} 不在发布签名中（{place}多出的文件），拒绝加载")
        if keys.sm3(files[path]).hex() != signed[path]:
            raise PackSignatureError(f"定义文件 {name} 与发布时的签名不符（{place}的内容被改动，SM3 不一致），拒绝加载")
