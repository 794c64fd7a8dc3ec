"""The 表单 area over HTTP: who may preview and who may submit, submissions stored only when the
server's validation accepts them, drafts saved and resumed, every change audited."""
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from lowcode.extensions import db
from lowcode.models import AuditEvent, FormDraft, FormSubmission
from tests.conftest import csrf_token, web_login

EVALUATION = "/forms/nmv/forms/workflow/clue_evaluation"


def as_post(data, prefix: str = "") -> list[tuple[str, str]]:
    """Form data flattened the way the rendered form posts it (see forms/decoding.py)."""
    pairs = []
    for name, value in data.items():
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict):
            pairs += as_post(value, path)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for row, item in enumerate(value):
                pairs.append((path, str(row)))
                pairs += as_post(item, f"{path}.{row}")
        else:
            pairs += [(path, _text(item)) for item in (value if isinstance(value, list) else [value])]
    return pairs


def _text(value) -> str:
    return {True: "true", False: "false"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def post_form(client, url: str, pairs, action: str = "submit"):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data=MultiDict([("csrf_token", token), ("_action", action), *pairs]))


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)).where(*where))


@pytest.fixture()
def officer(client):
    web_login(client, "dd_minhang")
    return client


def test_the_index_lists_the_forms_in_force(officer):
    html = officer.get("/forms/").get_data(as_text=True)
    assert "处置反馈清单" in html and "红标骑手预警反馈" in html and "线索评估" in html
    assert officer.get("/pda/forms/").status_code == 200


def test_a_business_administrator_may_preview_but_not_submit(client):
    web_login(client, "yewu")
    page = client.get(EVALUATION)
    assert page.status_code == 200 and "预览" in page.get_data(as_text=True)
    assert 'value="submit"' not in page.get_data(as_text=True)
    token = csrf_token(page.get_data(as_text=True))
    assert client.post(EVALUATION, data={"csrf_token": token, "validity": "有效"}).status_code == 403


def test_signed_out_visitors_are_sent_to_the_login(client):
    assert client.get(EVALUATION).status_code == 302


def test_an_unknown_form_is_not_found(officer):
    assert officer.get("/forms/nmv/forms/workflow/nothing").status_code == 404
    assert officer.get("/forms/nopack/forms/workflow/clue_evaluation").status_code == 404


def test_a_valid_submission_is_stored_with_its_release_and_department(app, officer):
    response = post_form(officer, EVALUATION, [("validity", "有效"), ("evaluation_result", "无效"),
                                               ("invalid_reason", "重复线索"), ("evaluation_opinion", " 与前一线索重复 ")])
    assert response.status_code == 302
    submission_id = int(re.search(r"/form-submissions/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        from lowcode import publishing

        submission = db.session.get(FormSubmission, submission_id)
        assert submission.data == {"validity": "有效", "evaluation_result": "无效", "invalid_reason": "重复线索",
                                   "evaluation_opinion": "与前一线索重复"}
        assert submission.release_id == publishing.current_releases()["nmv"].id
        assert submission.submitted_by.username == "dd_minhang"
        assert submission.dept_path == submission.submitted_by.department.path
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "FormSubmission",
                                                           AuditEvent.object_id == str(submission_id)))
        assert (event.action, event.summary, event.actor_name) == ("submit_form", "提交表单「线索评估」", submission.submitted_by.display_name)
        assert "data" not in event.after and event.after["release"] == submission.release_id
    page = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert "重复线索" in page and "与前一线索重复" in page


def test_an_invalid_submission_shows_chinese_messages_and_stores_nothing(app, officer):
    before = count(app, FormSubmission)
    response = post_form(officer, EVALUATION, [("validity", "有效"), ("evaluation_result", "无效")])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "提交未成功：请修改以下 2 处" in html
    assert re.search(r'id="w-invalid_reason".*?<span class="help-block lc-error">请选择</span>', html, re.S)
    assert re.search(r'id="w-evaluation_opinion".*?<span class="help-block lc-error">请填写此项</span>', html, re.S)
    assert 'value="无效" checked' in html        # what was entered is kept
    assert count(app, FormSubmission) == before


def test_a_refused_submission_keeps_its_business_key(officer):
    response = post_form(officer, EVALUATION, [("validity", "有效"), ("_business_key", "clue-7")])
    assert response.status_code == 422
    assert '<input type="hidden" name="_business_key" value="clue-7">' in response.get_data(as_text=True)


def test_what_a_hidden_field_held_is_not_stored(app, officer):
    response = post_form(officer, EVALUATION, [("validity", "有效"), ("evaluation_result", "采纳下发"),
                                               ("invalid_reason", "重复线索")])
    submission_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert db.session.get(FormSubmission, submission_id).data == {"validity": "有效", "evaluation_result": "采纳下发"}


def test_a_draft_is_saved_resumed_on_the_pda_and_removed_by_the_submission(app, client):
    web_login(client, "pda_minhang")
    url = EVALUATION + "?business_key=clue-42"
    response = post_form(client, url, [("validity", "部分有效"), ("_business_key", "clue-42")], action="draft")
    assert response.status_code == 302 and "business_key=clue-42" in response.headers["Location"]
    pda = client.get("/pda/forms/nmv/forms/workflow/clue_evaluation?business_key=clue-42").get_data(as_text=True)
    assert "已恢复" in pda and 'value="部分有效" checked' in pda
    assert "已恢复" not in client.get(EVALUATION).get_data(as_text=True)   # another business key, another draft
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.summary).where(AuditEvent.object_type == "FormDraft")
                                 .order_by(AuditEvent.id.desc()).limit(1)) == "保存表单草稿「线索评估」（业务编号 clue-42）"
    post_form(client, url, [("validity", "有效"), ("evaluation_result", "采纳下发"), ("_business_key", "clue-42")])
    assert count(app, FormDraft, FormDraft.business_key == "clue-42") == 0
    assert count(app, FormSubmission, FormSubmission.business_key == "clue-42") == 1


def test_a_draft_can_be_discarded(app, officer):
    post_form(officer, EVALUATION, [("validity", "无效")], action="draft")
    assert count(app, FormDraft, FormDraft.form_key == "forms/workflow/clue_evaluation", FormDraft.business_key == "") >= 1
    post_form(officer, EVALUATION, [], action="discard")
    assert "已恢复" not in officer.get(EVALUATION).get_data(as_text=True)


def test_the_pda_submission_returns_to_the_pda(officer):
    response = post_form(officer, "/pda/forms/nmv/forms/workflow/clue_evaluation",
                         [("validity", "有效"), ("evaluation_result", "采纳下发")])
    assert response.status_code == 302 and "/pda/submissions/" in response.headers["Location"]
    assert "采纳下发" in officer.get(response.headers["Location"]).get_data(as_text=True)


def test_a_submission_is_seen_within_the_scope_of_its_department(app, client, officer):
    response = post_form(officer, EVALUATION, [("validity", "有效"), ("evaluation_result", "采纳下发")])
    detail = response.headers["Location"]
    for username, status in (("zd_minhang", 200), ("yanpan", 200), ("zd_xuhui", 404)):
        other = app.test_client()
        web_login(other, username)
        assert other.get(detail).status_code == status, username
    listing = officer.get("/form-submissions/").get_data(as_text=True)
    assert "线索评估" in listing
