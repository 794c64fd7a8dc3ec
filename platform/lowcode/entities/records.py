"""Checking inbound entity records and turning them into table rows (personal fields encrypted
and blind-indexed): one path for the sync API and the data generator."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from lowcode import clock, personal
from lowcode.entities.spec import Entity, Field


def _typed(field: Field, value: Any):
    """The value to store, or a ValueError saying (in Chinese) what was expected."""
    kind = field.type
    if kind in ("string", "enum") or field.personal:
        if not isinstance(value, str):
            raise ValueError("应为字符串")
        if field.max_length and len(value) > field.max_length:
            raise ValueError(f"不能超过 {field.max_length} 个字符")
        if kind == "enum" and value not in dict(field.choices):
            raise ValueError(f"取值 {value} 无效，应为以下之一：{'、'.join(f'{v}（{l}）' for v, l in field.choices)}")
        return value
    if kind == "integer" or (kind == "ref" and isinstance(value, int)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("应为整数")
        return value
    if kind == "ref":
        if not isinstance(value, str) or not value:
            raise ValueError("应为被引用记录的编号（字符串或整数）")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("应为数字")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("应为 true 或 false")
        return value
    if kind == "date":
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValueError("应为日期，如 2026-01-31") from None
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("应为 ISO 8601 时间，如 2026-11-21T09:30:00+08:00") from None
    return clock.from_utc(moment) if moment.tzinfo else moment


def check(entity: Entity, item: Any, districts: set[str]) -> tuple[dict, dict[str, str]]:
    """(typed values by field, errors by field); `districts` are the organisation's district codes."""
    if not isinstance(item, dict):
        return {}, {"": "每条记录应为 JSON 对象"}
    values, errors = {}, {}
    fields = entity.by_name
    for name in item:
        if name not in fields:
            errors[name] = "未定义的字段"
    for field in entity.fields:
        raw = item.get(field.name)
        if raw is None or raw == "":
            if field.required or field.name == entity.key:
                errors[field.name] = f"缺少{field.title}"
            values[field.name] = None
            continue
        try:
            values[field.name] = _typed(field, raw)
        except ValueError as invalid:
            errors[field.name] = f"{field.title}{invalid}"
    district = values.get(entity.district)
    if entity.district not in errors and district is not None and district not in districts:
        errors[entity.district] = f"{fields[entity.district].title}{district} 不是组织机构中的行政区划代码"
    return values, errors


def rows(entity: Entity, checked: list[Mapping[str, Any]], now: dt.datetime) -> list[dict]:
    """The table rows of checked values: each personal value becomes its SM4-GCM token, bound to
    (table, field, business key), and its blind index; encrypted a column at a time."""
    stored = [{**values, "created_at": now, "updated_at": now} for values in checked]
    for field in entity.fields:
        if field.personal:
            protected = personal.protect_many(entity.table_name, field.name, field.personal,
                                              [(values[entity.key], values.get(field.name)) for values in checked])
            for row, (token, index) in zip(stored, protected):
                row[field.name], row[field.index_column] = token, index
    return stored
