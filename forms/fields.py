"""The normalised field tree a form compiles to: what renderers, the decoder and the condition
evaluator walk instead of the raw JSON Schema (with its $ref, fragments and UI hints)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator

# Field kinds. Scalars hold one JSON value; "choices" and "attachments" a list of strings.
SCALAR_KINDS = {"text", "number", "integer", "boolean", "choice", "attachment"}
LIST_KINDS = {"choices", "attachments"}
# What a condition may test: a value the user enters directly, never a section or a group.
TESTABLE_KINDS = SCALAR_KINDS | LIST_KINDS

INPUT_TYPES = {"date": "date", "date-time": "datetime-local", "time": "time", "email": "email",
               "mobile": "tel", "uri": "url"}


def option_key(value: Any) -> str:
    """A value as an HTML form posts it (decoding.scalar reads it back by the field's type)."""
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Option:
    value: Any
    title: str

    @property
    def key(self) -> str:
        return option_key(self.value)


@dataclass(frozen=True)
class Fragment:
    """then / else / a dependentSchemas entry: the fields it shows and the names it requires."""

    show: tuple[str, ...] = ()
    require: tuple[str, ...] = ()


@dataclass(frozen=True)
class Condition:
    """if/then/else (`test` is the `if` schema) or a dependentSchemas entry (`present` names the
    field whose presence switches `then` on)."""

    then: Fragment
    otherwise: Fragment = Fragment()
    test: dict | None = None
    present: str | None = None
    checker: Draft202012Validator | None = field(default=None, compare=False, repr=False)

    def holds(self, view: dict) -> bool:
        if self.present is not None:
            return self.present in view
        return self.checker.is_valid(view)

    def as_json(self) -> dict:
        found = {"then": _fragment_json(self.then), "else": _fragment_json(self.otherwise)}
        return {**found, "present": self.present} if self.present is not None else {**found, "if": self.test}


def _fragment_json(fragment: Fragment) -> dict:
    return {"show": list(fragment.show), "require": list(fragment.require)}


@dataclass(frozen=True)
class Section:
    title: str
    names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Field:
    name: str
    title: str
    kind: str                   # text number integer boolean choice choices attachment attachments object group
    widget: str                 # input textarea radio select checkboxes camera signature file object group
    value_type: str = "string"  # JSON type of one value (of a list's items for the list kinds)
    description: str = ""
    help: str = ""
    placeholder: str = ""
    format: str = ""
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_items: int = 0
    max_items: int | None = None
    accept: tuple[str, ...] = ()
    max_size_mb: float = 0
    read_only: bool = False
    personal: bool = False      # x-personal: stored encrypted, shown masked (the application decides how)
    default: Any = None
    examples: tuple = ()        # sample values (JSON Schema `examples`) for demo and test data
    conditional: bool = False   # shown only while a fragment of its object that names it applies
    children: tuple[Field, ...] = ()
    item: Field | None = None   # the row of a group
    conditions: tuple[Condition, ...] = ()
    required: tuple[str, ...] = ()
    dependent_required: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sections: tuple[Section, ...] = ()
    columns: int = 0            # 0: the renderer's default

    @cached_property
    def child(self) -> dict[str, Field]:
        return {child.name: child for child in self.children}

    @cached_property
    def holds_personal(self) -> bool:
        """Whether this field or one inside it is personal: walks for personal values skip the rest."""
        return self.personal or any(child.holds_personal for child in self.children) or (
            self.item is not None and self.item.holds_personal)

    @cached_property
    def personal_children(self) -> tuple[Field, ...]:
        """The children holding personal values: a walk for them visits only these."""
        return tuple(child for child in self.children if child.holds_personal)

    @cached_property
    def unconditional(self) -> frozenset[str]:
        return frozenset(child.name for child in self.children if not child.conditional)

    @property
    def input_type(self) -> str:
        return INPUT_TYPES.get(self.format, "text")

    @property
    def max_bytes(self) -> int:
        return int(self.max_size_mb * 1024 * 1024)

    @cached_property
    def option_titles(self) -> dict[Any, str]:
        return {option.value: option.title for option in self.options}

    @cached_property
    def rules_json(self) -> str:
        """What the browser's evaluator needs to show, hide and mark this object's fields."""
        return json.dumps({
            "conditions": [condition.as_json() for condition in self.conditions],
            "required": list(self.required),
            "dependentRequired": {key: list(names) for key, names in self.dependent_required},
        }, ensure_ascii=False, separators=(",", ":"))
