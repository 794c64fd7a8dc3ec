"""待办/已办, task query, detail, 督办, 终止, statistics, notifications and the PDA pages, through
the Flask test client and the REST API: scoped by district, refusals in Chinese."""
import datetime as dt
import re

import pytest
from sqlalchemy import event, select
from werkzeug.datastructures import MultiDict

from lowcode import statistics_rollups, task_queries, task_visibility
from lowcode.extensions import db
from lowcode.flow import actions
from lowcode.flow.timers import fire_due
from lowcode.models import Notification, Supervision, Task, TaskVisibility, WorkItem
from tests.conftest import csrf_token, web_login
from tests.task_helpers import answers, dispatch_of, dispatched_task, do, fresh, open_items, user
from tests.test_forms_pages import as_post

XUHUI, XUHUI_BRIGADE, PUDONG = "310104000000", "310104010000", "310115000000"


@pytest.fixture()
def ctx(app):
    with app.test_request_context():
        yield


class Fresh:
    """A test client whose every request runs in a fresh app context: the test's own context
    (needed by the service helpers) must not lend its `g` (the signed-in user) to requests."""

    def __init__(self, app, headers=None):
        self.app, self.client, self.headers = app, app.test_client(), headers or {}

    def __getattr__(self, method):
        def call(url, **kwargs):
            with self.app.app_context():
                return getattr(self.client, method)(url, headers=self.headers, **kwargs)
        return call


def signed_in(app, username: str) -> Fresh:
    client = Fresh(app)
    web_login(client, username)
    return client


@pytest.fixture()
def api(app, api_tokens):
    return lambda username: Fresh(app, {"Authorization": f"Bearer {api_tokens(username)}"})


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:300])
    return response.get_data(as_text=True)


def post(client, url: str, form_url: str, pairs=(), **fields):
    token = csrf_token(client.get(form_url).get_data(as_text=True))
    return client.post(url, data=MultiDict([("csrf_token", token), *pairs, *fields.items()]))


def unread(username: str, kind: str, task_id: int | None = None) -> list[Notification]:
    """The user's unread notifications of a kind (about one task, when given: other tests leave theirs)."""
    query = select(Notification).where(Notification.user_id == user(username).id, Notification.kind == kind,
                                       Notification.read_at.is_(None))
    if task_id is not None:
        query = query.where(Notification.task_id == task_id)
    return db.session.scalars(query).all()


def test_the_inbox_lists_work_for_the_department_with_filters_sorting_and_empty_states(app, ctx):
    task = dispatched_task("待办列表测试", [XUHUI])
    zd = signed_in(app, "zd_xuhui")
    html = page(zd, "/inbox/")
    assert "待办列表测试" in html and "任务签收" in html
    assert "待办列表测试" in page(zd, "/inbox/?sort=title&desc=0")
    assert "待办列表测试" in page(zd, f"/inbox/?level={task.level_code}&type={task.type_code}")
    assert "没有待办事项" in page(zd, "/inbox/?overdue=1")
    assert "没有待办事项" in page(zd, "/inbox/?due=2000-01-01")
    assert "待办列表测试" not in page(signed_in(app, "zd_pudong"), "/inbox/")
    assert "没有已办事项" in page(zd, "/inbox/done?form=nmv/forms/none")


