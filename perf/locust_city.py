"""The seed's operation classes against city-scale data: wall screens, desk officers, analysts,
officers with the PDA, and peer systems sending warnings in small and large batches. Run by
`perf/run_load.py city` in its own environment (.venv-perf); neither the application nor the
tests import it.

Request names carry their class before the colon (大屏, 地图, 中屏常规, 简单查询, 复杂统计, PDA,
小批量, 大批量): the runner checks each class against the seed's limit and our target. Think
times are those of the people (and systems) simulated: a wall screen is looked at, a desk officer
reads what they opened, a peer system sends its batch on a schedule.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid
from pathlib import Path

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

# As a module, not names: locust runs every user class it finds among this file's names.
import locustfile as closed_loop

SETUP = json.loads(Path(os.environ["LOAD_SETUP"]).read_text(encoding="utf-8"))
LEADERS = itertools.cycle([f"zd_{d}" for d in closed_loop.DISTRICTS] + ["yanpan"])
DESKS = itertools.cycle([f"{post}_{d}" for d in closed_loop.DISTRICTS for post in ("zd", "dd")])
ANALYSTS = itertools.cycle(["yanpan"] + [f"zd_{d}" for d in closed_loop.DISTRICTS])
ENTITY_LINK = re.compile(r'href="/entities/nmv/(\w+)/([^"/?#]+)"')


class WallScreen(closed_loop.SignedIn):
    """The 首页 large screen in a command centre: reloaded, its map looked into."""

    weight = 1
    wait_time = between(20, 40)
    accounts = LEADERS

    @task(2)
    def page(self) -> None:
        self.client.get("/dashboards/nmv/HOME", name="大屏:首页")

    @task(2)
    def figures(self) -> None:
        self.client.get("/api/v1/dashboards/nmv/HOME", name="大屏:首页数据")

    @task(1)
    def station_map(self) -> None:
        self.client.get("/api/v1/dashboards/nmv/HOME/STATION_MAP", name="地图:站点分布")


class DeskOfficer(closed_loop.SignedIn):
    """A 支队 or 大队 officer at a desk: inbox, details, and the simple queries of reference data."""

    weight = 6
    wait_time = between(5, 15)
    accounts = DESKS

    def on_start(self) -> None:
        super().on_start()
        self.records: list[tuple[str, str]] = []

    def _remember(self, page: str) -> None:
        self.records = ENTITY_LINK.findall(page) or self.records

    @task(3)
    def inbox(self) -> None:
        self.client.get("/inbox/", name="中屏常规:待办")

    @task(2)
    def task_detail(self) -> None:
        if self.task_ids:
            self.client.get(f"/tasks/{random.choice(self.task_ids)}", name="中屏常规:任务详情")

    @task(2)
    def record_detail(self) -> None:
        if self.records:
            name, key = random.choice(self.records)
            self.client.get(f"/entities/nmv/{name}/{key}", name="中屏常规:基础信息详情")

    @task(2)
    def task_search(self) -> None:
        page = self.client.get("/tasks/", params={"title": random.choice(closed_loop.WORDS)}, name="简单查询:任务").text
        self.task_ids = re.findall(r'href="/tasks/(\d+)"', page) or self.task_ids

    @task(1)
    def clue_search(self) -> None:
        self.client.get("/clues/", params={"title": random.choice(closed_loop.WORDS)}, name="简单查询:线索")

    @task(2)
    def riders(self) -> None:
        params = {"kind": random.choice(("express", "takeaway")), "page": random.randint(1, 5)}
        self._remember(self.client.get("/entities/nmv/rider/", params=params, name="简单查询:骑手").text)

    @task(1)
    def stations(self) -> None:
        params = {"star": random.randint(1, 5)}
        self._remember(self.client.get("/entities/nmv/station/", params=params, name="简单查询:站点").text)

    @task(1)
    def vehicles(self) -> None:
        params = {"plate_no": random.choice(("沪", "沪A", "沪B", "沪C"))}
        self._remember(self.client.get("/entities/nmv/vehicle/", params=params, name="简单查询:车辆").text)

    @task(1)
    def violations(self) -> None:
        params = {"payment": "unpaid", "mode": random.choice(("onsite", "offsite"))}
        self._remember(self.client.get("/entities/nmv/violation/", params=params, name="简单查询:违法").text)


class Analyst(closed_loop.SignedIn):
    """The city's analyst or a 支队 leader: risk analysis and the statistics pages."""

    weight = 1
    wait_time = between(10, 30)
    accounts = ANALYSTS

    @task(2)
    def risk(self) -> None:
        self.client.get("/dashboards/nmv/RISK", name="复杂统计:风险分析")

    @task(1)
    def task_statistics(self) -> None:
        self.client.get("/tasks/stats", name="复杂统计:任务统计")

    @task(1)
    def clue_statistics(self) -> None:
        self.client.get("/clues/statistics", params={"by": random.choice(("type", "level", "department", "time"))},
                        name="复杂统计:线索统计")


class StreetOfficer(closed_loop.PdaOfficer):
    """A 大队 officer in the street with the handheld (the closed loop's PDA requests)."""

    weight = 3
    wait_time = between(10, 30)


def _warnings(count: int) -> bytes:
    batch = uuid.uuid4().hex[:12]
    items = [{"type": SETUP["type"], "source_id": f"LOAD-{batch}-{i:05d}", "occurred_at": "2026-11-20T09:30:00+08:00",
              "district_code": random.choice(SETUP["districts"]), "subject": {"id": f"LOAD-{batch}-{i % 50}"},
              "payload": SETUP["payload"]} for i in range(count)]
    return json.dumps({"items": items}, ensure_ascii=False).encode()


class PeerSystem(FastHttpUser):
    """A district's 研判 system posting warnings: a few such systems, each on its schedule. Every
    warning becomes a clue whose process the Celery worker starts: the city's whole daily volume
    is some thousands, so two systems sending 100 every one or two minutes and one sending 2,000
    every few minutes already exceed it many times over."""

    abstract = True
    size = 0
    headers = {"X-API-Key": SETUP["api_key"], "Content-Type": "application/json"}

    def send(self, name: str) -> None:
        with self.client.post("/api/v1/warnings/", data=_warnings(self.size), headers=self.headers, name=name,
                              catch_response=True) as response:
            result = response.json() if response.status_code == 200 else {}
            if result.get("accepted") != self.size:
                response.failure(f"HTTP {response.status_code}：{str(result)[:200]}")


class SmallBatches(PeerSystem):
    fixed_count = 2
    size = 100
    wait_time = between(60, 120)

    @task
    def post(self) -> None:
        self.send("小批量:预警 100 条")


class LargeBatches(PeerSystem):
    fixed_count = 1
    size = 2000
    wait_time = between(150, 180)

    @task
    def post(self) -> None:
        self.send("大批量:预警 2000 条")
