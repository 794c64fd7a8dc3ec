"""Forms in real headless Chromium, on a desktop and on a 360×640 touch screen (the PDA): every form
renders on both renderers, conditional fields come and go exactly as the server reads the same
data, submissions are accepted or refused at the right fields, attachments and signatures are
uploaded and checksummed, and a draft saved on the web is resumed on the PDA."""
import re

import pytest
from cryptography.hazmat.primitives import hashes
from jsonschema import Draft202012Validator
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from forms import slots
from forms.conditions import evaluate
from lowcode import form_service, publishing
from lowcode.extensions import db
from lowcode.models import Attachment, FormDraft, FormSubmission
from tests.browser import DESKTOP, PDA, choose, draw_signature, field, horizontal_overflow
from tests.conftest import DEMO_PASSWORD
from tests.test_forms_attachments import png

USER = "pda_minhang"
PARALLEL_PAGES = 4  # the server and Chromium share two cores: more pages do not load faster
CHECKLIST = "nmv/forms/checklists/red_label_rider"
EVALUATION = "nmv/forms/workflow/clue_evaluation"

PAGE_PROBLEMS = """() => ({
  bodies: document.querySelectorAll(".lc-form-body").length,
  unlabelled: Array.from(document.querySelectorAll(
      "form.lc-form input:not([type=hidden]), form.lc-form select, form.lc-form textarea"))
    .filter(control => control.labels.length === 0).map(control => control.id || control.name),
  overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  // Tap targets of at least 44 px: the PDA renderer's promise (the web page keeps Bootstrap's sizes).
  small_targets: !document.body.classList.contains("lc-pda-page") ? [] : Array.from(document.querySelectorAll(
      "a, button, select, textarea, label.lc-option, input:not([type=hidden]):not([type=radio]):not([type=checkbox])"))
    .map(target => [target.textContent.trim() || target.id || target.name, target.getBoundingClientRect().height])
    .filter(([_, height]) => height > 0 && height < 44),
})"""
FIELD_STATES = """() => Array.from(document.querySelectorAll("form.lc-form .lc-field")).map(field =>
    [field.dataset.path, field.closest("[hidden]") === null, field.classList.contains("lc-required")])"""
POSTED = """() => Array.from(new FormData(document.querySelector("form.lc-form")).entries())
  .filter(([name, value]) => typeof value === "string" && !name.startsWith("_") && name !== "csrf_token")"""


@pytest.fixture(scope="module", autouse=True)
def cached_static(app):
    # Flask-AppBuilder's ~25 static files carry no max-age, so every page would revalidate them all.
    before = app.config["SEND_FILE_MAX_AGE_DEFAULT"]
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    yield
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = before


def signed_in(browser, base: str, device: dict):
    context = browser.new_context(**device)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(USER)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    page.close()
    return context


@pytest.fixture(scope="module")
def desktop(browser, live_server):
    context = signed_in(browser, live_server, DESKTOP)
    yield context
    context.close()


@pytest.fixture(scope="module")
def pda(browser, live_server):
    context = signed_in(browser, live_server, PDA)
    yield context
    context.close()


@pytest.fixture()
def page_errors():
    return []


def open_page(context, url: str, errors: list):
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page


def compiled(app, pack_form: str):
    pack_code, key = pack_form.split("/", 1)
    with app.test_request_context():
        return form_service.form_for(publishing.current_tree().packs[pack_code], key)


def submissions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(FormSubmission.id)))


# ------------------------------------------------------------------ every form, both renderers