def test_a_work_item_shows_its_context_refuses_bad_answers_in_chinese_keeps_a_draft_and_submits(app, ctx):
    task = dispatched_task("办理页测试", [XUHUI])
    [item] = open_items("zd_xuhui", task_id=task.id)
    zd = signed_in(app, "zd_xuhui")
    html = page(zd, f"/inbox/{item.id}")
    assert "请按期处置反馈" in html and "反馈期限" in html and 'class="lc-form' in html
    assert "红标骑手预警" in html   # the warning's payload form, read-only

    refused = post(zd, f"/inbox/{item.id}", f"/inbox/{item.id}", [("_action", "submit"), ("handling", "本单位处置")])
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "请填写此项" in body and 'aria-invalid="true"' in body
    assert fresh(WorkItem, item.id).state == "open"

    saved = post(zd, f"/inbox/{item.id}", f"/inbox/{item.id}", [("_action", "draft"), ("handler", "草稿承办人")])
    assert saved.status_code == 302
    assert "草稿承办人" in page(zd, f"/inbox/{item.id}") and "已恢复" in page(zd, f"/inbox/{item.id}")

    done = post(zd, f"/inbox/{item.id}", f"/inbox/{item.id}",
                [("_action", "submit"), *as_post(answers(item.form_key, handling="本单位处置"))])
    assert done.status_code == 302 and done.headers["Location"].endswith("/inbox/")
    assert fresh(WorkItem, item.id).state == "done"
    assert "办理页测试" in page(zd, "/inbox/done")
    again = post(zd, f"/inbox/{item.id}", f"/inbox/{item.id}",
                 [("_action", "submit"), *as_post(answers(item.form_key, handling="本单位处置"))])
    assert again.status_code == 409 and "已处理" in again.get_data(as_text=True)


def test_sign_and_forward_from_the_inbox_reaches_the_brigade_and_notifies_it(app, ctx):
    task = dispatched_task("转发测试", [XUHUI])
    zd = signed_in(app, "zd_xuhui")
    [sign] = open_items("zd_xuhui", task_id=task.id)
    post(zd, f"/inbox/{sign.id}", f"/inbox/{sign.id}", [("_action", "submit"), *as_post(answers(sign.form_key, handling="转发下级"))])
    [forward] = open_items("zd_xuhui", task_id=task.id)
    html = page(zd, f"/inbox/{forward.id}")
    assert XUHUI_BRIGADE in html and "可选接收部门" in html
    wrong = post(zd, f"/inbox/{forward.id}", f"/inbox/{forward.id}",
                 [("_action", "submit"), ("receivers", "0"), ("receivers.0.department_code", PUDONG),
                  ("requirements", "请大队上门检查")])
    assert wrong.status_code == 422 and "不是" in wrong.get_data(as_text=True) and "下级部门" in wrong.get_data(as_text=True)
    ok = post(zd, f"/inbox/{forward.id}", f"/inbox/{forward.id}",
              [("_action", "submit"), ("receivers", "0"), ("receivers.0.department_code", XUHUI_BRIGADE),
               ("requirements", "请大队上门检查")])
    assert ok.status_code == 302
    [child] = open_items("dd_xuhui", task_id=task.id)
    assert unread("dd_xuhui", "work") and any(n.work_item_id == child.id for n in unread("pda_xuhui", "work"))


def test_a_task_is_listed_where_it_was_issued_dispatched_and_forwarded(app, ctx):
    task = dispatched_task("可见范围测试", [XUHUI])
    do("zd_xuhui", {"handling": "转发下级"}, task_id=task.id)
    do("zd_xuhui", {"receivers": [{"department_code": XUHUI_BRIGADE}], "requirements": "请上门检查"}, task_id=task.id)
    rows = db.session.execute(select(TaskVisibility.path, TaskVisibility.created_at)
                              .where(TaskVisibility.task_id == task.id)).all()
    brigade = dispatch_of(task, XUHUI_BRIGADE).receiver
    assert {path for path, _ in rows} == {*task_visibility.prefixes(task.dept_path), *task_visibility.prefixes(brigade.path)}
    assert {created for _, created in rows} == {task.created_at}
    for username, seen in (("yanpan", True), ("zd_xuhui", True), ("dd_xuhui", True), ("zd_pudong", False)):
        html = page(signed_in(app, username), "/tasks/?title=可见范围")
        assert (f'href="/tasks/{task.id}"' in html) is seen, username


