"""A yes/no check of data against a form's inlined schema, built once per form from plain Python
closures: valid data (the common case) is answered without jsonschema's generic walk, which builds
a validator and an error iterator per node. It only ever says "valid" when jsonschema would; for
anything else the caller asks jsonschema, so the messages of invalid data never change. A schema
with a keyword not known here gets no check (None) and is always validated by jsonschema.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Annotations: jsonschema validates nothing with them (x-accept and x-max-size-mb are the hosts').
ANNOTATIONS = {"$schema", "$defs", "$id", "$comment", "title", "description", "default", "readOnly", "writeOnly",
               "deprecated", "examples", "x-accept", "x-max-size-mb", "x-personal"}


def compile_check(schema: Any, formats: dict[str, Callable[[str], bool]]) -> Check | None:
    """A function telling whether data is valid against `schema` (no $ref left), or None."""
    try:
        return _Builder(formats).schema(schema)
    except _Unknown:
        return None


class _Unknown(Exception):
    """A keyword (or a form of one) outside what this module checks exactly like jsonschema."""


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# As jsonschema's type checker for 2020-12; anything rarer (a Decimal) is left to jsonschema.
TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": _is_number,
    "integer": lambda value: (isinstance(value, int) and not isinstance(value, bool))
    or (isinstance(value, float) and value.is_integer()),
}


def same(one, two) -> bool:
    """JSON equality as jsonschema's `enum`, `const` and `uniqueItems` see it: true is not 1."""
    if isinstance(one, bool) or isinstance(two, bool):
        return type(one) is type(two) and one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(map(same, one, two))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(same(one[key], two[key]) for key in one)
    if isinstance(one, (list, dict)) or isinstance(two, (list, dict)):
        return False
    return one == two


def _one_of_values(values: list) -> Check:
    if all(isinstance(value, str) for value in values):
        allowed = frozenset(values)
        return lambda value: isinstance(value, str) and value in allowed
    return lambda value: any(same(value, allowed) for allowed in values)


class _Builder:
    def __init__(self, formats: dict[str, Callable[[str], bool]]):
        self.formats = formats

    def schema(self, node: Any) -> Check:
        if node is True or node == {}:
            return lambda value: True
        if node is False:
            return lambda value: False
        if not isinstance(node, dict):
            raise _Unknown(node)
        checks = [self.keyword(keyword, value, node) for keyword, value in node.items()
                  if keyword not in ANNOTATIONS and keyword not in ("then", "else")]
        checks = [check for check in checks if check is not None]
        if len(checks) == 1:
            return checks[0]

        def every(value) -> bool:  # loops, not all(generator): this runs for every node of the data
            for check in checks:
                if not check(value):
                    return False
            return True

        return every

    def keyword(self, keyword: str, value: Any, node: dict) -> Check | None:
        build = getattr(self, "k_" + keyword.replace("$", "_"), None)
        if build is None:
            raise _Unknown(keyword)
        return build(value, node)

    def k_type(self, names, _node) -> Check:
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or any(name not in TYPES for name in names):
            raise _Unknown(names)
        checks = [TYPES[name] for name in names]
        return checks[0] if len(checks) == 1 else lambda value: any(check(value) for check in checks)

    def k_format(self, name, _node) -> Check | None:
        check = self.formats.get(name)
        if check is None:
            return None  # a format the checker does not know is not checked by jsonschema either
        return lambda value: not isinstance(value, str) or check(value)

    def k_enum(self, values, _node) -> Check:
        if not isinstance(values, list):
            raise _Unknown(values)
        return _one_of_values(values)

    def k_const(self, allowed, _node) -> Check:
        return lambda value: same(value, allowed)

    def k_oneOf(self, schemas, _node) -> Check:
        if not isinstance(schemas, list) or not schemas:
            raise _Unknown(schemas)
        consts = [s.get("const") for s in schemas
                  if isinstance(s, dict) and set(s) - ANNOTATIONS == {"const"} and isinstance(s["const"], str)]
        if len(consts) == len(schemas) and len(set(consts)) == len(consts):
            return _one_of_values(consts)   # options: distinct strings, so at most one matches
        checks = [self.schema(s) for s in schemas]
        return lambda value: sum(1 for check in checks if check(value)) == 1

    def k_minimum(self, bound, _node) -> Check:
        return lambda value: not _is_number(value) or value >= bound

    def k_maximum(self, bound, _node) -> Check:
        return lambda value: not _is_number(value) or value <= bound

    def k_properties(self, schemas, _node) -> Check:
        checks = [(name, self.schema(schema)) for name, schema in schemas.items()]

        def properties(value) -> bool:
            if isinstance(value, dict):
                for name, check in checks:
                    if name in value and not check(value[name]):
                        return False
            return True

        return properties

    def k_required(self, names, _node) -> Check:
        return lambda value: not isinstance(value, dict) or all(name in value for name in names)

    def k_dependentRequired(self, dependencies, _node) -> Check:
        pairs = list(dependencies.items())
        return lambda value: not isinstance(value, dict) or all(
            all(name in value for name in names) for key, names in pairs if key in value)

    def k_dependentSchemas(self, schemas, _node) -> Check:
        checks = [(key, self.schema(schema)) for key, schema in schemas.items()]
        return lambda value: not isinstance(value, dict) or all(check(value) for key, check in checks if key in value)

    def k_if(self, test, node) -> Check:
        test = self.schema(test)
        then = self.schema(node.get("then", True))
        otherwise = self.schema(node.get("else", True))
        return lambda value: then(value) if test(value) else otherwise(value)

    def k_items(self, schema, _node) -> Check:
        check = self.schema(schema)

        def items(value) -> bool:
            if isinstance(value, list):
                for item in value:
                    if not check(item):
                        return False
            return True

        return items

    def k_contains(self, schema, _node) -> Check:
        check = self.schema(schema)
        return lambda value: not isinstance(value, list) or any(map(check, value))

    def k_minItems(self, bound, _node) -> Check:
        return lambda value: not isinstance(value, list) or len(value) >= bound

    def k_maxItems(self, bound, _node) -> Check:
        return lambda value: not isinstance(value, list) or len(value) <= bound

    def k_uniqueItems(self, unique, _node) -> Check | None:
        if not unique:
            return None
        return lambda value: not isinstance(value, list) or not any(
            same(value[i], value[j]) for i in range(len(value)) for j in range(i + 1, len(value)))
