"""Inbound warnings, stored verbatim before anything else, and the systems allowed to send them."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder import Model

from lowcode.models.audit import JSONType
from lowcode.models.mixins import AuditedMixin


class ApiClient(AuditedMixin, Model):
    """A calling system (e.g. a district's 研判 system) with its own API key; only a hash is kept."""

    __tablename__ = "api_client"
    __audit_label__ = "接入系统"
    __audit_masked__ = ("key_hash",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    key_prefix: Mapped[str] = mapped_column(String(12), index=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # SM2 request signatures (lowcode.signatures): the caller's public key (hex) and signer id.
    public_key: Mapped[Optional[str]] = mapped_column(String(140))
    signer_id: Mapped[Optional[str]] = mapped_column(String(64))
    require_signature: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def __repr__(self) -> str:
        return self.name


class InboundWarning(Model):
    """One received warning item: its raw JSON as sent, then what became of it."""

    __tablename__ = "inbound_warning"
    __table_args__ = (
        # Idempotence: a (type, source_id) pair is accepted once; repeats are answered as duplicates.
        Index("ux_inbound_warning_accepted", "warning_type", "source_id", unique=True,
              sqlite_where=text("status = 'accepted'"), postgresql_where=text("status = 'accepted'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id"), nullable=False, index=True)
    batch_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    # The item exactly as sent, as one SM4-GCM token bound to (batch_id, position): see intake.raw_text.
    raw: Mapped[str] = mapped_column(Text, nullable=False)
    warning_type: Mapped[Optional[str]] = mapped_column(String(60))
    source_id: Mapped[Optional[str]] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), nullable=False, index=True, default="received")
    errors: Mapped[Optional[dict]] = mapped_column(JSONType)
    clue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("clue.id"), index=True)
    processed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    client = relationship("ApiClient", lazy="joined")

    @property
    def raw_stored(self) -> str:
        """What the detail page shows of the raw item: how it is kept, never its content."""
        return f"SM4-GCM 加密存储（密钥 {self.raw.split('.')[1]}，{len(self.raw)} 字符）"


class RequestNonce(Model):
    """A signed request's nonce, kept for the replay window: the same nonce twice is a replay."""

    __tablename__ = "request_nonce"
    __table_args__ = (UniqueConstraint("client_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id"), nullable=False)
    nonce: Mapped[str] = mapped_column(String(64), nullable=False)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
