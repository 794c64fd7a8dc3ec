"""The real definition packs (definitions/core, definitions/nmv): valid, complete against the
requirement document, and resolvable into forms, processes and time limits."""
import hashlib
from pathlib import Path

import pytest

from lowcode.definitions import (TimeLimits, checklist_form_key, form_ui, form_validator, load_pack, load_tree,
                                 time_limits, user_task_forms)

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions"

SEED_WARNING_TYPES = {
    "RED_LABEL_RIDER": "骑手", "UNREGISTERED_RIDER": "骑手",
    "STATION_PLATE_COVERAGE_LOW": "加盟商(站点)", "STATION_PLATE_DAMAGE": "加盟商(站点)",
    "STATION_FATAL_ACCIDENT": "加盟商(站点)", "STATION_FINE_PAYMENT_LOW": "加盟商(站点)",
    "STATION_RIDER_INFO_MISSING": "加盟商(站点)", "STATION_HELMET_RATE_LOW": "加盟商(站点)",
    "LOW_STAR_STATION": "加盟商(站点)", "LOW_STAR_STATION_SCORE_DECLINING": "加盟商(站点)",
    "ENTERPRISE_REPEATED_RECTIFICATION_FAILURE": "平台企业", "ENTERPRISE_PLATE_COVERAGE_LOW": "平台企业",
    "ENTERPRISE_PLATE_DAMAGE": "平台企业", "ENTERPRISE_FATAL_ACCIDENT": "平台企业",
    "ENTERPRISE_FINE_PAYMENT_LOW": "平台企业", "ENTERPRISE_RIDER_INFO_MISSING": "平台企业",
    "ENTERPRISE_HELMET_RATE_LOW": "平台企业", "HIGH_RISK_ENTERPRISE": "平台企业",
}


@pytest.fixture(scope="module")
def tree():
    return load_tree(DEFINITIONS)


@pytest.fixture(scope="module")
def nmv(tree):
    return tree.packs["nmv"]


def test_the_real_packs_have_no_errors(tree):
    assert tree.errors == []
    assert {"core", "nmv"} <= set(tree.packs)
    assert tree.packs["nmv"].depends == ["core"]


def test_core_owns_the_organisation_and_the_roles(tree):
    core = tree.packs["core"]
    assert core.organisation.content["root"]["kind"] == "总队"
    assert "支队民警" in {role["name"] for role in core.roles.content["roles"]}


def test_a_single_pack_loads_on_its_own():
    pack = load_pack(DEFINITIONS / "nmv")
    assert pack.errors == []
    assert pack.warning_types["RED_LABEL_RIDER"].file == "nmv/warning_types/red_label_rider.json"


def test_every_warning_type_of_the_requirements_is_defined(nmv):
    defined = {code: definition.content["subject_kind"] for code, definition in nmv.warning_types.items()}
    assert defined.items() >= SEED_WARNING_TYPES.items()
    assert {definition.content["source"] for definition in nmv.warning_types.values()} == {
        "各区支队研判", "总队研判", "现场执法采集", "系统规则"}


def test_task_levels_are_red_orange_yellow_blue_with_shrinking_urgency(nmv):
    levels = sorted((level.content for level in nmv.task_levels.values()), key=lambda level: level["order"])
    assert [level["name"] for level in levels] == ["一级（红）", "二级（橙）", "三级（黄）", "四级（蓝）"]
    feedback_hours = [level["feedback_hours"] for level in levels]
    assert feedback_hours == sorted(feedback_hours)


def test_thresholds_carry_the_numbers_of_the_requirements(nmv):
    value = {code: (t.content["value"], t.content["comparison"]) for code, t in nmv.thresholds.items()}
    assert value["PLATE_COVERAGE_MIN"] == (80, "lt")
    assert value["FINE_PAYMENT_RATE_MIN"] == (60, "lt")
    assert value["UNPROCESSED_VIOLATIONS_MIN"] == (2, "ge")
    assert value["LOW_STAR_MAX"] == (3, "le")
    assert value["SCORE_DECLINE_MONTHS"] == (5, "ge")
    helmet = nmv.thresholds["HELMET_RATE_MIN"].content
    assert (helmet["value"], helmet["editable"]) == (90, True)


def test_clue_and_task_types_have_two_levels(nmv):
    for table in (nmv.clue_types, nmv.task_types):
        assert all(definition.content["subtypes"] for definition in table.values())
    disposals = {sub["name"] for t in nmv.task_types.values() for sub in t.content["subtypes"]}
    assert {"上门督导", "处罚加盟商（站点）负责人", "约谈平台企业交通安全负责人", "责令停业整顿", "落实停单措施"} <= disposals


def test_every_user_task_of_every_warning_type_shows_an_existing_form(nmv):
    for code in nmv.warning_types:
        forms = user_task_forms(nmv, code)
        assert forms[("nmv_dispatch", "Task_Feedback")]["formKey"] == checklist_form_key(nmv, code)
        assert forms[("nmv_clue", "Task_ClueReview")]["displayFormKey"] == nmv.warning_types[code].content["payload_form"]
        assert all(key in nmv.forms for task_forms in forms.values() for key in task_forms.values())


