"""What a definition check reports: which file, where in it, and why."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class DefinitionError:
    """One problem in a definition tree (a record, not an exception: checks collect them all).

    `file` is relative to the tree root (e.g. nmv/task_levels.json); `pointer` is a JSON pointer
    into that file (e.g. /task_levels/3/feedback_hours), "bpmn:<element id>" for a BPMN element,
    or "" for the whole file.
    """

    file: str
    pointer: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}: {self.reason}"


def json_pointer(*parts: str | int) -> str:
    """RFC 6901 pointer from path parts: json_pointer("a/b", 0) == "/a~1b/0"."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def bpmn_pointer(element_id: str | None) -> str:
    return f"bpmn:{element_id}" if element_id else ""
