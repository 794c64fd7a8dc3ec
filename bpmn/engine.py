"""The workflow engine the platform drives: start instances, list and complete user tasks, fire
timers, save and load state, and recover from failed steps.

Storage-agnostic: the caller keeps the BPMN files (by content hash) and each instance's state
(`dump_state`), passes a script engine in, and holds one lock per instance around every call that
changes it. Calls that run the engine raise `WorkflowIncident` when a script, condition or
service fails; the failed task stays in ERROR, the state can be saved as it is, and
`retry_failed`/`skip_failed` resume it later.
"""
from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .parser import parse_bpmn
from .script_engine import RestrictedScriptEngine


class EngineError(Exception):
    pass


class UnknownTask(EngineError):
    def __init__(self, task_id: str, reason: str = "任务不存在"):
        super().__init__(f"{reason}：{task_id}")
        self.task_id = task_id


class TaskNoLongerReady(EngineError):
    """The task was open when the user saw it, but no longer is (typically a deadline timer won)."""

    def __init__(self, task_id: str, state: str):
        super().__init__(f"任务已不可办理（当前状态 {state}）：{task_id}")
        self.task_id = task_id
        self.state = state


class StateMismatch(EngineError):
    """Saved state loaded against another process definition or serializer version."""


class WorkflowIncident(EngineError):
    """A step failed. The failed task is left in ERROR; retry_failed/skip_failed resume the instance.

    `workflow` is the instance in that state: the only handle on it when `start` failed.
    """

    def __init__(self, workflow: Workflow, task: Task | None, error: Exception):
        self.workflow = workflow
        self.task_id = str(task.id) if task else None
        self.task_name = task.task_spec.name if task else None
        self.task_title = getattr(task.task_spec, "bpmn_name", None) if task else None
        self.error = error
        where = f"「{self.task_title or self.task_name}」（{self.task_name}）" if task else "流程"
        super().__init__(f"{where}执行失败：{type(error).__name__}: {error}")


@dataclass(frozen=True)
class SpecBundle:
    key: str  # process id + file contents; saved with the state so it is never loaded against another
    process_id: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]


class Workflow(BpmnWorkflow):
    """A running instance that knows its bundle, so that its saved state can name its spec.

    The script engine is required: BpmnWorkflow would otherwise fall back to plain eval/exec.
    """

    def __init__(self, bundle: SpecBundle, script_engine: RestrictedScriptEngine, **kwargs):
        super().__init__(bundle.spec, dict(bundle.subprocess_specs), script_engine=script_engine, **kwargs)
        self.bundle = bundle


@dataclass(frozen=True)
class UserTaskView:
    id: str
    name: str  # the BPMN element id
    title: str
    lane: str | None
    properties: dict[str, str]  # spiffworkflow:properties, e.g. the form binding
    data: dict[str, Any]  # a shallow copy of the task data: read it, don't change it


@dataclass(frozen=True)
class PendingTimer:
    task_id: str
    name: str
    due: datetime  # timezone-aware, UTC


@dataclass(frozen=True)
class FailedTask:
    id: str
    name: str
    title: str


# ---------------------------------------------------------------------------------------- specs

_BUNDLES: dict[str, SpecBundle] = {}


def load_spec(bpmn_files: Iterable[bytes], process_id: str) -> SpecBundle:
    """The runnable spec of `process_id`, with every process it calls, from these BPMN files.

    Files are parsed once per distinct content (bpmn.parser) and bundles are cached too, so a
    bundle is a cheap, shared, read-only object.
    """
    if isinstance(bpmn_files, bytes):
        raise TypeError("bpmn_files is a list of files' bytes, not one file")
    parsed = {p.sha256: p for p in map(parse_bpmn, bpmn_files)}
    key = hashlib.sha256("\n".join([process_id, *sorted(parsed)]).encode()).hexdigest()
    bundle = _BUNDLES.get(key)
    if bundle is None:
        specs: dict[str, BpmnProcessSpec] = {}
        for file in parsed.values():
            for name, spec in file.specs.items():
                if name in specs:
                    raise EngineError(f"流程 {name} 在多个文件中定义")
                specs[name] = spec
        if process_id not in specs:
            raise EngineError(f"文件中没有流程 {process_id}")
        bundle = _BUNDLES[key] = SpecBundle(key, process_id, specs[process_id],
                                            _called_specs(specs, process_id))
    return bundle


