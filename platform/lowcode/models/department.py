from __future__ import annotations

from typing import Optional

from sqlalchemy import ForeignKey, Integer, String, Boolean
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder import Model

from lowcode.models.mixins import AuditedMixin


class Department(AuditedMixin, Model):
    """A unit of the organisation tree (总队 → 支队 → 大队/派出所), loaded from definitions.

    The tree is reference data every signed-in user may read (to see who issued a task, to pick
    where to forward one); `path` is what scoped records copy into their `dept_path`.
    """

    __tablename__ = "department"
    __audit_label__ = "部门"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    district_code: Mapped[str] = mapped_column(String(6), index=True, nullable=False)
    district_name: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    slug: Mapped[Optional[str]] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"), index=True)
    depth: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    parent: Mapped[Optional["Department"]] = relationship(remote_side=[id], lazy="joined", innerjoin=False)

    def __repr__(self) -> str:
        return self.name
