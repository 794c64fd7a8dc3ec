"""The audit trail: one function, `record`, through which every audit event is written.

State changes of `AuditedMixin` models are recorded automatically by a flush hook, in the same
transaction as the change itself (no change without its record, no record without its change).
Reads of personal data and domain actions call `record` directly.

A session's rows are held until its commit and chained there in one append: the chain head is
locked once per transaction, for the moment of the commit only, however many flushes and events
the transaction had. A rollback drops them, a rolled-back savepoint those held since it began.
"""
from __future__ import annotations

import datetime as dt
import uuid
from functools import cache
from decimal import Decimal
from typing import Any, Mapping, Optional

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, attributes, scoped_session

from lowcode import audit_chain, clock
from lowcode.models.mixins import AuditedMixin

ACTION_LABELS = {
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "read_personal": "查看个人信息",
    "reveal_personal": "查看完整个人信息",
    "load_definitions": "加载定义",
    "seed": "初始化数据",
    "publish": "发布定义",
}
MASK = "******"
SYSTEM_ACTOR = {"id": None, "name": "系统", "dept_path": "/"}


def set_actor(user) -> None:
    """Remember who acts in this context; read once so flushes never lazy-load the user."""
    department = getattr(user, "department", None)
    g.audit_actor = {
        "id": user.id,
        "name": getattr(user, "display_name", None) or user.username,
        "dept_path": department.path if department is not None else "/",
    }


def _actor() -> dict:
    return g.get("audit_actor", SYSTEM_ACTOR) if has_app_context() else SYSTEM_ACTOR


def actor_name() -> str:
    return _actor()["name"]


def request_id() -> Optional[str]:
    if not has_request_context():
        return None
    if "request_id" not in g:
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
    return g.request_id


def _client_addr() -> Optional[str]:
    return request.remote_addr if has_request_context() else None


def record(
    action: str,
    object_type: str,
    object_id: Any = None,
    summary: str = "",
    before: Optional[dict] = None,
    after: Optional[dict] = None,
    *,
    session: Optional[Session] = None,
    connection=None,
) -> None:
    """Write one audit event in the current transaction: of `connection` at once, else of
    `session`, where it is chained when that transaction commits."""
    row = _row(action, object_type, object_id, summary, before, after)
    if connection is not None:
        audit_chain.append(connection, [row])
        return
    _hold_pending(_default_session(session), [row])


_HELD = "audit_rows_held"
_COMMITTING = "audit_committing"
_SAVEPOINTS = "audit_savepoints"


def _hold_pending(session: Session, rows: list[dict]) -> None:
    session = session() if isinstance(session, scoped_session) else session
    if not session.in_transaction():
        session.begin()  # so that the end of this transaction, however it ends, drops the rows
    _hold(session, rows)


def _hold(session: Session, rows: list[dict]) -> None:
    if session.info.get(_COMMITTING):  # a flush after the commit's append: chained at once
        audit_chain.append(session.connection(), rows)
    else:
        session.info.setdefault(_HELD, []).extend(rows)


def _row(action, object_type, object_id, summary, before, after) -> dict:
    actor = _actor()
    return {
        "at": clock.now(),
        "actor_id": actor["id"],
        "actor_name": actor["name"],
        "dept_path": actor["dept_path"],
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "summary": summary or ACTION_LABELS.get(action, action),
        "before": before,
        "after": after,
        "request_id": request_id(),
        "client_addr": _client_addr(),
    }


def _default_session(session: Optional[Session]) -> Session:
    if session is not None:
        return session
    from lowcode.extensions import db

    return db.session


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        return value
    return str(value)


@cache
def _masked_keys_of(cls) -> frozenset[str]:
    # Per class, once: a bulk insert snapshots thousands of rows of the same model.
    mapper = inspect(cls)
    return frozenset({c.key for c in mapper.column_attrs if c.columns[0].info.get("personal")}
                     | set(getattr(cls, "__audit_masked__", ())))


def _hidden(cls, row_id, key: str, value: Any) -> Any:
    """A masked column's value as the trail shows it: personal data as its mask, the rest as ******."""
    if value is None:
        return None
    if hasattr(cls, "__personal__"):
        from lowcode import personal

        shown = personal.masked_token(cls, key, row_id, value)
        if shown is not None:
            return shown
    return MASK


def _values_snapshot(cls, values: Mapping[str, Any], row_id) -> dict:
    """The columns of a row of `cls` by column name, masked columns hidden and ignored ones left
    out (as changes leave them out); `values` by attribute."""
    masked = _masked_keys_of(cls)
    ignored = set(getattr(cls, "__audit_ignore__", ()))
    return {attr.columns[0].name: _hidden(cls, row_id, attr.key, values.get(attr.key)) if attr.key in masked
            else _plain(values.get(attr.key)) for attr in inspect(cls).column_attrs if attr.key not in ignored}


