"""任务统计 and 线索统计 read from their daily rollups: equal to counting the records themselves for
every dimension, filter and scope (a 大队 sees only what reaches its unit), recounted by the poller
when due, and the pages and API say when they were counted."""
import datetime as dt
import itertools
import uuid

import pytest
from sqlalchemy import select, update

from lowcode import clock, clue_stats, clues, scoping, statistics_rollups, task_queries, task_statistics
from lowcode.extensions import db
from lowcode.flow import actions
from lowcode.models import Clue, DashboardRefresh, Department, Task
from tests.task_helpers import department, dispatched_task, do, user
from tests.test_task_pages import Fresh, signed_in

XUHUI, XUHUI_BRIGADE, PUDONG, CITY = "310104000000", "310104010000", "310115000000", "310000000000"
# Days no other test uses, at the edges of a day.
DAYS = [dt.datetime(2025, 5, 1, 9), dt.datetime(2025, 5, 2, 23, 59), dt.datetime(2025, 5, 9, 0, 0)]


@pytest.fixture(scope="module")
def world(app):
    """Tasks dispatched to one or two districts, one forwarded to a 大队, one terminated, and clues
    of two warning types in two districts, on known days; then counted."""
    marker = f"RU{uuid.uuid4().hex[:6]}"
    with app.test_request_context():
        forwarded = dispatched_task(f"{marker} 转发", [XUHUI])
        do("zd_xuhui", {"handling": "转发下级"}, task_id=forwarded.id)
        do("zd_xuhui", {"receivers": [{"department_code": XUHUI_BRIGADE}], "requirements": "请核查"},
           task_id=forwarded.id)
        both = dispatched_task(f"{marker} 两区", [XUHUI, PUDONG], warning_type="STATION_FATAL_ACCIDENT")
        ended = dispatched_task(f"{marker} 终止", [PUDONG])
        actions.terminate(ended.id, "重复线索", user("yanpan"))
        for task, at in zip((forwarded, both, ended), DAYS):
            db.session.execute(update(Task).where(Task.id == task.id).values(created_at=at)
                               .execution_options(unscoped=True))
        for (warning_type, code), at in zip(itertools.product(("STATION_PLATE_COVERAGE_LOW", "STATION_FATAL_ACCIDENT"),
                                                              (XUHUI, PUDONG)), DAYS * 2):
            clue = actions.new_clue(warning_type=warning_type, title=f"{marker} 线索", department=department(code),
                                    source="各区支队研判", payload={})
            clue.created_at = at
        db.session.commit()
        statistics_rollups.refresh()
        yield {"forwarded": forwarded.id, "both": both.id, "ended": ended.id}


def scopes() -> dict:
    paths = dict(db.session.execute(select(Department.code, Department.path)).all())
    return {"总队": paths[CITY], "徐汇支队": paths[XUHUI], "徐汇大队": paths[XUHUI_BRIGADE], "浦东支队": paths[PUDONG],
            "无部门": scoping.NOTHING}


def task_filters(app) -> list[task_queries.TaskFilters]:
    with app.test_request_context():
        issuer = department(CITY).id
    return [task_queries.TaskFilters(), task_queries.TaskFilters(level_code="L2"),
            task_queries.TaskFilters(type_code="PENALTY/STATION_MANAGER", status="已下发"),
            task_queries.TaskFilters(created_from=DAYS[1].date(), created_to=DAYS[2].date()),
            task_queries.TaskFilters(issuer_id=issuer, created_to=DAYS[0].date())]


def test_task_statistics_from_the_rollup_equal_counting_the_tasks(app, world):
    with app.test_request_context():
        for (name, prefix), f in itertools.product(scopes().items(), task_filters(app)):
            with scoping.scoped_as(prefix):
                for dimension in task_statistics.DIMENSIONS:
                    ahead = task_statistics.statistics(dimension, f)
                    assert ahead.refreshed_at is not None, (name, dimension)
                    assert ahead.rows == task_statistics.statistics(dimension, f, now=True).rows, (name, dimension, f)


def test_a_brigade_counts_only_the_tasks_that_reach_its_unit(app, world):
    with app.test_request_context():
        totals = {}
        for name, prefix in scopes().items():
            with scoping.scoped_as(prefix):
                rows = task_statistics.statistics("stage", task_queries.TaskFilters(created_from=DAYS[0].date(),
                                                                                    created_to=DAYS[2].date())).rows
                receivers = task_statistics.statistics("receiver", task_queries.TaskFilters()).rows
            totals[name] = sum(r["total"] for r in rows)
            labels = {r["label"] for r in receivers}
            if name == "徐汇大队":
                assert labels and all("徐汇" in label for label in labels)
            if name == "浦东支队":
                assert labels and not any("徐汇" in label for label in labels)
    # Of the three tasks of those days: the 大队 got one, 徐汇 two, 浦东 two, the city all three.
    assert (totals["徐汇大队"], totals["徐汇支队"], totals["浦东支队"], totals["无部门"]) == (1, 2, 2, 0)
    assert totals["总队"] >= 3


