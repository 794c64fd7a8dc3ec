"""Behaviour that models opt into by inheritance."""
from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


class ScopedMixin:
    """A record owned by a department: users see only records inside their department's subtree.

    `dept_path` is the owning department's materialised path ("/310000000000/310101000000/");
    the filter is a prefix match on an indexed column, so scoping costs one index range.
    """

    dept_path: Mapped[str] = mapped_column(String(255), index=True, default="/")


class AuditedMixin:
    """Every insert, update and delete of this model writes an audit event in the same transaction.

    Columns whose `info` has {"personal": True} are masked in the audit summary.
    """

    __audit_label__ = ""
