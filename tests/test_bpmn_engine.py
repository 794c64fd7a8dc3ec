"""The engine API (bpmn/engine.py) on small hand-written BPMN files in tests/fixtures/bpmn/."""
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

from bpmn import engine
from bpmn.parser import parse_bpmn
from bpmn.script_engine import RestrictedScriptEngine, ScriptRejected
from bpmn.services import ServiceError, ServiceRegistry

FIXTURES = Path(__file__).parent / "fixtures" / "bpmn"


def bpmn_file(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(process_id: str, *files: str) -> engine.SpecBundle:
    return engine.load_spec([bpmn_file(f) for f in files or [f"{process_id}.bpmn"]], process_id)


@pytest.fixture
def services():
    return ServiceRegistry()


@pytest.fixture
def scripts(services):
    return RestrictedScriptEngine(services)


def saved(workflow) -> dict:
    """dump_state through real JSON, as the platform stores it."""
    return json.loads(json.dumps(engine.dump_state(workflow), ensure_ascii=False))


def only_task(workflow) -> engine.UserTaskView:
    (task,) = engine.ready_user_tasks(workflow)
    return task


# ----------------------------------------------------------------------------- specs and tasks

def test_parse_cache_returns_the_same_objects_for_the_same_bytes():
    content = bpmn_file("approval_loop.bpmn")
    assert parse_bpmn(content) is parse_bpmn(bytes(bytearray(content)))
    bundle = load("approval_loop")
    assert load("approval_loop") is bundle
    assert bundle.spec is parse_bpmn(content).specs["approval_loop"]


def test_call_activities_resolve_across_files(scripts):
    bundle = load("parent", "parent.bpmn", "child.bpmn")
    assert list(bundle.subprocess_specs) == ["child"]
    with pytest.raises(engine.EngineError, match="child"):
        load("parent", "parent.bpmn")
    with pytest.raises(engine.EngineError, match="nowhere"):
        load("nowhere", "parent.bpmn")


def test_ready_user_tasks_show_lane_form_binding_and_data(scripts):
    workflow = engine.start(load("approval_loop"), {"applicant": "张三"}, scripts)
    task = only_task(workflow)
    assert (task.name, task.title, task.lane) == ("Task_Submit", "提交申请", "申请人")
    assert task.properties == {"formKey": "forms/tests/apply"}
    assert task.data == {"applicant": "张三"}
    engine.complete_user_task(workflow, task.id, {"reason": "补材料"})
    task = only_task(workflow)
    assert (task.name, task.lane) == ("Task_Review", "审核人")
    assert task.properties["displayFormKey"] == "forms/tests/apply"
    assert task.data == {"applicant": "张三", "reason": "补材料"}


def test_conditions_choose_the_path(scripts):
    bundle = load("dispatch")
    many = engine.start(bundle, {"depts": [{"name": "乙", "people": 2}, {"name": "甲", "people": 3}]}, scripts)
    assert only_task(many).name == "Task_Joint"
    assert only_task(many).data["summary"] == "乙、甲（5 人）"
    one = engine.start(bundle, {"depts": [{"name": "乙", "people": 2}]}, scripts)
    assert only_task(one).name == "Task_Single"


def test_completing_an_unknown_or_engine_task_is_refused(scripts):
    workflow = engine.start(load("deadline"), {"deadline": "PT1H"}, scripts)
    with pytest.raises(engine.UnknownTask):
        engine.complete_user_task(workflow, "00000000-0000-0000-0000-000000000000", {})
    with pytest.raises(engine.UnknownTask):
        engine.complete_user_task(workflow, "not-a-uuid", {})
    timer = engine.pending_timers(workflow)[0]
    with pytest.raises(engine.UnknownTask, match="人工"):
        engine.complete_user_task(workflow, timer.task_id, {})


# ------------------------------------------------------------------------------------- state

def test_dump_restore_mid_process_then_run_to_completion(scripts):
    bundle = load("approval_loop")
    workflow = engine.start(bundle, {"applicant": "张三"}, scripts)
    engine.complete_user_task(workflow, only_task(workflow).id, {"reason": "首次"})

    state = saved(workflow)
    workflow = engine.restore_state(state, bundle, scripts)
    assert engine.restore_state(state, bundle, scripts) is not workflow  # the state is not consumed
    assert workflow.script_engine is scripts
    review = only_task(workflow)
    assert review.name == "Task_Review" and review.data["reason"] == "首次"
    engine.complete_user_task(workflow, review.id, {"review_result": "退回"})

    workflow = engine.restore_state(saved(workflow), bundle, scripts)
    assert only_task(workflow).name == "Task_Submit"
    engine.complete_user_task(workflow, only_task(workflow).id, {"reason": "补充后"})
    workflow = engine.restore_state(saved(workflow), bundle, scripts)
    engine.complete_user_task(workflow, only_task(workflow).id, {"review_result": "通过"})

    assert engine.is_completed(workflow)
    assert engine.workflow_data(workflow) == {"applicant": "张三", "reason": "补充后", "review_result": "通过"}
    finished = engine.restore_state(saved(workflow), bundle, scripts)
    assert engine.is_completed(finished) and engine.ready_user_tasks(finished) == []


def test_the_state_holds_no_spec_and_is_small(scripts):
    workflow = engine.start(load("approval_loop"), {"applicant": "张三"}, scripts)
    text = json.dumps(engine.dump_state(workflow), ensure_ascii=False)
    assert len(text.encode()) < 4096
    for spec_only in ["forms/tests/apply", "review_result", "申请人", "task_specs", "Flow_Returned"]:
        assert spec_only not in text


def test_data_types_beyond_json_survive_the_state(scripts):
    from datetime import date
    from decimal import Decimal

    bundle = load("approval_loop")
    data = {"amount": Decimal("12.50"), "due": date(2026, 12, 1), "at": datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc),
            "tags": {"a"}}
    workflow = engine.restore_state(saved(engine.start(bundle, data, scripts)), bundle, scripts)
    assert only_task(workflow).data == data


