"""An entity definition read into what the runtime needs: its fields with their roles."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lowcode.definitions.model import Definition

@dataclass(frozen=True)
class Field:
    name: str
    title: str
    type: str
    max_length: Optional[int] = None
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    ref: Optional[str] = None
    personal: Optional[str] = None
    search: Optional[str] = None
    list: bool = False
    sort: bool = False

    @property
    def index_column(self) -> str:
        """The blind-index column of a personal field."""
        return f"{self.name}_index"

    def label(self, value) -> Optional[str]:
        return dict(self.choices).get(value, value) if self.choices else value


@dataclass(frozen=True)
class Entity:
    pack: str
    name: str
    title: str
    key: str
    district: str
    department: Optional[str]
    fields: tuple[Field, ...]
    indexes: tuple[tuple[str, ...], ...]
    sha256: str

    @property
    def table_name(self) -> str:
        return f"ent_{self.pack}_{self.name}"

    @property
    def resource(self) -> str:
        """The permission resource of its pages and API (granted in definitions/core/roles.json)."""
        return f"Entity.{self.pack}.{self.name}"

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


_BUILT: dict[tuple[str, str], Entity] = {}


def _build(pack: str, definition: Definition) -> Entity:
    content = definition.content
    fields = tuple(
        Field(name=f["name"], title=f["title"], type=f["type"], max_length=f.get("max_length"),
              required=f.get("required", False),
              choices=tuple((c["value"], c["label"]) for c in f.get("choices", ())), ref=f.get("ref"),
              personal=f.get("personal"), search=f.get("search"), list=f.get("list", False), sort=f.get("sort", False))
        for f in content["fields"])
    return Entity(pack, content["name"], content["title"], content["key"], content["district"],
                  content.get("department"), fields, tuple(tuple(i) for i in content.get("indexes", ())), definition.sha256)


def entity(pack: str, definition: Definition) -> Entity:
    """The runtime form of a valid entity definition, built once per content version."""
    key = (pack, definition.sha256)
    if key not in _BUILT:
        _BUILT[key] = _build(pack, definition)
    return _BUILT[key]


def entities_of(tree) -> dict[tuple[str, str], Entity]:
    """Every valid entity of a definition tree, by (pack, name)."""
    return {(code, name): entity(code, definition)
            for code, pack in sorted(tree.packs.items()) for name, definition in sorted(pack.entities.items())
            if definition.valid}
