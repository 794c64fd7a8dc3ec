from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder import Model

release_file = Table(
    "definition_release_file",
    Model.metadata,
    Column("release_id", ForeignKey("definition_release.id", ondelete="CASCADE"), primary_key=True),
    Column("file_id", ForeignKey("definition_file.id"), primary_key=True),
)


class DefinitionFile(Model):
    """One version of one file of a pack, stored once: a release points at the versions it holds."""

    __tablename__ = "definition_file"
    __table_args__ = (
        UniqueConstraint("pack_code", "path", "version"),
        Index("ix_definition_file_lookup", "pack_code", "path", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_code: Mapped[str] = mapped_column(String(40), nullable=False)
    path: Mapped[str] = mapped_column(String(255), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="系统")

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class DefinitionRelease(Model):
    """A published state of a pack: numbered, hashed, attributed. The highest number is current."""

    __tablename__ = "definition_release"
    __table_args__ = (UniqueConstraint("pack_code", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    based_on_id: Mapped[Optional[int]] = mapped_column(ForeignKey("definition_release.id"))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    published_by: Mapped[str] = mapped_column(String(128), nullable=False, default="系统")
    # {path: SM3 hex} of the files, SM2-signed by the platform at publication (lowcode.pack_signing).
    manifest: Mapped[Optional[str]] = mapped_column(Text)
    signature: Mapped[Optional[str]] = mapped_column(Text)
    signer_id: Mapped[Optional[str]] = mapped_column(String(64))

    files: Mapped[list[DefinitionFile]] = relationship(secondary=release_file, order_by=DefinitionFile.path)