def test_every_form_renders_on_both_renderers_at_360_px(app, live_server, pda, page_errors):
    with app.app_context():
        urls = [f"{live_server}{prefix}/{code}/{key}" for code, pack in publishing.current_tree().packs.items()
                for key in sorted(pack.forms) for prefix in ("/forms", "/pda/forms")]
    assert len(urls) > 60
    pages = [pda.new_page() for _ in range(PARALLEL_PAGES)]
    for page in pages:
        page.on("pageerror", lambda error: page_errors.append(str(error)))
    for start in range(0, len(urls), len(pages)):
        batch = list(zip(pages, urls[start:start + len(pages)]))
        for page, url in batch:   # load a batch at once; the checks need the layout, not images or fonts
            page.evaluate("url => { window.location.href = url; }", url)
        for page, url in batch:
            page.wait_for_url(url, wait_until="domcontentloaded")
        for page, url in batch:
            assert page.evaluate(PAGE_PROBLEMS) == {"bodies": 1, "unlabelled": [], "overflow": 0, "small_targets": []}, url
    assert page_errors == []


# ------------------------------------------------------------------ conditions: browser and server agree

def assert_server_agrees(page, form):
    """The browser's shown fields and required marks are the server's reading of what it would post."""
    data = form.decode(MultiDict(page.evaluate(POSTED)))
    expected = {}

    def walk(slot, hidden: bool):
        for child in slot.children:
            expected[child.path] = (not (hidden or child.hidden), child.required)
            walk(child, hidden or child.hidden)
        for row in slot.rows:    # a row is no field of its own, its fields are
            walk(row, hidden)

    walk(slots.build(form.root, data, {}), False)
    browser = {path: (shown, required) for path, shown, required in page.evaluate(FIELD_STATES)}
    assert {path: shown for path, (shown, _) in browser.items()} == {path: shown for path, (shown, _) in expected.items()}
    # Required marks matter where a field is shown; a hidden one keeps whatever mark it had.
    assert {path for path, state in browser.items() if all(state)} == {path for path, state in expected.items() if all(state)}
    return data


def test_conditional_fields_come_and_go_and_the_server_agrees(app, live_server, desktop, page_errors):
    form = compiled(app, CHECKLIST)
    page = open_page(desktop, f"{live_server}/forms/{CHECKLIST}", page_errors)
    dispatch, problems = field(page, "check.dispatch_suspended"), field(page, "findings.problem_categories")
    unit, note = field(page, "confirmation.unit_signature"), field(page, "confirmation.refusal_note")
    expect(dispatch).to_be_hidden()
    expect(unit).to_be_visible()
    assert_server_agrees(page, form)
    choose(page, "check.still_employed", "是")
    choose(page, "check.violations_handled", "否")
    expect(dispatch).to_be_visible()
    choose(page, "findings.has_problems", "是")
    expect(problems).to_be_visible()
    choose(page, "confirmation.refused_to_sign", "是")
    expect(unit).to_be_hidden()
    expect(note).to_be_visible()
    assert set(assert_server_agrees(page, form)["check"]) == {"still_employed", "violations_handled"}
    choose(page, "check.violations_handled", "是")
    choose(page, "findings.has_problems", "否")
    choose(page, "confirmation.refused_to_sign", "否")
    expect(dispatch).to_be_hidden()
    expect(problems).to_be_hidden()
    expect(note).to_be_hidden()
    assert_server_agrees(page, form)
    assert page_errors == []


CONDITION_CASES = [
    ({"properties": {"a": {"const": True}}, "required": ["a"]}, [{"a": True}, {"a": False}, {}, {"a": "true"}, {"a": 1}]),
    ({"properties": {"a": {"const": True}}}, [{}, {"a": False}]),
    ({"properties": {"n": {"const": 1}}}, [{"n": 1}, {"n": 1.0}, {"n": True}, {"n": "1"}]),
    ({"properties": {"s": {"enum": ["甲", "乙"]}}}, [{"s": "甲"}, {"s": "丙"}, {}]),
    ({"properties": {"n": {"enum": [1, 2.5]}}}, [{"n": 2.5}, {"n": 2}, {"n": "1"}]),
    ({"properties": {"n": {"minimum": 5, "maximum": 10}}}, [{"n": 4}, {"n": 5}, {"n": 10}, {"n": 10.5}, {"n": "3"}, {}]),
    ({"properties": {"l": {"contains": {"const": "其他"}}}}, [{"l": ["其他"]}, {"l": ["甲", "其他"]}, {"l": ["甲"]},
                                                             {"l": []}, {"l": "其他"}, {}]),
    ({"properties": {"l": {"const": ["a", "b"]}}}, [{"l": ["a", "b"]}, {"l": ["b", "a"]}]),
    ({"required": ["a", "b"], "properties": {"a": {"const": "是"}, "b": {"minimum": 1}}},
     [{"a": "是", "b": 1}, {"a": "是", "b": 0}, {"a": "是"}, {"b": 3}]),
]


