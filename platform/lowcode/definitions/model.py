"""The loaded form of a definition tree: packs of definitions, each with its content hash."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from referencing import Registry

from .content import canonical_json, sha256
from .errors import DefinitionError
from .shape import texts


@dataclass(frozen=True)
class Definition:
    """One versionable definition: a whole file, or one item of a collection file.

    `canonical` is what a publishing step stores and `sha256` identifies that version: canonical
    JSON for JSON definitions (key order and whitespace do not count), the file bytes for BPMN.
    `valid` is False when the content failed its meta-schema: it is kept so that references to it
    are not reported as missing, but checks do not read its fields.
    """

    kind: str
    code: str
    file: str
    pointer: str
    content: Any
    canonical: bytes = field(repr=False)
    sha256: str
    valid: bool = True


def json_definition(kind: str, code: str, file: str, pointer: str, content: Any, valid: bool = True) -> Definition:
    canonical = canonical_json(content)
    return Definition(kind, code, file, pointer, content, canonical, sha256(canonical), valid)


def bpmn_definition(code: str, file: str, content: bytes) -> Definition:
    return Definition("bpmn", code, file, "", content, content, sha256(content))


@dataclass(frozen=True)
class Form:
    """A form (X.schema.json + X.ui.json) or shared form definitions (X.defs.json, with an
    optional X.ui.json of UI hints per definition), keyed by pack path without suffix.

    `uri` is the base its relative $ref resolve against, within the pack's form registry.
    """

    key: str
    schema: Definition
    ui: Definition | None
    uri: str


@dataclass
class Pack:
    """One pack as loaded: definitions by kind keyed by code (forms and BPMN files by pack path),
    the registry its forms' $ref resolve in, and every problem found in it."""

    code: str
    directory: Path
    manifest: Definition | None
    warning_types: dict[str, Definition] = field(default_factory=dict)
    clue_levels: dict[str, Definition] = field(default_factory=dict)
    clue_types: dict[str, Definition] = field(default_factory=dict)
    task_levels: dict[str, Definition] = field(default_factory=dict)
    task_types: dict[str, Definition] = field(default_factory=dict)
    thresholds: dict[str, Definition] = field(default_factory=dict)
    process_bindings: dict[str, Definition] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    form_fragments: dict[str, Form] = field(default_factory=dict)
    bpmn: dict[str, Definition] = field(default_factory=dict)
    dashboards: dict[str, Definition] = field(default_factory=dict)
    organisation: Definition | None = None
    roles: Definition | None = None
    entities: dict[str, Definition] = field(default_factory=dict)
    form_registry: Registry = field(default_factory=Registry)
    errors: list[DefinitionError] = field(default_factory=list)

    @property
    def depends(self) -> list[str]:
        return [code for _, code in texts(self.manifest.content, "depends")] if self.manifest else []

    def definitions(self) -> Iterator[Definition]:
        """Every definition of the pack, for a publishing step to store by hash."""
        singles = [self.manifest, self.organisation, self.roles]
        yield from (definition for definition in singles if definition is not None)
        for table in (self.warning_types, self.clue_levels, self.clue_types, self.task_levels,
                      self.task_types, self.thresholds, self.process_bindings, self.bpmn, self.entities,
                      self.dashboards):
            yield from table.values()
        for form in (*self.forms.values(), *self.form_fragments.values()):
            yield form.schema
            if form.ui is not None:
                yield form.ui


@dataclass
class DefinitionTree:
    """Packs by code; `errors` holds every pack's problems and those between packs, sorted."""

    root: Path
    packs: dict[str, Pack]
    errors: list[DefinitionError]
