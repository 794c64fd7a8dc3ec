"""Receiving warnings: every item is stored verbatim first (so nothing is lost if the process
dies), then validated against its warning type's payload form, deduplicated on (type, source_id),
and turned into a clue — one per warning, or merged per subject within a window, as the warning
type says. Clue processes start in a job, so a batch of thousands answers in seconds."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import select

from lowcode import audit, bulk, clock, form_service, jobs, json_batch, personal, publishing
from lowcode.extensions import db
from lowcode.flow import actions
from lowcode.models import ApiClient, Clue, Department, InboundWarning, PersonalIndex

MAX_BATCH = 10_000
CHUNK = 500
ENVELOPE_FIELDS = {"type": "预警类型", "source_id": "来源编号", "occurred_at": "发生时间", "district_code": "行政区划代码",
                   "subject": "预警对象", "payload": "预警内容"}


RAW_TABLE, RAW_COLUMN = "inbound_warning", "raw"


class BatchRefused(ValueError):
    """The request as a whole cannot be taken (not JSON, too many items); nothing was stored."""


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(client: ApiClient) -> str:
    """A new API key for the client; only its hash is kept, so it is shown once."""
    key = "lc_" + secrets.token_urlsafe(32)
    client.key_prefix, client.key_hash = key[:12], _key_hash(key)
    return key


def authenticate(key: str | None) -> ApiClient | None:
    if not key or len(key) < 12:
        return None
    for client in db.session.scalars(select(ApiClient).where(ApiClient.key_prefix == key[:12], ApiClient.active)):
        if hmac.compare_digest(client.key_hash, _key_hash(key)):
            client.last_used_at = clock.now()
            return client
    return None


def items_of(body: bytes) -> tuple[list[Any], list[str]]:
    """The items of a body (a batch {"items": [...]}, or one warning), each with its text as sent."""
    try:
        text = body.decode("utf-8")
        document, items, texts = json_batch.split(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise BatchRefused(f"请求体不是合法的 JSON：{error}") from error
    if items is None:
        if isinstance(document, dict) and "items" in document:
            raise BatchRefused("items 应为非空数组")
        items, texts = [document], [text.strip()]
    if not items:
        raise BatchRefused("items 应为非空数组")
    if len(items) > MAX_BATCH:
        raise BatchRefused(f"一批最多 {MAX_BATCH} 条，本批 {len(items)} 条")
    return items, texts


def store(client: ApiClient, items: list[Any], texts: list[str] | None = None) -> list[int]:
    """Write every item as received, before any check, and commit: the durable first step. `texts`:
    the items as sent (items_of); items made by the platform itself are stored as JSON."""
    batch_id, now = uuid.uuid4().hex, clock.now()
    texts = texts if texts is not None else [json.dumps(item, ensure_ascii=False) for item in items]
    rows = [{"client_id": client.id, "batch_id": batch_id, "position": i, "received_at": now, "status": "received",
             "raw": personal.encrypt(RAW_TABLE, RAW_COLUMN, f"{batch_id}/{i}", text),
             "warning_type": item.get("type") if isinstance(item, dict) and isinstance(item.get("type"), str) else None,
             "source_id": str(item.get("source_id"))[:100] if isinstance(item, dict) and item.get("source_id") is not None else None}
            for i, (item, text) in enumerate(zip(items, texts))]
    ids = bulk.insert_rows(db.session.connection(), InboundWarning.__table__, rows)
    db.session.commit()
    return ids


def raw_text(row: InboundWarning) -> str:
    """The item exactly as it was sent (stored as one SM4-GCM token bound to its batch and position)."""
    return personal.decrypt(RAW_TABLE, RAW_COLUMN, f"{row.batch_id}/{row.position}", row.raw)


def _envelope_errors(item: Any, packs: dict) -> dict[str, str]:
    if not isinstance(item, dict):
        return {"": "每条预警应为 JSON 对象"}
    errors = {f: f"缺少{label}" for f, label in ENVELOPE_FIELDS.items() if item.get(f) in (None, "")}
    if "type" not in errors and item["type"] not in packs:
        errors["type"] = f"未知的预警类型 {item['type']}"
    if "district_code" not in errors and not re.fullmatch(r"31\d{4}", str(item["district_code"])):
        errors["district_code"] = "应为上海市的 6 位行政区划代码"
    if "occurred_at" not in errors:
        try:
            dt.datetime.fromisoformat(str(item["occurred_at"]))
        except ValueError:
            errors["occurred_at"] = "应为 ISO 8601 时间，如 2026-11-21T09:30:00+08:00"
    for field in ("subject", "payload"):
        if field not in errors and not isinstance(item[field], dict):
            errors[field] = "应为 JSON 对象"
    if "subject" not in errors and not item["subject"].get("id"):
        errors["subject/id"] = "缺少预警对象编号"
    return {**errors, **_attachment_errors(item.get("attachments", []))}


def _attachment_errors(attachments: Any) -> dict[str, str]:
    """Attachments stay on the sending system: each is a reference {name, url, content_type, size}."""
    if not isinstance(attachments, list):
        return {"attachments": "应为数组"}
    errors = {}
    for index, entry in enumerate(attachments):
        if not isinstance(entry, dict):
            errors[f"attachments/{index}"] = "应为 JSON 对象：{name, url, content_type, size}"
        elif not isinstance(entry.get("url"), str) or not re.match(r"https?://[^\s/]+", entry["url"]):
            errors[f"attachments/{index}/url"] = "应为 http(s) 地址"
        elif "size" in entry and not (isinstance(entry["size"], int) and entry["size"] >= 0):
            errors[f"attachments/{index}/size"] = "应为非负整数（字节）"
    return errors


def _payload_errors(item: dict, pack) -> dict[str, str]:
    form = form_service.form_for(pack, pack.warning_types[item["type"]].content["payload_form"])
    return {"/".join(["payload", *filter(None, path.split("."))]): "；".join(messages)
            for path, messages in form.errors(item["payload"]).items()}


def _owners() -> dict[str, Department]:
    """Who judges a clue: the 总队, or the 支队 of the warning's district."""
    departments = db.session.scalars(select(Department).where(Department.depth <= 1)).all()
    owners = {d.district_code: d for d in departments if d.depth == 1}
    owners["city"] = next(d for d in departments if d.depth == 0)
    return owners


