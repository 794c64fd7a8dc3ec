"""Checks of entity definitions that a meta-schema cannot express: field names unique, the key,
district and department fields present, refs to entities of the pack, indexes on known columns."""
from __future__ import annotations

from .errors import DefinitionError, json_pointer
from .model import Definition, Pack
from .shape import member, objects, text

SYSTEM_COLUMNS = ("id", "created_at", "updated_at", "synced_at")


def entity_errors(pack: Pack) -> list[DefinitionError]:
    return [error for definition in pack.entities.values() for error in _errors(pack, definition)]


def _error(definition: Definition, reason: str, *parts: str | int) -> DefinitionError:
    return DefinitionError(definition.file, json_pointer(*parts), reason)


def _errors(pack: Pack, definition: Definition) -> list[DefinitionError]:
    content, errors = definition.content, []
    fields: dict[str, dict] = {}
    for index, field in objects(content, "fields"):
        name = text(field, "name")
        if name in fields:
            errors.append(_error(definition, f"字段名 {name} 重复", "fields", index, "name"))
        elif name is not None:
            fields[name] = field
        target = text(field, "ref")
        if target is not None and target not in pack.entities:
            errors.append(_error(definition, f"引用的实体 {target} 不在本包中", "fields", index, "ref"))
    for role, what in (("key", "业务主键"), ("district", "行政区划"), ("department", "所属部门")):
        name = text(content, role)
        if name is not None and name not in fields:
            errors.append(_error(definition, f"{what}字段 {name} 不在 fields 中", role))
    key = fields.get(text(content, "key") or "")
    if key is not None:
        if "personal" in key:
            errors.append(_error(definition, "业务主键不能是个人信息字段（加密后无法唯一约束与引用）", "key"))
        if key.get("type") not in ("string", "integer"):
            errors.append(_error(definition, "业务主键应为 string 或 integer 字段", "key"))
    indexes = member(content, "indexes")
    for i, columns in enumerate(indexes if isinstance(indexes, list) else []):
        for j, column in enumerate(columns if isinstance(columns, list) else []):
            if isinstance(column, str) and column not in fields and column not in SYSTEM_COLUMNS:
                errors.append(_error(definition, f"索引列 {column} 不是本实体的字段", "indexes", i, j))
            elif isinstance(column, str) and "personal" in fields.get(column, {}):
                errors.append(_error(definition, f"索引列 {column} 是个人信息字段：其盲索引已单独建索引", "indexes", i, j))
    return errors
