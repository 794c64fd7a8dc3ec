"""Bring a database to a usable state: permissions, the organisation and roles from
definitions/core, and the demo users. Every step is idempotent, so `make run` can call it on
every start and a restart keeps the data."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from flask import current_app
from flask_appbuilder.security.manager import BaseSecurityManager
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from lowcode import audit, passwords, publishing
from lowcode.definitions import DefinitionTree
from lowcode.extensions import appbuilder, db
from lowcode.models import DefinitionRelease, Department, Officer
from lowcode.views import MENU


def sync_permissions() -> None:
    """Create the permission of every registered view, and the admin and public roles."""
    BaseSecurityManager.create_db(appbuilder.sm)
    appbuilder.add_permissions(update_perms=True)


def _walk(node: dict, parent_path: str, depth: int, order: int) -> Iterable[tuple[dict, str, int, int]]:
    path = f"{parent_path}{node['code']}/"
    yield node, parent_path, depth, order
    for index, child in enumerate(node.get("children", [])):
        yield from _walk(child, path, depth + 1, index)


def load_organisation(organisation: dict) -> int:
    """Insert or update every department of the tree by its code; returns how many changed."""
    tree = organisation["root"]
    by_code = {d.code: d for d in db.session.scalars(select(Department))}
    by_path = {d.path: d for d in by_code.values()}
    changed = 0
    for node, parent_path, depth, order in _walk(tree, "/", 0, 0):
        department = by_code.get(node["code"]) or Department(code=node["code"])
        values = {
            "name": node["name"],
            "kind": node["kind"],
            "district_code": node["district_code"],
            "district_name": node.get("district_name", ""),
            "slug": node.get("slug"),
            "path": f"{parent_path}{node['code']}/",
            "depth": depth,
            "sort_order": order,
            "parent": by_path.get(parent_path),
        }
        if department.id is None or any(getattr(department, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(department, key, value)
            db.session.add(department)
            changed += 1
        by_code[department.code] = by_path[values["path"]] = department
    db.session.commit()
    return changed


def _grants(entries: list[dict]) -> set[tuple[str, str]]:
    grants = {(e["resource"], action) for e in entries for action in e["actions"]}
    menus = {menu for resource, action in grants if action == "can_read" for menu in MENU.get(resource, ())}
    return grants | {(menu, "menu_access") for menu in menus}


def sync_roles(spec: dict) -> list[str]:
    """Make each role's permissions exactly those of the definition (plus the common ones)."""
    sm = appbuilder.sm
    common = spec.get("common_permissions", [])
    names = []
    for role_spec in spec["roles"]:
        role = sm.add_role(role_spec["name"])
        names.append(role.name)
        if role_spec.get("admin"):
            continue  # Flask-AppBuilder grants the admin role every permission itself
        wanted = {
            sm.add_permission_view_menu(action, resource)
            for resource, action in sorted(_grants(common + role_spec.get("permissions", [])))
        }
        role.permissions = sorted((p for p in wanted if p is not None), key=lambda p: p.id)
        db.session.commit()
    return names


DEMO_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
DEMO_GIVEN = ["伟", "芳", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚"]


def demo_accounts() -> list[dict]:
    """The demo logins: one per city-level role, and 支队/大队/PDA officers in every district."""
    root = db.session.scalar(select(Department).where(Department.depth == 0))
    accounts = [
        {"username": "admin", "role": "系统管理员", "department": root},
        {"username": "yewu", "role": "业务管理员", "department": root},
        {"username": "yanpan", "role": "总队研判员", "department": root},
        {"username": "lingdao", "role": "领导(只读)", "department": root},
    ]
    detachments = db.session.scalars(
        select(Department).where(Department.depth == 1).order_by(Department.code)
    ).all()
    for detachment in detachments:
        brigade = db.session.scalar(
            select(Department).where(Department.parent_id == detachment.id).order_by(Department.code).limit(1)
        )
        accounts += [
            {"username": f"zd_{detachment.slug}", "role": "支队民警", "department": detachment},
            {"username": f"dd_{detachment.slug}", "role": "大队民警", "department": brigade},
            {"username": f"pda_{detachment.slug}", "role": "PDA执法民警", "department": brigade},
        ]
    return accounts


def seed_demo_users(password: str) -> int:
    """Create the demo accounts that are missing; returns how many were created."""
    passwords.check(password)
    existing = set(db.session.scalars(select(Officer.username)))
    hashed = generate_password_hash(password)  # one hash for all: demo accounts share a password
    created = 0
    for number, account in enumerate(demo_accounts()):
        if account["username"] in existing:
            continue
        role = appbuilder.sm.find_role(account["role"])
        officer = Officer(
            username=account["username"],
            last_name=DEMO_SURNAMES[number % len(DEMO_SURNAMES)],
            first_name=DEMO_GIVEN[number % len(DEMO_GIVEN)],
            email=f"{account['username']}@demo.jgzd.sh.cn",
            password=hashed,
            active=True,
            police_no=f"{100000 + number:06d}",
            roles=[role],
        )
        officer.department = account["department"]
        db.session.add(officer)
        created += 1
    if created:
        audit.record("seed", "Officer", None, f"创建演示账号 {created} 个")
    db.session.commit()
    return created


def create_admin(username: str, password: str, last_name: str, first_name: str, email: str) -> Officer:
    """Raises passwords.PasswordRefused when the password breaks the policy."""
    passwords.check(password, username)
    root = db.session.scalar(select(Department).where(Department.depth == 0))
    officer = Officer(username=username, last_name=last_name, first_name=first_name, email=email,
                      password=generate_password_hash(password), active=True,
                      roles=[appbuilder.sm.find_role(current_app.config["AUTH_ROLE_ADMIN"])])
    officer.department = root
    db.session.add(officer)
    db.session.commit()
    return officer


def apply_core(tree: DefinitionTree) -> None:
    """Bring departments and roles in line with the core pack in force."""
    core = tree.packs["core"]
    changed = load_organisation(core.organisation.content)
    roles = sync_roles(core.roles.content)
    audit.record("load_definitions", "Pack", "core", f"加载组织机构（{changed} 个部门有变化）与角色 {len(roles)} 个")
    db.session.commit()


def sync_entities() -> list[str]:
    """The tables, columns and indexes the entities in force need, and their permissions."""
    from lowcode.entities import access, catalogue

    created = catalogue.sync_schema()
    access.sync_permissions(list(catalogue.in_force().values()))
    db.session.commit()
    return created


def apply_published(releases: list[DefinitionRelease]) -> None:
    """What a publish changes beyond the definitions themselves: the core pack's departments and
    roles, and the entities' tables."""
    if any(release.pack_code == "core" for release in releases):
        apply_core(publishing.current_tree())
    if releases:
        sync_entities()


def load_definitions(root: Path, only_unpublished: bool = False) -> list[DefinitionRelease]:
    """Publish the packs under `root` that changed (or were never published), then apply core."""
    releases = publishing.publish_directory(root, only_unpublished=only_unpublished)
    apply_core(publishing.current_tree())
    sync_entities()
    return releases
