"""线索管理 pages and API: combined query, sorting, paging, empty state, detail, statistics,
and district isolation (another district's clue is 404, statistics count only one's own)."""
import datetime as dt
import json
import re
import uuid

import pytest
from sqlalchemy import select

from lowcode import intake, publishing
from lowcode.models import ApiClient, Department
from tests.conftest import web_login
from tests.form_samples import sample

XUHUI, PUDONG = "310104000000", "310115000000"


@pytest.fixture(scope="module")
def marker():
    return f"UT{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def clues(app, marker):
    """Five clues of two warning types in two districts, on known days; one arrives through the
    receiving API with attachments."""
    from lowcode import clock
    from lowcode.extensions import db
    from lowcode.flow import actions

    made = {}
    with app.test_request_context():
        departments = {d.code: d for d in db.session.scalars(select(Department))}
        plan = [("a", "STATION_PLATE_COVERAGE_LOW", XUHUI, "2026-03-01 09:00"),
                ("b", "STATION_PLATE_COVERAGE_LOW", XUHUI, "2026-03-02 09:00"),
                ("c", "STATION_FATAL_ACCIDENT", XUHUI, "2026-03-09 09:00"),
                ("d", "STATION_FATAL_ACCIDENT", PUDONG, "2026-04-01 09:00")]
        for name, warning_type, code, at in plan:
            clue = actions.new_clue(warning_type=warning_type, title=f"{marker}-{name} 某配送站",
                                    department=departments[code], source="各区支队研判", payload={})
            clue.created_at = dt.datetime.fromisoformat(at)
            db.session.flush()
            made[name] = clue.id
        db.session.commit()
        pack = publishing.current_tree().packs["nmv"]
        client = ApiClient(code=f"api-{marker}", name="测试接入", created_at=clock.now(), key_prefix="", key_hash="")
        intake.issue_key(client)
        db.session.add(client)
        db.session.commit()
        item = {"type": "STATION_PLATE_COVERAGE_LOW", "source_id": f"{marker}-SRC", "occurred_at": "2026-11-20T09:30:00+08:00",
                "district_code": "310104", "subject": {"id": f"{marker}-ST", "name": f"{marker}-e 站点"},
                "payload": sample(pack, pack.warning_types["STATION_PLATE_COVERAGE_LOW"].content["payload_form"]),
                "attachments": [{"name": "现场照片.jpg", "url": "https://files.example.invalid/p/1.jpg", "content_type": "image/jpeg"},
                                {"name": "记录.mp4", "url": "https://files.example.invalid/p/2.mp4", "content_type": "video/mp4"},
                                {"name": "通报.pdf", "url": "https://files.example.invalid/p/3.pdf", "content_type": "application/pdf"}]}
        answer = intake.receive(client, json.dumps(item, ensure_ascii=False).encode())
        made["e"] = answer["items"][0]["clue_id"]
        # A reference that is no http(s) address is refused at the door, so no page can link it.
        item = {**item, "source_id": f"{marker}-SRC-2", "attachments": [{"name": "坏的", "url": "javascript:alert(1)"}]}
        refused = intake.receive(client, json.dumps(item, ensure_ascii=False).encode())["items"][0]
        assert refused["errors"] == {"attachments/0/url": "应为 http(s) 地址"}
    return made


def titles(html: str, marker: str) -> list[str]:
    return re.findall(rf"{marker}-(\w)", html)


def test_combined_query_filters_sorts_and_keeps_filters_in_links(client, clues, marker):
    web_login(client, "yanpan")
    page = client.get(f"/clues/?title={marker}&warning_type=STATION_PLATE_COVERAGE_LOW&sort=created_at&order=asc")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert titles(html, marker) == ["a", "b", "e"]
    assert "站点专用号牌" in html or "专用号牌" in html   # names, not codes
    assert f"title={marker}" in html and "warning_type=STATION_PLATE_COVERAGE_LOW" in html  # sort/page links keep filters
    ranged = client.get(f"/clues/?title={marker}&created_from=2026-03-02&created_to=2026-03-09&sort=created_at&order=desc")
    assert titles(ranged.get_data(as_text=True), marker) == ["c", "b"]
    by_level = client.get(f"/clues/?title={marker}&sort=level&order=asc")
    # The fatal-accident clues are 紧急 (order 1), the plate-coverage ones 重要 (order 2); then by id.
    assert titles(by_level.get_data(as_text=True), marker) == ["c", "d", "a", "b", "e"]
    district = client.get(f"/clues/?title={marker}&department={PUDONG}")
    assert titles(district.get_data(as_text=True), marker) == ["d"]


def test_paging_and_empty_state_and_bad_arguments(client, clues, marker):
    web_login(client, "yanpan")
    first = client.get(f"/clues/?title={marker}&sort=title&order=asc&page_size=20")
    assert titles(first.get_data(as_text=True), marker) == ["a", "b", "c", "d", "e"]
    second = client.get(f"/clues/?title={marker}&page=2")
    assert "没有符合条件的线索" in second.get_data(as_text=True)
    empty = client.get("/clues/?title=不存在的线索标题xyz")
    assert empty.status_code == 200 and "没有符合条件的线索" in empty.get_data(as_text=True)
    bad = client.get("/clues/?created_from=2026-13-01&page_size=7")
    html = bad.get_data(as_text=True)
    assert "创建日期（起）：日期格式应为 YYYY-MM-DD" in html and "每页条数" in html


