"""Master keys and the per-purpose keys derived from them.

A *keyring* holds one or more master keys, each with a short id; one of them is *current*. New
ciphertexts use the current key and carry its id, so older ciphertexts stay readable as long as
their key stays in the ring: rotation is "add a key, make it current, re-encrypt at leisure".

Master keys never encrypt anything themselves. Each use gets its own key, derived with
HKDF-SM3 from the master key and a purpose string ("field:sm4", "index:ab_user.mobile",
"audit:chain"), so a key leaked from one use does not open another.

Where master keys come from, first match wins (sources are never mixed, so what is in use is
always obvious):

1. `LOWCODE_MASTER_KEY`: comma-separated entries, the first is current.
2. `LOWCODE_MASTER_KEY_FILE`: a file of entries, one a line, the first is current; `#` comments.
3. The embedded default: `<instance>/keys/master.key` holds the current key, generated randomly
   once (mode 0600); `<instance>/keys/master-<id>.key` hold every other key, kept for reading.

An entry is the key as hex (16 to 64 bytes; 32 recommended) or `<id>:<hex>`. Without an id, the
id is the key's fingerprint (8 hex digits of SM3), so the same key always gets the same id.
Moving from the embedded default to (1) or (2): copy the entries of every `keys/*.key` file.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping, Optional, Union

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lowcode.crypto.errors import KeyringError, UnknownKeyId

ENV_KEY = "LOWCODE_MASTER_KEY"
ENV_KEY_FILE = "LOWCODE_MASTER_KEY_FILE"
KEYS_DIR = "keys"
CURRENT_FILE = "master.key"

# Ids appear inside tokens ("v1.<id>.<data>") and file names: no dots, colons or separators.
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")
MIN_KEY_BYTES = 16  # 128 bits: the strength of SM4 itself
MAX_KEY_BYTES = 64
NEW_KEY_BYTES = 32
# A fixed salt only separates this application's HKDF use from any other use of the same key.
_HKDF_SALT = b"lowcode/hkdf-sm3/v1"

PathLike = Union[str, os.PathLike]


def sm3(data: bytes) -> bytes:
    """The SM3 digest of `data` (OpenSSL, through `cryptography`)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def key_fingerprint(master_key: bytes) -> str:
    """The default id of a master key: 8 hex digits of SM3 over a label and the key."""
    return sm3(b"lowcode/key-id/v1\x00" + master_key)[:4].hex()


def derive_key(master_key: bytes, purpose: str, length: int = 32) -> bytes:
    """HKDF-SM3 of `master_key` for `purpose`: deterministic, and unrelated across purposes."""
    if not purpose or not isinstance(purpose, str):
        raise ValueError("purpose must be a non-empty string")
    hkdf = HKDF(algorithm=hashes.SM3(), length=length, salt=_HKDF_SALT,
                info=b"lowcode:" + purpose.encode("utf-8"))
    return hkdf.derive(master_key)


def new_master_key() -> bytes:
    """Fresh random master key material from the operating system's CSPRNG."""
    return secrets.token_bytes(NEW_KEY_BYTES)


def _check_key_id(key_id: str) -> str:
    if not isinstance(key_id, str) or not KEY_ID_PATTERN.match(key_id):
        raise KeyringError(f"invalid key id {key_id!r}: use 1-32 of A-Z a-z 0-9 _ -")
    return key_id


def _check_key(key: bytes, where: str) -> bytes:
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise KeyringError(f"{where}: a master key must be {MIN_KEY_BYTES}-{MAX_KEY_BYTES} bytes, got {len(key)}")
    return key