def test_district_isolation_on_pages_and_api(app, ctx, api):
    task = dispatched_task("隔离测试", [XUHUI])
    [item] = open_items("zd_xuhui", task_id=task.id)
    dispatch = dispatch_of(task, XUHUI)
    pudong = signed_in(app, "zd_pudong")
    for url in (f"/inbox/{item.id}", f"/tasks/{task.id}"):
        page(pudong, url, 404)
    page(signed_in(app, "pda_pudong"), f"/pda/work/{item.id}", 404)
    assert post(pudong, f"/tasks/{task.id}/terminate", "/tasks/", reason="x").status_code == 404
    assert post(pudong, f"/tasks/dispatches/{dispatch.id}/supervise", "/tasks/", message="x").status_code == 404
    caller = api("zd_pudong")
    for url in (f"/api/v1/tasks/{task.id}", f"/api/v1/workflow/work-items/{item.id}"):
        assert caller.get(url).status_code == 404
    assert caller.post(f"/api/v1/workflow/work-items/{item.id}/submit", json={"data": {}}).status_code == 404
    assert caller.post(f"/api/v1/workflow/dispatches/{dispatch.id}/supervise", json={"message": "x"}).status_code == 404
    listed = caller.get("/api/v1/tasks/?title=隔离测试").get_json()
    assert listed["count"] == 0
    assert f'/tasks/{task.id}"' not in page(pudong, "/tasks/?title=隔离测试")


def test_the_task_query_filters_sorts_pages_and_reaches_receivers(app, ctx, api):
    task = dispatched_task("任务查询测试", [XUHUI])
    for username in ("yanpan", "zd_xuhui"):
        html = page(signed_in(app, username), "/tasks/?title=任务查询测试")
        assert f'/tasks/{task.id}"' in html
    yanpan = signed_in(app, "yanpan")
    receiver = dispatch_of(task, XUHUI).receiver_department_id
    assert f'/tasks/{task.id}"' in page(yanpan, f"/tasks/?receiver={receiver}&title=任务查询")
    assert "没有符合条件的任务" in page(yanpan, "/tasks/?title=不存在的任务标题")
    assert "日期格式" in page(yanpan, "/tasks/?created_from=昨天")
    assert f'/tasks/{task.id}"' in page(yanpan, "/tasks/?sort=level&desc=0&title=任务查询测试")
    result = api("yanpan").get("/api/v1/tasks/?title=任务查询测试").get_json()
    assert result["count"] == 1 and result["result"][0]["type_name"].startswith("督导检查")
    bad = api("yanpan").get("/api/v1/tasks/?created_to=x")
    assert bad.status_code == 400 and "创建时间止" in str(bad.get_json())


def test_a_title_search_matches_the_words_in_their_order(app, ctx):
    task = dispatched_task("骑手头盔查验", [XUHUI])
    yanpan = signed_in(app, "yanpan")
    for words in ("骑手头盔", "盔查", "骑手头盔查验"):
        assert f'/tasks/{task.id}"' in page(yanpan, f"/tasks/?title={words}")
    for words in ("手骑", "头盔骑手", "骑手头盔查验。"):   # the same characters, not the same words
        assert f'/tasks/{task.id}"' not in page(yanpan, f"/tasks/?title={words}")


def test_a_broad_query_is_counted_up_to_a_cap_and_paged_in_the_same_order(app, ctx, api, monkeypatch):
    tasks = [dispatched_task(f"封顶计数{n}", [XUHUI]) for n in range(3)]
    yanpan = signed_in(app, "yanpan")
    url = "/tasks/?title=封顶计数&sort=title&desc=0"

    def listed(html: str) -> list[int]:
        return [int(i) for i in re.findall(r'href="/tasks/(\d+)"', html) if int(i) in {t.id for t in tasks}]

    searches = []

    def searching(_conn, _cursor, sql, *_):
        if "task.title LIKE" in sql or "strpos(task.title" in sql:
            searches.append(sql)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", searching)
    try:
        found_and_sorted = page(yanpan, url)        # few: sorted among the matches the count found
    finally:
        event.remove(engine, "before_cursor_execute", searching)
    assert "共 3 条" in found_and_sorted and len(searches) == 1   # the page reads the counted rows by id
    monkeypatch.setattr(task_queries, "COUNT_CAP", 2)
    walked = page(yanpan, url)                      # many: read in the list's order
    assert "共 2+ 条" in walked
    assert listed(walked) == listed(found_and_sorted) == [t.id for t in tasks]
    result = api("yanpan").get("/api/v1/tasks/?title=封顶计数").get_json()
    assert result["count"] == 2 and result["more"] is True and len(result["result"]) == 3


