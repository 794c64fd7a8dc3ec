"""Cross-reference checks: every code, form, BPMN file and process a definition names exists."""
from __future__ import annotations

from bpmn.parser import BpmnParseError, ParsedBpmn, parse_bpmn

from .dashboard_checks import dashboard_errors
from .entity_checks import entity_errors
from .errors import DefinitionError, bpmn_pointer, json_pointer
from .model import Definition, Pack
from .resolution import FORM_PROPERTIES, FORM_SLOTS, PROCESS_FIELDS, find_subtype
from .shape import objects, text, texts


def reference_errors(pack: Pack) -> list[DefinitionError]:
    return [
        *_warning_type_errors(pack),
        *_task_type_errors(pack),
        *_binding_errors(pack),
        *_bpmn_errors(pack),
        *entity_errors(pack),
        *dashboard_errors(pack),
    ]


def _error(definition: Definition, reason: str, *parts: str | int) -> DefinitionError:
    return DefinitionError(definition.file, definition.pointer + json_pointer(*parts), reason)


def _warning_type_errors(pack: Pack) -> list[DefinitionError]:
    errors = []
    for definition in pack.warning_types.values():
        content = definition.content
        for field, table, what in (("clue_level", pack.clue_levels, "线索等级"),
                                   ("task_level", pack.task_levels, "任务等级"),
                                   ("process_binding", pack.process_bindings, "流程绑定")):
            code = text(content, field)
            if code is not None and code not in table:
                errors.append(_error(definition, f"引用的{what} {code} 不存在", field))
        for field, table, what in (("clue_type", pack.clue_types, "线索类型"), ("task_type", pack.task_types, "任务类型")):
            errors += _two_level_errors(definition, field, table, what)
        for index, code in texts(content, "thresholds"):
            if code not in pack.thresholds:
                errors.append(_error(definition, f"引用的阈值 {code} 不存在", "thresholds", index))
        for field in ("payload_form", "checklist_form"):
            key = text(content, field)
            if key is not None and key not in pack.forms:
                errors.append(_error(definition, f"引用的表单 {key} 不存在（应有 {key}.schema.json 与 {key}.ui.json）", field))
        binding = pack.process_bindings.get(text(content, "process_binding") or "")
        source = text(content, "source")
        if binding is not None and binding.valid and source is not None and source not in binding.content["clue_owner"]:
            errors.append(_error(definition, f"流程绑定 {binding.code} 没有规定来源“{source}”的线索归属部门", "source"))
    return errors


def _two_level_errors(definition: Definition, field: str, table: dict[str, Definition], what: str) -> list[DefinitionError]:
    category, subtype = text(definition.content, field, "category"), text(definition.content, field, "subtype")
    if category is None or subtype is None:
        return []
    if category not in table:
        return [_error(definition, f"引用的{what} {category} 不存在", field, "category")]
    if find_subtype(table, category, subtype) is None:
        return [_error(definition, f"{what} {category} 下没有二级类型 {subtype}", field, "subtype")]
    return []


def _task_type_errors(pack: Pack) -> list[DefinitionError]:
    return [
        _error(definition, f"引用的表单 {key} 不存在", "subtypes", index, "feedback_form")
        for definition in pack.task_types.values()
        for index, subtype in objects(definition.content, "subtypes")
        if (key := text(subtype, "feedback_form")) is not None and key not in pack.forms
    ]


def _parsed(definition: Definition) -> ParsedBpmn | None:
    try:
        return parse_bpmn(definition.content, definition.file)
    except BpmnParseError:
        return None    # reported by _bpmn_errors


def _binding_errors(pack: Pack) -> list[DefinitionError]:
    errors = []
    for definition in pack.process_bindings.values():
        for field in PROCESS_FIELDS:
            file, process_id = text(definition.content, field, "file"), text(definition.content, field, "process_id")
            if file is None:
                continue
            if file not in pack.bpmn:
                errors.append(_error(definition, f"BPMN 文件 {file} 不在本包中", field, "file"))
                continue
            parsed = _parsed(pack.bpmn[file])
            if parsed is not None and process_id is not None and process_id not in parsed.specs:
                errors.append(_error(definition, f"BPMN 文件 {file} 中没有可执行流程 {process_id}（有：{'、'.join(parsed.specs)}）",
                                     field, "process_id"))
            elif parsed is not None:
                errors += _lane_rule_errors(definition, field, parsed, process_id)
    return errors


def _lane_rule_errors(definition: Definition, field: str, parsed: ParsedBpmn, process_id: str) -> list[DefinitionError]:
    """Every lane holding a user task of a bound process needs an assignment rule."""
    rules = definition.content.get("lanes") or {}
    lanes = sorted({t.lane for t in parsed.user_tasks if t.process_id == process_id and t.lane})
    return [_error(definition, f"泳道“{lane}”（{process_id}）没有分派规则", "lanes")
            for lane in lanes if lane not in rules]


def _bpmn_errors(pack: Pack) -> list[DefinitionError]:
    errors = []
    for definition in pack.bpmn.values():
        try:
            parsed = parse_bpmn(definition.content, definition.file)
        except BpmnParseError as error:
            where = f"（第 {error.line} 行）" if error.line else ""
            errors.append(DefinitionError(definition.file, bpmn_pointer(error.element_id), f"BPMN 解析失败{where}：{error.message}"))
            continue
        for task in parsed.user_tasks:
            errors += _user_task_errors(pack, definition.file, task)
    return errors


def _user_task_errors(pack: Pack, file: str, task) -> list[DefinitionError]:
    pointer, label = bpmn_pointer(task.id), f"用户任务“{task.name or task.id}”"
    errors = []
    if not task.lane:
        errors.append(DefinitionError(file, pointer, f"{label}不在任何泳道中，无法分派"))
    if "formKey" not in task.properties:
        errors.append(DefinitionError(file, pointer, f"{label}没有 formKey 属性（spiffworkflow:properties）"))
    for name in FORM_PROPERTIES:
        value = task.properties.get(name)
        if value is None or value in pack.forms or value in FORM_SLOTS:
            continue
        reason = (f"{label}的 {name} 是未知占位符 {value}（可用：{'、'.join(FORM_SLOTS)}）" if value.startswith("$")
                  else f"{label}的 {name} 引用的表单 {value} 不存在")
        errors.append(DefinitionError(file, pointer, reason))
    return errors
