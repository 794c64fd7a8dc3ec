"""The meta-schemas every definition file is validated against (metaschemas/*.schema.json)."""
from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from .content import canonical_json
from .errors import DefinitionError, json_pointer
from .messages import describe

METASCHEMA_DIR = Path(__file__).with_name("metaschemas")
BASE_URI = "https://lowcode.invalid/metaschemas/"


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(METASCHEMA_DIR.glob("*.schema.json")):
        resources.append((BASE_URI + path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8")))))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """The validator for meta-schema `name` (e.g. "warning_type"), built once per process."""
    registry = _registry()
    return Draft202012Validator(registry.contents(f"{BASE_URI}{name}.schema.json"), registry=registry)


def metaschema_errors(name: str, document: Any, file: str) -> list[DefinitionError]:
    return [DefinitionError(file, pointer, reason) for pointer, reason in _problems(name, canonical_json(document))]


@lru_cache(maxsize=2048)
def _problems(name: str, canonical: bytes) -> tuple[tuple[str, str], ...]:
    # Validation is a pure function of the content and dominates load time (the form
    # meta-schema especially), so an unchanged file is validated once per process.
    return tuple(
        (json_pointer(*path), reason)
        for error in validator(name).iter_errors(json.loads(canonical))
        for path, reason in describe(error)
    )