def test_detail_supervise_read_state_reply_and_notifications(app, ctx, api):
    task = dispatched_task("督办测试", [XUHUI, PUDONG])
    xuhui = dispatch_of(task, XUHUI)
    yanpan = signed_in(app, "yanpan")
    html = page(yanpan, f"/tasks/{task.id}")
    assert "徐汇" in html and "浦东" in html and "lc-timeline" in html and "终止任务" in html
    assert f'/clues/{task.clue_id}"' in html
    sent = post(yanpan, f"/tasks/dispatches/{xuhui.id}/supervise", f"/tasks/{task.id}",
                message="请今日内签收", reply_due_at="2030-01-01T18:00")
    assert sent.status_code == 302
    supervision = db.session.scalar(select(Supervision).where(Supervision.dispatch_id == xuhui.id))
    assert supervision.read_at is None and unread("zd_xuhui", "supervise", task.id)
    assert not unread("zd_pudong", "supervise", task.id)

    zd = signed_in(app, "zd_xuhui")
    assert 'class="badge lc-unread"' in page(zd, "/")
    html = page(zd, f"/tasks/{task.id}")
    assert "请今日内签收" in html and "浦东" not in html and "终止任务" not in html
    assert fresh(Supervision, supervision.id).read_at is not None
    refused = post(zd, f"/tasks/{task.id}/terminate", f"/tasks/{task.id}", reason="我想终止")
    assert "只有下发部门可以终止任务" in page(zd, refused.headers["Location"])
    assert post(zd, f"/tasks/supervisions/{supervision.id}/reply", f"/tasks/{task.id}", reply="").status_code == 302
    assert "请填写回复内容" in page(zd, f"/tasks/{task.id}")
    post(zd, f"/tasks/supervisions/{supervision.id}/reply", f"/tasks/{task.id}", reply="已安排签收")
    assert fresh(Supervision, supervision.id).reply == "已安排签收" and unread("yanpan", "reply")

    detail = api("yanpan").get(f"/api/v1/tasks/{task.id}").get_json()["result"]
    assert {h["receiver"] for h in detail["handling"]} >= {"徐汇区公安分局交通警察支队"} or len(detail["handling"]) == 2
    assert detail["handling"][0]["supervisions"] or detail["handling"][1]["supervisions"]
    assert api("zd_xuhui").get(f"/api/v1/tasks/{task.id}").get_json()["result"]["handling"].__len__() == 1


def test_terminate_asks_for_a_reason_ends_the_task_and_tells_the_receivers(app, ctx, api):
    task = dispatched_task("终止页面测试", [XUHUI])
    yanpan = signed_in(app, "yanpan")
    html = page(yanpan, f"/tasks/{task.id}")
    assert re.search(r'action="/tasks/%d/terminate"[^>]*data-confirm=' % task.id, html)
    post(yanpan, f"/tasks/{task.id}/terminate", f"/tasks/{task.id}", reason="  ")
    assert "请填写终止原因" in page(yanpan, f"/tasks/{task.id}")
    assert fresh(Task, task.id).status != "已终止"
    refused = api("zd_xuhui").post(f"/api/v1/workflow/tasks/{task.id}/terminate", json={"reason": "x"})
    assert refused.status_code == 409 and "只有下发部门" in refused.get_json()["message"]
    post(yanpan, f"/tasks/{task.id}/terminate", f"/tasks/{task.id}", reason="站点已关停")
    assert fresh(Task, task.id).status == "已终止"
    assert any("站点已关停" in n.body for n in unread("zd_xuhui", "terminated"))


