"""通知: one row per recipient officer, so the unread badge is one indexed count."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder import Model


class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    work_item_id: Mapped[Optional[int]] = mapped_column(ForeignKey("work_item.id"))
    task_id: Mapped[Optional[int]] = mapped_column(Integer)
    dispatch_id: Mapped[Optional[int]] = mapped_column(Integer)
    supervision_id: Mapped[Optional[int]] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    read_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    # Set before the work item has an id (it is created in the same unit of work).
    work_item = relationship("WorkItem")
