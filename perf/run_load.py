"""Load tests on PostgreSQL under a production server, one command per scenario.

  closed-loop  100 officers working the warning → clue → task loop against 200,000 tasks
               (issue: the closed loop's load test; targets 200 ms for pages, 1 s for statistics).
  city         the seed's operation classes (large screen, map, mid-screen operations and simple
               queries, complex statistics, PDA, small and large batches) against city-scale data,
               at 100 and at 1,000 concurrent users; writes perf/REPORT.md.

Each run: create the database when missing and fill it once (perf/datagen), migrate, publish the
definitions, count the dashboards, start gunicorn (one worker per core), run locust headless in
its own environment (.venv-perf, `make perf-tools`) and print p50/p95/p99, requests per second and
errors per request against the seed's limit and our target (ten times lower). A Celery worker
with beat runs beside the server on Redis (REDIS_URL, default db 9), as in production. Last line:
`worst_p95_ratio_to_target=R` (R ≤ 1: every class met its target).

  DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/lowcode_city \\
  .venv/bin/python -m perf.run_load city [--users 100,1000] [--seconds 180] [--scale city]
"""
from __future__ import annotations

import argparse
import csv
import math
import datetime as dt
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
LOCUST = ROOT / ".venv-perf" / "bin" / "locust"
LOWCODE = ROOT / ".venv" / "bin" / "lowcode"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
SPAWN_PER_S = 5
WARM_UP_S = 60   # after the last user started, before counting: the sign-ins' queue drains
# Two processes a core: a request that holds one process's interpreter lock (a batch, a statistics
# page) then stalls a quarter of the threads, not half.
WORKERS, THREADS = 2 * (os.cpu_count() or 2), 4


@dataclass(frozen=True)
class RequestClass:
    name: str
    seed_limit_ms: float | None   # the requirement document's limit (None: ours alone)
    target_ms: float


@dataclass(frozen=True)
class Scenario:
    locustfile: str
    users: tuple[int, ...]
    data: tuple[str, ...]          # the generator's command line after `python -m`
    classes: dict[str, RequestClass]   # by the prefix of request names ("大屏:首页" → 大屏)
    report: str | None = None


def _seed_class(name: str, limit_s: float) -> RequestClass:
    return RequestClass(name, limit_s * 1000, limit_s * 100)   # our target: ten times better


