"""Rules inside one file that a meta-schema cannot express: uniqueness, orderings, ranges."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .errors import DefinitionError, json_pointer
from .shape import number, objects, text


def consistency_errors(kind: str, file: str, document: Any) -> list[DefinitionError]:
    """Errors of a file of manifest kind `kind`; values of the wrong type are left to the meta-schema."""
    check = _CHECKS.get(kind)
    return check(file, document) if check else []


def _duplicate_errors(file: str, values: Iterable[tuple[tuple, Any]], what: str) -> list[DefinitionError]:
    first_seen: dict[Any, tuple] = {}
    errors = []
    for path, value in values:
        if value is None:
            continue
        if value in first_seen:
            errors.append(DefinitionError(file, json_pointer(*path),
                                          f"{what} {value} 重复（已在 {json_pointer(*first_seen[value])} 定义）"))
        else:
            first_seen[value] = path
    return errors


def _orders(key: str, file: str, document: Any) -> list[DefinitionError]:
    values = (((key, i, "order"), number(level, "order")) for i, level in objects(document, key))
    return _duplicate_errors(file, values, "排序号")


def _clue_levels(file: str, document: Any) -> list[DefinitionError]:
    return _orders("clue_levels", file, document)


def _task_levels(file: str, document: Any) -> list[DefinitionError]:
    errors = _orders("task_levels", file, document)
    for index, level in objects(document, "task_levels"):
        sign, feedback, reminder = (number(level, name) for name in ("sign_hours", "feedback_hours", "reminder_before_hours"))
        if feedback is None:
            continue
        if sign is not None and sign > feedback:
            errors.append(DefinitionError(file, json_pointer("task_levels", index, "sign_hours"),
                                          f"签收时限 {sign} 小时不能长于反馈时限 {feedback} 小时"))
        if reminder is not None and reminder >= feedback:
            errors.append(DefinitionError(file, json_pointer("task_levels", index, "reminder_before_hours"),
                                          f"提前提醒 {reminder} 小时必须短于反馈时限 {feedback} 小时"))
    return errors


def _subtype_codes(key: str):
    def check(file: str, document: Any) -> list[DefinitionError]:
        return [
            error
            for index, category in objects(document, key)
            for error in _duplicate_errors(
                file, (((key, index, "subtypes", i, "code"), text(sub, "code")) for i, sub in objects(category, "subtypes")),
                f"{text(category, 'code')} 的二级类型代码")
        ]
    return check


def _thresholds(file: str, document: Any) -> list[DefinitionError]:
    errors = []
    for index, threshold in objects(document, "thresholds"):
        value, low, high = number(threshold, "value"), number(threshold, "minimum"), number(threshold, "maximum")
        if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
            errors.append(DefinitionError(file, json_pointer("thresholds", index, "value"),
                                          f"阈值 {value} 超出可设置范围 [{low}, {high}]"))
    return errors


def _departments(node: Any, path: tuple) -> Iterator[tuple[tuple, dict]]:
    if isinstance(node, dict):
        yield path, node
        for index, child in objects(node, "children"):
            yield from _departments(child, (*path, "children", index))


def _organisation(file: str, document: Any) -> list[DefinitionError]:
    departments = list(_departments(document.get("root") if isinstance(document, dict) else None, ("root",)))
    return [
        *_duplicate_errors(file, (((*path, "code"), text(node, "code")) for path, node in departments), "机构代码"),
        *_duplicate_errors(file, (((*path, "slug"), text(node, "slug")) for path, node in departments), "slug"),
    ]


def _roles(file: str, document: Any) -> list[DefinitionError]:
    return _duplicate_errors(file, ((("roles", i, "name"), text(role, "name")) for i, role in objects(document, "roles")), "角色名称")


_CHECKS = {
    "clue_levels": _clue_levels,
    "task_levels": _task_levels,
    "clue_types": _subtype_codes("clue_types"),
    "task_types": _subtype_codes("task_types"),
    "thresholds": _thresholds,
    "organisation": _organisation,
    "roles": _roles,
}
