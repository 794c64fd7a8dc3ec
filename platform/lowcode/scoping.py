"""Data scoping: one mechanism that confines every ORM query of scoped records.

A request made by a signed-in user carries the path of the user's department; every SELECT,
UPDATE and DELETE that touches a `ScopedMixin` model gets `dept_path LIKE '<path>%'` added by
SQLAlchemy itself (`with_loader_criteria`), so no view, API or service can forget it. A user of
the 总队 therefore sees everything, a 支队 user its district, a 大队 user its own unit. Outside a
request (CLI, Celery jobs, start-up) no scope is set and queries are unrestricted.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from flask import g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from lowcode.models.mixins import ScopedMixin

# A path no department has: what a signed-in user without a department may see.
NOTHING = "/-/"


def current_prefix() -> Optional[str]:
    return g.get("data_scope") if has_app_context() else None


def set_scope(prefix: Optional[str]) -> None:
    g.data_scope = prefix


def prefix_for(user) -> Optional[str]:
    """The scope of a user: their department's subtree."""
    department = getattr(user, "department", None)
    return department.path if department is not None else NOTHING


@contextmanager
def scoped_as(prefix: Optional[str]) -> Iterator[None]:
    """Run a block under a given scope (jobs acting for a department, tests)."""
    previous = current_prefix()
    set_scope(prefix)
    try:
        yield
    finally:
        set_scope(previous)


def _apply_scope(state: ORMExecuteState) -> None:
    prefix = current_prefix()
    if prefix is None or state.execution_options.get("unscoped"):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            ScopedMixin, lambda cls: cls.dept_path.startswith(prefix), include_aliases=True
        )
    )


def install() -> None:
    """Attach the scope to every Session; idempotent."""
    if not event.contains(Session, "do_orm_execute", _apply_scope):
        event.listen(Session, "do_orm_execute", _apply_scope)


def owners_in_scope() -> Optional[tuple[set[str], set[str]]]:
    """For records that name their owner by code rather than carry a `dept_path` (entities):
    (department codes, district codes) of the departments inside the current scope, by the same
    prefix rule; None when nothing is restricted (no scope, or the scope is the whole tree)."""
    prefix = current_prefix()
    if prefix is None:
        return None
    if not has_request_context():   # a job or command may change departments between its reads
        return _owners_under(prefix)
    known = g.get("scope_owners")   # a detail page asks once for the record and once per related list
    if known is None or known[0] != prefix:
        known = g.scope_owners = (prefix, _owners_under(prefix))
    return known[1]


def _owners_under(prefix: str) -> Optional[tuple[set[str], set[str]]]:
    from sqlalchemy import select

    from lowcode.extensions import db
    from lowcode.models import Department

    rows = db.session.execute(select(Department.code, Department.district_code, Department.depth)
                              .where(Department.path.startswith(prefix))).all()
    if any(depth == 0 for _, _, depth in rows):
        return None
    return {code for code, _, _ in rows}, {district for _, district, _ in rows}


def visible(model, identity):
    """The record if the current scope lets it be seen. Always a query: `Session.get` may answer
    from the identity map without SQL, and so without the scope's criteria."""
    from sqlalchemy import select

    from lowcode.extensions import db

    return db.session.scalar(select(model).where(model.id == identity))