SCENARIOS = {
    "closed-loop": Scenario(
        "perf/locustfile.py", (100,), ("perf.datagen.closed_loop", "--tasks", "200000"),
        {name: RequestClass(name, None, ms) for name, ms in
         (("列表", 200), ("搜索", 200), ("详情", 200), ("PDA", 200), ("统计", 1000))}),
    "city": Scenario(
        "perf/locust_city.py", (100, 1000), ("perf.datagen.city", "--scale", "city"),
        {c.name: c for c in (_seed_class("大屏", 2), _seed_class("地图", 5), _seed_class("中屏常规", 2),
                             _seed_class("简单查询", 1), _seed_class("复杂统计", 3), _seed_class("PDA", 1),
                             _seed_class("小批量", 2), _seed_class("大批量", 5))},
        report="perf/REPORT.md"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--users", help="并发用户数，逗号分隔（缺省按场景）")
    parser.add_argument("--seconds", type=int, default=180, help="每轮稳定阶段时长（秒，不含逐步加压）")
    parser.add_argument("--scale", help="数据规模（传给数据生成器，缺省按场景）")
    args = parser.parse_args()
    scenario = SCENARIOS[args.scenario]
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("请设置 DATABASE_URL 为 PostgreSQL 数据库，例如 postgresql+psycopg://postgres@127.0.0.1:5432/lowcode_city")
    if not LOCUST.exists():
        sys.exit("缺少 locust：请先运行 make perf-tools")
    users = tuple(int(n) for n in args.users.split(",")) if args.users else scenario.users
    data = list(scenario.data)
    if args.scale and "--scale" in data:
        data[data.index("--scale") + 1] = args.scale
    _create_database(url)
    instance = ROOT / "instance-load"
    # Every simulated user signs in from this one address: the per-address login limit would refuse them.
    env = {**os.environ, "LOWCODE_INSTANCE_PATH": str(instance), "DEMO_CLUES": "0", "LOGIN_RATE_LIMIT": "100000/minute",
           "INTAKE_RATE_LIMIT": "100000/minute"}
    # Set up without Redis (the generators run the processes in-process); the load runs as in
    # production, with a Celery worker and beat on Redis beside the web server.
    redis_url = env.pop("REDIS_URL", None) or DEFAULT_REDIS_URL
    # Schema, roles and definitions as this checkout has them, then the data, then the dashboards' figures.
    for command in (["migrate"], ["load-definitions"]):
        subprocess.run([str(LOWCODE), *command], cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", *data], cwd=ROOT, env=env, check=True)
    data_s = time.perf_counter() - started
    subprocess.run([str(LOWCODE), "refresh-dashboards", "--all"], cwd=ROOT, env=env, check=True)
    env["LOAD_SETUP"] = str(instance / "load-setup.json")
    subprocess.run([sys.executable, "-m", "perf.load_setup", env["LOAD_SETUP"]], cwd=ROOT, env=env, check=True)
    runs = [(n, _run(scenario, {**env, "REDIS_URL": redis_url}, instance, n, args.seconds)) for n in users]
    lines = _report(scenario, runs, _describe(url, data_s), args.seconds)
    print("\n".join(lines))
    if scenario.report:
        (ROOT / scenario.report).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run(scenario: Scenario, env: dict, instance: Path, users: int, seconds: int) -> list[dict]:
    port = _free_port()
    quiet = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "python:lowcode.gunicorn_conf",
                               "--workers", str(WORKERS), "--threads", str(THREADS),
                               "--backlog", "4096", "--bind", f"127.0.0.1:{port}", "lowcode.app:create_app()"], **quiet)
    # The worker yields the cores to the web server, as in production: clue processes may wait, pages not.
    worker = subprocess.Popen(["nice", "-n", "10", str(LOWCODE), "worker", "--concurrency", "1", "--beat",
                               "--schedule", str(instance / "celerybeat-schedule")], **quiet)
    try:
        _wait_for(f"http://127.0.0.1:{port}/health")
        prefix = instance / f"locust-{users}"
        # Users arrive as officers start a shift, a few a second (each sign-in hashes a password);
        # the figures are those of the steady state: the statistics restart WARM_UP_S after every
        # user has started (perf/locustfile.py), and count for `seconds` from then on.
        subprocess.run([str(LOCUST), "-f", str(ROOT / scenario.locustfile), "--headless", "--only-summary",
                        "-u", str(users), "-r", str(SPAWN_PER_S), "-t", f"{users // SPAWN_PER_S + WARM_UP_S + seconds}s",
                        "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix)], cwd=ROOT,
                       env={**env, "LOAD_WARM_UP_S": str(WARM_UP_S)}, check=False)
        return [row for row in csv.DictReader(Path(f"{prefix}_stats.csv").open(encoding="utf-8")) if ":" in row["Name"]]
    finally:
        for process in (server, worker):
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:   # a worker deep in a batch: its work is not measured
                process.kill()
                process.wait()


def _create_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).scalar():
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _describe(url: str, data_s: float) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar()
        tables = connection.execute(text(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname LIKE 'ent\\_%' OR relname IN "
            "('clue', 'task', 'dispatch', 'work_item') ORDER BY relname")).all()
    engine.dispose()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return [f"- 机器：{cpu}，{os.cpu_count()} 核，内存 {memory} GiB；{platform.system()} {platform.release()}",
            f"- 软件：Python {platform.python_version()}，PostgreSQL {version}，gunicorn {WORKERS} 个工作进程 × {THREADS} 线程",
            f"- 数据（准备用时 {data_s:.0f} 秒，已有数据时只检查）：" + "，".join(f"{n} {c:,}" for n, c in tables)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(address: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(address, timeout=2):
                return
        except OSError:
            time.sleep(1)
    sys.exit(f"服务未在 {seconds:.0f} 秒内启动：{address}")


def _ms(limit: float | None) -> str:
    return "—" if limit is None else f"{limit:,.0f}"


def _report(scenario: Scenario, runs: list[tuple[int, list[dict]]], machine: list[str], seconds: int) -> list[str]:
    lines = [f"# 性能测试报告（{dt.date.today().isoformat()}）", "", *machine,
             f"- 用户每秒进入 {SPAWN_PER_S} 个（各自登录），全部进入并预热 {WARM_UP_S} 秒后重新计数，统计其后 {seconds} 秒的稳定阶段；"
             "时间单位毫秒；目标为种子限值的十分之一", ""]
    worst = 0.0
    for users, rows in runs:
        lines += [f"## {users} 个并发用户", "",
                  "| 类别 | 请求 | 次数 | 失败 | p50 | p95 | p99 | 每秒 | 种子限值 | 目标 | p95/目标 |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        worst_p95: dict[str, float] = {}   # by class: its slowest request's p95
        for row in sorted(rows, key=lambda r: r["Name"]):
            kind, name = row["Name"].split(":", 1)
            limits = scenario.classes[kind]
            # A request not made in the measured window has no percentiles: its class is not met.
            p95 = float(row["95%"]) if int(row["Request Count"]) else math.inf
            worst_p95[kind] = max(worst_p95.get(kind, 0.0), p95)
            lines.append(f"| {kind} | {name} | {row['Request Count']} | {row['Failure Count']} "
                         f"| {row['50%']} | {row['95%']} | {row['99%']} | {float(row['Requests/s']):.1f} "
                         f"| {_ms(limits.seed_limit_ms)} | {_ms(limits.target_ms)} | {p95 / limits.target_ms:.2f} |")
        classes = {kind: scenario.classes[kind] for kind in worst_p95}
        seed_met = sum(1 for kind, c in classes.items() if c.seed_limit_ms is None or worst_p95[kind] <= c.seed_limit_ms)
        target_met = sum(1 for kind, c in classes.items() if worst_p95[kind] <= c.target_ms)
        unmeasured = [kind for kind in classes if math.isinf(worst_p95[kind])]
        lines += ["", f"达到种子限值的类别：{seed_met}/{len(classes)}；达到目标的类别：{target_met}/{len(classes)}"
                  + (f"；统计窗口内未发生请求的类别：{'、'.join(unmeasured)}" if unmeasured else ""), ""]
        worst = max([worst, *(worst_p95[kind] / c.target_ms for kind, c in classes.items())])
    lines.append(f"worst_p95_ratio_to_target={worst:.2f}")
    return lines


if __name__ == "__main__":
    main()