def test_state_is_not_restored_against_another_definition(scripts):
    state = saved(engine.start(load("approval_loop"), {}, scripts))
    with pytest.raises(engine.StateMismatch):
        engine.restore_state(state, load("deadline"), scripts)
    with pytest.raises(engine.StateMismatch):
        engine.restore_state({**state, "serializer": "0.9"}, load("approval_loop"), scripts)


def test_subprocess_state_round_trips(scripts):
    bundle = load("parent", "parent.bpmn", "child.bpmn")
    workflow = engine.start(bundle, {"a": 1}, scripts)
    assert only_task(workflow).name == "Task_Child"
    workflow = engine.restore_state(saved(workflow), bundle, scripts)
    engine.complete_user_task(workflow, only_task(workflow).id, {"b": 2})
    after = only_task(workflow)
    assert after.name == "Task_After" and after.data == {"a": 1, "b": 2, "child_done": True}


# ------------------------------------------------------------------------------------ timers

def wait_until_due(workflow) -> None:
    delay = (engine.next_timer_due(workflow) - datetime.now(timezone.utc)).total_seconds()
    time.sleep(max(delay, 0) + 0.02)


def test_next_timer_due_is_the_boundary_deadline(scripts):
    bundle = load("deadline")
    before = datetime.now(timezone.utc)
    workflow = engine.start(bundle, {"deadline": "PT1H"}, scripts)
    after = datetime.now(timezone.utc)
    due = engine.next_timer_due(workflow)
    assert before + timedelta(hours=1) <= due <= after + timedelta(hours=1)
    (timer,) = engine.pending_timers(workflow)
    assert timer.name == "Timer_Deadline" and timer.due == due
    assert engine.next_timer_due(engine.restore_state(saved(workflow), bundle, scripts)) == due
    assert engine.sweep_timers(workflow) is False


