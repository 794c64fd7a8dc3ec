"""Behaviour that models opt into by inheritance."""
from __future__ import annotations

from sqlalchemy import Index, String, func, null, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def scope_index(table: str, include: tuple[str, ...] = ("id",)) -> Index:
    """The index of the scoping filter `dept_path LIKE 'prefix%'`. On PostgreSQL only a
    pattern-ops index serves a prefix LIKE whatever the database's collation, and the included
    columns let "which ids are in scope" be answered from the index alone."""
    return Index(f"ix_{table}_dept_path", "dept_path", postgresql_ops={"dept_path": "varchar_pattern_ops"},
                 postgresql_include=list(include))


def title_chars_index(table: str) -> Index:
    """PostgreSQL only: a GIN index of the characters of `title`, for "title contains" searches
    (lowcode.title_search). A LIKE '%…%' can use no b-tree, and pg_trgm no trigram of the one- and
    two-character words Chinese is searched with."""
    return Index(f"ix_{table}_title_chars", func.string_to_array(text("title"), null()),
                 postgresql_using="gin").ddl_if(dialect="postgresql")


class ScopedMixin:
    """A record owned by a department: users see only records inside their department's subtree.

    `dept_path` is the owning department's materialised path ("/310000000000/310101000000/");
    the filter is a prefix match on an indexed column, so scoping costs one index range. A model's
    own indexes go in `__indexes__`, beside the scope index.
    """

    __indexes__: tuple = ()
    __scope_include__: tuple[str, ...] = ("id",)
    dept_path: Mapped[str] = mapped_column(String(255), default="/")

    @declared_attr.directive
    def __table_args__(cls):
        # extend_existing as Flask-AppBuilder's Model has it (its user table is extended by Officer).
        return (scope_index(cls.__tablename__, cls.__scope_include__), *cls.__indexes__, {"extend_existing": True})


class AuditedMixin:
    """Every insert, update and delete of this model writes an audit event in the same transaction.

    Columns whose `info` has {"personal": True} are masked in the audit summary.
    """

    __audit_label__ = ""
