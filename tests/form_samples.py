"""Valid answers for any form of a pack, built from its schema: what a diligent officer would type."""
from __future__ import annotations

from lowcode.definitions import form_validator

SAMPLES = {"date": "2026-11-20", "date-time": "2026-11-20T10:00:00+08:00", "time": "10:00", "email": "a@b.cn",
           "mobile": "13800138000", "id-card": "11010519491231002X", "uscc": "91350100M000100Y43",
           "uri": "https://example.cn/x"}


def sample(pack, form_key: str, **overrides) -> dict:
    validator = form_validator(pack, form_key)
    data = _value({"$ref": pack.forms[form_key].uri}, validator._resolver)
    data.update(overrides)
    errors = [e.message for e in validator.iter_errors(data)]
    assert not errors, errors
    return data


def _value(schema: dict, resolver):
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        return _value({**resolved.contents, **{k: v for k, v in schema.items() if k != "$ref"}}, resolved.resolver)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "oneOf" in schema:
        return _value(schema["oneOf"][0], resolver)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: _value(sub, resolver) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_value(schema.get("items", {}), resolver) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind in ("number", "integer"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    text = SAMPLES.get(schema.get("format"), "已核实情况属实，已按要求处置")
    return (text * 10)[: max(len(text), schema.get("minLength", 0))][: schema.get("maxLength", 10_000)]
