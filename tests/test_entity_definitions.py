"""Entity definitions (definitions/<pack>/entities/<name>.json): the nmv pack's entities load, and
each kind of mistake is reported with its file, JSON pointer and a Chinese reason."""
import shutil
from pathlib import Path

import pytest

from lowcode.definitions import load_tree
from tests.test_definitions_changes import edit, root  # noqa: F401  (root: the copied tree's fixture)

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions"
RIDER = "nmv/entities/rider.json"


def field(document: dict, name: str) -> dict:
    return next(f for f in document["fields"] if f["name"] == name)


def test_the_nmv_pack_defines_the_domain_entities():
    nmv = load_tree(DEFINITIONS).packs["nmv"]
    assert set(nmv.entities) == {"enterprise", "supplier", "station", "rider", "vehicle", "violation", "accident"}
    rider = nmv.entities["rider"]
    assert rider.file == RIDER and rider.valid
    personal = {f["name"]: f["personal"] for f in rider.content["fields"] if "personal" in f}
    assert personal == {"name": "name", "id_number": "id_number", "mobile": "mobile"}
    assert rider.sha256 in {d.sha256 for d in nmv.definitions()}


@pytest.mark.parametrize("change, pointer, reason", [
    (lambda d: field(d, "station").update(ref="depot"), "/fields/8/ref", "引用的实体 depot 不在本包中"),
    (lambda d: d.update(key="number"), "/key", "业务主键字段 number 不在 fields 中"),
    (lambda d: d.update(district="area"), "/district", "行政区划字段 area 不在 fields 中"),
    (lambda d: d.update(key="name"), "/key", "业务主键不能是个人信息字段（加密后无法唯一约束与引用）"),
    (lambda d: d["fields"].append({"name": "code", "title": "重复", "type": "string"}), "/fields/15/name",
     "字段名 code 重复"),
    (lambda d: d["indexes"].append(["nickname"]), "/indexes/5/0", "索引列 nickname 不是本实体的字段"),
    (lambda d: d["fields"].append({"name": "id", "title": "编号", "type": "integer"}), "/fields/15/name",
     "取值 \"id\" 不允许：id、created_at、updated_at、synced_at 是平台自带的列，不能用作字段名"),
    (lambda d: field(d, "kind").pop("choices"), "/fields/5/choices", "缺少必填字段 choices"),
    (lambda d: field(d, "id_number").update(search="contains"), "/fields/2/search", "取值应为 \"exact\""),
    (lambda d: field(d, "gender").update(type="text"), "/fields/4/type",
     "取值 \"text\" 无效，应为以下之一：\"string\"、\"integer\"、\"number\"、\"boolean\"、\"date\"、\"datetime\"、\"enum\"、\"ref\""),
])
def test_a_broken_entity_is_reported_at_its_place(root, change, pointer, reason):
    edit(root, RIDER, change)
    errors = [(e.file, e.pointer, e.reason) for e in load_tree(root).errors]
    assert (RIDER, pointer, reason) in errors


def test_two_files_may_not_define_the_same_entity(root):
    shutil.copy(root / RIDER, root / "nmv/entities/rider_copy.json")
    errors = [str(e) for e in load_tree(root).errors]
    assert errors == ["nmv/entities/rider_copy.json#/name: 实体名 rider 重复（已在 nmv/entities/rider.json 定义）"]
