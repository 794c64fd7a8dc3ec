"""Changing definition files in a copy of the real tree: a new warning type needs files only, and
a broken file of any kind is reported with its exact file, JSON pointer and reason."""
import json
import shutil
from pathlib import Path

import pytest

from lowcode.definitions import checklist_form_key, form_validator, load_tree, user_task_forms, validate_path

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions"


@pytest.fixture
def root(tmp_path) -> Path:
    shutil.copytree(DEFINITIONS, tmp_path / "definitions")
    return tmp_path / "definitions"


def read(root: Path, file: str):
    return json.loads((root / file).read_text(encoding="utf-8"))


def write(root: Path, file: str, document) -> None:
    (root / file).parent.mkdir(parents=True, exist_ok=True)
    (root / file).write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")


def edit(root: Path, file: str, change) -> None:
    document = read(root, file)
    change(document)
    write(root, file, document)


def replace_text(root: Path, file: str, old: str, new: str) -> None:
    text = (root / file).read_text(encoding="utf-8")
    assert old in text
    (root / file).write_text(text.replace(old, new, 1), encoding="utf-8")


def index(items: list[dict], code: str, key: str = "code") -> int:
    return next(i for i, item in enumerate(items) if item[key] == code)


# ------------------------------------------------------------------ a new warning type, files only

OVERSPEED = {
    "code": "STATION_RIDER_SPEEDING",
    "name": "加盟商（站点）骑手超速违法集中",
    "subject_kind": "加盟商(站点)",
    "source": "各区支队研判",
    "payload_form": "forms/payloads/station_speeding",
    "checklist_form": "forms/checklists/speeding",
    "clue_level": "IMPORTANT",
    "clue_type": {"category": "VIOLATION", "subtype": "FINE_PAYMENT"},
    "clue_generation": {"mode": "merge_by_subject", "window_hours": 168},
    "review_required": True,
    "task_type": {"category": "PENALTY", "subtype": "STATION_MANAGER"},
    "task_level": "L2",
    "approval_required": False,
    "disposal": {"action": "处罚负责人", "target": "辖区内加盟商（站点）相关负责人"},
    "process_binding": "NMV_STANDARD",
}


def add_speeding_warning_type(root: Path) -> None:
    nmv = root / "nmv"
    write(nmv, "warning_types/station_rider_speeding.json", OVERSPEED)
    write(nmv, "forms/payloads/station_speeding.schema.json", {
        "title": "骑手超速违法集中预警信息", "type": "object",
        "properties": {
            "report": {"$ref": "../common/subjects.defs.json#/$defs/report"},
            "station": {"$ref": "../common/subjects.defs.json#/$defs/station"},
            "speeding_count": {"type": "integer", "title": "统计期内超速违法起数", "minimum": 1},
        },
        "required": ["report", "station", "speeding_count"],
    })
    write(nmv, "forms/payloads/station_speeding.ui.json", {"ui:order": ["report", "station", "speeding_count"]})
    write(nmv, "forms/checklists/speeding.schema.json", {
        "title": "骑手超速违法集中预警反馈", "type": "object",
        "properties": {
            "inspection": {"$ref": "../common/checklist.defs.json#/$defs/inspection"},
            "check": {"type": "object", "title": "限速管理核查", "properties": {
                "speed_limited": {"type": "boolean", "title": "车辆是否已限速"}}, "required": ["speed_limited"]},
            "penalty": {"$ref": "../common/checklist.defs.json#/$defs/penalty"},
            "confirmation": {"$ref": "../common/checklist.defs.json#/$defs/confirmation"},
        },
        "required": ["inspection", "check", "penalty", "confirmation"],
    })
    write(nmv, "forms/checklists/speeding.ui.json", {
        "ui:order": ["inspection", "check", "penalty", "confirmation"],
        "check": {"speed_limited": {"ui:widget": "radio"}},
    })


