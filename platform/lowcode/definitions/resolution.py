"""What a warning type amounts to once its references are followed: its checklist, the form each
user task shows, its time limits. Used by the checks and, later, by the running platform."""
from __future__ import annotations

from dataclasses import dataclass

from bpmn.parser import parse_bpmn

from .model import Definition, Pack
from .shape import objects

# BPMN user-task properties that name a form; "$<slot>" stands for a form of the warning type.
FORM_PROPERTIES = ("formKey", "displayFormKey")
# The processes a binding names: the clue, the task (issuer side) and each dispatch (receiver side).
PROCESS_FIELDS = ("clue_process", "task_process", "dispatch_process")
FORM_SLOTS = ("$checklist", "$payload")


@dataclass(frozen=True)
class TimeLimits:
    sign_hours: float
    feedback_hours: float
    reminder_before_hours: float


def find_subtype(table: dict[str, Definition], category: str, subtype: str) -> dict | None:
    """The second-level type `subtype` of first-level type `category`, if both exist."""
    if category not in table:
        return None
    return next((item for _, item in objects(table[category].content, "subtypes") if item.get("code") == subtype), None)


def checklist_form_key(pack: Pack, code: str) -> str | None:
    """The warning type's own checklist, else the default feedback form of its task type."""
    warning_type = pack.warning_types[code].content
    if "checklist_form" in warning_type:
        return warning_type["checklist_form"]
    subtype = find_subtype(pack.task_types, **warning_type["task_type"])
    return subtype["feedback_form"] if subtype else None


def resolve_form_key(pack: Pack, code: str, form_key: str) -> str | None:
    """A user task's form for warning type `code`: a slot ($checklist, $payload) or a fixed key."""
    match form_key:
        case "$checklist":
            return checklist_form_key(pack, code)
        case "$payload":
            return pack.warning_types[code].content["payload_form"]
    return form_key


def user_task_forms(pack: Pack, code: str) -> dict[tuple[str, str], dict[str, str]]:
    """For each user task of the warning type's processes, (process id, task id) -> its forms."""
    binding = pack.process_bindings[pack.warning_types[code].content["process_binding"]].content
    forms = {}
    for process in (binding[field] for field in PROCESS_FIELDS):
        parsed = parse_bpmn(pack.bpmn[process["file"]].content)
        for task in parsed.user_tasks:
            if task.process_id == process["process_id"]:
                forms[(task.process_id, task.id)] = {
                    name: resolve_form_key(pack, code, task.properties[name])
                    for name in FORM_PROPERTIES if name in task.properties
                }
    return forms


def time_limits(pack: Pack, code: str) -> TimeLimits:
    """Sign and feedback limits: the warning type's own, else its task type's, else its level's."""
    warning_type = pack.warning_types[code].content
    level = pack.task_levels[warning_type["task_level"]].content
    subtype = find_subtype(pack.task_types, **warning_type["task_type"]) or {}
    own = warning_type.get("time_limits", {})

    def pick(name: str) -> float:
        return own.get(name, subtype.get(name, level[name]))

    return TimeLimits(pick("sign_hours"), pick("feedback_hours"), level["reminder_before_hours"])
