"""Dashboard definitions (definitions/<pack>/dashboards/<code>.json): the nmv pack's screens load,
and each kind of mistake is reported with its file, JSON pointer and a Chinese reason."""
from pathlib import Path

import pytest

from lowcode.definitions import load_tree
from tests.test_definitions_changes import edit, root  # noqa: F401  (root: the copied tree's fixture)

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions"
HOME = "nmv/dashboards/home.json"


def panel(document: dict, code: str) -> dict:
    return next(p for p in document["panels"] if p["code"] == code)


def test_the_nmv_pack_defines_its_screens():
    nmv = load_tree(DEFINITIONS).packs["nmv"]
    assert set(nmv.dashboards) == {"HOME", "RISK"}
    home = nmv.dashboards["HOME"]
    assert home.file == HOME and home.valid
    assert home.sha256 in {d.sha256 for d in nmv.definitions()}
    charts = {p["chart"] for p in home.content["panels"]}
    assert {"number", "line", "bar", "pie", "map", "table"} <= charts


@pytest.mark.parametrize("change, pointer, reason", [
    (lambda d: panel(d, "RIDERS").update(entity="courier"), "/panels/1/entity", "统计的实体 courier 不在本包中"),
    (lambda d: panel(d, "RIDERS").update(group_by="colour"), "/panels/1/group_by", "实体 rider 没有字段 colour"),
    (lambda d: panel(d, "VIOLATIONS_DAILY")["time"].update(field="place"), "/panels/6/time/field",
     "字段 place 须是日期或日期时间类型"),
    (lambda d: panel(d, "FATAL_BY_ENTERPRISE")["measure"].update(field="cost"), "/panels/11/measure/field",
     "实体 accident 没有字段 cost"),
    (lambda d: panel(d, "FATAL_BY_ENTERPRISE")["measure"].update(field="kind"), "/panels/11/measure/field",
     "字段 kind 须是整数或数值类型"),
    (lambda d: panel(d, "STATION_MAP")["map"].update(lat="name"), "/panels/5/map/lat", "字段 name 须是数值类型"),
    (lambda d: panel(d, "RIDERS").update(group_by="mobile"), "/panels/1/group_by", "不能按加密的个人信息字段分组"),
    (lambda d: panel(d, "UNPAID")["filters"].append({"field": "sum", "op": "eq", "value": 1}),
     "/panels/3/filters/1/field", "实体 violation 没有字段 sum"),
    (lambda d: panel(d, "RIDERS").update(code="ENTERPRISES"), "/panels/1/code", "面板代码 ENTERPRISES 重复"),
    (lambda d: panel(d, "STATION_MAP").pop("map"), "/panels/5/map", "缺少必填字段 map"),
    (lambda d: panel(d, "RIDERS").update(chart="radar"), "/panels/1/chart",
     "取值 \"radar\" 无效，应为以下之一：\"number\"、\"bar\"、\"line\"、\"pie\"、\"table\"、\"map\""),
])
def test_a_broken_panel_is_reported_at_its_place(root, change, pointer, reason):
    edit(root, HOME, change)
    errors = [(e.file, e.pointer, e.reason) for e in load_tree(root).errors]
    assert (HOME, pointer, reason) in errors