def test_a_new_warning_type_is_files_only(root):
    add_speeding_warning_type(root)
    tree = load_tree(root)
    assert tree.errors == []
    nmv = tree.packs["nmv"]
    assert nmv.warning_types["STATION_RIDER_SPEEDING"].content["name"] == "加盟商（站点）骑手超速违法集中"
    assert checklist_form_key(nmv, "STATION_RIDER_SPEEDING") == "forms/checklists/speeding"
    forms = user_task_forms(nmv, "STATION_RIDER_SPEEDING")
    assert forms[("nmv_dispatch", "Task_Feedback")] == {"formKey": "forms/checklists/speeding",
                                                    "displayFormKey": "forms/payloads/station_speeding"}
    checklist = form_validator(nmv, "forms/checklists/speeding")
    assert "'decision_number' is a required property" in {
        error.message for error in checklist.iter_errors({"penalty": {"penalized": True}})}


def test_a_new_warning_type_with_a_typo_is_caught(root):
    add_speeding_warning_type(root)
    edit(root, "nmv/warning_types/station_rider_speeding.json", lambda d: d.update(checklist_form="forms/checklists/speding"))
    errors = validate_path(root)
    assert [(e.file, e.pointer) for e in errors] == [("nmv/warning_types/station_rider_speeding.json", "/checklist_form")]
    assert "forms/checklists/speding 不存在" in errors[0].reason


# ------------------------------------------------------------------ one broken file per kind

def manifest_version(root):
    edit(root, "nmv/pack.json", lambda d: d.update(version="1.0"))
    return "nmv/pack.json", "/version", "版本号须写作 主版本.次版本.修订号"


def manifest_missing_directory(root):
    edit(root, "nmv/pack.json", lambda d: d["contents"].update(dashboards=["screens/"]))
    return "nmv/pack.json", "/contents/dashboards/0", "目录 screens/ 不存在"


def manifest_missing_dependency(root):
    edit(root, "nmv/pack.json", lambda d: d.update(depends=["core", "transport"]))
    return "nmv/pack.json", "/depends/1", "依赖的定义包 transport 不存在"


def warning_type_unknown_task_level(root):
    edit(root, "nmv/warning_types/red_label_rider.json", lambda d: d.update(task_level="L9"))
    return "nmv/warning_types/red_label_rider.json", "/task_level", "引用的任务等级 L9 不存在"


def warning_type_unknown_clue_subtype(root):
    edit(root, "nmv/warning_types/red_label_rider.json", lambda d: d["clue_type"].update(subtype="GREEN_LABEL"))
    return "nmv/warning_types/red_label_rider.json", "/clue_type/subtype", "线索类型 RIDER_RISK 下没有二级类型 GREEN_LABEL"


def warning_type_missing_disposal(root):
    edit(root, "nmv/warning_types/low_star_station.json", lambda d: d.pop("disposal"))
    return "nmv/warning_types/low_star_station.json", "/disposal", "缺少必填字段 disposal"


def warning_type_merge_without_window(root):
    edit(root, "nmv/warning_types/red_label_rider.json", lambda d: d["clue_generation"].pop("window_hours"))
    return "nmv/warning_types/red_label_rider.json", "/clue_generation/window_hours", "缺少必填字段 window_hours"


def warning_type_duplicate_code(root):
    shutil.copy(root / "nmv/warning_types/red_label_rider.json", root / "nmv/warning_types/red_label_rider_again.json")
    return "nmv/warning_types/red_label_rider_again.json", "/code", "预警类型代码 RED_LABEL_RIDER 重复"


def clue_level_colour(root):
    document = read(root, "nmv/clue_levels.json")
    i = index(document["clue_levels"], "GENERAL")
    document["clue_levels"][i]["color"] = "蓝色"
    write(root, "nmv/clue_levels.json", document)
    return "nmv/clue_levels.json", f"/clue_levels/{i}/color", "颜色须写作 #RRGGBB"


def clue_type_duplicate_subtype(root):
    document = read(root, "nmv/clue_types.json")
    i = index(document["clue_types"], "RATING")
    subtypes = document["clue_types"][i]["subtypes"]
    subtypes.append({**subtypes[0], "name": "重复的二级类型"})
    write(root, "nmv/clue_types.json", document)
    return "nmv/clue_types.json", f"/clue_types/{i}/subtypes/{len(subtypes) - 1}/code", "RATING 的二级类型代码 LOW_STAR 重复"


