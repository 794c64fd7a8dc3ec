"""Reading entity records: filters from the `search` fields, sorting on `sort` fields, pages, one
record by key and the records that refer to it, all within the caller's scope."""
from __future__ import annotations

import datetime as dt
from typing import Mapping, Optional

from sqlalchemy import Table, func, select, true

from lowcode import personal, scoping
from lowcode.entities import access, catalogue
from lowcode.entities.spec import Entity, Field
from lowcode.extensions import db
from lowcode.task_queries import Page, capped_ids, counted

PAGE_SIZES = (20, 50, 100)
RELATED_LIMIT = 10
BOOLEAN_ARGS = {"1": True, "true": True, "是": True, "0": False, "false": False, "否": False}


class QueryInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(f"{k}：{v}" for k, v in errors.items()))
        self.errors = errors


def _value(field: Field, text: str):
    """The typed filter value, or a ValueError whose message says what was expected."""
    if field.type == "integer":
        if not text.lstrip("-").isdigit():
            raise ValueError("应为整数")
        return int(text)
    if field.type == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError("应为数字") from None
    if field.type == "boolean":
        if text.lower() not in BOOLEAN_ARGS:
            raise ValueError("应为 1（是）或 0（否）")
        return BOOLEAN_ARGS[text.lower()]
    if field.type == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError("应为日期，如 2026-01-31") from None
    if field.type == "enum" and text not in dict(field.choices):
        raise ValueError(f"应为以下之一：{'、'.join(v for v, _ in field.choices)}")
    if field.max_length and len(text) > field.max_length:
        raise ValueError(f"不能超过 {field.max_length} 个字符")
    return text


def parse_filters(entity: Entity, args: Mapping[str, str]) -> dict[str, object]:
    """The filters a request asks for (argument = field name); QueryInvalid names each bad one."""
    values, errors = {}, {}
    for field in entity.fields:
        text = (args.get(field.name) or "").strip()
        if field.search and text:
            try:
                values[field.name] = _value(field, text)
            except ValueError as invalid:
                errors[field.name] = f"{field.title}{invalid}"
    if errors:
        raise QueryInvalid(errors)
    return values


def _condition(entity: Entity, table: Table, field: Field, value):
    column = table.c[field.name]
    if field.personal:
        return table.c[field.index_column].in_(
            personal.index_candidates(entity.table_name, field.name, field.personal, value))
    if field.search == "prefix":
        return column.startswith(value, autoescape=True)
    if field.search == "contains":
        return column.contains(value, autoescape=True)
    return column == value


def scope_condition(entity: Entity, table: Table):
    """The records the caller's scope covers (scoping.owners_in_scope: one rule for the platform)."""
    owners = scoping.owners_in_scope()
    if owners is None:
        return true()
    departments, districts = owners
    if entity.department:
        return table.c[entity.department].in_(sorted(departments))
    return table.c[entity.district].in_(sorted(districts))


def _where(entity: Entity, table: Table, filters: dict) -> list:
    fields = entity.by_name
    return [scope_condition(entity, table), *(_condition(entity, table, fields[n], v) for n, v in filters.items())]


def page(entity: Entity, args: Mapping[str, str]) -> Page:
    """One page of records (rows as mappings); sort by a `sort` field (`sort`, `desc=1|0`) or newest first."""
    table = catalogue.table(entity)
    where = _where(entity, table, parse_filters(entity, args))
    sortable = {f.name for f in entity.fields if f.sort}
    sort = args.get("sort") if args.get("sort") in sortable else "id"
    desc = args.get("desc", "1") != "0"
    size = int(args["page_size"]) if str(args.get("page_size")) in {str(s) for s in PAGE_SIZES} else PAGE_SIZES[0]
    number = int(args["page"]) if str(args.get("page", "")).isdigit() and int(args["page"]) > 0 else 1
    matching = select(table).where(*where)
    total, more = counted(capped_ids(matching))   # two million violations: a district's count cost 200 ms
    column = table.c[sort]
    order = [column.desc() if desc else column.asc()] + ([table.c.id.desc()] if sort != "id" else [])
    rows = db.session.execute(matching.order_by(*order).limit(size).offset((number - 1) * size))
    return Page([row._mapping for row in rows], total, number, max(1, -(-total // size)), sort, desc, more)


def one(entity: Entity, key: str) -> Optional[Mapping]:
    """The record with this business key, if the caller's scope covers it."""
    table = catalogue.table(entity)
    key_field = entity.field(entity.key)
    try:
        value = _value(key_field, key) if key_field.type == "integer" else key
    except ValueError:
        return None
    row = db.session.execute(select(table).where(table.c[entity.key] == value, scope_condition(entity, table))).first()
    return row._mapping if row else None


def related(entity: Entity, record: Mapping) -> list[tuple[Entity, Field, list[Mapping], int]]:
    """The records of the pack's entities that refer to this one (a station's riders…): the first
    few of each, newest first, and how many there are in the caller's scope."""
    found = []
    for other in catalogue.of_pack(entity.pack).values():
        for field in other.fields:
            if field.ref != entity.name:
                continue
            table = catalogue.table(other)
            where = [table.c[field.name] == record[entity.key], scope_condition(other, table)]
            total = db.session.scalar(select(func.count()).select_from(table).where(*where))
            rows = db.session.execute(select(table).where(*where).order_by(table.c.id.desc()).limit(RELATED_LIMIT))
            found.append((other, field, [row._mapping for row in rows], total))
    return found


def openable_refs(entity: Entity, fields: list[Field], rows: list[Mapping]) -> dict[str, set]:
    """Per ref field among `fields`, the keys of the rows' referred records the caller may open:
    the referred entity readable and the record in scope (a rider's station in another district
    is shown as text, not as a link that would answer 404). One query per ref field."""
    openable = {}
    for field in fields:
        referred = catalogue.find(entity.pack, field.ref) if field.ref else None
        keys = {row[field.name] for row in rows if row[field.name] is not None}
        if referred is None or not keys or not access.allowed(referred):
            openable[field.name] = set()
            continue
        table = catalogue.table(referred)
        column = table.c[referred.key]
        openable[field.name] = set(db.session.scalars(
            select(column).where(column.in_(sorted(keys)), scope_condition(referred, table))))
    return openable
