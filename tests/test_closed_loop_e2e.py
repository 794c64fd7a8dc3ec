"""The closed loop end to end in real headless Chromium: a warning posted to the receiving API
travels through review, evaluation, approval and dispatch to two 支队; one forwards to its 大队,
the other is pressed with a 督办 and answers it; the brigade's PDA officer feeds back with a photo,
is sent back for rework and feeds back again; every feedback is accepted, the task is closed, and
the accepted top-level feedback reaches the (fake) 非机动车道路交通管理信息系统.

Officers answer each work item in the browser; the answers are the forms' own examples with the
decisions of the story. Nothing here names a warning type: the one used is found by what its
definition requires (review and approval, judged by the 总队)."""
import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import forms.examples
from lowcode import clock, form_service, intake, outbox, publishing
from lowcode.extensions import db
from lowcode.flow import records
from lowcode.models import ApiClient, Clue, Dispatch, ProcessInstance, Task, WorkItem
from tests.browser import DESKTOP, PDA, fill_in, horizontal_overflow
from tests.test_forms_attachments import png
from tests.test_task_browser import signed_in, watch

XUHUI, PUDONG, XUHUI_BRIGADE = "310104000000", "310115000000", "310104010000"
SUBJECT = "端到端测试站点"


def warning_type(app) -> str:
    with app.app_context():
        pack = publishing.current_tree().packs["nmv"]
        for code, definition in sorted(pack.warning_types.items()):
            warning = definition.content
            binding = pack.process_bindings[warning["process_binding"]].content
            if (warning["review_required"] and warning["approval_required"]
                    and warning["clue_generation"]["mode"] == "per_warning"
                    and binding["clue_owner"][warning["source"]] == "city"):
                return code
    pytest.fail("no warning type needs review and approval by the 总队")


