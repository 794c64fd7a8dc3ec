"""The closed loop's business records: clues, tasks, dispatches (one task to one department),
and supervision (督办) messages. Engine state only carries their ids."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder import Model

from lowcode.models.audit import JSONType
from lowcode.models.mixins import AuditedMixin, ScopedMixin, title_chars_index


class Clue(ScopedMixin, AuditedMixin, Model):
    """A clue, owned (and scoped) by the department that judges it."""

    __tablename__ = "clue"
    __audit_label__ = "线索"
    # The warning's content, never changed: kept verbatim with the inbound warning and in the clue.
    # The trail records the clue's making and changes, not another copy of its (personal) content.
    __audit_ignore__ = ("subject", "payload")
    __indexes__ = (title_chars_index("clue"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_code: Mapped[str] = mapped_column(String(40), nullable=False)
    warning_type: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    level_code: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    type_code: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    district_code: Mapped[str] = mapped_column(String(6), nullable=False, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    subject: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    subject_key: Mapped[Optional[str]] = mapped_column(String(100), index=True)
    payload: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True, default="待审核")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)

    department = relationship("Department", lazy="joined")

    def __repr__(self) -> str:
        return self.title


class Task(ScopedMixin, AuditedMixin, Model):
    """A task, scoped by its issuing department; receivers reach it through their dispatch."""

    __tablename__ = "task"
    __audit_label__ = "任务"
    __indexes__ = (title_chars_index("task"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_code: Mapped[str] = mapped_column(String(40), nullable=False)
    clue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("clue.id"), index=True)
    warning_type: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    level_code: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    type_code: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    issuer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    sign_hours: Mapped[int] = mapped_column(Integer, nullable=False)
    feedback_hours: Mapped[int] = mapped_column(Integer, nullable=False)
    reminder_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True, default="待审批")
    terminated_reason: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    clue = relationship("Clue", lazy="select")
    issuer = relationship("Department", lazy="joined")

    def __repr__(self) -> str:
        return self.title


class TaskVisibility(Model):
    """Where a task is seen: a row for every department path at or above its issuer and each
    department it was dispatched or forwarded into, so a scope sees the tasks whose rows carry the
    scope's own path. A list walks its scope's rows newest first and stops at its page, where
    gathering a district's every issued and received id from two tables cost 50 ms a search."""

    __tablename__ = "task_visibility"
    __table_args__ = (Index("ix_task_visibility_walk", "path", "created_at", "task_id"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)   # the task's


class Dispatch(ScopedMixin, AuditedMixin, Model):
    """One task sent to one department; forwarding creates child dispatches. Scoped by receiver."""

    __tablename__ = "dispatch"
    __audit_label__ = "下发"
    # A receiver sees a task through its dispatches: the scope index answers with their task ids.
    __scope_include__ = ("id", "task_id")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), nullable=False, index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("dispatch.id"), index=True)
    issuer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    receiver_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False, index=True)
    requirements: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True, default="待签收")
    sign_due_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    feedback_due_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, index=True)
    signed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)

    task = relationship("Task", lazy="joined")
    issuer = relationship("Department", foreign_keys=[issuer_department_id], lazy="joined")
    receiver = relationship("Department", foreign_keys=[receiver_department_id], lazy="joined")

    def __repr__(self) -> str:
        return f"{self.task.title if self.task else self.task_id} → {self.receiver.name if self.receiver else ''}"


class Supervision(AuditedMixin, Model):
    """督办: a message from the issuer to a receiver with a reply deadline; read and reply recorded."""

    __tablename__ = "supervision"
    __audit_label__ = "督办"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id"), nullable=False, index=True)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    reply_due_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    read_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    reply: Mapped[Optional[str]] = mapped_column(Text)
    replied_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    replied_by: Mapped[Optional[str]] = mapped_column(String(128))

    def __repr__(self) -> str:
        return self.message[:20]
