"""An entity's SQLAlchemy Core table: `ent_<pack>_<name>`, a bigint id, the business key unique,
one typed column per field (a personal field: its token, and a blind-index column beside it),
created_at / updated_at / synced_at, and the indexes its filters, sorts and refs need.

Entity tables live in their own MetaData, outside the models' (Alembic manages those; these are
made by `schema_sync` from the definitions in force)."""
from __future__ import annotations

import hashlib

from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Float, Index, Integer, MetaData, String, Table,
                        Text)

from lowcode.entities.spec import Entity, Field

DEFAULT_LENGTH = 255
BLIND_INDEX_LENGTH = 80   # "<key id>.<32 hex digits>"
_TABLES: dict[tuple, Table] = {}
ID_TYPE = BigInteger().with_variant(Integer, "sqlite")   # SQLite autoincrements INTEGER keys only


def _key_type(target: Entity):
    key = target.field(target.key)
    return ID_TYPE if key.type == "integer" else String(key.max_length or DEFAULT_LENGTH)


def _type(field: Field, entities: dict[str, Entity]):
    if field.personal:
        return Text()   # an SM4-GCM token, longer than the value
    return {
        "string": lambda: String(field.max_length or DEFAULT_LENGTH),
        "integer": BigInteger,
        "number": Float,
        "boolean": Boolean,
        "date": Date,
        "datetime": DateTime,
        "enum": lambda: String(max(len(value) for value, _ in field.choices)),
        "ref": lambda: _key_type(entities[field.ref]),
    }[field.type]()


def index_name(table: str, columns: tuple[str, ...], suffix: str = "") -> str:
    name = f"ix_{table}_{'_'.join(columns)}{suffix}"
    if len(name) > 63:   # PostgreSQL's identifier limit
        name = f"ix_{table}_{hashlib.sha1(name.encode()).hexdigest()[:10]}{suffix}"
    return name


def wanted_indexes(entity: Entity) -> list[tuple[tuple[str, ...], str]]:
    """(columns, kind) of every index besides the key's: kind is "btree", "prefix" (pattern ops on
    PostgreSQL) or "trgm" (GIN trigram on PostgreSQL, for `contains`). A single-column btree index
    is left out when another index starts with that column."""
    wanted: list[tuple[tuple[str, ...], str]] = [(cols, "btree") for cols in entity.indexes]
    singles = [entity.district] + [f.index_column for f in entity.fields if f.personal]
    # Choices and booleans are too few distinct values to be worth an index of their own: a
    # definition combines them with others in `indexes` where a filter needs it.
    singles += [f.name for f in entity.fields if not f.personal and (
        f.ref or f.sort or (f.search == "exact" and f.type not in ("enum", "boolean")))]
    for field in entity.fields:
        if field.search == "prefix":
            wanted.append(((field.name,), "prefix"))
        elif field.search == "contains":
            wanted.append(((field.name,), "trgm"))
    for column in dict.fromkeys(singles):
        if column != entity.key and not any(cols[0] == column for cols, kind in wanted if kind == "btree"):
            wanted.append(((column,), "btree"))
    return wanted


def _index(table: str, columns: tuple[str, ...], kind: str) -> Index:
    if kind == "prefix":
        return Index(index_name(table, columns, "_prefix"), *columns,
                     postgresql_ops={columns[0]: "varchar_pattern_ops"})
    if kind == "trgm":
        return Index(index_name(table, columns, "_trgm"), *columns, postgresql_using="gin",
                     postgresql_ops={columns[0]: "gin_trgm_ops"})
    return Index(index_name(table, columns), *columns)


def table_for(entity: Entity, entities: dict[str, Entity]) -> Table:
    """The table of `entity`; `entities` are the entities of its pack by name (for ref key types).
    Built once per version of the entity and of the entities it refers to."""
    cache_key = (entity.table_name, entity.sha256, *sorted(entities[f.ref].sha256 for f in entity.fields if f.ref))
    if cache_key not in _TABLES:
        _TABLES[cache_key] = _build(entity, entities)
    return _TABLES[cache_key]


def _build(entity: Entity, entities: dict[str, Entity]) -> Table:
    name = entity.table_name
    columns = [Column("id", ID_TYPE, primary_key=True, autoincrement=True)]
    for field in entity.fields:
        columns.append(Column(field.name, _type(field, entities), nullable=not (field.required or field.name == entity.key)))
        if field.personal:
            columns.append(Column(field.index_column, String(BLIND_INDEX_LENGTH)))
    columns += [Column("created_at", DateTime, nullable=False), Column("updated_at", DateTime, nullable=False),
                Column("synced_at", DateTime)]
    indexes = [Index(f"ux_{name}_{entity.key}"[:63], entity.key, unique=True)]
    indexes += [_index(name, cols, kind) for cols, kind in wanted_indexes(entity)]
    # A MetaData of its own: a changed definition gives a new Table of the same name.
    return Table(name, MetaData(), *columns, *indexes)