def test_the_browser_evaluator_reads_conditions_as_jsonschema_does(live_server, desktop, page_errors):
    page = open_page(desktop, f"{live_server}/forms/{EVALUATION}", page_errors)
    cases = [(test, values) for test, many in CONDITION_CASES for values in many]
    browser = page.evaluate("cases => cases.map(([test, values]) => LcConditions.holds(test, values))", cases)
    assert browser == [Draft202012Validator(test).is_valid(values) for test, values in cases]


def test_the_browser_decides_shown_and_required_fields_as_the_server_does(app, live_server, desktop, page_errors):
    form = compiled(app, CHECKLIST)
    objects = [child for child in form.root.children if child.conditions or child.dependent_required]
    answers = [{}, {"still_employed": True, "violations_handled": False}, {"has_problems": True},
               {"refused_to_sign": True, "unit_signature": "x"}, {"refused_to_sign": False}, {"held": True},
               {"ordered": False, "requirements": "旧"}, {"still_employed": "true", "violations_handled": False}]
    cases, expected = [], []
    for section in objects:
        for data in answers:
            shown, required = evaluate(section, data)
            conditional = [child.name for child in section.children if child.conditional]
            cases.append([section.rules_json, data, conditional])
            expected.append([sorted(set(shown) & set(conditional)), sorted(required)])
    page = open_page(desktop, f"{live_server}/forms/{EVALUATION}", page_errors)
    browser = page.evaluate("""cases => cases.map(([rules, values, conditional]) => {
        const state = LcConditions.evaluate(JSON.parse(rules), values, conditional);
        return [Object.keys(state.shown).sort(), Object.keys(state.required).sort()];
      })""", cases)
    assert browser == expected


# ------------------------------------------------------------------ submissions

def test_an_invalid_submission_shows_chinese_messages_at_the_fields(app, live_server, desktop, page_errors):
    before = submissions(app)
    page = open_page(desktop, f"{live_server}/forms/{EVALUATION}", page_errors)
    choose(page, "evaluation_result", "无效")
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".lc-error-summary")).to_contain_text("提交未成功：请修改以下 3 处")
    expect(field(page, "validity").locator(".lc-error")).to_have_text("请选择")
    expect(field(page, "invalid_reason").locator(".lc-error")).to_have_text("请选择")
    expect(field(page, "evaluation_opinion").locator(".lc-error")).to_have_text("请填写此项")
    expect(field(page, "evaluation_opinion").locator("textarea")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "evaluation_result").get_by_label("无效", exact=True)).to_be_checked()
    assert submissions(app) == before


def fill_red_label_checklist(page) -> None:
    """Answer the red-label rider checklist as an officer on site would: a photo and two signatures."""
    for path, value in (("inspection.inspected_on", "2026-11-20"), ("inspection.place", "莘庄站点"),
                        ("inspection.inspected_unit", "某外卖站点"), ("inspection.unit_manager", "王五"),
                        ("inspection.inspectors.0.name", "张三"), ("inspection.inspectors.0.police_number", "012345"),
                        ("inspection.inspectors.1.name", "李四"), ("inspection.inspectors.1.police_number", "012346")):
        field(page, path).locator("input").fill(value)
    for path, option in (("check.rider_verified", "是"), ("check.still_employed", "否"), ("check.violations_handled", "是"),
                         ("findings.has_problems", "否"), ("education.held", "否"), ("rectification.ordered", "否")):
        choose(page, path, option)
    field(page, "evidence.photos").locator("input[type=file]").set_input_files(
        files=[{"name": "现场.png", "mimeType": "image/png", "buffer": png(4, 4)}])
    expect(field(page, "evidence.photos").locator(".lc-attachment")).to_have_count(1)
    draw_signature(page, "confirmation.unit_signature")
    draw_signature(page, "confirmation.officer_signature")


