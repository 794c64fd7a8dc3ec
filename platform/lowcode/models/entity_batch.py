"""Batches received by the entity sync API, kept verbatim before anything is checked."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from flask_appbuilder import Model


class EntityBatch(Model):
    """One POST /api/v1/entities/<pack>/<name>: the body as one SM4-GCM token, then its outcome.

    Warnings are stored per item (inbound_warning) because each becomes a clue and may be replayed
    alone; reference records are upserted as a batch, so the batch is the unit kept."""

    __tablename__ = "entity_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id"), nullable=False, index=True)
    pack: Mapped[str] = mapped_column(String(40), nullable=False)
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    raw: Mapped[str] = mapped_column(Text, nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    accepted: Mapped[Optional[int]] = mapped_column(Integer)
    rejected: Mapped[Optional[int]] = mapped_column(Integer)
    processed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