def process(ids: Iterable[int], start_processes: bool = True, items: dict[int, Any] | None = None) -> list[dict]:
    """Validate, deduplicate and turn stored items into clues; returns one answer per item. The
    new clues' processes start in Celery jobs, one per chunk, unless the caller starts them itself. `items`: the
    stored items by id as the caller just parsed them (else each is read back and decrypted).
    Each chunk is a few statements: clues, their audit events and personal indexes inserted in
    bulk, the items' outcomes in one bulk update, then a commit."""
    packs = publishing.warning_packs()
    answers = []
    ids = list(ids)
    dialect = db.engine.dialect.name
    columns = ITEM_COLUMNS if items is not None else (*ITEM_COLUMNS, InboundWarning.raw)
    for start in range(0, len(ids), CHUNK):
        owners = _owners()  # one query per chunk: a commit expires them, and each would reload alone
        rows = db.session.execute(select(*columns).where(bulk.among(dialect, InboundWarning.id, ids[start:start + CHUNK]))
                                  .order_by(InboundWarning.id)).all()
        accepted = _accepted_clues(dialect, rows)
        chunk = Chunk()
        outcomes = [_process_one(row, items[row.id] if items is not None else json.loads(raw_text(row)),
                                 packs, owners, accepted, chunk) for row in rows]
        chunk.insert()
        now = clock.now()
        updates = []
        for row, (answer, clue) in zip(rows, outcomes):
            if clue is not None:
                answer["clue_id"] = clue if isinstance(clue, int) else clue.id
            updates.append({"id": row.id, "status": answer["status"], "errors": answer.get("errors"),
                            "clue_id": answer.get("clue_id"), "processed_at": now})
            answers.append(answer)
        bulk.update_rows(db.session.connection(), InboundWarning.__table__, updates)
        db.session.commit()
        if chunk.new and start_processes:  # queued as soon as committed: the worker starts while we go on
            jobs.start_clue_processes([clue.id for clue in chunk.new])
    return answers


ITEM_COLUMNS = (InboundWarning.id, InboundWarning.batch_id, InboundWarning.position, InboundWarning.warning_type,
                InboundWarning.source_id)


@dataclass
class NewClue:
    """A clue made in this chunk, not inserted yet: its columns, and the blind indexes of its
    payload's searchable values (made from the clear values, not by decrypting the stored ones)."""

    values: dict
    indexes: list[personal.IndexEntry]
    id: int | None = None


