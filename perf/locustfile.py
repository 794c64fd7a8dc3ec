"""Officers working the closed loop: inbox, clue and task searches and details, statistics and
the PDA list, each signed in as a demo officer of a district (or the city's analyst), with think
time. Run by `perf/run_load.py closed-loop` in its own environment (.venv-perf); neither the
application nor the tests import it.

Request names carry their class before the colon (列表, 搜索, 详情, 统计, PDA): the runner checks
each class against its target.
"""
from __future__ import annotations

import itertools
import os
import random
import re

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

DISTRICTS = ("huangpu", "xuhui", "changning", "jingan", "putuo", "hongkou", "yangpu", "minhang", "baoshan", "jiading",
             "pudong", "jinshan", "songjiang", "qingpu", "fengxian", "chongming")
WEB_ACCOUNTS = itertools.cycle([f"{post}_{d}" for d in DISTRICTS for post in ("zd", "dd")] + ["yanpan"])
PDA_ACCOUNTS = itertools.cycle([f"pda_{d}" for d in DISTRICTS])
PASSWORD = os.environ.get("DEMO_PASSWORD", "Demo@2026")
WORDS = ("站", "骑手", "企业", "头盔", "号牌", "事故", "副本1")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@events.init.add_listener
def _count_the_steady_state(environment, **_) -> None:
    """The statistics restart LOAD_WARM_UP_S seconds after the last user started: every user signs
    in as they arrive (each sign-in hashes a password), and the queue that arrival leaves behind
    is drained before the steady state is counted."""
    warm_up = float(os.environ.get("LOAD_WARM_UP_S", "0"))
    environment.events.spawning_complete.add_listener(
        lambda **_: gevent.spawn_later(warm_up, environment.stats.reset_all))


class SignedIn(FastHttpUser):
    # The load generator shares the machine with the server: FastHttpUser costs it far less CPU per request.
    abstract = True
    wait_time = between(2, 6)
    accounts = WEB_ACCOUNTS

    def on_start(self) -> None:
        self.username = next(self.accounts)
        page = self.client.get("/login/", name="登录页").text
        token = next(a or b for a, b in _CSRF.findall(page))
        with self.client.post("/login/", data={"username": self.username, "password": PASSWORD, "csrf_token": token},
                              name="登录", allow_redirects=False, catch_response=True) as response:
            if response.status_code != 302:   # not signed in: the pages would only redirect to the login
                response.failure(f"登录失败：HTTP {response.status_code}")
                raise StopUser()
        self.task_ids: list[str] = []
        self.clue_ids: list[str] = []


class Officer(SignedIn):
    """A 支队 or 大队 officer, or the city's analyst, at a desk."""

    weight = 2

    @task(4)
    def inbox(self) -> None:
        self.client.get("/inbox/", name="列表:待办")

    @task(3)
    def task_search(self) -> None:
        page = self.client.get("/tasks/", params={"title": random.choice(WORDS)}, name="搜索:任务").text
        self.task_ids = re.findall(r'href="/tasks/(\d+)"', page) or self.task_ids

    @task(3)
    def clue_search(self) -> None:
        page = self.client.get("/clues/", params={"title": random.choice(WORDS)}, name="搜索:线索").text
        self.clue_ids = re.findall(r'href="/clues/(\d+)"', page) or self.clue_ids

    @task(2)
    def task_list(self) -> None:
        page = self.client.get("/tasks/", params={"page": random.randint(1, 5)}, name="列表:任务").text
        self.task_ids = re.findall(r'href="/tasks/(\d+)"', page) or self.task_ids

    @task(3)
    def task_detail(self) -> None:
        if self.task_ids:
            self.client.get(f"/tasks/{random.choice(self.task_ids)}", name="详情:任务")

    @task(2)
    def clue_detail(self) -> None:
        if self.clue_ids:
            self.client.get(f"/clues/{random.choice(self.clue_ids)}", name="详情:线索")

    @task(1)
    def task_statistics(self) -> None:
        self.client.get("/tasks/stats", name="统计:任务")

    @task(1)
    def clue_statistics(self) -> None:
        self.client.get("/clues/statistics", params={"by": random.choice(("type", "level", "department"))},
                        name="统计:线索")


class PdaOfficer(SignedIn):
    """A 大队 officer in the street with the handheld: the tasks awaiting feedback, one of them."""

    weight = 1
    accounts = PDA_ACCOUNTS

    @task(3)
    def pda_list(self) -> None:
        page = self.client.get("/pda/tasks", name="PDA:待反馈").text
        self.task_ids = re.findall(r'href="/pda/work/(\d+)"', page) or self.task_ids

    @task(2)
    def pda_work(self) -> None:
        if self.task_ids:
            self.client.get(f"/pda/work/{random.choice(self.task_ids)}", name="PDA:办理页")

    @task(1)
    def notifications(self) -> None:
        self.client.get("/pda/notifications", name="PDA:通知")
