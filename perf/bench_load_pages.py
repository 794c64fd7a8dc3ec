"""What each page of the load tests (perf/locustfile.py, and the desk's 基础信息 queries of
perf/locust_city.py) costs the server, one request at a time:
wall and CPU milliseconds and SQL statements per request, by request type, against the load
database (200,000 tasks, made by `python -m perf.run_load closed-loop`). CPU time is this process's own
(Python, templates, drivers) and that of the PostgreSQL backends serving the database (库 CPU,
read from /proc: run it where the database runs, with nothing else connected to that database).
CPU time holds still while other work shares the machine: it is what decides how many requests
two cores serve. The pages are asked for as the load test asks for them,
by a 支队 and a 大队 officer and the city's analyst, and the PDA by a 大队 officer.

Run: DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/lowcode_load \\
     LOWCODE_INSTANCE_PATH=instance-load .venv/bin/python perf/bench_load_pages.py [--requests N]
Last line: `<type>_cpu_ms=N …` for every request type, application and database CPU together.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_foundation import p95  # noqa: E402  perf/ is the script's own folder

DESK = ("zd_xuhui", "dd_xuhui", "yanpan")
PDA = ("pda_xuhui",)
WORDS = ("站", "骑手", "企业", "头盔", "号牌", "事故", "副本1")


def _ids(pattern: str, response) -> list[str]:
    return re.findall(pattern, response.get_data(as_text=True))


def pages(clients: dict, rng: random.Random) -> dict:
    """The load test's request types: name → a call returning a response (ids found on the way)."""
    seen = {name: {"tasks": [], "clues": [], "work": [], "records": []} for name in clients}

    def one(name, kind, url):
        """A detail the officer found on a list, as the load test does; None when the lists showed none."""
        return clients[name].get(url.format(rng.choice(seen[name][kind]))) if seen[name][kind] else None

    def listing(name, url, kind, pattern, /, **params):   # a filter may be called `kind` too
        response = clients[name].get(url, query_string=params)
        seen[name][kind] = _ids(pattern, response) or seen[name][kind]
        return response

    def records(name, entity, **params):
        """A 基础信息 list of the city scenario (perf/locust_city.py), the links of its own records remembered
        (a record it refers to may lie outside the officer's scope)."""
        return listing(name, f"/entities/nmv/{entity}/", "records", f'href="(/entities/nmv/{entity}/[^"/?#]+)"', **params)

    def desk(name):
        return {
            "列表:待办": lambda: clients[name].get("/inbox/"),
            "搜索:任务": lambda: listing(name, "/tasks/", "tasks", r'href="/tasks/(\d+)"', title=rng.choice(WORDS)),
            "搜索:线索": lambda: listing(name, "/clues/", "clues", r'href="/clues/(\d+)"', title=rng.choice(WORDS)),
            "列表:任务": lambda: listing(name, "/tasks/", "tasks", r'href="/tasks/(\d+)"', page=rng.randint(1, 5)),
            "详情:任务": lambda: one(name, "tasks", "/tasks/{}"),
            "详情:线索": lambda: one(name, "clues", "/clues/{}"),
            "统计:任务": lambda: clients[name].get("/tasks/stats"),
            "统计:线索": lambda: clients[name].get("/clues/statistics",
                                                query_string={"by": rng.choice(("type", "level", "department"))}),
            "搜索:骑手": lambda: records(name, "rider", kind=rng.choice(("express", "takeaway")), page=rng.randint(1, 5)),
            "搜索:站点": lambda: records(name, "station", star=rng.randint(1, 5)),
            "搜索:车辆": lambda: records(name, "vehicle", plate_no=rng.choice(("沪", "沪A", "沪B", "沪C"))),
            "搜索:违法": lambda: records(name, "violation", payment="unpaid", mode=rng.choice(("onsite", "offsite"))),
            "详情:基础信息": lambda: one(name, "records", "{}"),
        }

    def pda(name):
        return {
            "PDA:待反馈": lambda: listing(name, "/pda/tasks", "work", r'href="/pda/work/(\d+)"'),
            "PDA:办理页": lambda: one(name, "work", "/pda/work/{}"),
            "PDA:通知": lambda: clients[name].get("/pda/notifications"),
        }

    return {name: desk(name) if name in DESK else pda(name) for name in clients}


def signed_in(app, username: str):
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login/", data={"username": username, "password": app.config["DEMO_PASSWORD"],
                                            "csrf_token": token})
    assert response.status_code == 302, f"{username} 登录失败：HTTP {response.status_code}"
    return client


def database_cpu_ms(database: str) -> float:
    """CPU time so far of the PostgreSQL backends serving `database` (same machine, readable /proc;
    clock ticks, so only sums over many requests mean much)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as title:
                if f" {database} ".encode() not in title.read():
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])   # utime, stime
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def measure(call, count: int, statements: list, database: str) -> tuple[list, list, list, float]:
    """Wall and CPU ms and statements of each request; the database's CPU ms per request."""
    walls, cpus, counts = [], [], []
    database_before = database_cpu_ms(database)
    for _ in range(count):
        statements[0] = 0
        wall, cpu = time.perf_counter(), time.process_time()
        response = call()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
        counts.append(statements[0])
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return walls, cpus, counts, (database_cpu_ms(database) - database_before) / count


def instrumented_app() -> tuple:
    """(the application, a one-item list counting its SQL statements, its database's name)."""
    from lowcode.app import create_app
    from lowcode.extensions import db

    app = create_app({"LOGIN_RATE_LIMIT": "10000/minute"})
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *_: statements.__setitem__(0, statements[0] + 1))
        return app, statements, db.engine.url.database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="requests per type and officer")
    args = parser.parse_args()
    from lowcode import process_tuning

    app, statements, database = instrumented_app()
    clients = {name: signed_in(app, name) for name in DESK + PDA}
    process_tuning.settle()  # as each server process does once loaded
    rng = random.Random(6)
    results: dict[str, tuple[list, list, list, list]] = {}
    for name, calls in pages(clients, rng).items():
        for kind, call in calls.items():
            if call() is None:   # warm: templates compiled, ids of the lists known
                continue
            record(results, kind, measure(call, args.requests, statements, database))
    report(results)


def record(results: dict, kind: str, measured: tuple[list, list, list, float]) -> None:
    """Add one measure() of `kind` to the results (its database CPU as a per-request figure)."""
    walls, cpus, counts, database_ms = measured
    mine = results.setdefault(kind, ([], [], [], []))
    for collected, more in zip(mine, (walls, cpus, counts, [database_ms] * len(walls))):
        collected.extend(more)


def report(results: dict) -> None:
    """The table by request type, then the last line of CPU ms per request type."""
    print(f"{'请求':<10}{'wall p50':>10}{'wall p95':>10}{'CPU 均值':>10}{'CPU p95':>10}{'库 CPU':>10}{'SQL 条数':>10}")
    for kind, (walls, cpus, counts, database_ms) in sorted(results.items()):
        print(f"{kind:<10}{statistics.median(walls):>10.1f}{p95(walls):>10.1f}{statistics.mean(cpus):>10.1f}"
              f"{p95(cpus):>10.1f}{statistics.mean(database_ms):>10.1f}{statistics.mean(counts):>10.1f}")
    print(" ".join(f"{kind}_cpu_ms={statistics.mean(cpus) + statistics.mean(database_ms):.1f}"
                   for kind, (_, cpus, _, database_ms) in sorted(results.items())))


if __name__ == "__main__":
    main()
