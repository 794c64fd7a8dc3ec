"""dashboards: a spec's grouped query and figure, on a table of its own (the library knows none)."""
import datetime as dt

import pytest
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, create_engine, insert, select
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


PANEL_EVENTS = Table("panel_events", METADATA, Column("id", Integer, primary_key=True), Column("kind", String(10)),
                     Column("district", String(6)), Column("at", DateTime), Column("lng", Float), Column("lat", Float),
                     Column("deaths", Integer))


@pytest.fixture()
def panel_session():
    engine = create_engine("sqlite://")
    METADATA.create_all(engine)
    with Session(engine) as session:
        rows = [("a", "310104", dt.datetime(2026, 3, 31, 9), 121.431, 31.181, 1),
                ("a", "310104", dt.datetime(2026, 3, 30, 9), 121.439, 31.189, 0),
                ("b", "310115", dt.datetime(2026, 3, 31, 9), 121.551, 31.221, 2),
                ("b", "310115", dt.datetime(2026, 1, 2, 9), None, None, 3)]
        session.execute(insert(PANEL_EVENTS), [dict(zip(("kind", "district", "at", "lng", "lat", "deaths"), r))
                                               for r in rows])
        yield session


TODAY = dt.date(2026, 3, 31)


def test_a_panel_aggregates_per_district_bucket_group_and_cell(panel_session):
    from dashboards import panels

    spec = {"code": "P", "title": "近 7 日", "chart": "bar", "entity": "e", "group_by": "kind",
            "time": {"field": "at", "period": "day", "last": 7}}
    rows = sorted(tuple(r) for r in panel_session.execute(panels.aggregate(spec, PANEL_EVENTS, "district", "sqlite", TODAY)))
    assert rows == [("310104", "2026-03-30", "a", 0, 0, 1), ("310104", "2026-03-31", "a", 0, 0, 1),
                    ("310115", "2026-03-31", "b", 0, 0, 1)]
    deaths = {"code": "D", "title": "亡人", "chart": "table", "entity": "e", "group_by": "kind",
              "measure": {"function": "sum", "field": "deaths"}, "filters": [{"field": "deaths", "op": "gt", "value": 0}]}
    rows = sorted(tuple(r) for r in panel_session.execute(panels.aggregate(deaths, PANEL_EVENTS, "district", "sqlite", TODAY)))
    assert rows == [("310104", "2026-03-31", "a", 0, 0, 1), ("310115", "2026-03-31", "b", 0, 0, 5)]
    cells = {"code": "M", "title": "分布", "chart": "map", "entity": "e", "map": {"lng": "lng", "lat": "lat", "cell": 0.01}}
    rows = sorted(tuple(r) for r in panel_session.execute(panels.aggregate(cells, PANEL_EVENTS, "district", "sqlite", TODAY)))
    assert rows == [("310104", "2026-03-31", "", 12143, 3118, 2), ("310115", "2026-03-31", "", 12155, 3122, 1)]


def test_windows_cover_the_last_days_or_months_including_today():
    from dashboards import panels

    assert panels.window_start({"time": {"period": "day", "last": 7}}, TODAY) == dt.date(2026, 3, 25)
    assert panels.window_start({"time": {"period": "month", "last": 12}}, TODAY) == dt.date(2025, 4, 1)
    assert panels.window_start({}, TODAY) is None


def test_panel_figures_name_groups_and_rank_the_top_ones():
    from dashboards import panels

    bar = {"code": "B", "title": "排名", "chart": "bar", "entity": "e", "group_by": "kind", "top": 2}
    figure = panels.figure(bar, [("a", 1), ("b", 5), ("c", 3), ("b", 1)], {"b": "乙"}, "数量", dark=True)
    assert list(figure["data"][0]["y"]) == ["乙", "c"] and list(figure["data"][0]["x"]) == [6, 3]
    line = {"code": "L", "title": "趋势", "chart": "line", "entity": "e", "group_by": "kind",
            "time": {"field": "at", "period": "day", "last": 2}}
    figure = panels.figure(line, [("2026-03-30", "a", 1), ("2026-03-31", "b", 2)], {"a": "甲"}, "数量", dark=False)
    assert [(t["name"], list(t["y"])) for t in figure["data"]] == [("甲", [1, 0]), ("b", [0, 2])]
    spot = {"code": "M", "title": "分布", "chart": "map", "entity": "e", "map": {"lng": "lng", "lat": "lat", "cell": 0.01}}
    figure = panels.figure(spot, [(12143, 3118, "", 2)], {}, "数量", dark=False)
    assert list(figure["data"][0]["x"]) == [pytest.approx(121.435)] and list(figure["data"][0]["y"]) == [pytest.approx(31.185)]