def test_a_due_timer_fires_when_swept(scripts):
    workflow = engine.start(load("deadline"), {"deadline": "PT0.1S"}, scripts)
    wait_until_due(workflow)
    assert engine.sweep_timers(workflow) is True
    escalate = only_task(workflow)
    assert escalate.name == "Task_Escalate" and escalate.data["overdue"] is True
    assert engine.next_timer_due(workflow) is None
    assert engine.sweep_timers(workflow) is False


def test_a_late_submit_loses_to_the_timer_and_is_refused_not_discarded(scripts):
    bundle = load("deadline")
    workflow = engine.start(bundle, {"deadline": "PT0.1S"}, scripts)
    handle = only_task(workflow)
    workflow = engine.restore_state(saved(workflow), bundle, scripts)
    wait_until_due(workflow)
    with pytest.raises(engine.TaskNoLongerReady) as refused:
        engine.complete_user_task(workflow, handle.id, {"handled": True})
    assert refused.value.task_id == handle.id and refused.value.state == "CANCELLED"
    escalate = only_task(workflow)
    assert escalate.name == "Task_Escalate"
    assert escalate.data["overdue"] is True and "handled" not in escalate.data


def test_spiffworkflow_alone_discards_a_submit_made_after_a_refresh(scripts):
    # Why complete_user_task sweeps first: here the task completes, then the timer path wins
    # and the submitted data is gone without any error.
    workflow = engine.start(load("deadline"), {"deadline": "PT0.1S"}, scripts)
    wait_until_due(workflow)
    workflow.refresh_timers()
    task = workflow.get_next_task(state=TaskState.READY, manual=True)
    task.data["handled"] = True
    task.run()
    workflow.do_engine_steps()
    assert task.has_state(TaskState.COMPLETED)
    assert only_task(workflow).name == "Task_Escalate" and "handled" not in only_task(workflow).data


def test_a_submit_in_time_cancels_the_timer(scripts):
    workflow = engine.start(load("deadline"), {"deadline": "PT1H"}, scripts)
    engine.complete_user_task(workflow, only_task(workflow).id, {"handled": True})
    assert engine.is_completed(workflow)
    assert engine.pending_timers(workflow) == [] and engine.next_timer_due(workflow) is None
    assert engine.workflow_data(workflow)["handled"] is True


def test_a_signal_interrupts_the_task(scripts):
    workflow = engine.start(load("deadline"), {"deadline": "PT1H"}, scripts)
    assert engine.send_signal(workflow, "no_such_signal") is False
    assert engine.send_signal(workflow, "terminate") is True
    assert engine.is_completed(workflow) and engine.next_timer_due(workflow) is None
    ended = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)} & {
        "EndEvent_Done", "EndEvent_Escalated", "EndEvent_Terminated"}
    assert ended == {"EndEvent_Terminated"}


def test_cancel_closes_every_open_task(scripts):
    workflow = engine.start(load("deadline"), {"deadline": "PT1H"}, scripts)
    handle = only_task(workflow)
    engine.cancel(workflow)
    assert engine.is_completed(workflow) and engine.ready_user_tasks(workflow) == []
    assert engine.pending_timers(workflow) == []
    with pytest.raises(engine.TaskNoLongerReady):
        engine.complete_user_task(workflow, handle.id, {})


# --------------------------------------------------------------------------------- incidents

def lookup_department(code, name):
    return {"code": code, "name": "一大队", "query": name}


def test_a_service_result_lands_in_the_task_data(services, scripts):
    services.register("lookup_department", lookup_department)
    workflow = engine.start(load("service_call", "service.bpmn"), {"dept_code": "D1"}, scripts)
    confirm = only_task(workflow)
    assert confirm.data["department"] == {"code": "D1", "name": "一大队", "query": "查询"}
    assert confirm.data["label"] == "一大队已受理"


