"""The form engine as a library: the subset it accepts (and what it refuses, where and why), the
Chinese messages it places at fields, conditions, decoding of posts, and rendering."""
import json
import shutil
from pathlib import Path

import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import MultiDict

import forms
from forms.conditions import evaluate
from lowcode.definitions import form_ui, load_tree, validate_path
from pda_renderer import render_pda

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions"
BASE = "https://forms.invalid/"


def registry(**documents) -> Registry:
    return Registry().with_resources(
        (BASE + name, Resource.from_contents(document, default_specification=DRAFT202012))
        for name, document in documents.items())


def make(schema: dict, ui: dict | None = None, **others) -> forms.Form:
    return forms.compile_form(BASE + "form.json", registry(**{"form.json": schema}, **others), ui)


def problems(schema: dict, ui: dict | None = None, **others) -> set[tuple[str, str]]:
    with pytest.raises(forms.SubsetError) as refused:
        make(schema, ui, **others)
    return {(problem.uri.removeprefix(BASE), problem.pointer) for problem in refused.value.problems}


def form_of(*properties, **keywords) -> dict:
    return {"title": "测试表单", "type": "object", "properties": dict(properties), **keywords}


TEXT = {"type": "string", "title": "文本"}
YES_NO = {"type": "boolean", "title": "是否"}


@pytest.fixture(scope="module")
def nmv():
    return load_tree(DEFINITIONS).packs["nmv"]


def real_form(pack, key: str) -> forms.Form:
    return forms.compile_form(pack.forms[key].uri, pack.form_registry, form_ui(pack, key))


# ------------------------------------------------------------------ the subset

def test_every_real_form_compiles_and_renders_on_both_renderers(nmv):
    for key in nmv.forms:
        form = real_form(nmv, key)
        data = form.defaults()
        assert 'class="lc-form-body lc-web"' in forms.render_web(form, data, form.errors(data))
        assert "lc-pda" in render_pda(form, data)
        assert forms.render_summary(form, data)


@pytest.mark.parametrize("schema, where", [
    (form_of(("a", {**TEXT, "anyOf": [{"type": "string"}]})), "/properties/a/anyOf"),
    (form_of(("a", {**TEXT, "pattern": "^x$"})), "/properties/a/pattern"),
    (form_of(("a", {"type": "null", "title": "空"})), "/properties/a/type"),
    (form_of(("a", {"title": "无类型"})), "/properties/a"),
    (form_of(("a", {**TEXT, "format": "ipv4"})), "/properties/a/format"),
    (form_of(("a", {**YES_NO, "enum": [True]})), "/properties/a/enum"),
    (form_of(("a", {**TEXT, "minimum": 1})), "/properties/a/minimum"),
    (form_of(("a", {"type": "array", "title": "列表", "items": {"type": "string"}})), "/properties/a/items"),
    (form_of(("a", {"type": "array", "title": "嵌套", "items": {"type": "array", "items": {"type": "string", "enum": ["x"]}}})),
     "/properties/a/items"),
    (form_of(("a", {"type": "string", "title": "附件", "format": "attachment"})), "/properties/a"),
    (form_of(("a", {**TEXT, "oneOf": [{"const": "x"}]})), "/properties/a/oneOf/0"),
    (form_of(("a", TEXT), then={"required": ["a"]}), ""),
    (form_of(("a", YES_NO), ("b", TEXT), **{"if": {"properties": {"a": {"not": {"const": True}}}},
                                             "then": {"required": ["b"]}}), "/if/properties/a/not"),
    (form_of(("a", YES_NO), **{"if": {"anyOf": []}, "then": {}}), "/if/anyOf"),
    (form_of(("a", YES_NO), ("b", TEXT), **{"if": {"properties": {"a": {"const": True}}}, "then": {"required": ["b"], "minProperties": 1}}),
     "/then/minProperties"),
])
def test_a_construct_outside_the_subset_is_refused_where_it_is_written(schema, where):
    assert ("form.json", where) in problems(schema)


