"""Checks of dashboard definitions that a meta-schema cannot express: each panel counts an entity
of the pack, by fields it has, of types that fit their use (a time on a date, a sum on a number,
a map on two numbers), and panel codes are unique within their dashboard."""
from __future__ import annotations

from .errors import DefinitionError, json_pointer
from .model import Definition, Pack
from .shape import objects, text

# What each use of a field needs of its type; None: any type.
USES = {
    ("group_by",): None,
    ("time", "field"): ("date", "datetime"),
    ("measure", "field"): ("integer", "number"),
    ("map", "lng"): ("number",),
    ("map", "lat"): ("number",),
}
TYPE_NAMES = {"date": "日期", "datetime": "日期时间", "integer": "整数", "number": "数值"}


def dashboard_errors(pack: Pack) -> list[DefinitionError]:
    return [error for definition in pack.dashboards.values() if definition.valid
            for error in _errors(pack, definition)]


def _errors(pack: Pack, definition: Definition) -> list[DefinitionError]:
    errors, codes = [], set()

    def error(reason: str, *parts: str | int) -> None:
        errors.append(DefinitionError(definition.file, json_pointer(*parts), reason))

    for index, panel in objects(definition.content, "panels"):
        code = text(panel, "code")
        if code in codes:
            error(f"面板代码 {code} 重复", "panels", index, "code")
        codes.add(code)
        entity = pack.entities.get(text(panel, "entity") or "")
        if entity is None:
            error(f"统计的实体 {text(panel, 'entity')} 不在本包中", "panels", index, "entity")
            continue
        fields = {text(f, "name"): f for _, f in objects(entity.content, "fields")}
        for path, types in USES.items():
            name = text(panel, *path)
            if name is None:
                continue
            if name not in fields:
                error(f"实体 {entity.code} 没有字段 {name}", "panels", index, *path)
            elif types and text(fields[name], "type") not in types:
                wanted = "或".join(TYPE_NAMES[t] for t in types)
                error(f"字段 {name} 须是{wanted}类型", "panels", index, *path)
        for f_index, condition in objects(panel, "filters"):
            name = text(condition, "field")
            if name not in fields:
                error(f"实体 {entity.code} 没有字段 {name}", "panels", index, "filters", f_index, "field")
            elif "personal" in fields[name]:
                error(f"字段 {name} 是加密的个人信息，不能作为统计条件", "panels", index, "filters", f_index, "field")
        if text(panel, "group_by") in fields and "personal" in fields[text(panel, "group_by")]:
            error("不能按加密的个人信息字段分组", "panels", index, "group_by")
    return errors
