"""The audit trail as an HMAC-SM3 hash chain with SM2-signed checkpoints.

Every audit row gets a position (`seq`, 1, 2, ...) and `mac = HMAC-SM3(key, previous mac ||
canonical content)`, written in the transaction that writes the row. Appends first lock the
single `audit_chain_head` row (an UPDATE: a row lock on PostgreSQL, the write lock on SQLite), so
concurrent writers queue instead of forking the chain. Each mac names the master key it was made
with, so the chain continues across key rotations. Every `AUDIT_CHECKPOINT_EVERY` positions the
head is signed with the platform's SM2 key, which pins it against truncation.

`verify` walks the chain and names the first bad position: a changed row (mac mismatch), a
deleted one (a gap, or a head beyond the last row) or an inserted one (no position, or a mac that
does not follow).
"""
from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from functools import cache
from typing import Iterable, Optional

from sqlalchemy import bindparam, insert, select, text, update

from lowcode import bulk, clock, keyring
from lowcode.crypto import chain, sm2
from lowcode.crypto.errors import CryptoError
from lowcode.models.audit import AuditChainHead, AuditCheckpoint, AuditEvent

EVENTS = AuditEvent.__table__
HEAD = AuditChainHead.__table__
CHECKPOINTS = AuditCheckpoint.__table__
HEAD_ID = 1
GENESIS = "lowcode/audit"
# What a mac covers: every column but the id (a surrogate) and the mac itself.
CONTENT = ("seq", "at", "actor_id", "actor_name", "dept_path", "action", "object_type", "object_id",
           "summary", "before", "after", "request_id", "client_addr")


def _plain(value):
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else value


def content(row) -> bytes:
    """The canonical bytes of a row (a dict or a result row) that its mac covers."""
    get = row.get if isinstance(row, dict) else row._mapping.get
    return chain.canonical_record({name: _plain(get(name)) for name in CONTENT})


def _mac(key_id: str, previous: bytes, row) -> str:
    key = keyring.keyring().derive(chain.CHAIN_PURPOSE, key_id=key_id)
    return f"{key_id}.{chain.link(previous, content(row), key).hex()}"


def _genesis() -> bytes:
    # One genesis for the life of the database: derived from a fixed label, not from a key that
    # rotation could retire (the chain key itself is per row).
    return chain.genesis_mac(b"lowcode/audit-genesis/v1", GENESIS)


def _previous(stored: Optional[str]) -> bytes:
    return bytes.fromhex(stored.partition(".")[2]) if stored else _genesis()


@cache
def _lock_head_statement():
    # The no-op UPDATE takes the lock and, returning the head, reads it in the same statement.
    return update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=HEAD.c.seq).returning(HEAD.c.seq, HEAD.c.mac)


def _lock_head(connection) -> tuple[int, Optional[str]]:
    """Take the chain's lock for this transaction and return (last position, last mac)."""
    head = connection.execute(_lock_head_statement()).first()
    if head is None:
        connection.execute(insert(HEAD).values(id=HEAD_ID, seq=0, mac=None))
        head = connection.execute(_lock_head_statement()).one()
    seq, mac = head
    if seq == 0:  # rows written before the chain existed are chained first, in their order
        seq, mac = _chain_unchained(connection, seq, mac)
    return seq, mac


def _chain_unchained(connection, seq: int, mac: Optional[str]) -> tuple[int, Optional[str]]:
    key_id = keyring.keyring().current_id
    for row in connection.execute(select(EVENTS).where(EVENTS.c.seq.is_(None)).order_by(EVENTS.c.id)).all():
        seq += 1
        values = {**row._mapping, "seq": seq}
        mac = _mac(key_id, _previous(mac), values)
        connection.execute(update(EVENTS).where(EVENTS.c.id == row.id).values(seq=seq, mac=mac))
    return seq, mac


@cache
def _move_head_statement():
    # Built once: building the UPDATE cost an eighth of an append (of a commit's two or three rows).
    return update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=bindparam("new_seq"), mac=bindparam("new_mac"))


def append(connection, rows: list[dict]) -> None:
    """Insert audit rows at the end of the chain, in the caller's transaction."""
    from flask import current_app

    first, mac = _lock_head(connection)
    key_id = keyring.keyring().current_id
    seq = first
    for row in rows:
        seq += 1
        row["seq"] = seq
        mac = _mac(key_id, _previous(mac), row)
        row["mac"] = mac
    head = {"new_seq": seq, "new_mac": mac}
    if connection.dialect.name == "postgresql" and len(rows) < bulk.COPY_FROM:
        # A commit's few rows and the head's move in one statement, the rows as arrays (one text
        # for any number of rows: psycopg and the server prepare it once).
        columns = tuple(rows[0])
        connection.execute(_append_statement(connection.dialect, columns),
                           {**head, **bulk.column_arrays(EVENTS, list(columns), rows)})
    else:
        bulk.copy_rows(connection, EVENTS, rows)
        connection.execute(_move_head_statement(), head)
    every = current_app.config.get("AUDIT_CHECKPOINT_EVERY") or 500
    if seq // every != first // every:
        checkpoint(connection, seq, mac)


