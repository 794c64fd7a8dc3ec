"""An entity record as shown: personal fields masked (or, for a permitted and audited reveal, in
clear), choices by their labels on pages, refs as links to the record referred to."""
from __future__ import annotations

import datetime as dt
from typing import Mapping, Optional

from urllib.parse import quote

from flask import url_for
from markupsafe import Markup, escape

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


def cells(entity: Entity, fields: list[Field], rows: list[Mapping], openable: Mapping[str, set],
          reveal: bool = False, link_key: bool = False) -> list[list[dict]]:
    """Per row, (field, text, html) per field: a ref links to the detail page of the record it
    names when that record is among the `openable` keys of its field (query.openable_refs), and
    with `link_key` the key to the row's own. The HTML is made here: a template macro per cell
    and a URL built per link cost a list page more than its queries."""
    own = _detail_prefix(entity.pack, entity.name) if link_key else None
    refs = {field.name: _detail_prefix(entity.pack, field.ref) for field in fields if field.ref}
    made = []
    for row in rows:
        line = []
        for field in fields:
            shown = text(entity, field, row, reveal)
            if field.name == entity.key and own is not None:
                href = own + quote(shown, safe="")
            elif field.name in refs and row[field.name] in openable.get(field.name, ()):
                href = refs[field.name] + quote(str(row[field.name]), safe="")
            else:
                href = None
            html = Markup('<a href="{}">{}</a>').format(href, shown) if href else escape(shown)
            line.append({"field": field, "text": shown, "html": html})
        made.append(line)
    return made


def _detail_prefix(pack: str, name: str) -> str:
    """The detail page's URL of `name`'s records, up to the key."""
    return url_for("EntitiesView.detail", _pack=pack, _entity=name, _key="-")[:-1]
