"""Blind indexes of personal values inside JSON documents (e.g. a clue's 身份证号), for exact search."""
from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from flask_appbuilder import Model


class PersonalIndex(Model):
    """One personal value of one document: where it is, and its HMAC-SM3 blind index."""

    __tablename__ = "personal_index"
    __table_args__ = (Index("ix_personal_index_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40), nullable=False)
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)
    field: Mapped[str] = mapped_column(String(200), nullable=False)  # the data path in the document
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # id_number, mobile
    value_index: Mapped[str] = mapped_column(String(48), nullable=False, index=True)
