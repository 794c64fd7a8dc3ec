"""等级与类型管理: the tables edited on a page and saved by publishing a new release of the pack;
whole-tree validation first, nothing stored on error, errors in Chinese."""
from html.parser import HTMLParser

import pytest

from lowcode import publishing
from tests.conftest import web_login


class FormFields(HTMLParser):
    """The fields a browser would post from the page's form: inputs, checked checkboxes only."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag != "input" or "name" not in attrs:
            return
        if attrs.get("type") == "checkbox":
            if "checked" in attrs:
                self.fields[attrs["name"]] = "on"
            return
        self.fields[attrs["name"]] = attrs.get("value") or ""


def form_of(client, kind: str) -> dict[str, str]:
    page = client.get(f"/labels/{kind}/edit")
    assert page.status_code == 200
    parser = FormFields()
    parser.feed(page.get_data(as_text=True))
    return parser.fields


def row_of(fields: dict, column: str, value: str) -> int:
    return next(int(k.split("-")[1]) for k, v in fields.items() if k.endswith(f"-{column}") and v == value)


def current_number(app) -> int:
    with app.app_context():
        return publishing.current_releases()["nmv"].number


@pytest.fixture()
def restore(app):
    """Publish the release in force before the test again afterwards (rollback is a new release)."""
    with app.app_context():
        before = publishing.current_releases()["nmv"]
        before_id, before_hash = before.id, before.sha256
    yield
    with app.app_context():
        if publishing.current_releases()["nmv"].sha256 != before_hash:
            publishing.rollback(before_id, "测试后恢复")


@pytest.mark.parametrize("kind", ["clue_levels", "clue_types", "task_levels", "task_types"])
def test_saving_an_unchanged_table_publishes_nothing(client, app, kind):
    web_login(client, "yewu")
    before = current_number(app)
    response = client.post(f"/labels/{kind}/edit", data=form_of(client, kind))
    assert response.status_code == 302 and current_number(app) == before


def test_adding_a_level_publishes_a_release_that_is_in_force(client, app, restore):
    web_login(client, "yewu")
    listing = client.get("/labels/").get_data(as_text=True)
    assert "线索等级" in listing and "紧急" in listing and "任务类型" in listing and "上门督导" in listing
    fields = form_of(client, "clue_levels")
    blank = row_of(fields, "code", "")
    fields.update({f"rows-{blank}-code": "SPECIAL", f"rows-{blank}-name": "特急", f"rows-{blank}-color": "#990000",
                   f"rows-{blank}-order": "4", "note": "新增线索等级“特急”"})
    before = current_number(app)
    response = client.post("/labels/clue_levels/edit", data=fields)
    assert response.status_code == 302
    with app.app_context():
        release = publishing.current_releases()["nmv"]
        assert release.number == before + 1 and release.source == "labels"
        assert publishing.current_tree().packs["nmv"].clue_levels["SPECIAL"].content["name"] == "特急"
    assert "特急" in client.get("/clues/").get_data(as_text=True)  # the filter offers it at once


def test_renaming_a_second_level_type_keeps_the_first_level(client, app, restore):
    web_login(client, "yewu")
    fields = form_of(client, "clue_types")
    row = row_of(fields, "name", "红标骑手")
    fields[f"rows-{row}-name"] = "红标骑手（路面查处）"
    assert client.post("/labels/clue_types/edit", data=fields).status_code == 302
    with app.app_context():
        category = publishing.current_tree().packs["nmv"].clue_types["RIDER_RISK"].content
    assert category["name"] == "骑手风险" and category["subtypes"][0]["name"] == "红标骑手（路面查处）"


def test_removing_a_level_in_use_is_refused_and_nothing_is_stored(client, app):
    web_login(client, "yewu")
    fields = form_of(client, "clue_levels")
    fields[f"rows-{row_of(fields, 'code', 'IMPORTANT')}-_delete"] = "on"
    before = current_number(app)
    response = client.post("/labels/clue_levels/edit", data=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "未保存" in html and "引用的线索等级 IMPORTANT 不存在" in html
    assert current_number(app) == before


def test_bad_cells_are_named_by_row_and_column(client, app):
    web_login(client, "yewu")
    fields = form_of(client, "task_levels")
    first = row_of(fields, "code", "L1")
    fields.update({f"rows-{first}-sign_hours": "两小时", f"rows-{first}-color": "red"})
    response = client.post("/labels/task_levels/edit", data=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"第 {first + 1} 行「签收时限（小时）」应为数字" in html
    fields[f"rows-{first}-sign_hours"] = "2"
    html = client.post("/labels/task_levels/edit", data=fields).get_data(as_text=True)
    assert "任务等级与时限第 1 项「颜色」" in html and "#RRGGBB" in html
    duplicate = form_of(client, "clue_types")
    duplicate[f"rows-{row_of(duplicate, 'name', '无登记信息骑手')}-code"] = "RED_LABEL"
    html = client.post("/labels/clue_types/edit", data=duplicate).get_data(as_text=True)
    assert "一级类型 RIDER_RISK 下代码 RED_LABEL 重复" in html


def test_label_pages_need_their_permissions(client):
    web_login(client, "lingdao")
    assert client.get("/labels/").status_code == 200
    assert client.get("/labels/clue_levels/edit").status_code in (302, 403)
    client.get("/logout/")
    web_login(client, "zd_xuhui")
    assert client.get("/labels/").status_code in (302, 403)


def test_the_api_reads_and_publishes_a_table(api, app, restore):
    caller = api("yewu")
    levels = caller.get("/api/v1/labels/task_levels").get_json()["result"]
    assert [level["code"] for level in levels][:2] == ["L1", "L2"]
    levels[0]["feedback_hours"] = 12
    answer = caller.put("/api/v1/labels/task_levels", json={"entries": levels, "note": "一级任务 12 小时反馈"})
    assert answer.status_code == 200 and answer.get_json()["release"] == current_number(app)
    with app.app_context():
        assert publishing.current_tree().packs["nmv"].task_levels["L1"].content["feedback_hours"] == 12
    levels[0]["feedback_hours"] = -1
    refused = caller.put("/api/v1/labels/task_levels", json={"entries": levels})
    assert refused.status_code == 400 and "任务等级与时限第 1 项「反馈时限（小时）」" in refused.get_json()["message"]["errors"][0]
    assert api("lingdao").put("/api/v1/labels/task_levels", json={"entries": levels}).status_code == 403