def _called_specs(specs: dict[str, BpmnProcessSpec], process_id: str) -> dict[str, BpmnProcessSpec]:
    # Subprocesses and call activities, transitively (what SpiffBpmnParser.get_subprocess_specs
    # does, but across files parsed separately).
    found: dict[str, BpmnProcessSpec] = {}
    pending = [process_id]
    while pending:
        for task_spec in specs[pending.pop()].task_specs.values():
            if isinstance(task_spec, SubWorkflowTaskMixin) and task_spec.spec not in found:
                if task_spec.spec not in specs:
                    raise EngineError(f"{task_spec.bpmn_id} 调用的流程 {task_spec.spec} 不在文件中")
                found[task_spec.spec] = specs[task_spec.spec]
                pending.append(task_spec.spec)
    return found


# ------------------------------------------------------------------------------------- running

def start(bundle: SpecBundle, data: dict[str, Any], script_engine: RestrictedScriptEngine) -> Workflow:
    """A new instance with `data` as its initial task data, run to its first wait state."""
    workflow = Workflow(bundle, script_engine)
    workflow.get_next_task(state=TaskState.READY).data.update(copy.deepcopy(data))
    _guarded(workflow, workflow.do_engine_steps)
    return workflow


def ready_user_tasks(workflow: Workflow) -> list[UserTaskView]:
    return standing(workflow).user_tasks


def complete_user_task(workflow: Workflow, task_id: str, data: dict[str, Any]) -> None:
    """Apply a user's submit: sweep due timers first, then complete the task if it is still open.

    SpiffWorkflow silently discards a user task completed after its boundary timer fired but
    before the engine ran; sweeping first turns that into TaskNoLongerReady.
    """
    if not _find_task(workflow, task_id).task_spec.manual:
        raise UnknownTask(task_id, "不是人工任务")
    sweep_timers(workflow)
    try:
        task = _find_task(workflow, task_id)
    except UnknownTask:
        raise TaskNoLongerReady(task_id, "REMOVED") from None
    if not task.has_state(TaskState.READY):
        raise TaskNoLongerReady(task_id, TaskState.get_name(task.state))
    task.data.update(copy.deepcopy(data))
    _guarded(workflow, task.run, workflow.do_engine_steps)


def sweep_timers(workflow: Workflow) -> bool:
    """Fire the timers that are due and run the engine on; returns whether anything moved."""
    _guarded(workflow, workflow.refresh_timers)
    # do_engine_steps ends with a refresh too, so a timer may already be READY from an earlier call.
    if workflow.get_next_task(state=TaskState.READY, manual=False) is None:
        return False
    _guarded(workflow, workflow.do_engine_steps)
    return True


def pending_timers(workflow: Workflow) -> list[PendingTimer]:
    """Timers the instance waits on (or that fired and await a sweep), with their due times."""
    return standing(workflow).timers


@dataclass(frozen=True)
class Standing:
    """Where an instance stands: what `ready_user_tasks`, `pending_timers` and `status_label` say,
    from one walk of its open tasks (each of those walks cost as much as the others together)."""
    completed: bool
    user_tasks: list[UserTaskView]
    timers: list[PendingTimer]
    label: str


def standing(workflow: Workflow) -> Standing:
    user_tasks, timers, waiting = [], [], []
    for task in workflow.get_tasks(state=TaskState.WAITING | TaskState.READY):
        spec = task.task_spec
        if spec.manual and task.state == TaskState.READY:
            user_tasks.append(_user_task_view(task))
        event = getattr(spec, "event_definition", None)
        # The due time is computed when the timer starts waiting and kept in the task's internal
        # data ("event_value"); details() reads it for every kind of timer.
        if isinstance(event, TimerEventDefinition):
            value = event.details(task).value
            due = TimerEventDefinition.parse_time_or_duration(value) if isinstance(value, str) else None
            if isinstance(due, datetime):
                timers.append(PendingTimer(str(task.id), spec.name, due))
        if getattr(spec, "bpmn_name", None) and (spec.manual or task.state == TaskState.WAITING):
            waiting.append(spec.bpmn_name)
    completed = workflow.is_completed()
    label = _end_label(workflow) if completed else "、".join(dict.fromkeys(waiting)) or "处理中"
    return Standing(completed, user_tasks, timers, label)