def test_a_condition_may_only_test_fields_that_are_always_shown():
    schema = form_of(("a", YES_NO), ("b", YES_NO), ("c", TEXT),
                     **{"if": {"properties": {"a": {"const": True}}, "required": ["a"]}, "then": {"required": ["b"]},
                        "dependentSchemas": {"b": {"required": ["c"]}}})
    assert problems(schema) == {("form.json", "/dependentSchemas/b")}


def test_a_condition_may_not_test_a_section_or_a_group():
    schema = form_of(("s", {"type": "object", "title": "分节", "properties": {"x": TEXT}}), ("c", TEXT),
                     **{"if": {"required": ["s"]}, "then": {"required": ["c"]}})
    assert problems(schema) == {("form.json", "/if/required/0")}


def test_a_refusal_inside_a_shared_file_names_that_file():
    shared = {"title": "共用", "$defs": {"notes": {"type": "array", "title": "备注", "items": {"$ref": "#/$defs/text"}},
                                        "text": TEXT}}
    schema = form_of(("notes", {"$ref": "shared.json#/$defs/notes"}))
    assert problems(schema, **{"shared.json": shared}) == {("shared.json", "/$defs/notes/items")}


def test_a_field_may_not_contain_itself():
    shared = {"title": "共用", "$defs": {"node": {"type": "object", "title": "节点", "properties": {
        "child": {"$ref": "#/$defs/node"}}}}}
    assert problems(form_of(("root", {"$ref": "shared.json#/$defs/node"})), **{"shared.json": shared}) == {
        ("shared.json", "/$defs/node")}


def test_validation_needs_no_reference_lookups():
    shared = {"title": "共用", "$defs": {"mobile": {"type": "string", "title": "手机号", "format": "mobile"}}}
    form = make(form_of(("mobile", {"$ref": "shared.json#/$defs/mobile", "title": "负责人手机号"})),
                **{"shared.json": shared})
    assert "$ref" not in json.dumps(form._validator.schema)
    assert form.errors({"mobile": "123"}) == {"mobile": ["请填写有效的 11 位手机号"]}


def test_a_widget_must_suit_its_field():
    schema = form_of(("photos", {"type": "array", "title": "照片", "items": {
        "type": "string", "format": "attachment", "x-accept": ["image/png"]}}))
    assert ("form.json", "/properties/photos") in problems(schema, {"photos": {"ui:widget": "signature"}})
    assert make(schema, {"photos": {"ui:widget": "camera"}}).root.child["photos"].widget == "camera"


def edit_json(path: Path, change) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def test_the_loader_refuses_a_form_the_engine_cannot_render_naming_file_and_pointer(tmp_path):
    root = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, root)
    # Both pass the meta-schema: a $ref may stand for anything, and dependentSchemas may name any field.
    edit_json(root / "nmv/forms/checklists/plate_damage.schema.json", lambda d: d["properties"]["check"]["properties"]
              .update(notes={"type": "array", "title": "备注", "items": {"$ref": "../common/fields.defs.json#/$defs/long_text"}}))
    edit_json(root / "nmv/forms/workflow/clue_evaluation.schema.json",
              lambda d: d.update(dependentSchemas={"invalid_reason": {"required": ["evaluation_opinion"]}}))
    errors = {(error.file, error.pointer): error.reason for error in validate_path(root)}
    assert "数组元素只能是" in errors["nmv/forms/checklists/plate_damage.schema.json", "/properties/check/properties/notes/items"]
    assert "条件只能判断始终显示的字段" in errors["nmv/forms/workflow/clue_evaluation.schema.json", "/dependentSchemas/invalid_reason"]
    assert len(errors) == 2


# ------------------------------------------------------------------ validation messages