class Chunk:
    """Clues made in this chunk, not yet inserted: new ones, and those open for merging by subject."""

    def __init__(self):
        self.new: list[NewClue] = []
        self.by_subject: dict[tuple[str, str], NewClue] = {}

    def insert(self) -> None:
        """The clues in one bulk insert (ids back in order), their audit events in one append, and the
        blind indexes of their 身份证号 and 手机号 (for personal.find_documents) in one bulk insert."""
        if not self.new:
            return
        ids = bulk.insert_rows(db.session.connection(), Clue.__table__, [clue.values for clue in self.new])
        for clue, clue_id in zip(self.new, ids):
            clue.id = clue.values["id"] = clue_id
        audit.record_inserted(Clue, [clue.values for clue in self.new], [clue.values["title"] for clue in self.new])
        indexes = [row for clue in self.new for row in personal.index_rows("Clue", clue.id, clue.indexes)]
        bulk.copy_rows(db.session.connection(), PersonalIndex.__table__, indexes)


def _accepted_clues(dialect: str, rows) -> dict[tuple[str, str], int]:
    pairs = {(r.warning_type, r.source_id) for r in rows if r.warning_type and r.source_id}
    if not pairs:
        return {}
    found = db.session.execute(select(InboundWarning.warning_type, InboundWarning.source_id, InboundWarning.clue_id)
                               .where(InboundWarning.status == "accepted",
                                      bulk.pairs_among(dialect, InboundWarning.warning_type, InboundWarning.source_id, pairs)))
    return {(t, s): c for t, s, c in found}


def _process_one(row, item: Any, packs: dict, owners, accepted: dict, chunk: Chunk) -> tuple[dict, NewClue | int | None]:
    """The answer for one stored item, and the clue it went to (an id, or one not inserted yet)."""
    errors = _envelope_errors(item, packs)
    if not errors:
        errors = _payload_errors(item, packs[item["type"]])
    if errors:
        return {"position": row.position, "status": "rejected", "errors": errors}, None
    key = (row.warning_type, row.source_id)
    status = "duplicate" if key in accepted else "accepted"
    clue = accepted[key] if key in accepted else _clue_for(item, packs[item["type"]], owners, chunk)
    accepted[key] = clue
    return {"position": row.position, "status": status}, clue


def _clue_for(item: dict, pack, owners, chunk: Chunk) -> NewClue | int:
    warning = pack.warning_types[item["type"]].content
    generation = warning["clue_generation"]
    subject = item["subject"]
    merging = generation["mode"] == "merge_by_subject"
    merge_key = (item["type"], str(subject["id"]))
    person = warning.get("subject_personal", False)  # its id and name never stored in clear
    if merging:
        since = clock.now() - dt.timedelta(hours=generation["window_hours"])
        keys = personal.subject_keys(merge_key[1]) if person else [merge_key[1]]
        existing = chunk.by_subject.get(merge_key) or db.session.scalar(
            select(Clue.id).where(Clue.warning_type == item["type"], Clue.subject_key.in_(keys),
                                  Clue.created_at >= since).order_by(Clue.id.desc()).limit(1)
            .execution_options(unscoped=True))
        if existing is not None:
            return existing
    binding = pack.process_bindings[warning["process_binding"]].content
    owner_rule = binding["clue_owner"][warning["source"]]
    department = owners["city"] if owner_rule == "city" else owners.get(str(item["district_code"]), owners["city"])
    subject, label = {**subject, "id": merge_key[1]}, subject.get("name") or subject["id"]
    if person:
        subject, subject_key, label = personal.protect_subject(subject)
    payload, indexes = personal.protect_and_index(form_service.form_for(pack, warning["payload_form"]), item["payload"])
    values = actions.clue_values(pack, warning_type=item["type"], title=f"{warning['name']}：{label}",
                                 department=department, source=warning["source"], subject=subject, payload=payload)
    if person:
        values["subject_key"] = subject_key
    clue = NewClue(values, indexes)
    chunk.new.append(clue)
    if merging:
        chunk.by_subject[merge_key] = clue
    return clue


def receive(client: ApiClient, body: bytes) -> dict:
    items, texts = items_of(body)
    ids = store(client, items, texts)
    answers = process(ids, items=dict(zip(ids, items)))
    counts = {status: sum(1 for a in answers if a["status"] == status) for status in ("accepted", "duplicate", "rejected")}
    audit.record("receive_warnings", "ApiClient", client.id,
                 f"{client.name}推送预警 {len(items)} 条：受理 {counts['accepted']}、重复 {counts['duplicate']}、退回 {counts['rejected']}")
    db.session.commit()
    return {"count": len(items), **counts, "items": answers}


def replay(ids: Iterable[int]) -> list[dict]:
    """Process stored items again (after a fix of the definitions or of the sender's data)."""
    rows = db.session.scalars(select(InboundWarning).where(InboundWarning.id.in_(list(ids)),
                                                           InboundWarning.status.in_(("rejected", "received")))).all()
    for row in rows:
        row.status, row.errors = "received", None
    db.session.commit()
    return process([r.id for r in rows])
