"""Which fields of an object are shown and which are required, given its data.

The rule, applied identically by the browser (static/forms/conditions.js): a condition tests only
fields that are always shown (the compiler enforces it), so one pass decides. A conditional field
is shown while a then/else/dependentSchemas branch that names it applies. `if` is decided by
jsonschema itself, on the always-shown fields' values: the server's reading is the truth.
"""
from __future__ import annotations

from typing import Any

from .fields import Field


def evaluate(field: Field, data: dict) -> tuple[frozenset[str], frozenset[str]]:
    """(names shown, names required) of object `field` holding `data`."""
    view = {name: value for name, value in data.items() if name in field.unconditional}
    branches = [condition.then if condition.holds(view) else condition.otherwise for condition in field.conditions]
    shown = field.unconditional.union(*(branch.show for branch in branches))
    required = set(field.required).union(*(branch.require for branch in branches))
    for key, names in field.dependent_required:
        if key in data and key in shown:
            required.update(names)
    return shown, frozenset(required)


def normalise(field: Field, value: Any) -> Any:
    """`value` holding only what shown fields hold: a hidden conditional field's value and names
    the form does not declare are dropped (recursively), so what is stored is what was seen."""
    if field.kind == "object" and isinstance(value, dict):
        shown, _ = evaluate(field, value)
        return {child.name: normalise(child, value[child.name])
                for child in field.children if child.name in shown and child.name in value}
    if field.kind == "group" and isinstance(value, list):
        return [normalise(field.item, row) for row in value]
    return value
