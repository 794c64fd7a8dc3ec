"""Lanes to departments and roles, by the rules of the process binding (definitions), not code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lowcode.models import Clue, Department, Dispatch, Task


@dataclass(frozen=True)
class Assignment:
    department: Department
    roles: tuple[str, ...]


class LaneRuleMissing(LookupError):
    pass


def _department(reference: str, clue: Optional[Clue], task: Optional[Task], dispatch: Optional[Dispatch]):
    record, _, attribute = reference.partition(".")
    source = {"clue": clue, "task": task, "dispatch": dispatch}[record]
    return None if source is None else getattr(source, attribute)


def assign(binding: dict, lane: str, *, clue=None, task=None, dispatch=None) -> Assignment:
    rule = binding.get("lanes", {}).get(lane)
    if rule is None:
        raise LaneRuleMissing(f"流程绑定 {binding['code']} 没有泳道“{lane}”的分派规则")
    department = _department(rule["department"], clue, task, dispatch)
    if department is None:
        raise LaneRuleMissing(f"泳道“{lane}”的部门 {rule['department']} 无法确定")
    roles = rule["roles_by_kind"].get(department.kind)
    if not roles:
        raise LaneRuleMissing(f"泳道“{lane}”没有为{department.kind}规定角色")
    return Assignment(department, tuple(roles))
