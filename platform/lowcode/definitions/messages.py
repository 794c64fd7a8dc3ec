"""Chinese reasons for jsonschema validation errors, each pointed at the offending member."""
from __future__ import annotations

import json
from collections.abc import Iterator

from jsonschema.exceptions import ValidationError, best_match

JSON_TYPES = {
    "object": "对象", "array": "数组", "string": "字符串", "number": "数字", "integer": "整数",
    "boolean": "布尔值", "null": "null",
}


def describe(error: ValidationError) -> Iterator[tuple[list, str]]:
    """(path, reason) pairs for one error; a missing or extra member is pointed at by name."""
    path = list(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        # A rejected member name: jsonschema reports it at the object, with the name as instance.
        hint = error.schema.get("description")
        yield path + [error.instance], f"不允许的字段 {error.instance}" + (f"：{hint}" if hint else "")
        return
    match error.validator:
        case "required":
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance and repr(name) in error.message:
                    yield path + [name], f"缺少必填字段 {name}"
        case "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in allowed:
                    yield path + [name], f"不允许的字段 {name}"
        case "anyOf" | "oneOf" if error.context:
            yield from describe(best_match(error.context))
        case _:
            yield path, _reason(error)


def _reason(error: ValidationError) -> str:
    value, instance = error.validator_value, error.instance
    match error.validator:
        case "type":
            expected = "或".join(JSON_TYPES[name] for name in ([value] if isinstance(value, str) else value))
            return f"应为{expected}，实际为 {_show(instance)}"
        case "enum":
            return f"取值 {_show(instance)} 无效，应为以下之一：{'、'.join(_show(v) for v in value)}"
        case "const":
            return f"取值应为 {_show(value)}"
        case "pattern":
            # The meta-schemas describe each pattern in words; the regex is the fallback.
            return f"取值 {_show(instance)} 不符合要求：{error.schema.get('description', f'格式 {value}')}"
        case "minLength":
            return "不能为空" if value == 1 else f"长度不能少于 {value}"
        case "minItems":
            return "不能为空列表" if value == 1 else f"至少需要 {value} 项"
        case "maxItems":
            return f"最多 {value} 项"
        case "uniqueItems":
            return "列表中有重复项"
        case "not":
            return f"取值 {_show(instance)} 不允许：{error.schema.get('description', '')}"
        case "minProperties":
            return "不能为空对象"
        case "minimum":
            return f"不能小于 {value}"
        case "maximum":
            return f"不能大于 {value}"
        case "exclusiveMinimum":
            return f"必须大于 {value}"
        case "exclusiveMaximum":
            return f"必须小于 {value}"
    return error.message


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False)
