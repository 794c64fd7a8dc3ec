"""Key rotation: re-encrypt every encrypted column (and the personal values inside JSON
documents) and rebuild every blind index under the current master key, in batches, resumably (a
value already under the current key is left alone, so an interrupted run simply continues), with
an audit record per batch. Values still in clear (written before encryption existed) are
encrypted on the way, so the same command also brings old data under encryption.

The audit chain is not rewritten: each mac names its key, and old keys stay in the ring.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from sqlalchemy import or_, select, update

from lowcode import audit, intake, keyring, personal
from lowcode.crypto import fields
from lowcode.extensions import db

BATCH = 500


@dataclass(frozen=True)
class EncryptedColumn:
    table: object  # the Table
    column: str
    row: Callable  # row -> the row part of its associated data
    index: Optional[str] = None  # the blind index column next to it
    kind: Optional[str] = None  # normalisation of the index (personal.KINDS)


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of the application."""
    from lowcode.entities import catalogue, sync
    from lowcode.models import EntityBatch, InboundWarning, Officer

    columns = [EncryptedColumn(InboundWarning.__table__, intake.RAW_COLUMN, lambda r: f"{r.batch_id}/{r.position}"),
               EncryptedColumn(EntityBatch.__table__, sync.RAW_COLUMN, lambda r: r.batch_id)]
    for model in (Officer,):
        for token_attr, index_attr, kind in model.__personal__.values():
            column = model.__mapper__.column_attrs[token_attr].columns[0].name
            index = model.__mapper__.column_attrs[index_attr].columns[0].name
            columns.append(EncryptedColumn(model.__table__, column, lambda r: r.id, index, kind))
    for entity in catalogue.in_force().values():   # bound to the business key, not the id
        columns += [EncryptedColumn(catalogue.table(entity), field.name, lambda r, key=entity.key: r._mapping[key],
                                    field.index_column, field.personal)
                    for field in entity.fields if field.personal]
    return columns


def _stale(spec: EncryptedColumn, current: str):
    table = spec.table
    condition = table.c[spec.column].is_not(None) & ~table.c[spec.column].startswith(f"{fields.VERSION}.{current}.")
    if spec.index:
        condition = or_(condition, table.c[spec.index].is_not(None) & ~table.c[spec.index].startswith(f"{current}."))
    return condition


def rotate_column(spec: EncryptedColumn, *, batch: int = BATCH, max_batches: Optional[int] = None) -> int:
    """Bring one column under the current key; returns the number of rows rewritten."""
    ring, table, done, batches = keyring.keyring(), spec.table, 0, 0
    while max_batches is None or batches < max_batches:
        rows = db.session.execute(select(table).where(_stale(spec, ring.current_id)).order_by(table.c.id)
                                  .limit(batch).execution_options(unscoped=True)).all()
        if not rows:
            break
        for row in rows:
            context = fields.field_context(table.name, spec.column, spec.row(row))
            token = row._mapping[spec.column]
            values = {}
            if token is not None:
                try:
                    plaintext = fields.decrypt_field(ring, token, context)
                except fields.MalformedToken:  # written in clear before encryption existed: encrypt it now
                    plaintext = token
                current = plaintext != token and fields.token_key_id(token) == ring.current_id
                values[spec.column] = token if current else fields.encrypt_field(ring, plaintext, context)
                if spec.index:
                    values[spec.index] = personal.blind_index(table.name, spec.column, spec.kind, plaintext)
            else:
                values[spec.index] = None
            db.session.execute(update(table).where(table.c.id == row.id).values(**values))
        audit.record("rotate_keys", table.name, None,
                     f"按主密钥 {ring.current_id} 重新加密 {table.name}.{spec.column}：{len(rows)} 行"
                     f"（id {rows[0].id}–{rows[-1].id}）")
        db.session.commit()  # each batch stands on its own: an interruption loses nothing
        done, batches = done + len(rows), batches + 1
    return done


def document_columns() -> list:
    """JSON columns whose x-personal values are field tokens inside the document."""
    from lowcode.models import Clue, FormDraft, FormSubmission

    return [Clue.__table__.c.payload, FormSubmission.__table__.c.data, FormDraft.__table__.c.data]


def rotate_documents(column, *, batch: int = BATCH) -> int:
    """Re-encrypt the tokens inside one JSON column; every row is read, only changed rows written."""
    table, last, done = column.table, 0, 0
    while True:
        rows = db.session.execute(select(table.c.id, column).where(table.c.id > last).order_by(table.c.id)
                                  .limit(batch).execution_options(unscoped=True)).all()
        if not rows:
            return done
        changed = 0
        for row_id, document in rows:
            new, was_changed = personal.reencrypt_document(document)
            if was_changed:
                db.session.execute(update(table).where(table.c.id == row_id).values({column.name: new}))
                changed += 1
        if changed:
            audit.record("rotate_keys", table.name, None,
                         f"按主密钥 {keyring.keyring().current_id} 重新加密 {table.name}.{column.name} 中的个人信息："
                         f"{changed} 行（id {rows[0].id}–{rows[-1].id}）")
        db.session.commit()
        last, done = rows[-1].id, done + changed


def rebuild_document_indexes(*, batch: int = BATCH) -> int:
    """Recompute the blind indexes of personal values in documents that are not under the current key."""
    from lowcode.models import Clue, PersonalIndex

    documents = {"Clue": Clue.__table__.c.payload}
    current, done = keyring.keyring().current_id, 0
    while True:
        rows = db.session.scalars(select(PersonalIndex).where(~PersonalIndex.value_index.startswith(f"{current}."))
                                  .order_by(PersonalIndex.id).limit(batch)).all()
        if not rows:
            return done
        for row in rows:
            column = documents[row.object_type]
            data = db.session.execute(select(column).where(column.table.c.id == row.object_id)).scalar()
            row.value_index = personal.blind_index(personal.FORM_TABLE, row.kind, row.kind,
                                                   personal.document_value(data, row.field))
        audit.record("rotate_keys", "personal_index", None,
                     f"按主密钥 {current} 重建个人信息盲索引：{len(rows)} 行（id {rows[0].id}–{rows[-1].id}）")
        db.session.commit()
        done += len(rows)


def rotate_all(*, batch: int = BATCH) -> dict[str, int]:
    counts = {f"{spec.table.name}.{spec.column}": rotate_column(spec, batch=batch) for spec in encrypted_columns()}
    counts.update({f"{c.table.name}.{c.name}": rotate_documents(c, batch=batch) for c in document_columns()})
    counts["personal_index.value_index"] = rebuild_document_indexes(batch=batch)
    return counts