def test_a_checklist_filled_in_on_the_pda_is_accepted_and_stored(app, live_server, pda, page_errors):
    page = open_page(pda, f"{live_server}/pda/forms/{CHECKLIST}", page_errors)
    fill_red_label_checklist(page)
    assert horizontal_overflow(page) == 0
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(r"/pda/submissions/\d+$"))
    expect(page.get_by_text("提交成功。")).to_be_visible()
    with app.app_context():
        submission = db.session.get(FormSubmission, int(page.url.rsplit("/", 1)[1]))
        assert submission.data["inspection"]["inspectors"] == [{"name": "张三", "police_number": "012345"},
                                                               {"name": "李四", "police_number": "012346"}]
        assert submission.data["check"] == {"rider_verified": True, "still_employed": False, "violations_handled": True}
        signature = db.session.get(Attachment, submission.data["confirmation"]["officer_signature"])
        assert (signature.content_type, signature.submission_id) == ("image/png", submission.id)
    assert page_errors == []


def test_an_attachment_round_trip_keeps_its_bytes_and_checksum(app, live_server, desktop, page_errors):
    content = png(8, 6)
    page = open_page(desktop, f"{live_server}/forms/{CHECKLIST}", page_errors)
    photos = field(page, "evidence.photos")
    photos.locator("input[type=file]").set_input_files(
        files=[{"name": "现场照片.jpg", "mimeType": "image/jpeg", "buffer": content}])
    item = photos.locator(".lc-attachment")
    expect(item).to_have_count(1)
    expect(item.locator("img")).to_have_js_property("naturalWidth", 8)      # the preview loaded
    attachment_id = item.locator("input[type=hidden]").get_attribute("value")
    digest = hashes.Hash(hashes.SM3())
    digest.update(content)
    with app.app_context():
        stored = db.session.get(Attachment, attachment_id)
        assert (stored.sm3, stored.content_type, stored.size) == (digest.finalize().hex(), "image/png", len(content))
    assert page.request.get(live_server + item.locator("a").get_attribute("href")).body() == content
    photos.locator("input[type=file]").set_input_files(
        files=[{"name": "说明.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF"}])
    expect(photos.locator(".lc-upload-status")).to_have_text("不接受此文件（PDF 文件），此项可上传：JPEG 图片、PNG 图片")
    item.get_by_role("button", name="删除附件 现场照片.jpg").click()
    expect(photos.locator(".lc-attachment")).to_have_count(0)
    assert page_errors == []


def test_a_draft_saved_on_the_web_is_resumed_on_the_pda(app, live_server, desktop, pda, page_errors):
    query = "?business_key=browser-draft"
    web = open_page(desktop, f"{live_server}/forms/{CHECKLIST}{query}", page_errors)
    field(web, "inspection.place").locator("input").fill("莘庄站点（草稿）")
    choose(web, "findings.has_problems", "是")
    field(web, "findings.problem_categories").get_by_label("骑手违法未处理").check()
    web.get_by_role("button", name="保存草稿").click()
    expect(web.get_by_text("草稿已保存")).to_be_visible()
    handheld = open_page(pda, f"{live_server}/pda/forms/{CHECKLIST}{query}", page_errors)
    expect(handheld.get_by_text("已恢复")).to_be_visible()
    expect(field(handheld, "inspection.place").locator("input")).to_have_value("莘庄站点（草稿）")
    expect(field(handheld, "findings.problem_categories").get_by_label("骑手违法未处理")).to_be_checked()
    handheld.on("dialog", lambda dialog: dialog.accept())
    handheld.get_by_role("button", name="删除草稿").click()
    expect(handheld.get_by_text("草稿已删除")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(func.count(FormDraft.id)).where(FormDraft.business_key == "browser-draft")) == 0
    assert page_errors == []