def task_level_reminder_after_deadline(root):
    document = read(root, "nmv/task_levels.json")
    i = index(document["task_levels"], "L2")
    document["task_levels"][i]["reminder_before_hours"] = 100
    write(root, "nmv/task_levels.json", document)
    return "nmv/task_levels.json", f"/task_levels/{i}/reminder_before_hours", "必须短于反馈时限 72 小时"


def task_type_unknown_form(root):
    document = read(root, "nmv/task_types.json")
    i = index(document["task_types"], "ORDER")
    j = index(document["task_types"][i]["subtypes"], "SUSPENSION")
    document["task_types"][i]["subtypes"][j]["feedback_form"] = "forms/checklists/closure"
    write(root, "nmv/task_types.json", document)
    return "nmv/task_types.json", f"/task_types/{i}/subtypes/{j}/feedback_form", "引用的表单 forms/checklists/closure 不存在"


def threshold_out_of_range(root):
    document = read(root, "nmv/thresholds.json")
    i = index(document["thresholds"], "HELMET_RATE_MIN")
    document["thresholds"][i]["value"] = 120
    write(root, "nmv/thresholds.json", document)
    return "nmv/thresholds.json", f"/thresholds/{i}/value", "阈值 120 超出可设置范围"


def threshold_unknown_comparison(root):
    document = read(root, "nmv/thresholds.json")
    i = index(document["thresholds"], "PLATE_COVERAGE_MIN")
    document["thresholds"][i]["comparison"] = "below"
    write(root, "nmv/thresholds.json", document)
    return "nmv/thresholds.json", f"/thresholds/{i}/comparison", '取值 "below" 无效'


def threshold_file_not_json(root):
    (root / "nmv/thresholds.json").write_text('{"thresholds": [', encoding="utf-8")
    return "nmv/thresholds.json", "", "JSON 格式错误"


def binding_unknown_process(root):
    edit(root, "nmv/process_bindings.json", lambda d: d["process_bindings"][0]["task_process"].update(process_id="nmv_tasks"))
    return "nmv/process_bindings.json", "/process_bindings/0/task_process/process_id", "没有可执行流程 nmv_tasks"


def binding_unknown_file(root):
    edit(root, "nmv/process_bindings.json", lambda d: d["process_bindings"][0]["clue_process"].update(file="bpmn/clues.bpmn"))
    return "nmv/process_bindings.json", "/process_bindings/0/clue_process/file", "BPMN 文件 bpmn/clues.bpmn 不在本包中"


def form_schema_title_not_chinese(root):
    edit(root, "nmv/forms/common/checklist.defs.json",
         lambda d: d["$defs"]["penalty"]["properties"]["fine_amount"].update(title="fine"))
    return "nmv/forms/common/checklist.defs.json", "/$defs/penalty/properties/fine_amount/title", "标题须包含中文"


def form_schema_unsupported_keyword(root):
    edit(root, "nmv/forms/workflow/clue_evaluation.schema.json", lambda d: d["properties"]["validity"].update(maxLength=10))
    return "nmv/forms/workflow/clue_evaluation.schema.json", "/properties/validity/maxLength", "不允许的字段 maxLength"


def form_schema_keyword_beside_a_ref(root):
    edit(root, "nmv/forms/workflow/task_sign.schema.json", lambda d: d["properties"]["handler"].update(minItems=1))
    return "nmv/forms/workflow/task_sign.schema.json", "/properties/handler/minItems", "写了 $ref 的字段只能再带 title"


def form_schema_broken_ref(root):
    edit(root, "nmv/forms/payloads/station_dispatch.schema.json",
         lambda d: d["properties"]["station"].update({"$ref": "../common/subjects.defs.json#/$defs/stations"}))
    return "nmv/forms/payloads/station_dispatch.schema.json", "/properties/station/$ref", "目标文件中没有定义 stations"


def form_schema_ref_outside_the_pack(root):
    edit(root, "nmv/forms/payloads/station_dispatch.schema.json",
         lambda d: d["properties"]["station"].update({"$ref": "../../../core/roles.json"}))
    return "nmv/forms/payloads/station_dispatch.schema.json", "/properties/station/$ref", "本包的表单文件中没有"


