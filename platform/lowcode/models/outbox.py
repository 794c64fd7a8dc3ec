"""The outbox: messages for other systems, written in the transaction of the change they report
and delivered afterwards by a poller, so a push is never lost with a failed request nor made for a
change that was rolled back."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from flask_appbuilder import Model

from lowcode.models.audit import JSONType


class OutboxMessage(Model):
    """One message to one target. `idempotency_key` is unique and travels with every attempt, so
    the receiver can drop repeats; `state` is pending → sending → sent, or dead after the last try."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    target: Mapped[str] = mapped_column(String(60), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    payload: Mapped[dict] = mapped_column(JSONType, nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False, index=True, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    claimed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    claim_token: Mapped[Optional[str]] = mapped_column(String(32))
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    dispatch_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return self.idempotency_key
