"""Pre-aggregated dashboard figures: what a panel counted, per district, day and group, so that a
screen sums a few hundred rows instead of scanning millions of records on every view."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from flask_appbuilder import Model


class DashboardRollup(Model):
    """One aggregate of one panel: `panel` is "<pack>/<dashboard>/<panel>", `spec` the SHA-256 of
    the panel's definition it was counted under (an edited panel never reads old figures), `bucket`
    the period's first day (time panels) or the snapshot's day, and x/y the map cell."""

    __tablename__ = "dashboard_rollup"
    __table_args__ = (Index("ix_dashboard_rollup_read", "panel", "spec", "bucket", "district_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    panel: Mapped[str] = mapped_column(String(160), nullable=False)
    spec: Mapped[str] = mapped_column(String(64), nullable=False)
    bucket: Mapped[dt.date] = mapped_column(Date, nullable=False)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    group_key: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    x: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    y: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    value: Mapped[float] = mapped_column(Float, nullable=False)


class DashboardRefresh(Model):
    """When each panel was last counted, under which spec, and how long it took: what decides the
    next refresh and what a screen shows as 数据更新于."""

    __tablename__ = "dashboard_refresh"

    panel: Mapped[str] = mapped_column(String(160), primary_key=True)
    spec: Mapped[str] = mapped_column(String(64), nullable=False)
    refreshed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    stale: Mapped[bool] = mapped_column(default=False, nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0)
