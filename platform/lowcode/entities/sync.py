"""基础信息同步: a peer system pushes a batch of records of one entity (up to 10,000); the batch is
stored verbatim and committed first, then each record is checked and the valid ones upserted by
their business key in multi-row statements. Sending the same batch again changes nothing."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import case, or_, select

from lowcode import audit, bulk, clock, dashboard_rollups, intake, personal
from lowcode.entities import catalogue, records
from lowcode.entities.spec import Entity
from lowcode.extensions import db
from lowcode.models import ApiClient, Department, EntityBatch

CHUNK = 1000
RAW_TABLE, RAW_COLUMN = "entity_batch", "raw"


def receive(client: ApiClient, entity: Entity, body: bytes) -> dict:
    """Answers per record; intake.BatchRefused when the body as a whole cannot be taken."""
    items, _ = intake.items_of(body)
    batch = _store(client, entity, body, len(items))
    answers, rows = check_all(entity, items)
    upsert(entity, rows)
    if rows:   # the dashboards counting this entity are counted again at the next poll
        dashboard_rollups.mark_stale(entity.pack, entity.name)
    accepted = sum(1 for a in answers if a["status"] == "accepted")
    batch.accepted, batch.rejected, batch.processed_at = accepted, len(answers) - accepted, clock.now()
    audit.record("sync_entities", "ApiClient", client.id,
                 f"{client.name}同步{entity.title} {len(items)} 条：接受 {accepted}、退回 {len(answers) - accepted}")
    db.session.commit()
    return {"count": len(items), "accepted": accepted, "rejected": len(answers) - accepted, "items": answers}


def _store(client: ApiClient, entity: Entity, body: bytes, count: int) -> EntityBatch:
    batch_id = uuid.uuid4().hex
    batch = EntityBatch(batch_id=batch_id, client_id=client.id, pack=entity.pack, entity=entity.name,
                        received_at=clock.now(), count=count,
                        raw=personal.encrypt(RAW_TABLE, RAW_COLUMN, batch_id, body.decode("utf-8")))
    db.session.add(batch)
    db.session.commit()
    return batch


def raw_text(batch: EntityBatch) -> str:
    """The body exactly as it was sent."""
    return personal.decrypt(RAW_TABLE, RAW_COLUMN, batch.batch_id, batch.raw)


def check_all(entity: Entity, items: list[Any]) -> tuple[list[dict], list[dict]]:
    """(an answer per item, the rows of the accepted ones)."""
    districts = set(db.session.scalars(select(Department.district_code).distinct()))
    checked = [records.check(entity, item, districts) for item in items]
    last = {values[entity.key]: i for i, (values, errors) in enumerate(checked) if not errors}
    for i, (values, errors) in enumerate(checked):
        if not errors and last[values[entity.key]] != i:
            errors[entity.key] = f"本批中重复，以第 {last[values[entity.key]] + 1} 条为准"
    _reference_errors(entity, checked)
    answers, accepted = [], []
    for position, (values, errors) in enumerate(checked):
        if errors:
            answers.append({"position": position, "status": "rejected", "errors": errors})
        else:
            answers.append({"position": position, "status": "accepted", "key": values[entity.key]})
            accepted.append(values)
    now = clock.now()
    return answers, [{**row, "synced_at": now} for row in records.rows(entity, accepted, now)]


def _reference_errors(entity: Entity, checked: list[tuple[dict, dict]]) -> None:
    """A ref must name a record that exists (one query per ref field for the whole batch)."""
    entities = catalogue.of_pack(entity.pack)
    for field in (f for f in entity.fields if f.ref):
        target = entities[field.ref]
        wanted = {values[field.name] for values, errors in checked if not errors and values.get(field.name) is not None}
        table = catalogue.table(target)
        found = set()
        for chunk in _chunks(sorted(wanted, key=str), CHUNK):
            found |= set(db.session.scalars(select(table.c[target.key]).where(table.c[target.key].in_(chunk))))
        for values, errors in checked:
            value = values.get(field.name)
            if not errors and value is not None and value not in found:
                errors[field.name] = f"{field.title} {value} 不存在（{target.title}）"


def _chunks(items: list, size: int):
    return (items[start:start + size] for start in range(0, len(items), size))


def upsert(entity: Entity, rows: list[dict]) -> None:
    """Insert or update by business key, a thousand rows a statement. `updated_at` moves only
    when something changed (personal values compared by their blind index: tokens always differ)."""
    table = catalogue.table(entity)
    content = [f.index_column if f.personal else f.name for f in entity.fields if f.name != entity.key]
    for chunk in _chunks(rows, CHUNK):
        statement = bulk.conflict_insert(db.engine.dialect.name, table).values(chunk)
        new = statement.excluded
        changed = or_(*(table.c[name].is_distinct_from(new[name]) for name in content))
        columns = [f.name for f in entity.fields] + [f.index_column for f in entity.fields if f.personal]
        statement = statement.on_conflict_do_update(index_elements=[entity.key], set_={
            **{name: new[name] for name in columns if name != entity.key},
            "updated_at": case((changed, new.updated_at), else_=table.c.updated_at),
            "synced_at": new.synced_at,
        })
        db.session.execute(statement)
