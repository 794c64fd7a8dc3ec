"""Chinese messages for the people filling in a form: one per JSON Schema keyword (and, where the
words differ, per kind of field), each placed at the field it is about."""
from __future__ import annotations

from collections.abc import Callable, Iterator

from jsonschema.exceptions import ValidationError

from .fields import Field

FORMAT_MESSAGES = {
    "date": "请填写有效日期，如 2026-01-31",
    "date-time": "请填写有效的日期和时间，如 2026-01-31 08:30",
    "time": "请填写有效时间，如 08:30",
    "email": "请填写有效的电子邮箱地址",
    "mobile": "请填写有效的 11 位手机号",
    "id-card": "身份证号无效：应为 18 位，出生日期与末位校验码正确（X 须大写）",
    "uscc": "统一社会信用代码无效：应为 18 位大写字母或数字，末位校验码正确",
    "uri": "请填写有效网址，如 https://example.cn",
    "attachment": "附件无效，请重新上传",
}
REQUIRED_MESSAGES = {
    "choice": "请选择", "boolean": "请选择", "choices": "请至少选择一项", "attachment": "请上传文件",
    "attachments": "请上传文件", "group": "请至少添加一项", "object": "请填写此部分",
}
TYPE_MESSAGES = {"integer": "请填写整数", "number": "请填写数字"}
ITEM_NOUNS = {"choices": ("选择", "项"), "attachments": ("上传", "个文件"), "group": ("填写", "项")}

Path = tuple  # of str names and int indices


def describe(error: ValidationError, field_at: Callable[[Path], Field | None]) -> Iterator[tuple[Path, str]]:
    """(field path, message) pairs for one jsonschema error; a missing field is pointed at itself."""
    path = tuple(error.absolute_path)
    match error.validator:
        case "required":
            for name in _missing(error.instance, error.validator_value):
                yield (*path, name), required_message(field_at((*path, name)))
        case "dependentRequired":
            for key, names in error.validator_value.items():
                if isinstance(error.instance, dict) and key in error.instance:
                    for name in _missing(error.instance, names):
                        yield (*path, name), required_message(field_at((*path, name)))
        case _:
            yield path, _message(error, field_at(path))


def required_message(field: Field | None) -> str:
    return REQUIRED_MESSAGES.get(field.kind if field else "", "请填写此项")


def _missing(instance, names) -> list[str]:
    return [name for name in names if isinstance(instance, dict) and name not in instance]


def _message(error: ValidationError, field: Field | None) -> str:
    value = error.validator_value
    kind = field.kind if field else ""
    match error.validator:
        case "type":
            return TYPE_MESSAGES.get(value if isinstance(value, str) else "", "填写的内容类型不正确")
        case "enum" | "const" | "oneOf":
            return "请从给出的选项中选择"
        case "format":
            return FORMAT_MESSAGES.get(value, "格式不正确")
        case "minimum":
            return f"不能小于 {_number(value)}"
        case "maximum":
            return f"不能大于 {_number(value)}"
        case "minItems":
            verb, noun = ITEM_NOUNS.get(kind, ("填写", "项"))
            return f"至少{verb} {value} {noun}"
        case "maxItems":
            verb, noun = ITEM_NOUNS.get(kind, ("填写", "项"))
            return f"最多{verb} {value} {noun}"
        case "uniqueItems":
            return "有重复的项"
    return "填写的内容不符合要求"


def _number(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
