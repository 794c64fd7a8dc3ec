"""The form engine's fast check of valid data agrees with jsonschema: on every real form, on its
examples and on thousands of mutations of them (each leaf replaced by values of every JSON type
and by every option the schema names, keys removed, rows duplicated), and on the keywords'
edge cases. Invalid data still gets jsonschema's messages."""
import random
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import forms
import forms.examples
from forms import validity
from forms.compiler import inlined_schema
from forms.formats import FORMATS, format_checker
from lowcode.definitions import form_ui, load_tree

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions"
LEAVES = [None, "", "x", "2026-01-31", 0, -1, 1.0, 1.5, 10 ** 9, True, False, [], {}, ["x"], [1, 1], {"a": 1}]


@pytest.fixture(scope="module")
def real_forms():
    found = []
    for pack in load_tree(DEFINITIONS).packs.values():
        for key, definition in pack.forms.items():
            schema = inlined_schema(definition.uri, pack.form_registry)
            form = forms.compile_form(definition.uri, pack.form_registry, form_ui(pack, key))
            found.append((key, form, schema))
    assert found
    return found


def schema_values(node) -> list:
    """Every const and enum value a schema names: mutations that switch its conditions."""
    if isinstance(node, dict):
        own = [node["const"]] if "const" in node else list(node.get("enum", []))
        return own + [value for child in node.values() for value in schema_values(child)]
    if isinstance(node, list):
        return [value for child in node for value in schema_values(child)]
    return []


def mutations(data, pool, rng):
    """Copies of `data` with one change each, at every depth: a few values of the pool per place."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield {k: v for k, v in data.items() if k != key}
            for changed in mutations(value, pool, rng):
                yield {**data, key: changed}
    if isinstance(data, list):
        if data:
            yield [*data, data[0]]
            yield []
        for index, value in enumerate(data):
            for changed in mutations(value, pool, rng):
                yield [*data[:index], changed, *data[index + 1:]]
    yield from rng.sample(pool, 6)


def test_every_real_form_gets_a_fast_check(real_forms):
    assert all(validity.compile_check(schema, FORMATS) is not None for _, _, schema in real_forms)


def test_the_fast_check_agrees_with_jsonschema_on_real_forms(real_forms):
    compared = 0
    for key, form, schema in real_forms:
        check = validity.compile_check(schema, FORMATS)
        reference = Draft202012Validator(schema, format_checker=format_checker())
        pool = LEAVES + schema_values(schema)
        for seed in (1, 2):
            rng = random.Random(seed)
            data = forms.examples.example(form, rng, attach=lambda field, path: "ab" * 16)
            assert check(data) and reference.is_valid(data), key
            for variant in mutations(data, pool, rng):
                valid = reference.is_valid(variant)
                assert check(variant) == valid, (key, variant)
                if compared % 10 == 0:  # the form's answer too, on a share (its messages cost more)
                    assert (form.errors(variant) == {}) == valid, (key, variant)
                compared += 1
    assert compared > 5_000


@pytest.mark.parametrize("schema, value, valid", [
    ({"type": "integer"}, 3.0, True),
    ({"type": "integer"}, True, False),
    ({"type": "number"}, False, False),
    ({"type": ["string", "integer"]}, 1, True),
    ({"enum": [1, "a"]}, True, False),
    ({"enum": [[1], {"a": False}]}, {"a": False}, True),
    ({"enum": [[1], {"a": False}]}, {"a": 0}, False),
    ({"const": 1}, 1.0, True),
    ({"const": False}, 0, False),
    ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 1, False),
    ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, -1, True),
    ({"oneOf": [{"const": "a", "title": "甲"}, {"const": "b"}]}, "b", True),
    ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [1, 1.0], False),
    ({"uniqueItems": True}, [{"a": [1]}, {"a": [1]}], False),
    ({"contains": {"const": "x"}}, [], False),
    ({"if": {"properties": {"a": {"const": True}}}, "then": {"required": ["b"]}, "else": {"required": ["c"]}},
     {"a": True, "c": 1}, False),
    ({"if": {"properties": {"a": {"const": True}}}, "then": {"required": ["b"]}, "else": {"required": ["c"]}},
     {"a": False, "c": 1}, True),
    ({"then": {"required": ["b"]}}, {}, True),
    ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, False),
    ({"dependentSchemas": {"a": {"required": ["b"]}}}, {"b": 1}, True),
    ({"format": "mobile"}, 13800000000, True),
    ({"format": "mobile"}, "1380000000", False),
    ({"format": "ipv4"}, "not an address", True),
    ({"maximum": 2, "minimum": 1}, "9", True),
    ({"items": {"type": "string"}, "minItems": 1, "maxItems": 2}, ["a", "b", "c"], False),
])
def test_keywords_agree_with_jsonschema(schema, value, valid):
    assert Draft202012Validator(schema, format_checker=format_checker()).is_valid(value) is valid
    assert validity.compile_check(schema, FORMATS)(value) is valid


@pytest.mark.parametrize("schema", [{"pattern": "^a$"}, {"$ref": "#/$defs/a"}, {"contains": {}, "minContains": 2},
                                    {"properties": {"a": {"not": {}}}}])
def test_a_keyword_it_does_not_know_leaves_the_form_to_jsonschema(schema):
    assert validity.compile_check(schema, FORMATS) is None
