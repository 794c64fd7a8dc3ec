"""Backup and restore: every table as JSON lines, every attachment file, and an SM3 manifest.

A backup is a directory:

    manifest.json        format, schema revision, time; per table its row count and the SM3 of
                         its file; per attachment the SM3 of its bytes
    manifest.mac         HMAC-SM3 of manifest.json under the master keyring ("<key id>.<hex>")
    tables/<name>.jsonl  one JSON object per row, in primary-key order
    files/<xx>/<key>     the attachment files, as stored

The format is the same for SQLite and PostgreSQL, so a backup of one restores into the other.
Restoring checks the manifest's mac and every digest before it writes anything, and writes into
a database that holds no data yet (the schema is migrated first), in one transaction. Encrypted
columns stay encrypted: a restore needs the same master keys (keep them apart from backups).
"""
from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import shutil
from pathlib import Path
from typing import Iterator

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as sm3_hmac
from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, LargeBinary, create_engine, func, insert, select, text
from sqlalchemy.engine import Connection

from lowcode import clock, migrate
from lowcode.crypto import keys

FORMAT = "lowcode-backup/1"
MAC_PURPOSE = "backup:manifest"
CHUNK = 1 << 20
BATCH = 1000
# Filled by migrating (the chain head) or `lowcode migrate` (permissions) before any data exists:
# a restore replaces them with the backup's.
PREFILLED_TABLES = {"ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role",
                    "audit_chain_head"}
# Not data: the security version only ever moves within one database (a restore's own writes move it).
NOT_BACKED_UP = {"security_stamp"}


class BackupRefused(RuntimeError):
    """The backup is tampered with, incomplete, of another schema, or the target is not empty."""


def _tables():
    import lowcode.models  # noqa: F401  (registers every table on the metadata)

    return [table for table in Model.metadata.sorted_tables if table.name not in NOT_BACKED_UP]


def _encoder(column):
    if isinstance(column.type, LargeBinary):
        return lambda v: None if v is None else base64.b64encode(v).decode("ascii")
    if isinstance(column.type, (DateTime, Date)):
        return lambda v: None if v is None else v.isoformat()
    return lambda v: v