def failing_start(services, scripts) -> engine.WorkflowIncident:
    def down(code, name):
        raise ConnectionError("部门服务不可用")

    services.register("lookup_department", down)
    with pytest.raises(engine.WorkflowIncident) as caught:
        engine.start(load("service_call", "service.bpmn"), {"dept_code": "D1"}, scripts)
    return caught.value


def test_a_failing_service_raises_an_incident_naming_the_task(services, scripts):
    incident = failing_start(services, scripts)
    assert (incident.task_name, incident.task_title) == ("Service_Lookup", "查询部门信息")
    assert isinstance(incident.error, ServiceError) and incident.error.service == "lookup_department"
    assert isinstance(incident.error.error, ConnectionError)
    assert "Service_Lookup" in str(incident) and "部门服务不可用" in str(incident)
    (failed,) = engine.failed_tasks(incident.workflow)
    assert (failed.id, failed.name) == (incident.task_id, "Service_Lookup")


def test_retry_after_fixing_the_service_completes(services, scripts):
    incident = failing_start(services, scripts)
    bundle = load("service_call", "service.bpmn")
    workflow = engine.restore_state(saved(incident.workflow), bundle, scripts)
    assert [t.name for t in engine.failed_tasks(workflow)] == ["Service_Lookup"]

    with pytest.raises(engine.WorkflowIncident):  # still down: the incident stands, and can be retried again
        engine.retry_failed(workflow)
    services.register("lookup_department", lookup_department)
    engine.retry_failed(workflow, incident.task_id)
    assert engine.failed_tasks(workflow) == []
    confirm = only_task(workflow)
    assert confirm.data["department"]["name"] == "一大队" and confirm.data["label"] == "一大队已受理"
    engine.complete_user_task(workflow, confirm.id, {})
    assert engine.is_completed(workflow)


def test_skip_completes_with_the_provided_data(services, scripts):
    incident = failing_start(services, scripts)
    workflow = engine.restore_state(saved(incident.workflow), load("service_call", "service.bpmn"), scripts)
    with pytest.raises(engine.UnknownTask, match="未失败"):
        engine.skip_failed(workflow, {}, str(workflow.task_tree.id))
    engine.skip_failed(workflow, {"department": {"name": "人工指定"}})
    confirm = only_task(workflow)
    assert confirm.data["label"] == "人工指定已受理"
    engine.complete_user_task(workflow, confirm.id, {})
    assert engine.is_completed(workflow)


def test_a_failing_condition_keeps_the_last_saved_state_usable_and_can_be_retried(scripts):
    bundle = load("approval_loop")
    workflow = engine.start(bundle, {}, scripts)
    engine.complete_user_task(workflow, only_task(workflow).id, {})
    before = saved(workflow)
    review = only_task(workflow)

    with pytest.raises(engine.WorkflowIncident) as caught:
        engine.complete_user_task(workflow, review.id, {})  # review_result missing: the gateway fails
    assert caught.value.task_name == "Gateway_Result" and isinstance(caught.value.error, NameError)

    # Either discard the failed attempt: the state saved before it still works ...
    again = engine.restore_state(before, bundle, scripts)
    engine.complete_user_task(again, review.id, {"review_result": "通过"})
    assert engine.is_completed(again)
    # ... or keep it and retry the gateway with the missing value.
    failed = engine.restore_state(saved(workflow), bundle, scripts)
    engine.retry_failed(failed, data={"review_result": "通过"})
    assert engine.is_completed(failed)


def test_a_script_escaping_the_sandbox_is_an_incident(scripts):
    with pytest.raises(engine.WorkflowIncident) as caught:
        engine.start(load("sandbox_escape"), {}, scripts)
    assert caught.value.task_name == "Script_Escape"
    assert isinstance(caught.value.error, ScriptRejected) and "__import__" in str(caught.value)
    assert "cwd" not in caught.value.workflow.get_tasks(state=TaskState.ERROR)[0].data