def next_timer_due(workflow: Workflow) -> datetime | None:
    return min((timer.due for timer in pending_timers(workflow)), default=None)


def send_signal(workflow: Workflow, name: str, payload: Any = None) -> bool:
    """Throw BPMN signal `name` into the instance; returns False when nothing waits for it."""
    try:
        workflow.send_event(BpmnEvent(SignalEventDefinition(name), payload))
    except WorkflowException:
        return False
    _guarded(workflow, workflow.do_engine_steps)
    return True


def cancel(workflow: Workflow) -> None:
    """Terminate the instance: every open task is cancelled and it counts as completed, unsuccessfully."""
    workflow.cancel()


def is_completed(workflow: Workflow) -> bool:
    return workflow.is_completed()


def workflow_data(workflow: Workflow) -> dict[str, Any]:
    """The process data: the final data once completed, else the data of the last task run."""
    if workflow.is_completed() or workflow.last_task is None:
        return workflow.data
    return workflow.last_task.data


# ----------------------------------------------------------------------------------- incidents

def failed_tasks(workflow: Workflow) -> list[FailedTask]:
    return [FailedTask(str(task.id), task.task_spec.name, getattr(task.task_spec, "bpmn_name", None) or "")
            for task in workflow.get_tasks(state=TaskState.ERROR)]


def retry_failed(workflow: Workflow, task_id: str | None = None, data: dict[str, Any] | None = None) -> None:
    """Run the failed task(s) again (all of them, or `task_id`), then carry on.

    Each task restarts from its parent's data, as when it first became ready, with `data` (a
    correction, e.g. the variable a failing condition needs) merged on top.
    """
    tasks = _failed(workflow, task_id)

    def rerun():
        for task in tasks:
            task._set_state(TaskState.FUTURE)
            task.task_spec._update(task)  # re-inherits data, reruns any pre-script, makes it READY
            task.data.update(copy.deepcopy(data or {}))

    _guarded(workflow, rerun, workflow.do_engine_steps)


def skip_failed(workflow: Workflow, data: dict[str, Any], task_id: str | None = None) -> None:
    """Mark the failed task(s) done without running them, `data` standing in for their result.

    Meant for activities (a service or script task); a gateway must be retried, since only
    running it chooses the path.
    """
    tasks = _failed(workflow, task_id)

    def complete():
        for task in tasks:
            task.data.update(copy.deepcopy(data))
            task.complete()

    _guarded(workflow, complete, workflow.do_engine_steps)


def _failed(workflow: Workflow, task_id: str | None) -> list[Task]:
    if task_id is None:
        return workflow.get_tasks(state=TaskState.ERROR)
    task = _find_task(workflow, task_id)
    if not task.has_state(TaskState.ERROR):
        raise UnknownTask(task_id, "任务未失败")
    return [task]


def _guarded(workflow: Workflow, *steps) -> None:
    try:
        for step in steps:
            step()
    except Exception as error:
        raise _incident(workflow, error) from error


def _incident(workflow: Workflow, error: Exception) -> WorkflowIncident:
    task = getattr(error, "task", None)
    if task is None:
        task = next(iter(workflow.get_tasks(state=TaskState.ERROR)), None)
    # SpiffWorkflow wraps the script's own exception; the incident carries the original.
    while isinstance(error, WorkflowTaskException) and (error.__cause__ or error.__context__):
        error = error.__cause__ or error.__context__
    return WorkflowIncident(workflow, task, error)


def _find_task(workflow: Workflow, task_id: str) -> Task:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        raise UnknownTask(task_id) from None


def _user_task_view(task: Task) -> UserTaskView:
    spec = task.task_spec
    return UserTaskView(str(task.id), spec.name, spec.bpmn_name or "", spec.lane,
                        dict(spec.extensions.get("properties", {})), dict(task.data))