@cache
def _append_statement(dialect, columns: tuple[str, ...]):
    """The head's move with rows of these columns inserted in its WITH."""
    return text(f"WITH appended AS (INSERT INTO {EVENTS.name} ({', '.join(columns)}) "
                f"SELECT * FROM {bulk.unnested(dialect, EVENTS, list(columns))}) "
                f"UPDATE {HEAD.name} SET seq = :new_seq, mac = :new_mac WHERE id = {HEAD_ID}")


def checkpoint(connection, seq: int, mac: str) -> None:
    """Sign (position, mac) with the platform's SM2 key and keep the signature."""
    key = keyring.signing_key()
    signature = chain.sign_checkpoint(seq, _previous(mac), key, keyring.signer_id())
    connection.execute(insert(CHECKPOINTS).values(
        seq=seq, mac=mac, signature=signature.hex(), signer_id=keyring.signer_id(),
        public_key=sm2.public_key_to_hex(key.public_key), at=clock.now()))


def checkpoint_now(connection) -> Optional[int]:
    """A checkpoint of the current head (e.g. at the end of a day); None when the chain is empty."""
    seq, mac = _lock_head(connection)
    if seq == 0:
        return None
    if connection.execute(select(CHECKPOINTS.c.id).where(CHECKPOINTS.c.seq == seq)).first() is None:
        checkpoint(connection, seq, mac)
    return seq


@dataclass
class Finding:
    position: int
    kind: str  # changed, deleted, inserted, checkpoint
    message: str


def _rows(connection, batch: int = 2000) -> Iterable:
    last = 0
    while True:
        rows = connection.execute(select(EVENTS).where(EVENTS.c.seq > last).order_by(EVENTS.c.seq)
                                  .limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(connection) -> list[Finding]:
    """Every problem found, the first bad position first; an empty list means the trail is intact."""
    findings: list[Finding] = []
    ring = keyring.keyring()
    checkpoints = connection.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.seq)).all()
    pinned = {cp.seq for cp in checkpoints}
    macs: dict[int, str] = {}  # of the checkpointed positions only
    expected, previous = 1, None
    for row in _rows(connection):
        if row.seq != expected:
            findings.append(Finding(expected, "deleted",
                                    f"第 {expected} 条起缺失 {row.seq - expected} 条记录（已删除）"))
            break
        key_id = (row.mac or "").partition(".")[0]
        if key_id not in ring:
            findings.append(Finding(row.seq, "changed", f"第 {row.seq} 条（id={row.id}）的校验值无效或密钥未知"))
            break
        if not hmac.compare_digest(_mac(key_id, _previous(previous), row), row.mac):
            findings.append(Finding(row.seq, "changed",
                                    f"第 {row.seq} 条（id={row.id}）内容与校验值不符（被修改或插入）"))
            break
        if row.seq in pinned:
            macs[row.seq] = row.mac
        previous, expected = row.mac, expected + 1
    last = expected - 1
    if not findings:
        head = connection.execute(select(HEAD.c.seq, HEAD.c.mac).where(HEAD.c.id == HEAD_ID)).first()
        if head is not None and (head.seq != last or head.mac != previous):
            findings.append(Finding(last + 1, "deleted",
                                    f"链头在第 {head.seq} 条，记录只到第 {last} 条（末尾记录被删除）"))
    for row in connection.execute(select(EVENTS.c.id).where(EVENTS.c.seq.is_(None)).order_by(EVENTS.c.id)):
        findings.append(Finding(last + 1, "inserted", f"记录 id={row.id} 不在链中（被插入）"))
    findings += _check_checkpoints(checkpoints, macs, None if findings else last)
    return sorted(findings, key=lambda f: f.position)


def _check_checkpoints(checkpoints, macs: dict[int, str], last: Optional[int]) -> list[Finding]:
    """Signatures always; positions only when the chain itself walked through (`last` given)."""
    findings = []
    public_key = keyring.signing_key().public_key
    for cp in checkpoints:
        try:
            chain.verify_checkpoint(cp.seq, _previous(cp.mac), bytes.fromhex(cp.signature), public_key, cp.signer_id)
        except (CryptoError, ValueError):
            findings.append(Finding(cp.seq, "checkpoint", f"第 {cp.seq} 条处的检查点签名无效"))
            continue
        if last is None:
            continue
        if cp.seq > last:
            findings.append(Finding(last + 1, "deleted",
                                    f"已签名检查点在第 {cp.seq} 条，记录只到第 {last} 条（末尾记录被删除）"))
        elif macs.get(cp.seq) != cp.mac:
            findings.append(Finding(cp.seq, "changed", f"第 {cp.seq} 条与已签名检查点不符"))
    return findings
