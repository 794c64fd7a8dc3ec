"""The entities of the definitions in force, their tables, and the schema sync over them."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import Table

from lowcode import publishing
from lowcode.entities import schema_sync
from lowcode.entities.spec import Entity, entities_of
from lowcode.entities.tables import table_for


def in_force() -> dict[tuple[str, str], Entity]:
    return entities_of(publishing.current_tree())


def find(pack: str, name: str) -> Optional[Entity]:
    return in_force().get((pack, name))


def of_pack(pack: str) -> dict[str, Entity]:
    return {name: entity for (code, name), entity in in_force().items() if code == pack}


def table(entity: Entity) -> Table:
    return table_for(entity, of_pack(entity.pack))


def sync_schema() -> list[str]:
    """Create what the entities in force need and the database lacks (see schema_sync)."""
    from lowcode.extensions import db

    if not publishing.current_releases():
        return []   # nothing published yet: `lowcode migrate` before the first load-definitions
    return schema_sync.sync(db.engine, [table(entity) for entity in in_force().values()])
