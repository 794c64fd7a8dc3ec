"""Walking a form's JSON Schema across the pack's files: following $ref, listing fields.

A form's `$ref` is relative to the file it is written in and may only reach the pack's own form
files, in the shape `other.defs.json#/$defs/name` (the meta-schema allows nothing else).
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from referencing import Registry
from referencing.exceptions import NoSuchResource

MAX_REF_CHAIN = 16


class RefProblem(Exception):
    pass


@dataclass(frozen=True)
class Followed:
    node: dict
    base: str                        # URI of the file the node is written in
    refs: tuple[tuple[str, str], ...]  # (file URI, $defs name) of each $ref followed, outermost first


def follow(node: dict, base: str, registry: Registry) -> Followed:
    """The field `node` stands for after its $ref chain; sibling keywords (e.g. title) win."""
    refs = []
    for _ in range(MAX_REF_CHAIN):
        if "$ref" not in node:
            return Followed(node, base, tuple(refs))
        uri, fragment = urldefrag(urljoin(base, node["$ref"]))
        try:
            target = registry.contents(uri)
        except NoSuchResource:
            raise RefProblem(f"引用 {node['$ref']} 无法解析：本包的表单文件中没有 {uri.rsplit('/', 1)[-1]}") from None
        name = fragment.removeprefix("/$defs/") if fragment else ""
        if name:
            target = target.get("$defs", {}).get(name)
            if not isinstance(target, dict):
                raise RefProblem(f"引用 {node['$ref']} 无法解析：目标文件中没有定义 {name}")
        refs.append((uri, name))
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        node, base = {**target, **siblings}, uri
    raise RefProblem(f"引用 {node['$ref']} 形成循环")


def fragments(body: dict) -> list[tuple[list, dict]]:
    """then/else/dependentSchemas of an object body, with their paths: conditional additions."""
    found = [([key], body[key]) for key in ("then", "else") if isinstance(body.get(key), dict)]
    found += [(["dependentSchemas", name], fragment)
              for name, fragment in body.get("dependentSchemas", {}).items() if isinstance(fragment, dict)]
    return found


def fields(body: dict) -> dict[str, dict]:
    """Fields an object body declares, conditional fields included."""
    declared = dict(body.get("properties", {}))
    for _, fragment in fragments(body):
        declared.update(fragment.get("properties", {}))
    return declared


def child_fields(node: dict) -> list[tuple[list, dict]]:
    """Every schema written directly below `node` in the same file, with its path."""
    found = [([key, name], field) for key in ("$defs", "properties") for name, field in node.get(key, {}).items()]
    found += [([*path, "properties", name], field)
              for path, fragment in fragments(node) for name, field in fragment.get("properties", {}).items()]
    if isinstance(node.get("items"), dict):
        found.append((["items"], node["items"]))
    return found


def field_kind(node: dict, base: str, registry: Registry) -> str:
    """What sort of input a field is, as far as choosing a widget goes."""
    if node.get("type") == "array":
        try:
            item = follow(node.get("items", {}), base, registry).node
        except RefProblem:
            return "array"
        if item.get("format") == "attachment":
            return "attachment"
        return "choices" if "enum" in item or "oneOf" in item else "array"
    if "enum" in node or "oneOf" in node:
        return "choice"
    if node.get("type") == "string":
        return {"date": "date", "attachment": "attachment"}.get(node.get("format"), "text")
    return node.get("type", "")
