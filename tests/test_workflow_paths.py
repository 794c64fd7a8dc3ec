"""The clue and task processes of the nmv pack, end to end through the service layer."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from lowcode.flow import actions
from lowcode.flow.timers import fire_due
from lowcode.models import AuditEvent, Clue, Dispatch, ProcessInstance, Task, WorkItem
from tests.form_samples import sample
from tests.task_helpers import department, do, open_item, pack, user

REVIEW_AND_APPROVAL = "STATION_FATAL_ACCIDENT"


@pytest.fixture()
def ctx(app):
    with app.test_request_context():
        yield


def new_clue(title: str, warning_type: str = REVIEW_AND_APPROVAL) -> Clue:
    return actions.create_clue(warning_type=warning_type, title=title, department=department("310000000000"),
                               source="总队研判", payload={"note": title})


def record(model, identity):
    from lowcode.extensions import db

    db.session.expire_all()
    return db.session.get(model, identity, execution_options={"unscoped": True})


def test_review_rejected_ends_the_clue(ctx):
    clue = new_clue("审核不通过测试")
    do("yanpan", {"review_result": "不通过", "review_opinion": "信息不实，退回研判"}, clue_id=clue.id)
    assert record(Clue, clue.id).status == "审核不通过"


def test_evaluation_invalid_ends_the_clue(ctx):
    clue = new_clue("评估无效测试")
    do("yanpan", {"review_result": "通过"}, clue_id=clue.id)
    do("yanpan", {"evaluation_result": "无效", "invalid_reason": "重复线索"}, clue_id=clue.id)
    assert record(Clue, clue.id).status == "线索无效"


def adopted_task(title: str) -> Task:
    from lowcode.extensions import db

    clue = new_clue(title)
    do("yanpan", {"review_result": "通过"}, clue_id=clue.id)
    do("yanpan", {"evaluation_result": "采纳下发"}, clue_id=clue.id)
    assert record(Clue, clue.id).status == "已采纳下发"
    return db.session.scalar(select(Task).where(Task.clue_id == clue.id).execution_options(unscoped=True))


def test_approval_rejected_ends_the_task(ctx):
    task = adopted_task("审批不通过测试")
    do("yanpan", {"approval_result": "不通过", "approval_opinion": "证据不足"}, task_id=task.id)
    assert record(Task, task.id).status == "审批不通过"


def dispatch_to(task: Task, codes: list[str]) -> None:
    do("yanpan", {"approval_result": "通过"}, task_id=task.id)
    do("yanpan", {"receivers": [{"department_code": c} for c in codes], "requirements": "请按期处置反馈"},
       task_id=task.id)


def test_the_whole_loop_with_forward_supervise_and_rework(ctx):
    from lowcode.extensions import db

    task = adopted_task("闭环测试：某站点亡人事故")
    dispatch_to(task, ["310104000000", "310115000000"])
    xuhui, pudong = (db.session.scalar(select(Dispatch).where(Dispatch.task_id == task.id,
                                                              Dispatch.receiver_department_id == department(c).id)
                                       .execution_options(unscoped=True)) for c in ("310104000000", "310115000000"))
    assert xuhui.status == "任务签收" and xuhui.sign_due_at is not None

    supervision = actions.supervise(pudong.id, "请加快处置", dt.datetime(2030, 1, 1), user("yanpan"))
    actions.reply_supervision(supervision.id, "正在处置", user("zd_pudong"))

    do("zd_xuhui", {"handling": "转发下级"}, dispatch_id=xuhui.id)
    do("zd_xuhui", {"receivers": [{"department_code": "310104010000"}], "requirements": "请大队上门检查"},
       dispatch_id=xuhui.id)
    child = db.session.scalar(select(Dispatch).where(Dispatch.parent_id == xuhui.id).execution_options(unscoped=True))
    assert record(Dispatch, xuhui.id).status == "等待下级办结"
    do("dd_xuhui", {"handling": "本单位处置"}, dispatch_id=child.id)
    do("pda_xuhui", dispatch_id=child.id)  # the PDA officer feeds back with the checklist
    do("zd_xuhui", {"feedback_review_result": "退回", "feedback_review_opinion": "照片不清晰，请补充"},
       dispatch_id=child.id)
    do("dd_xuhui", dispatch_id=child.id)
    do("zd_xuhui", {"feedback_review_result": "通过"}, dispatch_id=child.id)
    assert record(Dispatch, child.id).closed_at is not None
    do("zd_xuhui", dispatch_id=xuhui.id)  # the 支队 feeds back upward once its brigade is done
    do("yanpan", {"feedback_review_result": "通过"}, dispatch_id=xuhui.id)
    assert record(Task, task.id).status == "等待各接收部门办结"

    do("zd_pudong", {"handling": "本单位处置"}, dispatch_id=pudong.id)
    do("zd_pudong", dispatch_id=pudong.id)
    do("yanpan", {"feedback_review_result": "通过"}, dispatch_id=pudong.id)
    do("yanpan", task_id=task.id)
    assert record(Task, task.id).status == "已办结归档"

    steps = actions.timeline(task.id)
    whats = [s["what"] for s in steps]
    assert whats[:2] == ["任务审批", "任务下发"]
    assert whats.count("反馈审核") == 4 and "督办" in whats and whats[-1] == "办结归档"
    assert all(a["at"] <= b["at"] for a, b in zip(steps, steps[1:]))
    receiver_view = actions.timeline(task.id, dispatch_id=xuhui.id)
    assert {s["dispatch_id"] for s in receiver_view} == {xuhui.id, child.id}


def test_terminate_ends_every_open_branch(ctx):
    from lowcode.extensions import db

    task = adopted_task("终止测试")
    dispatch_to(task, ["310105000000", "310106000000"])
    with pytest.raises(actions.ActionRefused):
        actions.terminate(task.id, "不应允许", user("zd_changning"))
    actions.terminate(task.id, "当事站点已关停", user("yanpan"))
    items = db.session.scalars(select(WorkItem).where(WorkItem.task_id == task.id)
                               .execution_options(unscoped=True)).all()
    assert not [i for i in items if i.state == "open"]
    assert {i.comment for i in items if i.state == "cancelled"} == {"任务已终止：当事站点已关停"}
    assert record(Task, task.id).status == "已终止"
    instances = db.session.scalars(select(ProcessInstance).where(ProcessInstance.business_kind == "dispatch")
                                   .where(ProcessInstance.business_id.in_(
                                       select(Dispatch.id).where(Dispatch.task_id == task.id)))).all()
    assert instances and {i.status for i in instances} == {"cancelled"}


def test_overdue_by_timer_is_marked_once(ctx):
    from lowcode.extensions import db

    task = adopted_task("超期测试")
    dispatch_to(task, ["310107000000"])
    item = open_item("zd_putuo", task_id=task.id)
    assert item.due_at is not None and not item.overdue
    later = item.due_at + dt.timedelta(minutes=1)
    fire_due(now=later)
    fire_due(now=later)
    assert record(WorkItem, item.id).overdue
    overdue_events = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "overdue", AuditEvent.object_id == str(item.id)))
    reminders = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "reminder", AuditEvent.object_id == str(item.id)))
    assert (overdue_events, reminders) == (1, 1)


def dispatch_during_outage(title: str, code: str, failure) -> ProcessInstance:
    """Approve and dispatch a task while the dispatch service fails (a peer system is down)."""
    from lowcode.extensions import db
    from lowcode.flow.runtime import script_engine

    task = adopted_task(title)
    do("yanpan", {"approval_result": "通过"}, task_id=task.id)
    registry = script_engine().services
    real = registry.lookup("platform.dispatch_task")
    registry.register("platform.dispatch_task", failure)
    try:
        do("yanpan", {"receivers": [{"department_code": code}], "requirements": "请处置"}, task_id=task.id)
    finally:
        registry.register("platform.dispatch_task", real)
    return db.session.scalar(select(ProcessInstance).where(ProcessInstance.business_kind == "task",
                                                           ProcessInstance.business_id == task.id))


def test_a_failing_service_is_an_incident_that_can_be_retried(ctx, app):
    def outage(**_):
        raise ConnectionError("下发服务暂不可用")

    instance = dispatch_during_outage("服务出错测试", "310109000000", outage)
    assert instance.status == "incident" and "下发服务暂不可用" in instance.incident["error"]
    actions.retry_incident(instance.id, user("admin"))
    assert record(ProcessInstance, instance.id).status == "running"
    assert open_item("zd_hongkou", task_id=instance.business_id).task_name == "Task_Sign"


def test_a_late_submit_is_refused_not_lost(ctx):
    task = adopted_task("重复提交测试")
    dispatch_to(task, ["310110000000"])
    item = open_item("zd_yangpu", task_id=task.id)
    data = sample(pack(), item.form_key, handling="本单位处置")
    actions.submit(item.id, data, user("zd_yangpu"))
    with pytest.raises(actions.ActionRefused):
        actions.submit(item.id, data, user("zd_yangpu"))


def test_invalid_answers_and_wrong_receivers_are_refused_with_field_errors(ctx):
    task = adopted_task("表单校验测试")
    do("yanpan", {"approval_result": "通过"}, task_id=task.id)
    item = open_item("yanpan", task_id=task.id)
    with pytest.raises(actions.FormInvalid) as refused:
        actions.submit(item.id, {"requirements": "x"}, user("yanpan"))
    assert list(refused.value.errors) == ["receivers"] and all(refused.value.errors["receivers"])
    with pytest.raises(actions.FormInvalid) as refused:
        actions.submit(item.id, {"receivers": [{"department_code": "999999999999"}], "requirements": "x"},
                       user("yanpan"))
    assert refused.value.errors == {"receivers": ["接收部门 999999999999 不存在"]}
    with pytest.raises(actions.ActionRefused):
        actions.submit(item.id, {"receivers": [{"department_code": "310104000000"}], "requirements": "x"},
                       user("zd_xuhui"))


def test_timelines_and_actions_through_the_api(ctx, api):
    task = adopted_task("接口测试")
    dispatch_to(task, ["310114000000"])
    jiading = api("zd_jiading")
    [item] = [i for i in jiading.get("/api/v1/workflow/inbox").get_json()["result"] if i["task_id"] == task.id]
    wrong = jiading.post(f"/api/v1/workflow/work-items/{item['id']}/submit", json={"data": {"handling": "随便"}})
    assert wrong.status_code == 400 and "handling" in str(wrong.get_json())
    answers = sample(pack(), item["form_key"], handling="本单位处置")
    assert jiading.post(f"/api/v1/workflow/work-items/{item['id']}/submit", json={"data": answers}).status_code == 200
    again = jiading.post(f"/api/v1/workflow/work-items/{item['id']}/submit", json={"data": answers})
    assert again.status_code == 409 and "已处理" in again.get_json()["message"]

    dispatch_id = item["dispatch_id"]
    assert api("yanpan").post(f"/api/v1/workflow/dispatches/{dispatch_id}/supervise",
                              json={"message": "请于今日反馈", "reply_due_at": "2030-01-01T18:00"}).status_code == 200
    issuer_view = api("yanpan").get(f"/api/v1/workflow/tasks/{task.id}/timeline").get_json()
    assert [s["what"] for s in issuer_view["steps"]] == ["任务审批", "任务下发", "任务签收", "督办"]
    receiver_view = jiading.get(f"/api/v1/workflow/dispatches/{dispatch_id}/timeline").get_json()
    assert [s["what"] for s in receiver_view["steps"]] == ["任务签收", "督办"]
    assert jiading.get(f"/api/v1/workflow/tasks/{task.id}/timeline").status_code == 200
    assert api("zd_xuhui").get(f"/api/v1/workflow/dispatches/{dispatch_id}/timeline").status_code == 404
    assert api("zd_xuhui").get(f"/api/v1/workflow/tasks/{task.id}/timeline").status_code == 404
    assert api("lingdao").post(f"/api/v1/workflow/tasks/{task.id}/terminate", json={"reason": "x"}).status_code == 403
    refused = jiading.post(f"/api/v1/workflow/tasks/{task.id}/terminate", json={"reason": "x"})
    assert refused.status_code == 409


def test_incidents_page_retries(ctx, client, app):
    from tests.conftest import csrf_token, web_login

    instance = dispatch_during_outage("异常页面测试", "310116000000", lambda **_: 1 / 0)
    web_login(client, "admin")
    page = client.get("/incidents/").get_data(as_text=True)
    assert "下发至接收部门" in page and "division by zero" in page
    client.post(f"/incidents/{instance.id}/retry", data={"csrf_token": csrf_token(page)})
    assert record(ProcessInstance, instance.id).status == "running"
    assert f"<td>{instance.id}</td>" in page
    assert f"<td>{instance.id}</td>" not in client.get("/incidents/").get_data(as_text=True)


def test_feedback_photos_must_be_the_submitters_own_and_are_claimed_by_the_feedback(ctx):
    from lowcode import form_service
    from lowcode.extensions import db
    from lowcode.models import Attachment, FormSubmission

    task = adopted_task("反馈附件测试")
    dispatch_to(task, ["310104000000"])
    do("zd_xuhui", {"handling": "本单位处置"}, task_id=task.id)
    item = open_item("zd_xuhui", task_id=task.id)
    someone_elses = sample(pack(), item.form_key, user("zd_pudong"))
    with pytest.raises(actions.FormInvalid) as refused:
        actions.submit(item.id, someone_elses, user("zd_xuhui"))
    assert refused.value.errors and all(messages == [form_service.ATTACHMENT_NOT_OWNED]
                                        for messages in refused.value.errors.values())
    assert record(WorkItem, item.id).state == "open"

    own = sample(pack(), item.form_key, user("zd_xuhui"))
    actions.submit(item.id, own, user("zd_xuhui"))
    stored = record(WorkItem, item.id).data   # normalised: fields the answers hide are dropped
    ids = {attachment_id for _, attachment_id in form_service.form_for(pack(), item.form_key).attachment_refs(stored)}
    claimed = db.session.scalars(select(Attachment).where(Attachment.id.in_(ids)).execution_options(unscoped=True)).all()
    assert ids and len(claimed) == len(ids) and len({a.submission_id for a in claimed}) == 1
    submission = record(FormSubmission, claimed[0].submission_id)
    assert submission.business_key == f"work_item:{item.id}" and submission.form_key == item.form_key


def test_personal_answers_are_stored_encrypted_and_kept_out_of_the_timeline(ctx):
    from lowcode import personal

    task = adopted_task("个人信息加密测试")
    dispatch_to(task, ["310104000000"])
    do("zd_xuhui", {"handling": "本单位处置", "handler_mobile": "13912345678"}, task_id=task.id)
    signed = db_item(task.id, "zd_xuhui")
    assert personal.is_token(signed.data["handler_mobile"]) and "13912345678" not in str(signed.data)
    assert "13912345678" not in str(actions.timeline(task.id))


def db_item(task_id: int, username: str) -> WorkItem:
    from lowcode.extensions import db

    db.session.expire_all()
    return db.session.scalars(select(WorkItem).where(WorkItem.task_id == task_id, WorkItem.state == "done",
                                                     WorkItem.completed_by_id == user(username).id)
                              .execution_options(unscoped=True)).one()
