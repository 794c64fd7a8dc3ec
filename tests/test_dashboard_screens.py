"""统计大屏 (lowcode.dashboard_rollups, dashboard_screens): panels counted ahead per district agree
with a direct count of the records, follow the viewer's scope, compare with yesterday's snapshot,
are counted again when stale, and are served as pages and API to those allowed."""
import datetime as dt
import uuid

import pytest
from sqlalchemy import delete, func, insert, select

from lowcode import clock, dashboard_rollups, dashboard_screens, scoping
from lowcode.entities import catalogue
from lowcode.extensions import db
from lowcode.models import DashboardRefresh, Department
from tests.conftest import web_login
from tests.test_entities import api_key, push  # noqa: F401  (api_key: a calling system's key, a fixture)

XUHUI, PUDONG = "310104", "310115"


def _table(name):
    return catalogue.table(catalogue.find("nmv", name))


def _panel(screen, code):
    return next(p for p in screen.panels if p.code == code)


@pytest.fixture
def records(app):
    """A few enterprises, stations and violations of two districts; removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    now = clock.now().replace(microsecond=0)
    stamps = {"created_at": now, "updated_at": now}
    enterprises = [{"code": f"E{tag}{i}", "name": f"测试企业{i}", "kind": kind, "district_code": district,
                    "risk_level": "high", **stamps}
                   for i, (kind, district) in enumerate([("express", XUHUI), ("express", XUHUI), ("takeaway", PUDONG)])]
    suppliers = [{"code": f"G{tag}", "name": "测试供应商", "enterprise": enterprises[0]["code"], "star": 4,
                  "district_code": XUHUI, **stamps}]
    stations = [{"code": f"S{tag}{i}", "name": f"测试站点{i}", "enterprise": enterprises[0]["code"],
                 "supplier": suppliers[0]["code"], "star": 5, "lng": 121.43 + i / 100, "lat": 31.18, "district_code": XUHUI, **stamps}
                for i in range(3)]
    violations = [{"code": f"V{tag}{i}", "occurred_at": now - dt.timedelta(days=days), "mode": mode,
                   "payment": "unpaid", "enterprise": enterprises[0]["code"], "district_code": district, **stamps}
                  for i, (days, mode, district) in enumerate([(0, "onsite", XUHUI), (1, "offsite", XUHUI),
                                                              (2, "onsite", PUDONG), (40, "onsite", XUHUI)])]
    with app.app_context():
        made = {"enterprise": enterprises, "supplier": suppliers, "station": stations, "violation": violations}
        for name, rows in made.items():
            table = _table(name)
            db.session.execute(insert(table), rows)
        db.session.commit()
        yield made
        for name, rows in reversed(made.items()):
            table = _table(name)
            db.session.execute(delete(table).where(table.c[catalogue.find("nmv", name).key].in_([r["code"] for r in rows])))
        db.session.commit()


def _count(name, *conditions):
    table = _table(name)
    return db.session.scalar(select(func.count()).select_from(table).where(*(c(table) for c in conditions)))


def test_the_counted_figures_equal_a_direct_count_for_the_city_and_for_a_district(app, records):
    with app.app_context():
        done = dashboard_rollups.refresh_due(force=True)
        assert "nmv/HOME/ENTERPRISES" in done and "nmv/RISK/VIOLATIONS_BY_ENTERPRISE" in done
        city = dashboard_screens.screen("nmv", "HOME")
        enterprises = _panel(city, "ENTERPRISES")
        assert enterprises.counted and enterprises.total == _count("enterprise")
        assert dict((n, v) for n, v, _ in enterprises.groups)["快递"] == _count("enterprise", lambda t: t.c.kind == "express")
        week = _panel(city, "VIOLATIONS_DAILY")
        since = clock.now().date() - dt.timedelta(days=6)
        assert week.total == _count("violation", lambda t: t.c.occurred_at >= since)
        assert {trace["name"] for trace in week.figure["data"]} <= {"现场", "非现场"}
        xuhui = db.session.scalar(select(Department).where(Department.district_code == XUHUI, Department.depth == 1))
        with scoping.scoped_as(xuhui.path):
            district = dashboard_screens.screen("nmv", "HOME")
        assert _panel(district, "ENTERPRISES").total == _count("enterprise", lambda t: t.c.district_code == XUHUI)
        assert _panel(district, "VIOLATIONS_DAILY").total == _count(
            "violation", lambda t: t.c.district_code == XUHUI, lambda t: t.c.occurred_at >= since)
        points = _panel(district, "STATION_MAP").figure["data"]
        assert sum(len(trace["x"]) for trace in points) >= 1
        assert all(121 < x < 122 for trace in points for x in trace["x"])


def test_a_snapshot_panel_compares_with_the_day_before(app, records):
    with app.app_context():
        with clock.shifted(clock.now() - dt.timedelta(days=1)):
            dashboard_rollups.refresh_due(force=True)
        table = _table("enterprise")
        db.session.execute(delete(table).where(table.c.code == records["enterprise"][2]["code"]))
        db.session.commit()
        dashboard_rollups.refresh_due(force=True)
        panel = _panel(dashboard_screens.screen("nmv", "HOME"), "ENTERPRISES")
        assert panel.total == panel.previous - 1 == _count("enterprise")


def test_stale_and_changed_panels_are_counted_again_and_others_wait(app, records):
    with app.app_context():
        dashboard_rollups.refresh_due(force=True)
        assert dashboard_rollups.refresh_due() == {}   # nothing is due right after a count
        dashboard_rollups.mark_stale("nmv", "station")
        db.session.commit()
        assert set(dashboard_rollups.refresh_due()) == {"nmv/HOME/STATION_MAP", "nmv/RISK/STATION_STARS"}
        state = db.session.get(DashboardRefresh, "nmv/HOME/ENTERPRISES")
        state.spec = "an older definition"
        db.session.commit()
        assert not _panel(dashboard_screens.screen("nmv", "HOME"), "ENTERPRISES").counted
        assert set(dashboard_rollups.refresh_due()) == {"nmv/HOME/ENTERPRISES"}
        assert _panel(dashboard_screens.screen("nmv", "HOME"), "ENTERPRISES").counted


def test_a_screen_is_assembled_once_per_refresh_and_district_set(app, records):
    with app.app_context():
        dashboard_rollups.refresh_due(force=True)
        paths = dict(db.session.execute(select(Department.district_code, Department.path)
                                        .where(Department.depth == 1)).all())
        with scoping.scoped_as(paths[XUHUI]):
            xuhui = dashboard_screens.screen("nmv", "HOME")
            assert dashboard_screens.screen("nmv", "HOME") is xuhui   # read, not assembled again
        with scoping.scoped_as(paths[PUDONG]):
            pudong = dashboard_screens.screen("nmv", "HOME")
        assert _panel(pudong, "ENTERPRISES").total == _count("enterprise", lambda t: t.c.district_code == PUDONG)
        assert _panel(xuhui, "ENTERPRISES").total == _count("enterprise", lambda t: t.c.district_code == XUHUI)
        table = _table("enterprise")
        db.session.execute(delete(table).where(table.c.code == records["enterprise"][0]["code"]))
        db.session.commit()
        dashboard_rollups.mark_stale("nmv", "enterprise")
        db.session.commit()
        dashboard_rollups.refresh_due()
        with scoping.scoped_as(paths[XUHUI]):
            again = dashboard_screens.screen("nmv", "HOME")
        assert _panel(again, "ENTERPRISES").total == _panel(xuhui, "ENTERPRISES").total - 1


def test_the_pages_and_api_serve_the_screens_to_signed_in_officers(app, client, api, records):
    with app.app_context():
        dashboard_rollups.refresh_due(force=True)
    assert client.get("/dashboards/nmv/HOME").status_code == 302     # anonymous: to the login page
    assert client.get("/api/v1/dashboards/nmv/HOME").status_code == 401
    web_login(client, "zd_xuhui")
    page = client.get("/dashboards/nmv/HOME").get_data(as_text=True)
    assert "非机动车管理首页" in page and "数据更新于" in page and 'class="lc-chart"' in page
    assert "非机动车管理首页" in client.get("/dashboards/").get_data(as_text=True)
    assert client.get("/dashboards/nmv/NOPE").status_code == 404
    body = api("zd_xuhui").get("/api/v1/dashboards/nmv/HOME").get_json()
    figures = {p["code"]: p for p in body["panels"]}
    with app.app_context():
        assert figures["ENTERPRISES"]["total"] == _count("enterprise", lambda t: t.c.district_code == XUHUI)
    one = api("zd_xuhui").get("/api/v1/dashboards/nmv/HOME/STATION_MAP").get_json()["result"]
    assert one["chart"] == "map" and one["figure"]["data"]
    assert api("zd_xuhui").get("/api/v1/dashboards/nmv/HOME/NOPE").status_code == 404


def test_the_large_screen_draws_every_counted_chart_in_chromium(app, api, browser, live_server, records):
    from tests.browser import DESKTOP
    from tests.test_browser_login import sign_in
    from tests.test_security_browser import watched

    with app.app_context():
        dashboard_rollups.refresh_due(force=True)
    page = browser.new_page(**DESKTOP)
    problems = watched(page)
    sign_in(page, live_server, "zd_xuhui")
    page.goto(f"{live_server}/dashboards/nmv/HOME")
    page.wait_for_load_state("networkidle")
    panels = api("zd_xuhui").get("/api/v1/dashboards/nmv/HOME").get_json()["panels"]
    drawn = [p for p in panels if p["chart"] not in ("number", "table") and p["total"]]
    assert len(drawn) >= 3 and page.locator(".lc-chart").count() == len(drawn)
    assert page.locator(".lc-chart .main-svg").count() >= len(drawn)   # plotly drew each of them
    assert page.locator(".lc-screen-large").count() == 1
    assert page.locator("#panel-ENTERPRISES strong").inner_text() == f"{int(panels[0]['total']):,}"
    assert problems == []
    page.close()


def test_a_sync_of_records_makes_the_panels_counting_them_due(app, client, api_key, records):
    with app.app_context():
        dashboard_rollups.refresh_due(force=True)
        assert dashboard_rollups.refresh_due() == {}
    changed = dict(records["station"][0], star=1)
    answer = push(client, api_key, "station", [{k: v for k, v in changed.items() if k not in ("created_at", "updated_at")}])
    assert answer.get_json()["accepted"] == 1
    with app.app_context():
        assert set(dashboard_rollups.refresh_due()) == {"nmv/HOME/STATION_MAP", "nmv/RISK/STATION_STARS"}
