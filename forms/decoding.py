"""From an HTML form post to form data: input names are field paths ("inspection.place",
"inspection.inspectors.3.name"), values are typed by the field tree.

The browser (static/forms/form.js) reads values with exactly these rules, so that both sides
evaluate conditions on the same data: surrounding blanks are trimmed, an empty value is absent,
a number is a plain decimal, a boolean is "true" or "false"; text that is not a number stays text
and is reported by validation. A group posts one marker input per row (name = the group's path,
value = the row's id in its inputs' names), so an empty row is still a row and order is kept.
"""
from __future__ import annotations

import re
from typing import Any, Protocol

from .fields import LIST_KINDS, Field

BLANKS = " \t\r\n\u3000"
NUMBER = re.compile(r"-?\d+(\.\d+)?")
ROW_ID = re.compile(r"\d{1,6}")
MISSING = object()


class FormPost(Protocol):
    def getlist(self, key: str) -> list[str]: ...


def decode(field: Field, post: FormPost, path: str = "") -> Any:
    """The value of `field` at `path` in `post`, or MISSING."""
    if field.kind == "object":
        found = {}
        for child in field.children:
            value = decode(child, post, join(path, child.name))
            if value is not MISSING:
                found[child.name] = value
        return found
    if field.kind == "group":
        rows = [row for row in post.getlist(path) if ROW_ID.fullmatch(row)]
        return [decode(field.item, post, join(path, row)) for row in rows] if rows else MISSING
    values = [value.strip(BLANKS) for value in post.getlist(path)]
    values = [scalar(field.value_type, value) for value in values if value]
    if field.kind in LIST_KINDS:
        return values or MISSING
    return values[0] if values else MISSING


def scalar(value_type: str, raw: str) -> Any:
    if value_type == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if value_type in ("number", "integer") and NUMBER.fullmatch(raw):
        return float(raw) if "." in raw else int(raw)
    return raw


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
