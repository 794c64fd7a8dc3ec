"""A compiled form: its field tree and its validator, both built once, and what the hosts need
to turn a post into checked data."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

from jsonschema import Draft202012Validator
from referencing import Registry

from . import conditions, decoding, messages, validity
from .compiler import SubsetError, SubsetProblem, compile_tree, inlined_schema
from .fields import Field
from .formats import FORMATS, format_checker

Errors = dict[str, list[str]]  # field path ("" for the form itself) → Chinese messages


class Form:
    """Build with `compile_form`; immutable and shared by every request using the same definition."""

    def __init__(self, root: Field, schema: dict):
        self.root = root
        # The schema comes with its $ref inlined: a lookup per reference would double validation time.
        self._validator = Draft202012Validator(schema, format_checker=format_checker())
        # Valid data is answered by plain closures; jsonschema then only explains what is wrong.
        self._valid = validity.compile_check(schema, FORMATS)

    @property
    def title(self) -> str:
        return self.root.title

    def decode(self, post: decoding.FormPost) -> dict:
        """The data an HTML form post carries, without what hidden fields held."""
        return self.normalise(decoding.decode(self.root, post))

    def normalise(self, data: Any) -> Any:
        return conditions.normalise(self.root, data)

    def errors(self, data: Any) -> Errors:
        """Every problem of `data`, by field path, in Chinese; empty when the data is valid."""
        found: Errors = {}
        if self._valid is not None and self._valid(data):
            return found
        for error in self._validator.iter_errors(data):
            for path, message in messages.describe(error, self.field_at):
                listed = found.setdefault(path_key(path), [])
                if message not in listed:
                    listed.append(message)
        return found

    def defaults(self) -> dict:
        """What a new, empty form shows: every `default`, sections included."""
        return defaults_of(self.root)

    def field_at(self, path) -> Field | None:
        """The field at a data path (tuple or dotted string); row indices are skipped."""
        parts = path.split(".") if isinstance(path, str) else path
        field = self.root
        for part in parts:
            if field.kind == "group" and (isinstance(part, int) or str(part).isdigit()):
                field = field.item
            elif part in field.child:
                field = field.child[part]
            else:
                return None
        return field

    def map_personal(self, data: Any, change: Callable[[Field, str, str], Any]) -> Any:
        """A copy of `data` with every personal (x-personal) value replaced by change(field, path, value);
        parts without personal fields are shared with `data`, not copied."""
        return _map_personal(self.root, data, "", change)

    def attachment_refs(self, data: Any) -> list[tuple[str, str]]:
        """(field path, attachment id) of every attachment the data refers to."""
        return list(_attachment_refs(self.root, data, ""))


def compile_form(uri: str, registry: Registry, ui: dict | None = None) -> Form:
    """The form whose JSON Schema is at `uri` in `registry`, with its (merged) UI schema.
    Raises SubsetError naming every construct outside the subset."""
    root, problems = compile_tree(uri, registry, ui or {})
    if problems:
        raise SubsetError(problems)
    return Form(root, inlined_schema(uri, registry))


def subset_problems(uri: str, registry: Registry, ui: dict | None = None) -> list[SubsetProblem]:
    """What `compile_form` would refuse, for a definition loader to report next to its own checks."""
    return compile_tree(uri, registry, ui or {})[1]


def path_key(path) -> str:
    return ".".join(str(part) for part in path)


def defaults_of(field: Field) -> Any:
    if field.kind == "object":
        found = {child.name: defaults_of(child) for child in field.children}
        return {name: value for name, value in found.items() if value is not None}
    return field.default


def _map_personal(field: Field, value: Any, path: str, change) -> Any:
    if not field.holds_personal:
        return value
    if field.kind == "object" and isinstance(value, dict):
        mapped = dict(value)  # same keys in the same order; only personal children are walked into
        for child in field.personal_children:
            if child.name in value:
                mapped[child.name] = _map_personal(child, value[child.name], decoding.join(path, child.name), change)
        return mapped
    if field.kind == "group" and isinstance(value, list):
        return [_map_personal(field.item, row, decoding.join(path, str(i)), change) for i, row in enumerate(value)]
    if field.personal and isinstance(value, str) and value:
        return change(field, path, value)
    return value


def _attachment_refs(field: Field, value: Any, path: str) -> Iterator[tuple[str, str]]:
    if field.kind == "object" and isinstance(value, dict):
        for child in field.children:
            if child.name in value:
                yield from _attachment_refs(child, value[child.name], decoding.join(path, child.name))
    elif field.kind == "group" and isinstance(value, list):
        for index, row in enumerate(value):
            yield from _attachment_refs(field.item, row, decoding.join(path, str(index)))
    elif field.kind == "attachment" and isinstance(value, str):
        yield path, value
    elif field.kind == "attachments" and isinstance(value, list):
        yield from ((path, item) for item in value if isinstance(item, str))
