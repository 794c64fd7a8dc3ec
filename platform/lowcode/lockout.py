"""Account lockout after repeated failed logins.

The count and the lock live in the user's row (ab_user.fail_login_count, locked_until) and are
changed by single UPDATE statements, so several web processes counting failures at once neither
lose one nor lock twice. LOGIN_LOCKOUT_ATTEMPTS failures in a row lock the account for
LOGIN_LOCKOUT_MINUTES; a successful login resets the count; an administrator can unlock early.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask import current_app
from sqlalchemy import and_, case, func, or_, update

from lowcode import audit, clock
from lowcode.extensions import db
from lowcode.models import Officer

USERS = Officer.__table__


def locked_until(user: Officer) -> Optional[dt.datetime]:
    """When the user's lock ends, if it is in force now."""
    until = user.locked_until
    return until if until is not None and until > clock.now() else None


def message(until: dt.datetime) -> str:
    attempts = current_app.config["LOGIN_LOCKOUT_ATTEMPTS"]
    return (f"账号因连续 {attempts} 次登录失败已被锁定，请于 {until:%H:%M} 后再试，"
            "或联系系统管理员解锁。")


def register_failure(user: Officer) -> Optional[dt.datetime]:
    """Count one failed login (a lock that has run out starts a new count); lock the account when
    the count reaches the limit. Returns the end of the lock if this failure set it."""
    now = clock.now()
    expired = and_(USERS.c.locked_until.is_not(None), USERS.c.locked_until <= now)
    count = db.session.execute(
        update(USERS).where(USERS.c.id == user.id)
        .values(fail_login_count=case((expired, 1), else_=func.coalesce(USERS.c.fail_login_count, 0) + 1),
                locked_until=case((expired, None), else_=USERS.c.locked_until))
        .returning(USERS.c.fail_login_count)
    ).scalar_one()
    until = None
    if count >= current_app.config["LOGIN_LOCKOUT_ATTEMPTS"]:
        until = now + dt.timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        locked = db.session.execute(
            update(USERS).where(USERS.c.id == user.id,
                                or_(USERS.c.locked_until.is_(None), USERS.c.locked_until <= now))
            .values(locked_until=until).returning(USERS.c.id)
        ).first()
        if locked is None:  # another process locked it a moment ago
            until = None
        else:
            audit.record("account_locked", "Officer", user.id,
                         f"{user.username} 连续 {count} 次登录失败，锁定至 {until:%Y-%m-%d %H:%M}")
    db.session.commit()
    return until


def unlock(user: Officer) -> bool:
    """Lift the user's lock and reset the failure count (an administrator's action; audited)."""
    if user.locked_until is None and not user.fail_login_count:
        return False
    user.locked_until = None
    user.fail_login_count = 0
    audit.record("account_unlocked", "Officer", user.id, f"解除 {user.username} 的登录锁定")
    return True