def form_schema_requires_an_undeclared_field(root):
    edit(root, "nmv/forms/workflow/clue_review.schema.json", lambda d: d["required"].append("reviewer"))
    return "nmv/forms/workflow/clue_review.schema.json", "/required/1", "字段 reviewer 未在本对象的 properties 中定义"


def form_schema_without_ui(root):
    (root / "nmv/forms/workflow/task_sign.ui.json").unlink()
    return "nmv/forms/workflow/task_sign.schema.json", "", "缺少对应的 UI schema 文件 task_sign.ui.json"


def ui_schema_unknown_field(root):
    edit(root, "nmv/forms/checklists/plate_coverage.ui.json", lambda d: d["check"].update(bogus={"ui:widget": "radio"}))
    return "nmv/forms/checklists/plate_coverage.ui.json", "/check/bogus", "UI 中的字段 bogus 在表单 schema 中不存在"


def ui_schema_order_names_unknown_field(root):
    edit(root, "nmv/forms/common/checklist.ui.json", lambda d: d["penalty"]["ui:order"].append("fine"))
    order = read(root, "nmv/forms/common/checklist.ui.json")["penalty"]["ui:order"]
    return "nmv/forms/common/checklist.ui.json", f"/penalty/ui:order/{len(order) - 1}", "ui:order 中的字段 fine 在表单 schema 中不存在"


def ui_schema_widget_for_another_kind_of_field(root):
    edit(root, "nmv/forms/workflow/clue_review.ui.json", lambda d: d["review_result"].update({"ui:widget": "checkboxes"}))
    return "nmv/forms/workflow/clue_review.ui.json", "/review_result/ui:widget", "控件 checkboxes 只能用于枚举数组字段"


def ui_schema_unknown_setting(root):
    edit(root, "nmv/forms/workflow/task_sign.ui.json", lambda d: d.update({"ui:colour": "red"}))
    return "nmv/forms/workflow/task_sign.ui.json", "/ui:colour", "不允许的字段 ui:colour：ui: 设置只有 ui:order"


def ui_schema_of_shared_definitions_names_no_definition(root):
    edit(root, "nmv/forms/common/facts.ui.json", lambda d: d.update(speeding={"ui:order": []}))
    return "nmv/forms/common/facts.ui.json", "/speeding", "共用定义中没有 speeding"


def ui_schema_without_form(root):
    write(root, "nmv/forms/workflow/orphan.ui.json", {"ui:order": []})
    return "nmv/forms/workflow/orphan.ui.json", "", "缺少对应的表单文件 orphan.schema.json"


def bpmn_unknown_form(root):
    replace_text(root, "nmv/bpmn/dispatch.bpmn", 'value="forms/workflow/task_sign"', 'value="forms/workflow/task_signing"')
    return "nmv/bpmn/dispatch.bpmn", "bpmn:Task_Sign", "用户任务“任务签收”的 formKey 引用的表单 forms/workflow/task_signing 不存在"


def bpmn_unknown_slot(root):
    replace_text(root, "nmv/bpmn/dispatch.bpmn", 'name="formKey" value="$checklist"', 'name="formKey" value="$check_list"')
    return "nmv/bpmn/dispatch.bpmn", "bpmn:Task_Feedback", "未知占位符 $check_list"


def bpmn_unparsable_flow(root):
    replace_text(root, "nmv/bpmn/task.bpmn", '<bpmn:conditionExpression>approval_result == "通过"</bpmn:conditionExpression>', "")
    return "nmv/bpmn/task.bpmn", "bpmn:Flow_ApprovalPassed", "BPMN 解析失败"


def bpmn_task_outside_lanes(root):
    replace_text(root, "nmv/bpmn/clue.bpmn", "<bpmn:flowNodeRef>Task_ClueEvaluation</bpmn:flowNodeRef>", "")
    return "nmv/bpmn/clue.bpmn", "bpmn:Task_ClueEvaluation", "不在任何泳道中"


def organisation_duplicate_code(root):
    def change(document):
        first, second = document["root"]["children"][:2]
        second["code"] = first["code"]
    edit(root, "core/organisation.json", change)
    return "core/organisation.json", "/root/children/1/code", "机构代码 310101000000 重复（已在 /root/children/0/code 定义）"