def _snapshot(obj) -> dict:
    values = {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}
    return _values_snapshot(type(obj), values, getattr(obj, "id", None))


def _changes(obj) -> tuple[dict, dict]:
    """What the unit of work is about to write of `obj`: (before, after) by column name."""
    def pending():
        for attr in inspect(obj).mapper.column_attrs:
            history = attributes.get_history(obj, attr.key)
            if history.has_changes() and history.added:
                yield attr.key, history.deleted[0] if history.deleted else None, history.added[0]

    return _difference(obj, pending())


def _difference(obj, changes) -> tuple[dict, dict]:
    """(before, after) by column name of `changes`, (attribute, old, new) in column order; masked
    columns hidden, ignored ones and unchanged values left out."""
    cls = type(obj)
    masked = _masked_keys_of(cls)
    ignored = set(getattr(obj, "__audit_ignore__", ()))
    columns = inspect(cls).column_attrs
    before, after = {}, {}
    for key, old, new in changes:
        if key in ignored or old == new:
            continue
        name = columns[key].columns[0].name  # the column's name: an encrypted column's attribute is its token
        hide = key in masked
        before[name] = _hidden(cls, getattr(obj, "id", None), key, old) if hide else _plain(old)
        after[name] = _hidden(cls, getattr(obj, "id", None), key, new) if hide else _plain(new)
    return before, after


def _update_row(obj, before: dict, after: dict) -> dict:
    return _row("update", type(obj).__name__, _pk(obj), f"修改{_label(obj)}：{'、'.join(after)}", before, after)


def record_update(obj, values: Mapping[str, Any]) -> None:
    """The event the flush hook writes for a change of `obj` to `values` (by attribute), for a
    change written past the unit of work: the same summary and values, masked alike."""
    columns = inspect(type(obj)).column_attrs
    before, after = _difference(obj, ((attr.key, getattr(obj, attr.key), values[attr.key])
                                      for attr in columns if attr.key in values))
    if after:
        _hold_pending(_default_session(None), [_update_row(obj, before, after)])


def _named(cls, text) -> str:
    """How the trail names a record: its kind's label and what it prints as."""
    return f"{cls.__audit_label__ or cls.__name__}「{text}」"


def _label(obj) -> str:
    return _named(type(obj), obj)


def _after_flush(session: Session, _context) -> None:
    rows = []
    for obj in session.new:
        if isinstance(obj, AuditedMixin):
            rows.append(_row("create", type(obj).__name__, _pk(obj), f"新增{_label(obj)}", None, _snapshot(obj)))
    for obj in session.dirty:
        if isinstance(obj, AuditedMixin) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                rows.append(_update_row(obj, before, after))
    for obj in session.deleted:
        if isinstance(obj, AuditedMixin):
            rows.append(_row("delete", type(obj).__name__, _pk(obj), f"删除{_label(obj)}", _snapshot(obj), None))
    if rows:
        _hold(session, rows)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint's rows stay held with the transaction's
        return
    session.flush()  # the last changes' rows join the held ones (a no-op when nothing is pending)
    held = session.info.pop(_HELD, None)
    if held:
        audit_chain.append(session.connection(), held)
    session.info[_COMMITTING] = True


def _after_transaction_create(session: Session, transaction) -> None:
    if transaction.nested:
        session.info.setdefault(_SAVEPOINTS, {})[transaction] = len(session.info.get(_HELD, ()))


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    mark = session.info.get(_SAVEPOINTS, {}).get(previous_transaction)
    if mark is not None:
        del session.info.get(_HELD, [])[mark:]


def _after_transaction_end(session: Session, transaction) -> None:
    # A savepoint's mark outlives it: SQLAlchemy reports its rollback after its end.
    if transaction.parent is None:
        for key in (_HELD, _COMMITTING, _SAVEPOINTS):
            session.info.pop(key, None)


def _pk(obj) -> str:
    return ",".join(str(v) for v in inspect(obj).mapper.primary_key_from_instance(obj))


def install() -> None:
    """Attach the hooks to every Session; idempotent."""
    for name, hook in (("after_flush", _after_flush), ("before_commit", _before_commit),
                       ("after_transaction_create", _after_transaction_create),
                       ("after_soft_rollback", _after_soft_rollback),
                       ("after_transaction_end", _after_transaction_end)):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


def record_inserted(model, rows: list[dict], labels: list[str]) -> None:
    """The "create" events of rows of an audited model inserted in bulk (past the flush hook), in
    one append: the events the hook writes for added objects. `rows` hold every column by attribute
    (the id included); `labels` are what the objects would print as."""
    events = [_row("create", model.__name__, row["id"], f"新增{_named(model, label)}", None,
                   _values_snapshot(model, row, row["id"]))
              for row, label in zip(rows, labels)]
    if events:
        audit_chain.append(_default_session(None).connection(), events)