def test_statistics_by_every_dimension_as_table_chart_and_api(app, ctx, api):
    dispatched_task("统计测试", [XUHUI])
    statistics_rollups.refresh()   # what the dashboards' poller does every few minutes
    yanpan = signed_in(app, "yanpan")
    for dimension in ("issuer", "receiver", "stage", "type", "level", "date"):
        html = page(yanpan, f"/tasks/stats?by={dimension}")
        assert "class=\"lc-chart\"" in html and "data-figure=" in html and "<td>" in html and "cdn" not in html.lower()
        assert "数据更新于" in html
    assert "徐汇" in page(yanpan, "/tasks/stats?by=receiver")
    assert "没有符合条件的任务" in page(yanpan, "/tasks/stats?title=没有这个")
    assert "实时统计" in page(yanpan, "/tasks/stats?title=统计测试")
    script = yanpan.get("/static/vendor/plotly.min.js")
    assert script.status_code == 200 and "javascript" in script.content_type and len(script.data) > 1_000_000
    by_receiver = api("zd_xuhui").get("/api/v1/tasks/stats?by=receiver").get_json()["result"]
    assert by_receiver and all("浦东" not in row["label"] for row in by_receiver)
    assert api("yanpan").get("/api/v1/tasks/stats?by=colour").status_code == 400


def test_notifications_page_marks_read_and_the_badge_follows(app, ctx, api):
    dispatched_task("通知测试", [XUHUI])
    zd = signed_in(app, "zd_xuhui")
    html = page(zd, "/notifications/")
    assert "新待办：任务签收：通知测试" in html
    count = api("zd_xuhui").get("/api/v1/notifications/unread-count").get_json()["unread"]
    assert count >= 1
    [first] = [n for n in unread("zd_xuhui", "work") if "通知测试" in n.title]
    opened = zd.get(f"/notifications/{first.id}/open")
    assert opened.status_code == 302 and f"/inbox/{first.work_item_id}" in opened.headers["Location"]
    assert api("zd_xuhui").get("/api/v1/notifications/unread-count").get_json()["unread"] == count - 1
    assert "没有通知" in page(zd, "/notifications/?kind=overdue&unread=1")
    post(zd, "/notifications/read-all", "/notifications/")
    assert api("zd_xuhui").get("/api/v1/notifications/unread-count").get_json()["unread"] == 0
    assert 'class="badge lc-unread"' not in page(zd, "/notifications/")
    listed = api("zd_xuhui").get("/api/v1/notifications/?kind=work").get_json()
    assert listed["count"] >= 1 and listed["result"][0]["read_at"]
    bad = api("zd_xuhui").post("/api/v1/notifications/read", json={"ids": "all"})
    assert bad.status_code == 400


def test_overdue_reminder_and_return_are_notified(app, ctx):
    task = dispatched_task("超期通知测试", [XUHUI])
    [sign] = open_items("zd_xuhui", task_id=task.id)
    fire_due(now=sign.due_at + dt.timedelta(minutes=1))
    kinds = {n.kind for n in db.session.scalars(select(Notification).where(Notification.work_item_id == sign.id))}
    assert {"work", "reminder", "overdue"} <= kinds
    assert "逾期" in page(signed_in(app, "zd_xuhui"), "/inbox/?overdue=1")
    do("zd_xuhui", task_id=task.id)                       # sign: handled here
    do("zd_xuhui", task_id=task.id)                       # feedback with the checklist
    do("yanpan", {"feedback_review_result": "退回", "feedback_review_opinion": "照片不清晰"}, task_id=task.id)
    assert any("超期通知测试" in n.title for n in unread("zd_xuhui", "returned"))