def _decoder(column):
    if isinstance(column.type, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    if isinstance(column.type, DateTime):
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if isinstance(column.type, Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    return lambda v: v


def _sm3_file(path: Path) -> str:
    digest = hashes.Hash(hashes.SM3())
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.finalize().hex()


def _mac(keyring: keys.Keyring, data: bytes, key_id: str | None = None) -> str:
    key_id = key_id or keyring.current_id
    mac = sm3_hmac.HMAC(keyring.derive(MAC_PURPOSE, key_id=key_id), hashes.SM3())
    mac.update(data)
    return f"{key_id}.{mac.finalize().hex()}"


def _revision(connection: Connection) -> str | None:
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _dump_table(connection: Connection, table, target: Path) -> int:
    encoders = {c.name: _encoder(c) for c in table.columns}
    count = 0
    with target.open("w", encoding="utf-8") as out:
        rows = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*table.primary_key.columns))
        for row in rows:
            values = {name: encoders[name](value) for name, value in row._mapping.items()}
            out.write(json.dumps(values, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def backup(url: str, storage_root: Path, path: Path, keyring: keys.Keyring) -> dict:
    """Write a backup of the database at `url` and the attachments under `storage_root` to `path`."""
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise BackupRefused(f"备份目录 {path} 已存在且不为空")
    (path / "tables").mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        # One read transaction: on PostgreSQL REPEATABLE READ gives every table the same snapshot.
        options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
        with engine.connect().execution_options(**options) as connection:
            tables = {}
            for table in _tables():
                target = path / "tables" / f"{table.name}.jsonl"
                rows = _dump_table(connection, table, target)
                tables[table.name] = {"rows": rows, "sm3": _sm3_file(target)}
            revision = _revision(connection)
    finally:
        engine.dispose()
    files = {}
    for source in sorted(Path(storage_root).glob("*/*")) if Path(storage_root).exists() else []:
        if source.is_file() and not source.name.startswith("."):
            relative = f"{source.parent.name}/{source.name}"
            (path / "files" / source.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, path / "files" / relative)
            files[relative] = _sm3_file(path / "files" / relative)
    manifest = {"format": FORMAT, "created_at": clock.now().isoformat(), "revision": revision,
                "tables": tables, "files": files}
    data = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    (path / "manifest.json").write_bytes(data)
    (path / "manifest.mac").write_text(_mac(keyring, data) + "\n", encoding="ascii")
    return manifest


def check(path: Path, keyring: keys.Keyring) -> dict:
    """The manifest of an intact backup; BackupRefused naming what is wrong otherwise."""
    path = Path(path)
    try:
        data = (path / "manifest.json").read_bytes()
        stored = (path / "manifest.mac").read_text(encoding="ascii").strip()
    except OSError as error:
        raise BackupRefused(f"不是完整的备份：{error}") from None
    key_id = stored.partition(".")[0]
    if key_id not in keyring or not hmac.compare_digest(_mac(keyring, data, key_id), stored):
        raise BackupRefused("manifest.json 的 HMAC-SM3 校验失败：清单被改动，或主密钥与备份时不同")
    manifest = json.loads(data)
    if manifest.get("format") != FORMAT:
        raise BackupRefused(f"不支持的备份格式 {manifest.get('format')}")
    expected = {f"tables/{name}.jsonl": entry["sm3"] for name, entry in manifest["tables"].items()}
    expected.update({f"files/{name}": digest for name, digest in manifest["files"].items()})
    for relative, digest in sorted(expected.items()):
        target = path / relative
        if not target.is_file():
            raise BackupRefused(f"备份文件 {relative} 缺失")
        if _sm3_file(target) != digest:
            raise BackupRefused(f"备份文件 {relative} 的 SM3 与清单不符：已被改动")
    present = {str(p.relative_to(path)) for sub in ("tables", "files") for p in (path / sub).rglob("*")
               if p.is_file()}
    extra = sorted(present - set(expected))
    if extra:
        raise BackupRefused(f"备份中有清单以外的文件：{extra[0]}")
    return manifest


def _rows(target: Path, table) -> Iterator[list[dict]]:
    decoders = {c.name: _decoder(c) for c in table.columns}
    batch = []
    with target.open(encoding="utf-8") as handle:
        for line in handle:
            batch.append({name: decoders[name](value) for name, value in json.loads(line).items()})
            if len(batch) == BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def restore(url: str, storage_root: Path, path: Path, keyring: keys.Keyring) -> dict:
    """Restore a checked backup into the (empty) database at `url` and the storage folder."""
    manifest = check(path, keyring)
    migrate.upgrade(url, manifest["revision"] or "head")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for table in _tables():
                if table.name not in PREFILLED_TABLES and connection.execute(
                        select(func.count()).select_from(table)).scalar():
                    raise BackupRefused(f"目标数据库不是空的：表 {table.name} 已有数据，拒绝覆盖")
            for table in reversed(_tables()):
                if table.name in PREFILLED_TABLES:
                    connection.execute(table.delete())
            for table in _tables():
                for batch in _rows(Path(path) / "tables" / f"{table.name}.jsonl", table):
                    connection.execute(insert(table), batch)
            if engine.dialect.name == "postgresql":
                _reset_sequences(connection)
    finally:
        engine.dispose()
    for relative in manifest["files"]:
        target = Path(storage_root) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(path) / "files" / relative, target)
    return manifest


def _reset_sequences(connection: Connection) -> None:
    """After rows were inserted with their ids, the next generated id must follow the largest."""
    for table in _tables():
        if "id" not in table.columns or list(table.primary_key.columns) != [table.c.id]:
            continue
        sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if sequence:
            largest = connection.execute(select(func.max(table.c.id))).scalar() or 0
            connection.execute(text("SELECT setval(:s, :n, false)"), {"s": sequence, "n": largest + 1})
