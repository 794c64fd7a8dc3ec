"""An entity record as shown: personal fields masked (or, for a permitted and audited reveal, in
clear), choices by their labels on pages, refs as links to the record referred to."""
from __future__ import annotations

import datetime as dt
from typing import Mapping, Optional

from flask import url_for

from lowcode import personal
from lowcode.entities.spec import Entity, Field


def clear_value(entity: Entity, field: Field, record: Mapping) -> Optional[str]:
    """A personal field's value: its token is bound to (table, field, the record's business key)."""
    token = record[field.name]
    return personal.decrypt(entity.table_name, field.name, record[entity.key], token) if token else None


def value(entity: Entity, field: Field, record: Mapping, reveal: bool = False):
    """The value as the API gives it: JSON types, personal values masked unless revealed."""
    raw = record[field.name]
    if field.personal:
        clear = clear_value(entity, field, record)
        return clear if reveal else personal.mask(field.personal, clear)
    return raw.isoformat() if isinstance(raw, (dt.date, dt.datetime)) else raw


def record(entity: Entity, row: Mapping, reveal: bool = False) -> dict:
    values = {field.name: value(entity, field, row, reveal) for field in entity.fields}
    return {"id": row["id"], **values, **{name: row[name] and row[name].isoformat()
                                          for name in ("created_at", "updated_at", "synced_at")}}


def text(entity: Entity, field: Field, row: Mapping, reveal: bool = False) -> str:
    """The value as a page shows it."""
    shown = value(entity, field, row, reveal)
    if shown is None or shown == "":
        return ""
    if field.type == "boolean":
        return "是" if shown else "否"
    if field.type == "enum":
        return field.label(shown)
    if field.type == "datetime":
        return shown.replace("T", " ")[:16]
    return str(shown)


def cells(entity: Entity, fields: list[Field], row: Mapping, openable: Mapping[str, set],
          reveal: bool = False) -> list[dict]:
    """(text, href) per field; a ref's href is the detail page of the record it names, when that
    record is among the `openable` keys of its field (query.openable_refs)."""
    return [{"field": field, "text": text(entity, field, row, reveal),
             "href": url_for("EntitiesView.detail", _pack=entity.pack, _entity=field.ref, _key=str(row[field.name]))
             if field.ref and row[field.name] in openable.get(field.name, ()) else None}
            for field in fields]
