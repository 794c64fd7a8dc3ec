"""The outbox: messages written in the transaction of the change they report, delivered later.

Delivery claims each due row with one conditional UPDATE (only the caller whose update matched
sends it), sends outside any transaction, then records the outcome: sent; or pending again after
an exponential back-off; or dead after the last allowed attempt, for a person to re-send. A row
left `sending` by a process that died is claimable again after a lease. Every attempt carries the
row's idempotency key, so a receiver that keeps keys never takes a message twice.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from functools import cache

from flask import current_app
from sqlalchemy import or_, select, update

from connectors import feedback_push
from lowcode import audit, bulk, clock, signatures
from lowcode.extensions import db
from lowcode.models import OutboxMessage

STATE_LABELS = {"pending": "待发送", "sending": "发送中", "sent": "已送达", "dead": "发送失败（死信）"}
TARGET_LABELS = {"nmv_traffic": "非机动车道路交通管理信息系统"}
LEASE = dt.timedelta(minutes=5)


def enqueue(*, kind: str, target: str, key: str, payload: dict, dispatch_id: int | None = None) -> int:
    """Add a message to the caller's transaction, returning its id; the same key twice is the same
    message. One statement: the insert that a row of the key already there turns into nothing."""
    now = clock.now()
    values = dict(kind=kind, target=target, idempotency_key=key, payload=payload, state="pending", attempts=0,
                  next_attempt_at=now, created_at=now, dispatch_id=dispatch_id)
    inserted = db.session.connection().execute(_enqueue_statement(db.engine.dialect.name), values).scalar()
    if inserted is not None:
        return inserted
    return db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))


@cache
def _enqueue_statement(dialect: str):
    table = OutboxMessage.__table__
    return (bulk.conflict_insert(dialect, table).on_conflict_do_nothing(index_elements=[table.c.idempotency_key])
            .returning(table.c.id))


def _signed(body: bytes, path: str) -> dict[str, str]:
    return signatures.sign_request(body, method="POST", path=path)


def _senders() -> dict[str, Callable[[dict], int]]:
    """Target name → one delivery attempt, SM2-signed with the platform's key."""
    config = current_app.config
    return {
        "nmv_traffic": lambda payload: feedback_push.deliver(
            config["FEEDBACK_PUSH_URL"], payload, timeout=config["OUTBOX_TIMEOUT_SECONDS"], signer=_signed),
    }


def _claim(message_id: int, now: dt.datetime) -> str | None:
    token = uuid.uuid4().hex
    result = db.session.execute(
        update(OutboxMessage).where(
            OutboxMessage.id == message_id,
            or_((OutboxMessage.state == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.state == "sending") & (OutboxMessage.claimed_at < now - LEASE)))
        .values(state="sending", claimed_at=now, claim_token=token, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if result.rowcount == 1 else None


def _finish(message_id: int, token: str, **values) -> None:
    """Record an attempt's outcome, unless the claim was lost meanwhile (lease expired)."""
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
                       .values(claim_token=None, **values).execution_options(synchronize_session=False))
    db.session.commit()


def deliver_due(now: dt.datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Try every due message once; returns how many were sent, retried later, and given up."""
    now = now or clock.now()
    config = current_app.config
    due = db.session.scalars(select(OutboxMessage.id).where(or_(
        (OutboxMessage.state == "pending") & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.state == "sending") & (OutboxMessage.claimed_at < now - LEASE)))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)).all()
    db.session.rollback()  # end the read transaction: claims and sends happen one row at a time
    senders, counts = _senders(), {"sent": 0, "retry": 0, "dead": 0}
    for message_id in due:
        token = _claim(message_id, now)
        if token is None:
            continue
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        target, payload, attempts = message.target, message.payload, message.attempts
        db.session.commit()  # no transaction stays open while the request is under way
        try:
            senders[target](payload)
        except (feedback_push.DeliveryFailed, KeyError) as failure:
            error = str(failure) if isinstance(failure, feedback_push.DeliveryFailed) else f"未知的推送目标 {target}"
            if attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
                _finish(message_id, token, state="dead", last_error=error)
                counts["dead"] += 1
            else:
                wait = feedback_push.backoff_seconds(attempts, config["OUTBOX_BACKOFF_SECONDS"],
                                                     config["OUTBOX_BACKOFF_CAP_SECONDS"])
                _finish(message_id, token, state="pending", last_error=error,
                        next_attempt_at=now + dt.timedelta(seconds=wait))
                counts["retry"] += 1
            continue
        _finish(message_id, token, state="sent", sent_at=clock.now(), last_error=None)
        counts["sent"] += 1
    return counts


def resend(message_ids: Iterable[int]) -> int:
    """Give dead (or waiting) messages a fresh set of attempts, due now; audited."""
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(list(message_ids)),
                                                              OutboxMessage.state.in_(("dead", "pending")))).all()
    for message in messages:
        message.state, message.attempts, message.next_attempt_at = "pending", 0, clock.now()
        audit.record("resend", "OutboxMessage", message.id, f"重新发送推送消息 {message.idempotency_key}")
    db.session.commit()
    return len(messages)