# ----------------------------------------------------------------------------------------- state

class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Serializes an instance without its spec (11-13 KB of every stock serialization: the spec
    comes back from the parse cache on restore) and with each task's default fields left out."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["tasks"] = self._compact(dct["tasks"])
        dct["subprocesses"] = {task_id: {**sub, "tasks": self._compact(sub["tasks"])}
                               for task_id, sub in self.mapping_to_dict(workflow.subprocesses).items()}
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def _compact(self, tasks: dict[str, dict]) -> dict[str, dict]:
        defaults = _task_defaults()
        compact = {}
        for task_id, task in tasks.items():
            # The stock converter leaves task data raw for its JSON encoder; convert it here so that
            # the state is plain JSON-compatible data (Decimal, date... become tagged dicts).
            task = {**task, "data": self.registry.convert(task["data"]), "delta": self.registry.convert(task["delta"])}
            compact[task_id] = {k: v for k, v in task.items() if k != "id" and defaults.get(k, _ABSENT) != v}
        return compact

    def from_dict(self, dct, bundle: SpecBundle, script_engine: RestrictedScriptEngine):
        # Fresh containers throughout: the stock restore pops keys from what it is given, and the
        # caller's state must stay intact.
        dct = {**dct, "tasks": _expand(dct["tasks"]),
               "subprocesses": {task_id: {**sub, "tasks": _expand(sub["tasks"])}
                                for task_id, sub in dct["subprocesses"].items()}}
        workflow = self.target_class(bundle, script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.get("bpmn_events", []))
        return workflow


_ABSENT = object()


def _task_defaults() -> dict[str, Any]:
    # What most serialized tasks hold (a task that inherited its data unchanged records an empty delta).
    return {"typename": "Task", "children": [], "triggered": False, "internal_data": {}, "data": {},
            "delta": {"updates": {}, "deletions": []}}


def _expand(tasks: dict[str, dict]) -> dict[str, dict]:
    return {task_id: {**_task_defaults(), **task, "id": task_id} for task_id, task in tasks.items()}


def _serializer() -> BpmnWorkflowSerializer:
    config = {**DEFAULT_CONFIG, Workflow: _SpecFreeWorkflowConverter}
    del config[BpmnWorkflow]
    registry = BpmnWorkflowSerializer.configure(config)
    # Task data types scripts can produce that JSON cannot carry.
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(set, lambda v: {"items": list(v)}, lambda v: set(v["items"]))
    return BpmnWorkflowSerializer(registry)


_SERIALIZER = _serializer()
STATE_FORMAT = 1


def dump_state(workflow: Workflow) -> dict[str, Any]:
    """The instance state as JSON-compatible data, without the spec (load it with restore_state)."""
    return {
        "format": STATE_FORMAT,
        "serializer": _SERIALIZER.VERSION,
        "spec": workflow.bundle.key,
        "workflow": _SERIALIZER.to_dict(workflow),
    }


def restore_state(state: dict[str, Any], bundle: SpecBundle, script_engine: RestrictedScriptEngine) -> Workflow:
    """Rebuild an instance from dump_state output (the script engine is not part of the state)."""
    if state.get("format") != STATE_FORMAT or state.get("serializer") != _SERIALIZER.VERSION:
        raise StateMismatch(f"无法读取的流程状态格式：{state.get('format')}/{state.get('serializer')}")
    if state.get("spec") != bundle.key:
        raise StateMismatch(f"流程状态属于另一个流程定义（{state.get('spec')}），不是 {bundle.key}")
    return _SERIALIZER.from_dict(state["workflow"], bundle=bundle, script_engine=script_engine)


def status_label(workflow: Workflow) -> str:
    """Where the instance stands, in the process's own words: the end event reached, else the
    names of the steps it waits on (user tasks and catch events)."""
    return standing(workflow).label


def _end_label(workflow: Workflow) -> str:
    ends = [t.task_spec.bpmn_name for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(t.task_spec, EndEvent) and t.task_spec.bpmn_name]
    return ends[-1] if ends else "已完成"
