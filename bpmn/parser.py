"""Parse BPMN 2.0 files with SpiffWorkflow, once per distinct content.

Parsing is the expensive part of loading a workflow, so results are cached by the sha256 of the
bytes. Besides the process specs, a parse reports what definition checks need: every user task
with its lane and its `spiffworkflow:properties` (where a task names its form).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import UserTask as SpiffUserTask

BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
# Names of SpiffWorkflow's own task specs: an element with one of these ids silently replaces
# them (or is replaced), and the process loses its tasks without any parse error.
RESERVED_IDS = ("Start", "End")

_CACHE: dict[str, "ParsedBpmn"] = {}


@dataclass(frozen=True)
class UserTask:
    process_id: str
    id: str
    name: str
    lane: str | None
    properties: dict[str, str]


@dataclass(frozen=True)
class ParsedBpmn:
    sha256: str
    specs: dict[str, BpmnProcessSpec]
    lanes: dict[str, tuple[str, ...]]
    user_tasks: tuple[UserTask, ...]


class BpmnParseError(Exception):
    """The file is not a BPMN model SpiffWorkflow can run; names the element when it is known."""

    def __init__(self, message: str, element_id: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.element_id = element_id or None
        self.line = line


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def parse_bpmn(content: bytes, filename: str = "") -> ParsedBpmn:
    """Parse `content` (bytes: SpiffWorkflow rejects a str with an encoding declaration)."""
    digest = content_hash(content)
    parsed = _CACHE.get(digest)
    if parsed is None:
        parsed = _CACHE[digest] = _parse(content, digest, filename)
    return parsed


def _parse(content: bytes, digest: str, filename: str) -> ParsedBpmn:
    try:
        root = etree.fromstring(content)
    except etree.XMLSyntaxError as error:
        raise BpmnParseError(f"XML 语法错误：{error.msg}", line=error.lineno) from error
    _reject_reserved_ids(root)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename=filename)
        specs = parser.find_all_specs()
    except ValidationException as error:
        line = _as_int(error.line_number)
        element_id = error.id or _element_id_at_line(root, line)
        raise BpmnParseError(_first_line(error), element_id, line) from error
    except SpiffWorkflowException as error:
        task_spec = getattr(error, "task_spec", None)
        raise BpmnParseError(_first_line(error), getattr(task_spec, "bpmn_id", None)) from error
    if not specs:
        raise BpmnParseError("文件中没有可执行的流程（isExecutable=\"true\"）")
    return ParsedBpmn(digest, specs, _lanes(root), _user_tasks(specs))


def _reject_reserved_ids(root) -> None:
    for element in root.iterfind(".//bpmn:process//*[@id]", BPMN_NS):
        if element.get("id") in RESERVED_IDS:
            raise BpmnParseError(f"元素 id {element.get('id')} 与 SpiffWorkflow 的内部任务重名，会使流程丢失任务：请改名",
                                 element.get("id"), element.sourceline)


def _user_tasks(specs: dict[str, BpmnProcessSpec]) -> tuple[UserTask, ...]:
    return tuple(
        UserTask(process_id, spec.bpmn_id, spec.bpmn_name or "", spec.lane,
                 dict(spec.extensions.get("properties", {})))
        for process_id, process in specs.items()
        for spec in process.task_specs.values()
        if isinstance(spec, SpiffUserTask)
    )


def _lanes(root) -> dict[str, tuple[str, ...]]:
    return {
        process.get("id"): tuple(lane.get("name") or lane.get("id")
                                 for lane in process.iterfind(".//bpmn:lane", BPMN_NS))
        for process in root.iterfind(".//bpmn:process", BPMN_NS)
    }


def _element_id_at_line(root, line: int | None) -> str | None:
    # XSD errors carry only a line number: name the element written there, or its nearest
    # ancestor with an id (a misplaced child element has none of its own).
    if line is None:
        return None
    for element in root.iter():
        if element.sourceline == line:
            for candidate in (element, *element.iterancestors()):
                if candidate.get("id"):
                    return candidate.get("id")
    return None


def _first_line(error: Exception) -> str:
    return str(error).split("\n", 1)[0].rstrip(". ")


def _as_int(value) -> int | None:
    return value if isinstance(value, int) else None
