"""Process instances, their work items and their timers: what the engine adapter persists.

Engine state is stored apart from the spec (the BPMN file version it started with, pinned by id);
everything a task list filters on lives in indexed work-item columns, never in engine state.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder import Model

from lowcode.models.audit import JSONType
from lowcode.models.mixins import ScopedMixin


class ProcessInstance(Model):
    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_process_instance_business", "business_kind", "business_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_code: Mapped[str] = mapped_column(String(40), nullable=False)
    process_id: Mapped[str] = mapped_column(String(80), nullable=False)
    release_id: Mapped[int] = mapped_column(ForeignKey("definition_release.id"), nullable=False)
    bpmn_file_id: Mapped[int] = mapped_column(ForeignKey("definition_file.id"), nullable=False)
    business_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    business_id: Mapped[int] = mapped_column(Integer, nullable=False)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("process_instance.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True, default="running")
    # Plain JSON, not JSONB: SpiffWorkflow's state depends on key order, which JSONB does not keep.
    state: Mapped[dict] = mapped_column(JSON, nullable=False)
    incident: Mapped[Optional[dict]] = mapped_column(JSONType)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)

    # A concurrent writer that loaded the same version loses with StaleDataError, never interleaves.
    __mapper_args__ = {"version_id_col": lock_version}


class WorkItem(ScopedMixin, Model):
    """A human task: who (department + roles), what (form), by when, for which business record."""

    __tablename__ = "work_item"
    __indexes__ = (
        Index("ix_work_item_inbox", "department_id", "state", "due_at"),
        # The form keys of a department's open items, read by skipping through it (lowcode.distinct).
        Index("ix_work_item_inbox_form", "department_id", "state", "form_key"),
        Index("ix_work_item_instance_task", "instance_id", "engine_task_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), nullable=False)
    engine_task_id: Mapped[str] = mapped_column(String(40), nullable=False)
    task_name: Mapped[str] = mapped_column(String(80), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    form_key: Mapped[Optional[str]] = mapped_column(String(200), index=True)
    display_form_key: Mapped[Optional[str]] = mapped_column(String(200))
    lane: Mapped[Optional[str]] = mapped_column(String(80))
    department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"))
    roles: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    assignee_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    business_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    clue_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    task_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    dispatch_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    warning_type: Mapped[Optional[str]] = mapped_column(String(60), index=True)
    level_code: Mapped[Optional[str]] = mapped_column(String(20), index=True)
    type_code: Mapped[Optional[str]] = mapped_column(String(60), index=True)
    state: Mapped[str] = mapped_column(String(20), nullable=False, index=True, default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    due_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, index=True)
    overdue: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, index=True)
    completed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    completed_by_id: Mapped[Optional[int]] = mapped_column(Integer)
    completed_by_name: Mapped[Optional[str]] = mapped_column(String(128))
    outcome: Mapped[Optional[str]] = mapped_column(String(40))
    comment: Mapped[Optional[str]] = mapped_column(Text)
    data: Mapped[Optional[dict]] = mapped_column(JSONType)

    department = relationship("Department", lazy="joined")


class TimerRow(Model):
    """A due time the poller must act on; `fired_at` makes firing idempotent."""

    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_due", "fired_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    instance_id: Mapped[Optional[int]] = mapped_column(ForeignKey("process_instance.id"), index=True)
    work_item_id: Mapped[Optional[int]] = mapped_column(ForeignKey("work_item.id"), index=True)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    fired_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    cancelled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    work_item = relationship("WorkItem")
