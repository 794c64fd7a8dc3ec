"""bpmn.parser: SpiffWorkflow parsing, cached by content hash, with the facts definition checks need."""
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from bpmn.parser import BpmnParseError, content_hash, parse_bpmn
from bpmn.script_engine import RestrictedScriptEngine
from bpmn.services import ServiceRegistry

FIXTURES = Path(__file__).parent / "fixtures" / "definitions" / "bpmn"
NMV_BPMN = Path(__file__).resolve().parents[1] / "definitions" / "nmv" / "bpmn"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_bytes_with_an_encoding_declaration_parse():
    content = fixture("review.bpmn")
    assert content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    parsed = parse_bpmn(content)
    assert parsed.sha256 == content_hash(content)
    assert list(parsed.specs) == ["review"]
    assert parsed.lanes == {"review": ("审核部门",)}


def test_user_tasks_carry_their_lane_and_spiffworkflow_properties():
    [task] = parse_bpmn(fixture("review.bpmn")).user_tasks
    assert (task.process_id, task.id, task.name, task.lane) == ("review", "Task_Review", "审核", "审核部门")
    assert task.properties == {"formKey": "forms/review"}


def test_the_same_content_is_parsed_once():
    content = fixture("review.bpmn")
    first = parse_bpmn(content)
    assert parse_bpmn(bytes(content)) is first
    assert parse_bpmn(content.replace("审核".encode(), "复核".encode())) is not first


@pytest.mark.parametrize("name, element_id, words", [
    ("unconditioned_flow.bpmn", "Flow_Rejected", "without condition"),
    ("misplaced_element.bpmn", "Task_Review", "documentation"),
    ("not_executable.bpmn", None, "没有可执行的流程"),
])
def test_parse_errors_name_the_element(name, element_id, words):
    with pytest.raises(BpmnParseError) as raised:
        parse_bpmn(fixture(name))
    assert raised.value.element_id == element_id
    assert words in raised.value.message


def test_an_element_named_like_spiffworkflow_internals_is_rejected():
    # With id="End" SpiffWorkflow silently drops the end event: the process would never finish.
    content = fixture("review.bpmn").replace(b"End_Passed", b"End")
    with pytest.raises(BpmnParseError) as raised:
        parse_bpmn(content)
    assert raised.value.element_id == "End"


def test_xml_syntax_errors_report_the_line():
    with pytest.raises(BpmnParseError) as raised:
        parse_bpmn(fixture("review.bpmn")[:400])
    assert raised.value.line is not None
    assert "XML 语法错误" in raised.value.message


def run_to_end(process: str, variables: dict, answers: dict[str, list[dict]],
               services: dict | None = None) -> tuple[list[str], str]:
    """Drive a process of the nmv pack: the user tasks met in order, and the end event reached."""
    spec = parse_bpmn((NMV_BPMN / f"{process}.bpmn").read_bytes()).specs[f"nmv_{process}"]
    workflow = BpmnWorkflow(spec, script_engine=RestrictedScriptEngine(ServiceRegistry(services)))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(variables)
    workflow.do_engine_steps()
    met = []
    while not workflow.is_completed():
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        met.append(task.task_spec.bpmn_name)
        task.data.update(answers[task.task_spec.bpmn_id].pop(0))
        task.run()
        workflow.do_engine_steps()
    [end] = [task.task_spec.bpmn_name for task in workflow.get_tasks(state=TaskState.COMPLETED)
             if task.task_spec.__class__.__name__ == "EndEvent"]
    return met, end


def test_clue_process_reviews_only_when_required():
    # The adopted path calls the platform's create_task service: tests/test_workflow_* drive it.
    assert run_to_end("clue", {"review_required": False}, {
        "Task_ClueEvaluation": [{"evaluation_result": "无效"}],
    }) == (["线索评估"], "线索无效")
    assert run_to_end("clue", {"review_required": True}, {
        "Task_ClueReview": [{"review_result": "不通过"}],
    }) == (["线索审核"], "审核不通过")


def test_dispatch_process_returns_feedback_for_rework_until_it_passes():
    # Acceptance pushes the feedback through the platform's push_feedback service (tests/test_outbox).
    pushed = []
    met, end = run_to_end("dispatch", {"dispatch_id": 7}, {
        "Task_Sign": [{"handling": "本单位处置"}],
        "Task_Feedback": [{}, {}],
        "Task_FeedbackReview": [{"feedback_review_result": "退回"}, {"feedback_review_result": "通过"}],
    }, services={"platform.push_feedback": lambda dispatch_id: pushed.append(dispatch_id)})
    assert met == ["任务签收", "处置反馈", "反馈审核", "处置反馈", "反馈审核"]
    assert end == "本下发办结" and pushed == [7]


def test_task_process_ends_when_approval_is_refused():
    assert run_to_end("task", {"approval_required": True}, {"Task_Approval": [{"approval_result": "不通过"}]}) == (
        ["任务审批"], "审批不通过")