def test_clue_statistics_from_the_rollup_equal_counting_the_clues(app, world):
    with app.test_request_context():
        district = clues.Filters(department=XUHUI)
        ranged = clues.Filters(created_from=DAYS[1].date().isoformat(), created_to=DAYS[2].date().isoformat(),
                               category="ACCIDENT")
        warning = clues.Filters(warning_type="STATION_FATAL_ACCIDENT", level="URGENT", source="各区支队研判")
        for prefix, f in itertools.product([None, *scopes().values()], [clues.Filters(), district, ranged, warning]):
            with scoping.scoped_as(prefix):
                for by, period in [(by, "day") for by in clue_stats.DIMENSIONS] + [("time", "week"), ("time", "month")]:
                    ahead = clue_stats.statistics(f, by, period)
                    assert ahead.refreshed_at is not None
                    now = clue_stats.statistics(f, by, period, now=True)
                    assert (ahead.groups, ahead.total) == (now.groups, now.total), (prefix, f, by, period)
        with scoping.scoped_as(scopes()["徐汇支队"]):
            days = clue_stats.statistics(clues.Filters(created_from=DAYS[0].date().isoformat(),
                                                       created_to=DAYS[2].date().isoformat()), "time")
        assert [(key, n) for key, _, n in days.groups] == [("2025-05-01", 1), ("2025-05-09", 1)]


def test_new_records_are_counted_when_the_poller_finds_the_rollup_due(app, world):
    def that_day() -> task_statistics.Result:
        with scoping.scoped_as(scopes()["浦东支队"]):
            return task_statistics.statistics("stage", task_queries.TaskFilters(created_from=DAYS[2].date(),
                                                                                created_to=DAYS[2].date()))

    with app.test_request_context():
        before = that_day()
        extra = dispatched_task("统计刷新测试", [PUDONG])
        db.session.execute(update(Task).where(Task.id == extra.id).values(created_at=DAYS[2])
                           .execution_options(unscoped=True))
        db.session.commit()
        assert statistics_rollups.refresh_due() == {}, "counted a moment ago: not due"
        assert that_day() == before
        with clock.shifted(clock.now() + dt.timedelta(minutes=statistics_rollups.REFRESH_MINUTES)):
            assert set(statistics_rollups.refresh_due()) == {statistics_rollups.STATE_KEY}
        after = that_day()
    assert before.rows == [{"key": "已终止", "label": "已终止", "total": 1, "closed": 1}]
    assert {r["key"]: (r["total"], r["closed"]) for r in after.rows} == {"等待各接收部门办结": (1, 0), "已终止": (1, 1)}
    assert after.refreshed_at > before.refreshed_at


def test_rows_of_another_shape_are_never_read(app, world):
    with app.test_request_context():
        state = db.session.get(DashboardRefresh, statistics_rollups.STATE_KEY)
        state.spec = "an older shape"
        db.session.commit()
        assert task_statistics.statistics("stage", task_queries.TaskFilters()).refreshed_at is None
        assert clue_stats.statistics(clues.Filters(), "type").refreshed_at is None
        assert set(statistics_rollups.refresh_due()) == {statistics_rollups.STATE_KEY}
        assert statistics_rollups.refreshed_at() is not None


def test_pages_and_api_say_when_counted_and_stay_scoped(app, world, api_tokens):
    with app.test_request_context():
        statistics_rollups.refresh()
        brigade_clues = len(db.session.scalars(select(Clue.id).where(Clue.dept_path.startswith(scopes()["徐汇大队"]))
                                               .execution_options(unscoped=True)).all())
    brigade = Fresh(app, {"Authorization": f"Bearer {api_tokens('dd_xuhui')}"})
    answer = brigade.get("/api/v1/tasks/stats?by=receiver").get_json()
    assert answer["refreshed_at"] and answer["result"]
    assert all("徐汇" in row["label"] for row in answer["result"])
    assert brigade.get("/api/v1/clues/statistics?by=department").get_json()["total"] == brigade_clues
    pudong = Fresh(app, {"Authorization": f"Bearer {api_tokens('zd_pudong')}"})
    day = DAYS[2].date().isoformat()
    stages = pudong.get(f"/api/v1/tasks/stats?by=stage&created_from={day}&created_to={day}").get_json()
    assert {row["key"]: (row["total"], row["closed"]) for row in stages["result"]}["已终止"] == (1, 1)
    page = signed_in(app, "zd_xuhui").get("/clues/statistics?by=level").get_data(as_text=True)
    assert "数据更新于" in page and "data-figure=" in page
    live = signed_in(app, "zd_xuhui").get("/clues/statistics?by=level&title=线索").get_data(as_text=True)
    assert "实时统计" in live
