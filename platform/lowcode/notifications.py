"""The notification centre: new work, 督办 and its reply, returns, overdue and near-due reminders,
terminations. One row per recipient officer, written in the same transaction as the change that
caused it; the unread badge is one count on (user_id, read_at), read with the signed-in officer at
the start of each request and counted again when the request itself notifies or reads."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Iterable, Optional

from flask import g
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import bindparam, func, insert, or_, select, update

from lowcode import clock, request_state
from lowcode.extensions import db
from lowcode.models import Notification, Officer, WorkItem

KINDS = {"work": "新待办", "returned": "退回重办", "supervise": "督办", "reply": "督办回复",
         "overdue": "已超期", "reminder": "即将到期", "terminated": "任务终止"}
UNREAD = "unread_notifications"


@dataclass(frozen=True)
class Recipients:
    """Active officers of a department, holding one of `roles` (any role when none is named)."""

    department_id: Optional[int]
    roles: tuple[str, ...]


def recipients(department_id: Optional[int], roles: Iterable[str] = ()) -> Recipients:
    return Recipients(department_id, tuple(r for r in roles if r))


def notify(recipients: Recipients, kind: str, title: str, body: str = "", **refs) -> None:
    """One row per recipient, by one INSERT ... SELECT of their ids in the caller's transaction,
    without reading them first."""
    if recipients.department_id is None:
        return
    values = {"kind": kind, "title": f"{KINDS[kind]}：{title}"[:300], "body": body or "", "created_at": clock.now(),
              **refs}
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(department_id=recipients.department_id, roles=list(recipients.roles))
    db.session.connection().execute(_notify_statement(bool(recipients.roles), tuple(values)), params)
    request_state.forget(UNREAD)   # the signed-in officer may be among the recipients


@cache
def _notify_statement(by_role: bool, columns: tuple[str, ...]):
    # Built once per shape: building it costs more than running it.
    officers = select(Officer.id).where(Officer.department_id == bindparam("department_id"), Officer.active.is_(True))
    if by_role:
        officers = officers.join(Officer.roles).where(Role.name.in_(bindparam("roles", expanding=True))).distinct()
    table = Notification.__table__
    officers = officers.subquery()
    rows = select(officers.c.id, *(bindparam(f"v_{name}", type_=table.c[name].type) for name in columns))
    return insert(table).from_select(["user_id", *columns], rows)


def about_work_item(item: WorkItem, kind: str, body: str = "") -> None:
    """Tell whoever may act on a work item (its department and roles)."""
    notify(recipients(item.department_id, item.roles.split("|")), kind, item.title, body,
           work_item_id=item.id, task_id=item.task_id, dispatch_id=item.dispatch_id)


def unread_column(user_id):
    """How many notifications of `user_id` (a value or a column) are unread, as a scalar subquery."""
    return select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).scalar_subquery()


def unread_count(user) -> int:
    return db.session.scalar(select(unread_column(user.id)))


def badge() -> int:
    """For the navbar of every page: the signed-in user's unread count (0 when signed out), as read
    with the officer unless this request has since notified or marked read."""
    user = g.get("user")
    if user is None or not user.is_authenticated:
        return 0
    count = request_state.recall(UNREAD, user.id)
    if count is request_state.MISSING:
        count = unread_count(user)
        request_state.remember(UNREAD, user.id, count)
    return count


def mine(user, unread_only: bool = False):
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def seen(user, item: WorkItem) -> None:
    """Opening a work item reads what was said about it, and the 督办 of its dispatch."""
    about = Notification.work_item_id == item.id
    if item.dispatch_id is not None:
        about = or_(about, (Notification.dispatch_id == item.dispatch_id) & (Notification.kind == "supervise"))
    _mark(user, about)


def mark_read(user, ids: Optional[list[int]] = None, **where) -> int:
    """Mark the user's notifications read: those of `ids`, or matching `where`, or all."""
    conditions = [getattr(Notification, column) == value for column, value in where.items()]
    if ids is not None:
        conditions.append(Notification.id.in_(ids or [-1]))
    return _mark(user, *conditions)


def _mark(user, *conditions) -> int:
    """One UPDATE; committed only when it changed something, so that a page opened again (all read
    already) keeps its loaded rows instead of reloading every one the commit would expire."""
    count = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None), *conditions)
        .values(read_at=clock.now()).execution_options(synchronize_session=False)).rowcount
    if count:
        db.session.commit()
        request_state.forget(UNREAD)
    return count