@dataclass(frozen=True, eq=False, repr=False)
class Keyring:
    """Master keys by id plus which one is current. Immutable; derived keys are cached."""

    current_id: str
    keys: Mapping[str, bytes]
    _derived: dict = field(default_factory=dict, init=False)

    def __post_init__(self):
        keys = {}
        for key_id, key in dict(self.keys).items():
            keys[_check_key_id(key_id)] = _check_key(bytes(key), f"key {key_id!r}")
        if self.current_id not in keys:
            raise KeyringError(f"the current key id {self.current_id!r} is not in the keyring")
        object.__setattr__(self, "keys", MappingProxyType(keys))

    def __repr__(self) -> str:  # never show key material, not even in a traceback
        return f"Keyring(current_id={self.current_id!r}, key_ids={sorted(self.keys)!r})"

    def __contains__(self, key_id: object) -> bool:
        return key_id in self.keys

    @property
    def key_ids(self) -> tuple[str, ...]:
        """All ids, the current one first."""
        return (self.current_id, *sorted(k for k in self.keys if k != self.current_id))

    def master_key(self, key_id: Optional[str] = None) -> bytes:
        key_id = self.current_id if key_id is None else key_id
        try:
            return self.keys[key_id]
        except KeyError:
            raise UnknownKeyId(f"key id {key_id!r} is not in the keyring {list(self.key_ids)}") from None

    def derive(self, purpose: str, *, key_id: Optional[str] = None, length: int = 32) -> bytes:
        """The key for `purpose` under master key `key_id` (default: current), cached."""
        key_id = self.current_id if key_id is None else key_id
        cache_key = (key_id, purpose, length)
        derived = self._derived.get(cache_key)
        if derived is None:
            derived = self._derived[cache_key] = derive_key(self.master_key(key_id), purpose, length)
        return derived


def parse_entry(text: str, where: str = "key entry") -> tuple[str, bytes]:
    """`<hex>` or `<id>:<hex>` -> (id, key bytes)."""
    text = text.strip()
    key_id, sep, hex_part = text.rpartition(":")
    try:
        key = bytes.fromhex(hex_part)
    except ValueError:
        raise KeyringError(f"{where}: not hex (expected '<hex>' or '<id>:<hex>')") from None
    _check_key(key, where)
    return (_check_key_id(key_id) if sep else key_fingerprint(key)), key


def format_entry(key_id: str, key: bytes) -> str:
    return f"{_check_key_id(key_id)}:{key.hex()}"


def keyring_from_entries(entries: Iterable[str], where: str = "keys") -> Keyring:
    """A keyring from entries (see `parse_entry`); the first entry is the current key."""
    keys: dict[str, bytes] = {}
    current = None
    for number, entry in enumerate((e for e in entries if e.strip()), 1):
        key_id, key = parse_entry(entry, f"{where}, entry {number}")
        if keys.get(key_id, key) != key:
            raise KeyringError(f"{where}: key id {key_id!r} names two different keys")
        keys[key_id] = key
        current = current or key_id
    if current is None:
        raise KeyringError(f"{where}: no key")
    return Keyring(current, keys)