CHECKLIST = form_of(
    ("visited_on", {"type": "string", "title": "日期", "format": "date"}),
    ("mobile", {"type": "string", "title": "手机号", "format": "mobile"}),
    ("count", {"type": "integer", "title": "人数", "minimum": 1}),
    ("kind", {"type": "string", "title": "类型", "oneOf": [{"const": "A", "title": "甲"}, {"const": "B", "title": "乙"}]}),
    ("team", {"type": "array", "title": "人员", "minItems": 2, "items": {
        "type": "object", "title": "民警", "properties": {"name": TEXT, "number": {"type": "string", "title": "警号"}},
        "required": ["name"]}}),
    ("topics", {"type": "array", "title": "内容", "items": {"type": "string", "enum": ["x", "y"]}, "minItems": 1}),
    ("penalized", YES_NO),
    ("amount", {"type": "number", "title": "金额", "minimum": 0}),
    ("reason", TEXT),
    ("accepted_on", {"type": "string", "title": "验收日期", "format": "date"}),
    ("accepted", {"type": "boolean", "title": "是否验收"}),
    required=["visited_on", "kind", "team", "penalized"],
    dependentRequired={"accepted_on": ["accepted"]},
    **{"if": {"properties": {"penalized": {"const": True}}, "required": ["penalized"]},
       "then": {"required": ["amount"]}, "else": {"required": ["reason"]}},
)


def test_every_error_is_a_chinese_message_at_its_field():
    form = make(CHECKLIST)
    errors = form.errors({"mobile": "12345", "count": 0, "kind": "C", "team": [{"number": "1"}], "penalized": True,
                          "amount": -1, "accepted_on": "2026-11-20"})
    assert errors == {
        "visited_on": ["请填写此项"],
        "mobile": ["请填写有效的 11 位手机号"],
        "count": ["不能小于 1"],
        "kind": ["请从给出的选项中选择"],
        "team": ["至少填写 2 项"],
        "team.0.name": ["请填写此项"],
        "amount": ["不能小于 0"],
        "accepted": ["请选择"],
    }


def test_conditional_requirements_follow_the_branch_that_applies():
    form = make(CHECKLIST)
    base = {"visited_on": "2026-11-20", "kind": "A", "team": [{"name": "甲"}, {"name": "乙"}]}
    assert form.errors({**base, "penalized": True}) == {"amount": ["请填写此项"]}
    assert form.errors({**base, "penalized": False}) == {"reason": ["请填写此项"]}
    assert form.errors({**base, "penalized": False, "reason": "情节轻微"}) == {}


def test_wrong_types_and_empty_lists_have_their_own_words():
    form = make(CHECKLIST)
    errors = form.errors({"count": "三", "topics": [], "penalized": "是"})
    assert errors["count"] == ["请填写整数"]
    assert errors["topics"] == ["至少选择 1 项"]
    assert errors["penalized"] == ["填写的内容类型不正确"]


# ------------------------------------------------------------------ conditions and decoding

CONDITIONAL = form_of(
    ("penalized", YES_NO),
    ("amount", {"type": "number", "title": "金额"}),
    ("reason", TEXT),
    ("note", TEXT),
    ("photo_taken", YES_NO),
    ("photo_note", TEXT),
    required=["penalized"],
    dependentSchemas={"photo_taken": {"properties": {"photo_note": TEXT}}},
    **{"if": {"properties": {"penalized": {"const": True}}, "required": ["penalized"]},
       "then": {"required": ["amount"]}, "else": {"required": ["reason"]}},
)


def test_a_field_a_branch_names_is_shown_only_while_the_branch_applies():
    form = make(CONDITIONAL)
    conditional = {child.name for child in form.root.children if child.conditional}
    assert conditional == {"amount", "reason", "photo_note"}
    shown, required = evaluate(form.root, {"penalized": True})
    assert {"amount", "note"} <= shown and "reason" not in shown and "photo_note" not in shown
    assert required == {"penalized", "amount"}
    shown, _ = evaluate(form.root, {"photo_taken": False})
    assert {"reason", "photo_note"} <= shown     # no answer yet: `if` fails, so `else` applies


