"""The security version: one row whose number moves, by database triggers (migration 0020), in the
same transaction as any change of roles, permissions, or which roles or groups an officer holds."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column


class SecurityStamp(Model):
    __tablename__ = "security_stamp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