def organisation_unknown_kind(root):
    edit(root, "core/organisation.json", lambda d: d["root"]["children"][0]["children"][0].update(kind="分局"))
    return "core/organisation.json", "/root/children/0/children/0/kind", '取值 "分局" 无效'


def roles_bad_action(root):
    document = read(root, "core/roles.json")
    i = next(i for i, role in enumerate(document["roles"]) if role.get("permissions"))
    document["roles"][i]["permissions"][0]["actions"].append("delete")
    write(root, "core/roles.json", document)
    n = len(document["roles"][i]["permissions"][0]["actions"]) - 1
    return "core/roles.json", f"/roles/{i}/permissions/0/actions/{n}", "操作须写作 can_xxx 或 menu_access"


def roles_duplicate_name(root):
    edit(root, "core/roles.json", lambda d: d["roles"][1].update(name=d["roles"][0]["name"]))
    return "core/roles.json", "/roles/1/name", "角色名称"


def unclaimed_file(root):
    write(root, "nmv/warning_type_draft.json", OVERSPEED)
    return "nmv/warning_type_draft.json", "", "文件未在 pack.json 的 contents 中登记"


BROKEN = [
    manifest_version, manifest_missing_directory, manifest_missing_dependency,
    warning_type_unknown_task_level, warning_type_unknown_clue_subtype, warning_type_missing_disposal,
    warning_type_merge_without_window, warning_type_duplicate_code,
    clue_level_colour, clue_type_duplicate_subtype, task_level_reminder_after_deadline, task_type_unknown_form,
    threshold_out_of_range, threshold_unknown_comparison, threshold_file_not_json,
    binding_unknown_process, binding_unknown_file,
    form_schema_title_not_chinese, form_schema_unsupported_keyword, form_schema_keyword_beside_a_ref, form_schema_broken_ref,
    form_schema_ref_outside_the_pack, form_schema_requires_an_undeclared_field, form_schema_without_ui,
    ui_schema_unknown_field, ui_schema_order_names_unknown_field, ui_schema_widget_for_another_kind_of_field,
    ui_schema_unknown_setting, ui_schema_of_shared_definitions_names_no_definition, ui_schema_without_form,
    bpmn_unknown_form, bpmn_unknown_slot, bpmn_unparsable_flow, bpmn_task_outside_lanes,
    organisation_duplicate_code, organisation_unknown_kind, roles_bad_action, roles_duplicate_name,
    unclaimed_file,
]


@pytest.mark.parametrize("breakage", BROKEN, ids=[breakage.__name__ for breakage in BROKEN])
def test_a_broken_file_is_reported_with_file_pointer_and_reason(root, breakage):
    file, pointer, reason = breakage(root)
    errors = validate_path(root)
    reasons = [error.reason for error in errors if (error.file, error.pointer) == (file, pointer)]
    assert reasons, f"no error at {file}#{pointer}; got {[str(error) for error in errors]}"
    assert any(reason in found for found in reasons), reasons


def test_errors_in_several_files_are_all_reported_at_once(root):
    breakages = [warning_type_unknown_task_level, task_level_reminder_after_deadline, form_schema_title_not_chinese,
                 ui_schema_unknown_field, bpmn_unknown_form, organisation_duplicate_code, roles_bad_action]
    expected = {breakage(root)[:2] for breakage in breakages}
    assert {(error.file, error.pointer) for error in validate_path(root)} == expected


def test_the_hash_ignores_formatting_but_not_content(root):
    before = load_tree(root).packs["nmv"].task_levels["L1"].sha256
    document = read(root, "nmv/task_levels.json")
    (root / "nmv/task_levels.json").write_text(json.dumps(document, sort_keys=True, indent=4), encoding="utf-8")
    assert load_tree(root).packs["nmv"].task_levels["L1"].sha256 == before
    edit(root, "nmv/task_levels.json", lambda d: d["task_levels"][index(d["task_levels"], "L1")].update(feedback_hours=12))
    assert load_tree(root).packs["nmv"].task_levels["L1"].sha256 != before
