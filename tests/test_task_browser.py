"""The workflow pages in real headless Chromium: an officer signs and forwards in the desktop inbox;
on the PDA (360×640 touch) a 大队 PDA officer opens a dispatch, sees the 督办 notice, fills the
checklist with a photo and submits; no PDA page overflows or has tap targets under 44 px."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from lowcode.extensions import db
from lowcode.flow import actions
from lowcode.models import Dispatch, WorkItem
from tests.browser import DESKTOP, PDA
from tests.conftest import DEMO_PASSWORD
from tests.task_helpers import dispatched_task, do, fresh, open_items, user
from tests.browser import choose, field
from tests.test_forms_browser import PAGE_PROBLEMS, cached_static, fill_red_label_checklist  # noqa: F401 (fixture)

XUHUI, XUHUI_BRIGADE = "310104000000", "310104010000"


def signed_in(browser, base: str, device: dict, username: str):
    context = browser.new_context(**device)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return context, page


def watch(page) -> list:
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_an_officer_signs_and_forwards_in_the_desktop_inbox(app, live_server, browser):
    with app.test_request_context():
        task = dispatched_task("浏览器签收转发", [XUHUI])
        task_id = task.id
    context, page = signed_in(browser, live_server, DESKTOP, "zd_xuhui")
    errors = watch(page)
    page.goto(f"{live_server}/inbox/")
    page.get_by_role("link", name=re.compile("任务签收：浏览器签收转发")).click()
    expect(page.get_by_text("请按期处置反馈")).to_be_visible()
    choose(page, "handling", "转发下级")
    field(page, "handler").locator("input").fill("王警官")
    field(page, "handler_mobile").locator("input").fill("13900139000")
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    expect(page.get_by_text("已办理：任务签收：浏览器签收转发")).to_be_visible()

    page.get_by_role("link", name=re.compile("转发下级：浏览器签收转发")).click()
    expect(page.get_by_text("可选接收部门")).to_be_visible()
    receivers = field(page, "receivers")
    if receivers.locator('.lc-field[data-path="receivers.0.department_code"]').count() == 0:
        receivers.get_by_role("button", name="添加").click()
    field(page, "receivers.0.department_code").locator("input").fill("310115000000")
    field(page, "requirements").locator("textarea").fill("请大队上门检查并反馈")
    page.get_by_role("button", name="提交").click()
    expect(field(page, "receivers")).to_contain_text("不是")   # the server's message at the field
    field(page, "receivers.0.department_code").locator("input").fill(XUHUI_BRIGADE)
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    with app.app_context():
        child = db.session.scalar(select(Dispatch).where(Dispatch.task_id == task_id, Dispatch.parent_id.isnot(None))
                                  .execution_options(unscoped=True))
        assert child.receiver.code == XUHUI_BRIGADE and child.requirements == "请大队上门检查并反馈"
    page.goto(f"{live_server}/tasks/{task_id}")
    expect(page.locator(".lc-timeline .lc-step")).to_have_count(2)   # the receiver's view: its sign and forward
    expect(page.locator(".lc-handling")).to_have_count(2)             # its dispatch and, nested, the brigade's
    assert errors == []
    context.close()


def test_a_pda_officer_feeds_back_with_a_photo_and_sees_the_supervise_notice(app, live_server, browser):
    with app.test_request_context():
        task = dispatched_task("PDA 浏览器反馈", [XUHUI])
        do("zd_xuhui", {"handling": "转发下级"}, task_id=task.id)
        do("zd_xuhui", {"receivers": [{"department_code": XUHUI_BRIGADE}], "requirements": "请上门检查"}, task_id=task.id)
        child = db.session.scalar(select(Dispatch).where(Dispatch.task_id == task.id, Dispatch.parent_id.isnot(None))
                                  .execution_options(unscoped=True))
        do("dd_xuhui", {"handling": "本单位处置"}, dispatch_id=child.id)
        actions.supervise(child.id, "请今日完成上门检查", None, user("zd_xuhui"))
        [feedback] = open_items("pda_xuhui", dispatch_id=child.id)
        feedback_id = feedback.id
    context, page = signed_in(browser, live_server, PDA, "pda_xuhui")
    errors = watch(page)
    expect(page).to_have_url(re.compile(r"/pda/$"))
    problems = [("home", page.evaluate(PAGE_PROBLEMS))]
    page.get_by_role("link", name=re.compile("待反馈任务")).click()
    problems.append(("tasks", page.evaluate(PAGE_PROBLEMS)))
    page.get_by_role("link", name=re.compile("处置反馈：PDA 浏览器反馈")).click()
    expect(page.get_by_role("region", name="督办").get_by_text("请今日完成上门检查")).to_be_visible()
    expect(page.get_by_text("请上门检查", exact=True)).to_be_visible()
    fill_red_label_checklist(page)   # with a photo from the camera input
    problems.append(("work", page.evaluate(PAGE_PROBLEMS)))
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(r"/pda/tasks$"))
    expect(page.get_by_text("已办理：处置反馈：PDA 浏览器反馈")).to_be_visible()
    page.get_by_role("link", name=re.compile("通知")).first.click()
    expect(page.get_by_text(re.compile("督办：PDA 浏览器反馈"))).to_be_visible()
    problems.append(("notifications", page.evaluate(PAGE_PROBLEMS)))
    page.get_by_role("link", name=re.compile("督办：PDA 浏览器反馈")).click()   # opens the dispatch, marks it read
    expect(page.get_by_role("region", name="督办").get_by_text("请今日完成上门检查")).to_be_visible()
    problems.append(("opened", page.evaluate(PAGE_PROBLEMS)))
    for name, found in problems:
        assert found["overflow"] == 0 and found["small_targets"] == [], (name, found)
    with app.app_context():
        item = fresh(WorkItem, feedback_id)
        assert item.state == "done" and item.data["evidence"]["photos"]
    assert errors == []
    context.close()
