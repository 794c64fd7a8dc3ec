"""Pre-aggregated task and clue statistics: the counts of a day's records per group (and of every
day together), so that a statistics page sums a few hundred rows instead of grouping every task or
clue on each view."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from flask_appbuilder import Model

from lowcode.models.mixins import ScopedMixin


class TaskStatRollup(Model):
    """Tasks created on `day`, counted for one `viewer` (a department whose users see them:
    issued in its subtree or dispatched into it). A row without a receiver counts tasks; a row with
    one counts the tasks that receiver got, through a dispatch the viewer sees."""

    __tablename__ = "task_stat_rollup"
    __table_args__ = (Index("ix_task_stat_rollup_read", "viewer", "receiver_department_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    viewer: Mapped[int] = mapped_column(Integer, nullable=False)   # a department's id
    day: Mapped[Optional[dt.date]] = mapped_column(Date)   # empty: every day together
    issuer_department_id: Mapped[int] = mapped_column(Integer, nullable=False)
    receiver_department_id: Mapped[Optional[int]] = mapped_column(Integer)
    type_code: Mapped[str] = mapped_column(String(60), nullable=False)
    level_code: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    tasks: Mapped[int] = mapped_column(Integer, nullable=False)
    closed: Mapped[int] = mapped_column(Integer, nullable=False)


class ClueStatRollup(ScopedMixin, Model):
    """Clues created on `day` per owning department and group; scoped like the clues themselves."""

    __tablename__ = "clue_stat_rollup"
    # The rows of a period (every day together, or a range of days) within a scope.
    __indexes__ = (Index("ix_clue_stat_rollup_read", "day", "dept_path", postgresql_ops={"dept_path": "varchar_pattern_ops"}),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[Optional[dt.date]] = mapped_column(Date)   # empty: every day together
    department_id: Mapped[int] = mapped_column(Integer, nullable=False)
    warning_type: Mapped[str] = mapped_column(String(60), nullable=False)
    type_code: Mapped[str] = mapped_column(String(60), nullable=False)
    level_code: Mapped[str] = mapped_column(String(20), nullable=False)
    source: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    clues: Mapped[int] = mapped_column(Integer, nullable=False)