def test_api_query_pages_and_sorts(api, clues, marker):
    answer = api("yanpan").get(f"/api/v1/clues/?title={marker}&sort=title&order=desc&page_size=20").get_json()
    assert answer["count"] == 5
    # The clue made by the receiving API is titled by its warning type's name first, so it sorts last.
    assert [titles(r["title"], marker)[0] for r in answer["result"]] == ["e", "d", "c", "b", "a"]
    assert answer["result"][0]["level_name"] and answer["result"][0]["warning_type_name"]
    assert api("yanpan").get("/api/v1/clues/?page=0").status_code == 400


def test_detail_shows_names_payload_attachments_history(client, clues, marker, celery_worker):
    web_login(client, "yanpan")
    html = client.get(f"/clues/{clues['e']}").get_data(as_text=True)
    assert "基本信息" in html and "预警内容" in html and f"{marker}-SRC" in html
    assert '<img class="lc-thumb" src="https://files.example.invalid/p/1.jpg"' in html
    assert '<video class="lc-thumb" src="https://files.example.invalid/p/2.mp4"' in html
    assert "通报.pdf" in html and "javascript:" not in html
    assert "尚未生成任务" in html
    from lowcode.extensions import db
    from lowcode.models import AuditEvent

    with client.application.app_context():
        read = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "Clue", AuditEvent.action == "read_personal",
                                                           AuditEvent.object_id == str(clues["e"]))).all()
    assert read and read[-1].actor_name


def test_district_isolation_on_pages_api_and_statistics(client, api, clues, marker):
    web_login(client, "zd_xuhui")
    assert client.get(f"/clues/{clues['d']}").status_code == 404
    assert client.get(f"/clues/{clues['a']}").status_code == 200
    assert titles(client.get(f"/clues/?title={marker}").get_data(as_text=True), marker) != []
    assert "d" not in titles(client.get(f"/clues/?title={marker}").get_data(as_text=True), marker)
    client.get("/logout/")  # the API calls below carry only their bearer token
    assert api("zd_xuhui").get(f"/api/v1/clues/{clues['d']}").status_code == 404
    assert api("zd_pudong").get(f"/api/v1/clues/{clues['d']}").status_code == 200
    stats = api("zd_xuhui").get(f"/api/v1/clues/statistics?by=department&title={marker}").get_json()
    assert stats["total"] == 4 and [g["name"] for g in stats["groups"]] == ["徐汇交警支队"]


def test_statistics_group_in_sql_by_each_dimension(client, api, clues, marker):
    caller = api("yanpan")
    by_type = caller.get(f"/api/v1/clues/statistics?by=warning_type&title={marker}").get_json()
    assert {g["key"]: g["count"] for g in by_type["groups"]} == {"STATION_FATAL_ACCIDENT": 2, "STATION_PLATE_COVERAGE_LOW": 3}
    weeks = caller.get(f"/api/v1/clues/statistics?by=time&period=week&title={marker}&created_to=2026-06-30").get_json()
    assert [(g["key"], g["count"]) for g in weeks["groups"]] == [("2026-02-23", 1), ("2026-03-02", 1), ("2026-03-09", 1),
                                                                 ("2026-03-30", 1)]
    months = caller.get(f"/api/v1/clues/statistics?by=time&period=month&title={marker}&created_to=2026-06-30").get_json()
    assert [(g["key"], g["count"]) for g in months["groups"]] == [("2026-03-01", 3), ("2026-04-01", 1)]
    level = caller.get(f"/api/v1/clues/statistics?by=level&title={marker}&chart=pie").get_json()
    assert level["figure"]["data"][0]["type"] == "pie" and sum(g["count"] for g in level["groups"]) == 5
    assert caller.get("/api/v1/clues/statistics?by=colour").status_code == 400
    client.get("/logout/")
    web_login(client, "yanpan")
    page = client.get(f"/clues/statistics?by=type&title={marker}").get_data(as_text=True)
    assert "data-figure=" in page and "/static/vendor/plotly.min.js" in page and "合计" in page
    assert client.get("/static/vendor/plotly.min.js").status_code == 200
    empty = client.get("/clues/statistics?title=不存在的线索标题xyz").get_data(as_text=True)
    assert "无可统计的数据" in empty


def test_clue_pages_need_their_permission(client):
    web_login(client, "yewu")
    assert client.get("/clues/").status_code == 200
    client.get("/logout/")
    web_login(client, "pda_xuhui")
    assert client.get("/clues/").status_code in (302, 403)


def test_openapi_documents_the_clue_api(client, api):
    spec = api("yanpan").get("/api/v1/_openapi").get_json()
    paths = set(spec["paths"])
    assert {"/clues/", "/clues/statistics", "/clues/{clue_id}", "/labels/{kind}", "/outbox/", "/outbox/resend"} <= {
        p.removeprefix("/api/v1") for p in paths}


def test_detail_links_the_open_work_item_and_the_tasks_with_the_history(app, client):
    from tests.test_workflow_paths import adopted_task, new_clue

    with app.test_request_context():
        task = adopted_task("详情测试：审核评估后下发")
        task_id, adopted_id = task.id, task.clue_id
        waiting = new_clue("详情测试：待审核")
        waiting_id = waiting.id
    web_login(client, "yanpan")
    html = client.get(f"/clues/{adopted_id}").get_data(as_text=True)
    assert f'href="/tasks/{task_id}"' in html and "线索审核" in html and "线索评估" in html
    html = client.get(f"/clues/{waiting_id}").get_data(as_text=True)
    assert re.search(r'href="/inbox/\d+">去办理', html) and "尚无审核、评估记录" not in html