def test_a_warning_type_without_its_own_checklist_uses_its_task_types_form(nmv):
    assert "checklist_form" not in nmv.warning_types["HIGH_RISK_ENTERPRISE"].content
    assert checklist_form_key(nmv, "HIGH_RISK_ENTERPRISE") == "forms/checklists/enterprise_interview"
    assert checklist_form_key(nmv, "RED_LABEL_RIDER") == "forms/checklists/red_label_rider"


def test_station_and_enterprise_variants_share_one_checklist(nmv):
    assert checklist_form_key(nmv, "STATION_PLATE_COVERAGE_LOW") == checklist_form_key(nmv, "ENTERPRISE_PLATE_COVERAGE_LOW")


def test_time_limits_come_from_the_warning_type_then_the_task_type_then_the_level(nmv):
    assert time_limits(nmv, "RED_LABEL_RIDER") == TimeLimits(4, 72, 12)         # level L2
    assert time_limits(nmv, "HIGH_RISK_ENTERPRISE").feedback_hours == 720       # task type: monthly interview
    assert time_limits(nmv, "ENTERPRISE_BLACKLISTED_RIDER").feedback_hours == 120  # the warning type itself


PENALTY_FEEDBACK = {
    "inspection": {"inspected_on": "2026-11-20", "place": "黄浦区南京东路 100 号", "inspected_unit": "某配送站",
                   "unit_manager": "王站长", "inspectors": [{"name": "张三", "police_number": "012345"},
                                                            {"name": "李四", "police_number": "012346"}]},
    "check": {"vehicle_total": 50, "plated_total": 35, "coverage_rate": 70, "unplated_handling": ["督促办理专用号牌"]},
    "findings": {"has_problems": True, "problem_categories": ["专用号牌未悬挂或遮挡"], "problems": "15 辆车未悬挂专用号牌"},
    "penalty": {"penalized": True, "person": "王站长", "position": "加盟商（站点）负责人", "decision_number": "沪公交决字〔2026〕001 号",
                "fine_amount": 2000, "decided_on": "2026-11-20", "legal_basis": "《上海市非机动车安全管理条例》第三十二条"},
    "rectification": {"ordered": True, "requirements": "一周内全部悬挂专用号牌", "deadline": "2026-11-27"},
    "evidence": {"photos": ["att-1"]},
    "confirmation": {"unit_signature": "att-2", "officer_signature": "att-3"},
}


def test_a_checklist_validates_answers_through_its_shared_sections(nmv):
    validator = form_validator(nmv, "forms/checklists/plate_coverage")
    assert list(validator.iter_errors(PENALTY_FEEDBACK)) == []
    incomplete = {**PENALTY_FEEDBACK, "penalty": {"penalized": True, "person": "王站长"}}
    missing = {error.message for error in validator.iter_errors(incomplete)}
    assert "'decision_number' is a required property" in missing      # from checklist.defs.json#/$defs/penalty
    one_inspector = {**PENALTY_FEEDBACK, "inspection": {**PENALTY_FEEDBACK["inspection"], "inspectors": [{"name": "张三", "police_number": "1"}]}}
    assert any(error.validator == "minItems" for error in validator.iter_errors(one_inspector))


def test_a_payload_form_validates_an_inbound_warning(nmv):
    payload = {
        "report": {"reporting_department": "黄浦交警支队", "reported_at": "2026-11-20T09:30:00+08:00"},
        "rider": {"name": "赵六", "id_card": "310101199001011234", "risk_label": "RED"},
        "station": {"station_code": "ST001", "station_name": "南京东路站", "enterprise_name": "某外卖平台", "district": "黄浦区"},
        "field_check": {"found_at": "2026-11-20T08:00:00+08:00", "location": "南京东路河南中路口", "district": "黄浦区"},
        "red_label": {"labeled_on": "2026-10-01", "reasons": ["多次交通违法"]},
    }
    validator = form_validator(nmv, nmv.warning_types["RED_LABEL_RIDER"].content["payload_form"])
    assert list(validator.iter_errors(payload)) == []
    assert not validator.is_valid({**payload, "station": {**payload["station"], "district": "火星区"}})


def test_form_ui_inherits_the_hints_of_shared_definitions(nmv):
    ui = form_ui(nmv, "forms/checklists/plate_coverage")
    assert ui["evidence"]["photos"]["ui:widget"] == "camera"                   # fields.ui.json
    assert ui["confirmation"]["unit_signature"]["ui:widget"] == "signature"    # fields.ui.json through checklist.defs
    assert ui["penalty"]["ui:order"][0] == "penalized"                         # checklist.ui.json
    assert ui["check"]["unplated_handling"]["ui:widget"] == "checkboxes"       # the form's own UI
    assert ui["ui:order"] == nmv.forms["forms/checklists/plate_coverage"].ui.content["ui:order"]


def test_every_definition_carries_its_canonical_content_and_hash(tree):
    definitions = [definition for pack in tree.packs.values() for definition in pack.definitions()]
    assert len(definitions) > 100
    for definition in definitions:
        assert definition.sha256 == hashlib.sha256(definition.canonical).hexdigest()
    bpmn = tree.packs["nmv"].bpmn["bpmn/task.bpmn"]
    assert bpmn.canonical == (DEFINITIONS / "nmv" / "bpmn" / "task.bpmn").read_bytes()
