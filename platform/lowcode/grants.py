"""What a signed-in officer may do — their role names and (permission, resource) pairs — kept in
the process per security version. The version (models.SecurityStamp) is read with the officer on
every request and moves in the same transaction as any change of roles, permissions or an
officer's roles (database triggers), so a change is in force at the next request and a stale
grant is never used."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select

from lowcode import request_state
from lowcode.extensions import db
from lowcode.models import SecurityStamp

VERSION = "security_version"


@dataclass(frozen=True)
class Grants:
    roles: frozenset[str]
    permissions: frozenset[tuple[str, str]]


_lock = threading.Lock()
_cache: dict = {"version": None, "by_user": {}}


def version_column():
    """The security version as a column of another statement (the officer's load)."""
    return select(SecurityStamp.version).where(SecurityStamp.id == 1).scalar_subquery()


def _version(user_id: int) -> int:
    version = request_state.recall(VERSION, user_id)
    if version is request_state.MISSING:   # outside a request, or an officer not loaded by the session
        version = db.session.scalar(select(SecurityStamp.version).where(SecurityStamp.id == 1))
        request_state.remember(VERSION, user_id, version)
    return version


def of(user, load: Callable[[object], Grants]) -> Grants:
    """The grants of `user` under the current version: from the process's cache, else `load(user)`."""
    version = _version(user.id)
    with _lock:
        if _cache["version"] != version:   # any move, up or (after a restore) down, empties the cache
            _cache.update(version=version, by_user={})
        found = _cache["by_user"].get(user.id)
    if found is None:
        found = load(user)   # read after the version: never older than the version it is kept under
        with _lock:
            if _cache["version"] == version:
                _cache["by_user"][user.id] = found
    return found
