"""dashboards: a spec's grouped query and figure, on a table of its own (the library knows none)."""
import datetime as dt

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session

import dashboards

METADATA = MetaData()
EVENTS = Table("events", METADATA, Column("id", Integer, primary_key=True), Column("kind", String(10)),
               Column("at", DateTime))


@pytest.fixture()
def session():
    engine = create_engine("sqlite://")
    METADATA.create_all(engine)
    with Session(engine) as session:
        days = [dt.datetime(2026, 3, d, 12) for d in (1, 2, 8, 9, 31)]  # Sun, Mon, Sun, Mon, Tue
        session.execute(insert(EVENTS), [{"kind": "a" if i % 2 else "b", "at": at} for i, at in enumerate(days)])
        yield session


@pytest.mark.parametrize("period, expected", [
    ("day", [("2026-03-01", 1), ("2026-03-02", 1), ("2026-03-08", 1), ("2026-03-09", 1), ("2026-03-31", 1)]),
    ("week", [("2026-02-23", 1), ("2026-03-02", 2), ("2026-03-09", 1), ("2026-03-30", 1)]),   # weeks start on Monday
    ("month", [("2026-03-01", 5)]),
])
def test_time_buckets_group_in_sql(session, period, expected):
    bucket = dashboards.time_bucket(EVENTS.c.at, period, "sqlite")
    dimension = dashboards.Dimension("time", "时间", bucket, str)
    assert [(k, n) for k, _, n in dashboards.aggregate(session, select(EVENTS), dimension, EVENTS.c.id)] == expected


def test_groups_are_named_and_filtered_rows_only_are_counted(session):
    dimension = dashboards.Dimension("kind", "类别", EVENTS.c.kind, {"a": "甲"})
    rows = select(EVENTS).where(EVENTS.c.at >= dt.datetime(2026, 3, 2))
    assert dashboards.aggregate(session, rows, dimension, EVENTS.c.id) == [("a", "甲", 2), ("b", "b", 2)]


def test_figures_per_chart_kind(session):
    dimension = dashboards.Dimension("kind", "类别", EVENTS.c.kind, {"a": "甲", "b": "乙"})
    groups = dashboards.aggregate(session, select(EVENTS), dimension, EVENTS.c.id)
    across = dashboards.figure(dashboards.Spec("按类别", horizontal=True), dimension, groups)
    assert across["data"][0]["orientation"] == "h" and list(across["data"][0]["y"]) == ["甲", "乙"]
    assert across["layout"]["yaxis"]["title"]["text"] == "类别"
    pie = dashboards.figure(dashboards.Spec("按类别", chart="pie"), dimension, groups)
    assert pie["data"][0]["type"] == "pie" and list(pie["data"][0]["values"]) == [2, 3]
    line = dashboards.figure(dashboards.Spec("按类别", chart="line"), dimension, groups)
    assert line["data"][0]["mode"] == "lines+markers"


def test_unknown_periods_and_dialects_are_refused():
    with pytest.raises(ValueError):
        dashboards.time_bucket(EVENTS.c.at, "year", "sqlite")
    with pytest.raises(ValueError):
        dashboards.time_bucket(EVENTS.c.at, "day", "oracle")