def _file_entries(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise KeyringError(f"cannot read key file {path}: {error}") from None
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def load_keyring(instance_path: PathLike, env: Mapping[str, str], *, create: bool = True) -> Keyring:
    """The keyring configured by `env`, else the embedded one under `instance_path`.

    With `create`, the embedded default generates its first key when there is none. Pass
    `create=False` where several hosts share a database: each would otherwise make its own key.
    """
    if env.get(ENV_KEY):
        return keyring_from_entries(env[ENV_KEY].split(","), ENV_KEY)
    if env.get(ENV_KEY_FILE):
        path = Path(env[ENV_KEY_FILE])
        return keyring_from_entries(_file_entries(path), str(path))
    return _load_embedded(Path(instance_path) / KEYS_DIR, create)


# --- the embedded key directory ---------------------------------------------------------------

def _check_private(path: Path) -> None:
    # Our own key files are created 0600; anything looser means someone changed it: refuse.
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise KeyringError(f"{path} is accessible to group or others: chmod 600 it")


def _read_key_file(path: Path) -> tuple[str, bytes]:
    _check_private(path)
    entries = _file_entries(path)
    if len(entries) != 1:
        raise KeyringError(f"{path}: expected exactly one '<id>:<hex>' line")
    return parse_entry(entries[0], str(path))


def _private_copy(path: Path, text: str) -> Path:
    """`text` written and synced to a new private (0600) file beside `path`, to be moved into place."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _write_exclusive(path: Path, text: str) -> bool:
    """Create `path` (0600) holding `text`, atomically: False if it already exists.

    The content is written to a private temporary file first and hard-linked into place, so a
    concurrent reader (another worker starting at the same moment) never sees a half-written key.
    """
    tmp = _private_copy(path, text)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: fall back to an exclusive create
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(text + "\n")
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _replace(path: Path, text: str) -> None:
    """Replace `path` (0600) atomically: readers see the old content or the new, never a mix."""
    tmp = _private_copy(path, text)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _archive_path(keys_dir: Path, key_id: str) -> Path:
    return keys_dir / f"master-{_check_key_id(key_id)}.key"


def _archive(keys_dir: Path, key_id: str, key: bytes) -> None:
    """Make sure master-<id>.key holds this key (keys are only ever added, never dropped)."""
    path = _archive_path(keys_dir, key_id)
    if not _write_exclusive(path, format_entry(key_id, key)) and _read_key_file(path) != (key_id, key):
        raise KeyringError(f"{path} holds a different key than id {key_id!r}")


def _ensure_dir(keys_dir: Path) -> None:
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def _load_embedded(keys_dir: Path, create: bool) -> Keyring:
    current_file = keys_dir / CURRENT_FILE
    if not current_file.exists():
        if not create:
            raise KeyringError(f"no master key: set {ENV_KEY} or {ENV_KEY_FILE}, or create {current_file}")
        _ensure_dir(keys_dir)
        key = new_master_key()
        _write_exclusive(current_file, format_entry(key_fingerprint(key), key))  # loser reads winner's
    current_id, current_key = _read_key_file(current_file)
    keys = {current_id: current_key}
    for path in sorted(keys_dir.glob("master-*.key")):
        key_id, key = _read_key_file(path)
        if path.name != _archive_path(keys_dir, key_id).name:
            raise KeyringError(f"{path} holds key id {key_id!r}: the name and the id must agree")
        if keys.get(key_id, key) != key:
            raise KeyringError(f"{path}: key id {key_id!r} names two different keys")
        keys[key_id] = key
    return Keyring(current_id, keys)


def create_master_key(instance_path: PathLike, *, make_current: bool = True,
                      key_id: Optional[str] = None) -> str:
    """Add a new random key to the embedded keyring; returns its id.

    Running processes keep the keyring they loaded. To rotate without a window where one process
    cannot read another's new tokens: add with `make_current=False`, restart everything, then
    `set_current_master_key`, restart again. `rotate_master_key` does both steps at once.
    """
    keys_dir = Path(instance_path) / KEYS_DIR
    ring = _load_embedded(keys_dir, create=True)
    key = new_master_key()
    key_id = _check_key_id(key_id) if key_id is not None else key_fingerprint(key)
    if key_id in ring:
        raise KeyringError(f"key id {key_id!r} already exists")
    _archive(keys_dir, ring.current_id, ring.master_key())
    _archive(keys_dir, key_id, key)
    if make_current:
        _replace(keys_dir / CURRENT_FILE, format_entry(key_id, key))
    return key_id


def set_current_master_key(instance_path: PathLike, key_id: str) -> None:
    """Make an existing key of the embedded keyring the current one."""
    keys_dir = Path(instance_path) / KEYS_DIR
    ring = _load_embedded(keys_dir, create=False)
    key = ring.master_key(key_id)
    _archive(keys_dir, ring.current_id, ring.master_key())
    _replace(keys_dir / CURRENT_FILE, format_entry(key_id, key))


def rotate_master_key(instance_path: PathLike) -> str:
    """Add a new key to the embedded keyring and make it current; old keys stay for reading."""
    return create_master_key(instance_path, make_current=True)