def test_the_pda_lists_the_departments_dispatches_and_feeds_back(app, ctx, api):
    task = dispatched_task("PDA 页面测试", [XUHUI])
    do("zd_xuhui", {"handling": "转发下级"}, task_id=task.id)
    do("zd_xuhui", {"receivers": [{"department_code": XUHUI_BRIGADE}], "requirements": "请上门检查"}, task_id=task.id)
    pda = Fresh(app)
    landing = web_login(pda, "pda_xuhui")
    assert pda.get(landing.headers["Location"]).headers.get("Location", "").endswith("/pda/")
    html = page(pda, "/pda/")
    assert "待反馈任务" in html and "交通执法 II" in html
    assert "PDA 页面测试" in page(pda, "/pda/tasks")
    [sign] = open_items("pda_xuhui", task_id=task.id)
    html = page(pda, f"/pda/work/{sign.id}")
    assert "lc-pda" in html and "请上门检查" in html
    post(pda, f"/pda/work/{sign.id}", f"/pda/work/{sign.id}", [("_action", "submit"), *as_post(answers(sign.form_key))])
    [feedback] = open_items("pda_xuhui", task_id=task.id)
    saved = post(pda, f"/pda/work/{feedback.id}", f"/pda/work/{feedback.id}", [("_action", "draft"), ("inspection.place", "草稿地点")])
    assert saved.headers["Location"].endswith(f"/pda/work/{feedback.id}")
    assert "草稿地点" in page(pda, f"/pda/work/{feedback.id}")
    bad = post(pda, f"/pda/work/{feedback.id}", f"/pda/work/{feedback.id}", [("_action", "submit")])
    assert bad.status_code == 422 and "请填写此项" in bad.get_data(as_text=True)
    assert "没有通知" not in page(pda, "/pda/notifications")
    assert not [n for n in unread("pda_xuhui", "work") if n.work_item_id == feedback.id]   # opened: read
    supervision = actions.supervise(feedback.dispatch_id, "请今日反馈", None, user("zd_xuhui"))
    assert unread("pda_xuhui", "supervise", task.id)
    assert "请今日反馈" in page(pda, f"/pda/work/{feedback.id}") and not unread("pda_xuhui", "supervise", task.id)
    replied = post(pda, f"/pda/supervisions/{supervision.id}/reply", f"/pda/work/{feedback.id}",
                   reply="正在上门检查", next=f"/pda/work/{feedback.id}")
    assert replied.headers["Location"].endswith(f"/pda/work/{feedback.id}")
    assert fresh(Supervision, supervision.id).reply == "正在上门检查"
    assert "本单位暂无待反馈任务" in page(signed_in(app, "pda_pudong"), "/pda/tasks")


def test_the_inbox_api_pages_filters_and_describes_itself(app, ctx, api):
    task = dispatched_task("接口待办测试", [XUHUI])
    caller = api("zd_xuhui")
    listed = caller.get(f"/api/v1/workflow/inbox?level={task.level_code}").get_json()
    [mine] = [i for i in listed["result"] if i["task_id"] == task.id]
    detail = caller.get(f"/api/v1/workflow/work-items/{mine['id']}").get_json()["result"]
    assert detail["may_act"] and detail["dispatch"]["requirements"] == "请按期处置反馈"
    assert caller.put(f"/api/v1/workflow/work-items/{mine['id']}/draft", json={"data": {"handler": "张三"}}).status_code == 200
    assert caller.get(f"/api/v1/workflow/work-items/{mine['id']}").get_json()["result"]["data"] == {"handler": "张三"}
    spec = api("yanpan").get("/api/v1/_openapi").get_json()
    for path in ("/api/v1/tasks/", "/api/v1/tasks/{task_id}", "/api/v1/tasks/stats", "/api/v1/notifications/",
                 "/api/v1/notifications/read-all", "/api/v1/workflow/work-items/{item_id}"):
        assert path in spec["paths"], path


def test_clue_review_and_feedback_review_go_through_the_same_page(app, ctx):
    from lowcode import publishing
    from tests.task_helpers import CITY, department, pack

    clue = actions.create_clue(warning_type="STATION_FATAL_ACCIDENT", title="审核页测试", department=department(CITY),
                               source="总队研判", payload=answers(pack().warning_types["STATION_FATAL_ACCIDENT"].content["payload_form"]))
    [review] = open_items("yanpan", clue_id=clue.id)
    yanpan = signed_in(app, "yanpan")
    html = page(yanpan, f"/inbox/{review.id}")
    assert "线索信息" in html and f'/clues/{clue.id}"' in html and "审核结果" in html
    refused = post(yanpan, f"/inbox/{review.id}", f"/inbox/{review.id}", [("_action", "submit"), ("review_result", "不通过")])
    assert refused.status_code == 422 and "请填写此项" in refused.get_data(as_text=True)

    task = dispatched_task("反馈审核页测试", [XUHUI])
    do("zd_xuhui", task_id=task.id)
    do("zd_xuhui", task_id=task.id)
    [check] = open_items("yanpan", task_id=task.id)
    html = page(yanpan, f"/inbox/{check.id}")
    checklist_title = publishing.current_tree().packs["nmv"].forms[check.display_form_key].schema.content["title"]
    assert checklist_title in html and "退回" in html
    returned = post(yanpan, f"/inbox/{check.id}", f"/inbox/{check.id}",
                    [("_action", "submit"), ("feedback_review_result", "退回"), ("feedback_review_opinion", "照片不清晰")])
    assert returned.status_code == 302 and fresh(WorkItem, check.id).state == "done"
    assert any("反馈审核页测试" in n.title for n in unread("zd_xuhui", "returned"))