def post_warning(app, base: str, code: str) -> dict:
    with app.app_context():
        client = ApiClient(code="e2e-feed", name="端到端测试数据源", created_at=clock.now(), key_prefix="", key_hash="")
        key = intake.issue_key(client)
        db.session.add(client)
        db.session.commit()
        pack = publishing.current_tree().packs["nmv"]
        payload = forms.examples.example(form_service.form_for(pack, pack.warning_types[code].content["payload_form"]))
    body = {"type": code, "source_id": "E2E-0001", "occurred_at": "2026-11-20T09:30:00+08:00", "district_code": "310104",
            "subject": {"id": "E2E-STATION-1", "name": SUBJECT}, "payload": payload}
    request = urllib.request.Request(f"{base}/api/v1/warnings/", data=json.dumps(body, ensure_ascii=False).encode(),
                                     headers={"X-API-Key": key, "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


class Officer:
    """One signed-in browser session working its inbox (the web's, or the PDA's)."""

    def __init__(self, app, browser, base: str, username: str, device=DESKTOP):
        self.app, self.base, self.device = app, base, device
        self.context, self.page = signed_in(browser, base, device, username)
        self.errors = watch(self.page)

    def work(self, step: str, **decisions) -> None:
        """Open the work item named `step：…` about the subject, answer it, submit."""
        page = self.page
        link = page.get_by_role("link", name=re.compile(f"{step}：.*{SUBJECT}")).first
        for _ in range(60):   # with a real Celery worker, the clue's process starts in the background
            page.goto(f"{self.base}{'/pda/tasks' if self.device is PDA else '/inbox/'}")
            if link.count():
                break
            page.wait_for_timeout(500)
        link.click()
        page.wait_for_url(re.compile(r"/\d+$"))
        page.locator("form.lc-form").wait_for()
        item_id = int(re.search(r"/(\d+)$", page.url)[1])
        with self.app.app_context():
            item = db.session.get(WorkItem, item_id, execution_options={"unscoped": True})
            pack = records.context(db.session.get(ProcessInstance, item.instance_id)).pack
            form = form_service.form_for(pack, item.form_key)
        answers = forms.examples.example(form, attach=lambda field, path: "拍照上传", **decisions)
        fill_in(page, form, answers, png(6, 4))
        if self.device is PDA:
            assert horizontal_overflow(page) == 0
        page.get_by_role("button", name="提交").click()
        expect(page.get_by_text(re.compile(f"已办理：{step}"))).to_be_visible()

    def close(self) -> None:
        assert self.errors == []
        self.context.close()


def record(app, model, **where):
    with app.app_context():
        query = select(model).execution_options(unscoped=True)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return db.session.scalars(query).one()


def test_a_warning_travels_to_closure_on_the_web_and_the_pda_and_is_pushed(app, live_server, browser, receiver,
                                                                          celery_worker):
    answer = post_warning(app, live_server, warning_type(app))
    assert answer["accepted"] == 1
    clue_id = answer["items"][0]["clue_id"]

    yanpan = Officer(app, browser, live_server, "yanpan")
    yanpan.work("线索审核", review_result="通过")
    yanpan.work("线索评估", evaluation_result="采纳下发")
    task = record(app, Task, clue_id=clue_id)
    yanpan.work("任务审批", approval_result="通过")
    yanpan.work("任务下发", receivers=[{"department_code": XUHUI}, {"department_code": PUDONG}],
                requirements="请核查站点情况并按期反馈")
    pudong_dispatch = record(app, Dispatch, task_id=task.id, receiver_department_id=_department_id(app, PUDONG))

    page = yanpan.page                                    # 督办 from the task's detail page
    page.goto(f"{live_server}/tasks/{task.id}")
    supervise = page.locator(".lc-handling", has_text="浦东").locator("details.lc-supervise")
    supervise.locator("summary").click()
    supervise.get_by_label("督办内容").fill("该站点问题突出，请加快处置")
    supervise.get_by_role("button", name="发送督办").click()
    expect(page.get_by_text(re.compile("督办.*该站点问题突出，请加快处置"))).to_be_visible()

    zd_xuhui = Officer(app, browser, live_server, "zd_xuhui")
    zd_xuhui.work("任务签收", handling="转发下级")
    zd_xuhui.work("转发下级", receivers=[{"department_code": XUHUI_BRIGADE}], requirements="请大队上门检查")
    dd_xuhui = Officer(app, browser, live_server, "dd_xuhui")
    dd_xuhui.work("任务签收", handling="本单位处置")
    pda = Officer(app, browser, live_server, "pda_xuhui", PDA)
    pda.work("处置反馈")
    zd_xuhui.work("反馈审核", feedback_review_result="退回", feedback_review_opinion="照片不清晰，请补充现场照片")
    pda.work("处置反馈")                                    # the rework, on the PDA again
    zd_xuhui.work("反馈审核", feedback_review_result="通过")
    zd_xuhui.work("处置反馈")                                # the 支队 reports upward once its brigade is done
    yanpan.work("反馈审核", feedback_review_result="通过")

    zd_pudong = Officer(app, browser, live_server, "zd_pudong")
    page = zd_pudong.page                                  # the receiver sees the 督办 and answers it
    page.goto(f"{live_server}/tasks/{task.id}")
    page.get_by_label("回复督办").fill("已安排民警今日上门检查")
    page.get_by_role("button", name="回复").click()
    expect(page.get_by_text(re.compile("回复.*已安排民警今日上门检查"))).to_be_visible()
    zd_pudong.work("任务签收", handling="本单位处置")
    zd_pudong.work("处置反馈")
    yanpan.work("反馈审核", feedback_review_result="通过")
    yanpan.work("办结归档")

    assert record(app, Task, id=task.id).status == "已办结归档"
    assert record(app, Clue, id=clue_id).status == "已采纳下发"
    assert record(app, Dispatch, id=pudong_dispatch.id).closed_at is not None
    with app.app_context():
        top_level = db.session.scalars(select(Dispatch.id).where(Dispatch.task_id == task.id, Dispatch.parent_id.is_(None))
                                       .execution_options(unscoped=True)).all()
    with app.test_request_context():
        outbox.deliver_due()
    keys = {f"nmv:feedback:dispatch:{dispatch_id}" for dispatch_id in top_level}
    assert len(keys) == 2 and keys <= set(receiver.received), receiver.received   # the two 支队's feedback
    assert all("E2E-0001" in json.dumps(receiver.received[key], ensure_ascii=False) for key in keys)
    for officer in (yanpan, zd_xuhui, dd_xuhui, pda, zd_pudong):
        officer.close()


def _department_id(app, code: str) -> int:
    from lowcode.models import Department

    return record(app, Department, code=code).id
