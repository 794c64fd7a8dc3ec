"""The application's keys: the master keyring (SM4 fields, blind indexes, audit chain) and the
SM2 key pair that signs audit checkpoints, definition releases and outbound requests.

Both come from the environment or files, else from the embedded default under the instance
folder (generated once, mode 0600, like the secret key). Loaded once per application.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

from lowcode.crypto import keys, sm2

SIGNING_KEY_FILE = "signing.pem"
SIGNER_ID = "lowcode-platform"


def _config(name: str):
    return current_app.config.get(name)


def keyring() -> keys.Keyring:
    """The master keyring of this application (see `lowcode.crypto.keys` for the sources)."""
    extensions = current_app.extensions
    if "lowcode_keyring" not in extensions:
        env = {keys.ENV_KEY: _config("MASTER_KEY") or "", keys.ENV_KEY_FILE: _config("MASTER_KEY_FILE") or ""}
        extensions["lowcode_keyring"] = keys.load_keyring(_config("INSTANCE_PATH"), env)
    return extensions["lowcode_keyring"]


def reset() -> None:
    """Forget the loaded keys (after a rotation in this process)."""
    current_app.extensions.pop("lowcode_keyring", None)
    current_app.extensions.pop("lowcode_signing_key", None)


def _embedded_signing_key(path: Path) -> sm2.SM2PrivateKey:
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = sm2.generate_keypair()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return sm2.private_key_from_pem(path.read_text())
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(sm2.private_key_to_pem(key))
        return key
    return sm2.private_key_from_pem(path.read_text())


def signing_key() -> sm2.SM2PrivateKey:
    """The platform's SM2 private key: SIGNING_KEY_FILE (PEM), else instance/keys/signing.pem."""
    extensions = current_app.extensions
    if "lowcode_signing_key" not in extensions:
        configured = _config("SIGNING_KEY_FILE")
        path = Path(configured) if configured else Path(_config("INSTANCE_PATH")) / keys.KEYS_DIR / SIGNING_KEY_FILE
        extensions["lowcode_signing_key"] = (sm2.private_key_from_pem(path.read_text()) if configured
                                             else _embedded_signing_key(path))
    return extensions["lowcode_signing_key"]


def signer_id() -> str:
    return _config("SIGNER_ID") or SIGNER_ID
