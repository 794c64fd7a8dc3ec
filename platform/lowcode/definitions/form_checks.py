"""Checks of form files that need the whole pack's forms: $ref targets, names that required and
conditions use, and UI schemas naming only fields their JSON schema has (nested too)."""
from __future__ import annotations

from typing import Any

from referencing import Registry

from .errors import DefinitionError, json_pointer
from .form_schema import RefProblem, child_fields, field_kind, fields, follow, fragments

WIDGET_FIELD_KINDS = {
    "textarea": {"text"},
    "radio": {"choice", "boolean"},
    "select": {"choice"},
    "checkboxes": {"choices"},
    "date": {"date"},
    "camera": {"attachment"},
    "signature": {"attachment"},
}
FIELD_KIND_NAMES = {
    "text": "文本", "choice": "枚举", "boolean": "布尔", "choices": "枚举数组", "date": "日期", "attachment": "附件",
}


def ref_errors(document: Any, file: str, base: str, registry: Registry) -> list[DefinitionError]:
    errors = []
    for path, node in _nodes_with_ref(document, []):
        try:
            follow(node, base, registry)
        except RefProblem as problem:
            errors.append(DefinitionError(file, json_pointer(*path, "$ref"), str(problem)))
    return errors


def _nodes_with_ref(node: Any, path: list) -> list[tuple[list, dict]]:
    if isinstance(node, list):
        return [found for index, item in enumerate(node) for found in _nodes_with_ref(item, path + [index])]
    if not isinstance(node, dict):
        return []
    found = [(path, node)] if isinstance(node.get("$ref"), str) else []
    for key, value in node.items():
        if key not in ("const", "enum", "default"):   # data, not schema
            found += _nodes_with_ref(value, path + [key])
    return found


def undeclared_name_errors(node: Any, file: str, path: tuple = ()) -> list[DefinitionError]:
    """required / dependentRequired / if names that no field of the same object declares."""
    if not isinstance(node, dict):
        return []
    errors = []
    if node.get("type") == "object":
        declared = fields(node)
        errors += [DefinitionError(file, json_pointer(*path, *names_path), f"字段 {name} 未在本对象的 properties 中定义")
                   for names_path, name in _referenced_names(node) if name not in declared]
    for sub_path, child in child_fields(node):
        errors += undeclared_name_errors(child, file, (*path, *sub_path))
    return errors


def _referenced_names(body: dict) -> list[tuple[list, str]]:
    found = [(["required", i], name) for i, name in enumerate(body.get("required", []))]
    for key, names in body.get("dependentRequired", {}).items():
        found.append((["dependentRequired", key], key))
        found += [(["dependentRequired", key, i], name) for i, name in enumerate(names)]
    found += [(["dependentSchemas", key], key) for key in body.get("dependentSchemas", {})]
    condition = body.get("if", {})
    found += [(["if", "properties", name], name) for name in condition.get("properties", {})]
    found += [(["if", "required", i], name) for i, name in enumerate(condition.get("required", []))]
    found += [([*path, "required", i], name)
              for path, fragment in fragments(body) for i, name in enumerate(fragment.get("required", []))]
    return found


def form_ui_errors(ui: dict, schema: dict, file: str, base: str, registry: Registry) -> list[DefinitionError]:
    """A form's UI schema against its JSON schema."""
    return _object_ui_errors(ui, schema, base, registry, file, [])


def fragment_ui_errors(ui: dict, defs_document: dict, file: str, base: str, registry: Registry) -> list[DefinitionError]:
    """A shared-definitions UI file: one entry per $defs name, each against that definition."""
    errors = []
    definitions = defs_document.get("$defs", {})
    for name, node_ui in ui.items():
        if name in definitions:
            errors += _field_ui_errors(node_ui, definitions[name], base, registry, file, [name])
        else:
            errors.append(DefinitionError(file, json_pointer(name), f"共用定义中没有 {name}（此 UI 文件的键应为 $defs 名称）"))
    return errors


def _object_ui_errors(ui: dict, schema: dict, base: str, registry: Registry, file: str, path: list) -> list[DefinitionError]:
    try:
        followed = follow(schema, base, registry)
    except RefProblem:
        return []    # reported where the $ref is written
    declared = fields(followed.node)
    errors = [DefinitionError(file, json_pointer(*path, "ui:order", index), f"ui:order 中的字段 {name} 在表单 schema 中不存在")
              for index, name in enumerate(ui.get("ui:order", [])) if name not in declared]
    errors += [DefinitionError(file, json_pointer(*path, "ui:sections", section_index, "fields", index),
                               f"ui:sections 中的字段 {name} 在表单 schema 中不存在")
               for section_index, section in enumerate(ui.get("ui:sections", []))
               for index, name in enumerate(section["fields"]) if name not in declared]
    for name, child_ui in ui.items():
        if name.startswith("ui:"):
            continue
        if name in declared:
            errors += _field_ui_errors(child_ui, declared[name], followed.base, registry, file, path + [name])
        else:
            errors.append(DefinitionError(file, json_pointer(*path, name), f"UI 中的字段 {name} 在表单 schema 中不存在"))
    return errors


def _field_ui_errors(ui: dict, field: dict, base: str, registry: Registry, file: str, path: list) -> list[DefinitionError]:
    try:
        followed = follow(field, base, registry)
    except RefProblem:
        return []
    node, errors = followed.node, []
    widget = ui.get("ui:widget")
    if widget and field_kind(node, followed.base, registry) not in WIDGET_FIELD_KINDS[widget]:
        kinds = "或".join(FIELD_KIND_NAMES[kind] for kind in sorted(WIDGET_FIELD_KINDS[widget]))
        errors.append(DefinitionError(file, json_pointer(*path, "ui:widget"), f"控件 {widget} 只能用于{kinds}字段"))
    if node.get("type") == "object":
        return errors + _object_ui_errors(ui, node, followed.base, registry, file, path)
    nested = [key for key in ui if not key.startswith("ui:")]
    if node.get("type") == "array" and nested == ["items"]:
        return errors + _object_ui_errors(ui["items"], node["items"], followed.base, registry, file, path + ["items"])
    return errors + [DefinitionError(file, json_pointer(*path, key),
                                     f"字段 {path[-1]} 没有子字段 {key}（对象数组元素的 UI 写在 items 下）")
                     for key in nested]