def test_a_notification_reaches_each_active_officer_of_the_department_holding_a_role_once(app, ctx):
    from flask_appbuilder.security.sqla.models import Role

    from lowcode import notifications
    from lowcode.models import Officer

    officer = user("zd_xuhui")
    roles = db.session.scalars(select(Role).where(Role.name.in_([r.name for r in officer.roles]))).all()
    other_role = db.session.scalar(select(Role).where(Role.name.not_in([r.name for r in roles])).limit(1))
    holders = [o.id for o in db.session.scalars(select(Officer).where(Officer.department_id == officer.department_id))
               if o.active and set(o.roles) & set(roles)]
    helpers = [Officer(first_name=name, last_name="测", username=f"notify_{n}", email=f"notify_{n}@example.cn",
                       department_id=officer.department_id, active=active, roles=given)
               for n, (name, active, given) in enumerate([("两角色", True, roles + [other_role]),
                                                         ("停用", False, roles), ("他角色", True, [other_role])])]
    db.session.add_all(helpers)
    db.session.flush()
    try:
        notifications.notify(notifications.recipients(officer.department_id, [r.name for r in roles]), "supervise",
                             "接收人测试", "正文", task_id=-7)
        notifications.notify(notifications.recipients(None, [r.name for r in roles]), "supervise", "接收人测试",
                             task_id=-7)
        rows = db.session.scalars(select(Notification).where(Notification.task_id == -7)).all()
        # Each active holder of one of the roles once (one holding several too); not the inactive
        # one, nor one of another role, nor anyone for no department.
        assert sorted(r.user_id for r in rows) == sorted([*holders, helpers[0].id])
        assert {(r.kind, r.title, r.body) for r in rows} == {("supervise", "督办：接收人测试", "正文")}
    finally:
        db.session.rollback()



def test_opening_a_work_item_reads_its_notices_in_one_statement_and_commits_only_when_some_were_unread(app, ctx):
    task = dispatched_task("打开即读测试", [XUHUI])
    [item] = open_items("zd_xuhui", task_id=task.id)
    actions.supervise(item.dispatch_id, "请尽快签收", None, user("yanpan"))
    other = dispatched_task("打开即读之外", [XUHUI])
    assert unread("zd_xuhui", "work", task.id) and unread("zd_xuhui", "supervise", task.id)
    zd = signed_in(app, "zd_xuhui")
    seen = []

    def updates(_conn, _cursor, sql, *_):
        if sql.startswith("UPDATE notification"):
            seen.append("update")

    def commits(_conn):
        seen.append("commit")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", updates)
    event.listen(engine, "commit", commits)
    try:
        assert "请尽快签收" in page(zd, f"/inbox/{item.id}")
        assert seen.count("update") == 1 and seen[seen.index("update"):] == ["update", "commit"]
        assert not unread("zd_xuhui", "work", task.id) and not unread("zd_xuhui", "supervise", task.id)
        assert unread("zd_xuhui", "work", other.id)   # another item's notices stay unread
        seen.clear()
        page(zd, f"/inbox/{item.id}")
        assert seen.count("update") == 1 and seen[seen.index("update"):] == ["update"]   # all read: no commit
    finally:
        event.remove(engine, "before_cursor_execute", updates)
        event.remove(engine, "commit", commits)
