"""Who may read an entity and reveal its personal fields: a resource per entity
(`Entity.<pack>.<name>`, actions can_read and can_reveal), granted in definitions/core/roles.json."""
from __future__ import annotations

from lowcode.entities.spec import Entity

READ, REVEAL = "can_read", "can_reveal"


def allowed(entity: Entity, action: str = READ) -> bool:
    from lowcode.extensions import appbuilder

    return bool(appbuilder.sm.has_access(action, entity.resource))


def readable_among(entities) -> list[Entity]:
    """Those of `entities` the caller may read, their grants looked at once (the navbar asks on
    every page)."""
    from lowcode.extensions import appbuilder

    entities = list(entities)
    readable = appbuilder.sm.permitted(READ, {entity.resource for entity in entities})
    return [entity for entity in entities if entity.resource in readable]


def sync_permissions(entities: list[Entity]) -> None:
    """Create every entity's permissions and give them to the admin role, as Flask-AppBuilder
    does for the permissions of views (entity resources have no view class of their own)."""
    from lowcode.extensions import appbuilder

    sm = appbuilder.sm
    admin = sm.find_role(sm.auth_role_admin)
    for entity in entities:
        for action in (READ, REVEAL):
            permission = sm.add_permission_view_menu(action, entity.resource)
            if admin is not None and permission not in admin.permissions:
                sm.add_permission_role(admin, permission)
