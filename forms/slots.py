"""The field tree filled with one form's data: each field at its data path with its value, its
messages, and whether it is hidden or required now. Every renderer draws from this."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .conditions import evaluate
from .decoding import join
from .fields import Field
from .form import Errors, defaults_of


@dataclass
class Slot:
    field: Field
    path: str
    value: Any
    errors: list[str]
    hidden: bool = False      # a conditional field whose branch does not apply
    disabled: bool = False    # hidden, or inside something hidden: its inputs are not posted
    required: bool = False
    children: list[Slot] = field(default_factory=list)
    rows: list[Slot] = field(default_factory=list)
    blank_row: Slot | None = None   # a group's row template; its path holds `row_id` as a placeholder
    row_id: str = ""

    @property
    def id(self) -> str:
        return "f-" + self.path

    @property
    def anchor(self) -> str:
        return anchor_of(self.path)

    @property
    def blocks(self) -> list[tuple[str, list[Slot]]]:
        """An object's children by ui:sections (titled), then those no section lists."""
        by_name = {child.field.name: child for child in self.children}
        blocks = [(section.title, [by_name[name] for name in section.names if name in by_name])
                  for section in self.field.sections]
        listed = {name for section in self.field.sections for name in section.names}
        rest = [child for child in self.children if child.field.name not in listed]
        return blocks + [("", rest)] if rest else blocks


@dataclass
class Panel:
    """A top-level block of a page: an object field (`slot`) or a run of other fields."""

    title: str
    slot: Slot | None
    children: list[Slot]


def anchor_of(path: str) -> str:
    """The id of a field's wrapper, where an error list links to; the form's own top for ""."""
    return "w-" + path if path else "lc-form-top"


def build(root: Field, data: Any, errors: Errors) -> Slot:
    return _slot(root, "", data, errors, hidden=False, disabled=False, required=True, depth=0)


def paths_in_order(slot: Slot) -> list[str]:
    """Every field's path in the order the page shows them."""
    found = []
    for child in [*slot.children, *slot.rows]:
        found += [child.path, *paths_in_order(child)]
    return found


def panels(root: Slot) -> list[Panel]:
    """Sections titled by ui:sections; otherwise each object its own panel, the fields between
    objects grouped into untitled panels."""
    found: list[Panel] = []
    for title, children in root.blocks:
        if title:
            found.append(Panel(title, None, children))
            continue
        run: list[Slot] = []
        for child in children:
            if child.field.kind == "object":
                if run:
                    found.append(Panel("", None, run))
                    run = []
                found.append(Panel(child.field.title, child, []))
            else:
                run.append(child)
        if run:
            found.append(Panel("", None, run))
    return found


def _slot(field: Field, path: str, value: Any, errors: Errors, *, hidden: bool, disabled: bool, required: bool,
          depth: int, row_id: str = "") -> Slot:
    slot = Slot(field, path, value, errors.get(path, []), hidden, disabled, required, row_id=row_id)
    if field.kind == "object":
        data = value if isinstance(value, dict) else {}
        shown, needed = evaluate(field, data)
        for child in field.children:
            child_hidden = child.conditional and child.name not in shown
            slot.children.append(_slot(child, join(path, child.name), data.get(child.name), errors,
                                       hidden=child_hidden, disabled=disabled or child_hidden,
                                       required=child.name in needed, depth=depth))
    elif field.kind == "group":
        rows = value if isinstance(value, list) else [defaults_of(field.item)] * field.min_items
        slot.rows = [_slot(field.item, join(path, str(index)), row, errors, hidden=False, disabled=disabled,
                           required=False, depth=depth + 1, row_id=str(index)) for index, row in enumerate(rows)]
        # Nested groups need distinct placeholders: cloning an outer row must not fill an inner one's.
        placeholder = f"__ROW{depth}__"
        slot.blank_row = _slot(field.item, join(path, placeholder), defaults_of(field.item), {}, hidden=False,
                               disabled=False, required=False, depth=depth + 1, row_id=placeholder)
    return slot