def test_what_a_hidden_field_held_is_dropped_and_so_are_unknown_names():
    form = make(CONDITIONAL)
    data = {"penalized": True, "amount": 200, "reason": "旧答案", "bogus": 1}
    assert form.normalise(data) == {"penalized": True, "amount": 200}


def test_a_post_decodes_to_typed_data():
    form = make(CHECKLIST)
    post = MultiDict([
        ("visited_on", " 2026-11-20 "), ("mobile", ""), ("count", "12"), ("amount", "12.5"), ("kind", "B"),
        ("penalized", "true"), ("accepted", "false"), ("topics", "y"), ("topics", "x"),
        ("team", "7"), ("team.7.name", "张三"), ("team.7.number", "\u3000"), ("team", "2"), ("team.2.name", ""),
    ])
    assert form.decode(post) == {
        "visited_on": "2026-11-20", "count": 12, "amount": 12.5, "kind": "B", "penalized": True, "accepted": False,
        "topics": ["y", "x"], "team": [{"name": "张三"}, {}],
    }


def test_text_that_is_not_a_number_stays_text_for_validation_to_report():
    form = make(CHECKLIST)
    data = form.decode(MultiDict([("count", "1e3"), ("penalized", "maybe")]))
    assert data["count"] == "1e3" and data["penalized"] == "maybe"
    assert form.errors(data)["count"] == ["请填写整数"]


def test_defaults_fill_a_new_form():
    form = make(form_of(("legal_basis", {**TEXT, "default": "第三十二条"}), ("s", {
        "type": "object", "title": "分节", "properties": {"refused": {**YES_NO, "default": False}}})))
    assert form.defaults() == {"legal_basis": "第三十二条", "s": {"refused": False}}


# ------------------------------------------------------------------ rendering

def test_the_web_form_carries_paths_rules_labels_and_errors():
    form = make(CONDITIONAL, {"note": {"ui:widget": "textarea", "ui:help": "可不填"}})
    html = forms.render_web(form, {"penalized": True}, {"amount": ["请填写此项"]})
    assert 'name="amount"' in html and 'for="f-amount"' in html
    assert 'aria-describedby="e-amount"' in html and '<span class="help-block lc-error">请填写此项</span>' in html
    assert '<a href="#w-amount">金额</a>：请填写此项' in html
    assert 'id="w-reason"' in html and 'data-conditional hidden' in html
    assert "data-rules=" in html and "&#34;present&#34;:&#34;photo_taken&#34;" in html
    assert '<textarea class="form-control" id="f-note"' in html and "可不填" in html


def test_the_summary_shows_titles_of_choices_and_skips_hidden_fields():
    form = make(form_of(("kind", {"type": "string", "title": "类型", "oneOf": [{"const": "A", "title": "甲类"}]}),
                        ("penalized", YES_NO), ("reason", TEXT), required=["penalized"],
                        **{"if": {"properties": {"penalized": {"const": False}}, "required": ["penalized"]},
                           "then": {"required": ["reason"]}}))
    html = forms.render_summary(form, {"kind": "A", "penalized": True})
    assert "甲类" in html and "<dt>是否</dt>" in html and "是\n" in html and "文本" not in html


def test_the_error_list_follows_the_order_of_the_page():
    form = make(CHECKLIST)
    html = forms.render_web(form, {}, {"penalized": ["请选择"], "": ["表单数据无效"], "visited_on": ["请填写此项"]})
    assert html.index("#lc-form-top") < html.index("#w-visited_on") < html.index("#w-penalized")


def test_an_error_list_names_the_field_by_its_titles():
    form = make(CHECKLIST)
    assert forms.label_of(form, "team.1.name") == "人员 › 第 2 项 › 文本"
    assert forms.label_of(form, "") == "测试表单"
