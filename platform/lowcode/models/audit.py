from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from flask_appbuilder import Model

from lowcode.models.mixins import ScopedMixin

JSONType = JSON().with_variant(JSONB(), "postgresql")


class AuditEvent(ScopedMixin, Model):
    """Who did what, when, to which object. `dept_path` is the actor's department."""

    __tablename__ = "audit_event"
    __indexes__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True, nullable=False)
    actor_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    actor_name: Mapped[str] = mapped_column(String(128), nullable=False, default="系统")
    action: Mapped[str] = mapped_column(String(40), index=True, nullable=False)
    object_type: Mapped[str] = mapped_column(String(60), nullable=False)
    object_id: Mapped[Optional[str]] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    before: Mapped[Optional[dict]] = mapped_column(JSONType)
    after: Mapped[Optional[dict]] = mapped_column(JSONType)
    request_id: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    client_addr: Mapped[Optional[str]] = mapped_column(String(64))
    # The HMAC-SM3 chain (lowcode.audit_chain): position and "<key id>.<mac hex>".
    seq: Mapped[Optional[int]] = mapped_column(Integer, unique=True)
    mac: Mapped[Optional[str]] = mapped_column(String(80))


class AuditChainHead(Model):
    """The single row holding the chain's last position and mac; appends lock it, so concurrent
    writers queue on it instead of forking the chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    mac: Mapped[Optional[str]] = mapped_column(String(80))


class AuditCheckpoint(Model):
    """An SM2 signature over (position, mac) of the chain: pins the head against truncation."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    mac: Mapped[str] = mapped_column(String(80), nullable=False)
    signature: Mapped[str] = mapped_column(Text, nullable=False)
    signer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    public_key: Mapped[str] = mapped_column(String(140), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
