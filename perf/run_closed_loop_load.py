"""Load test of the closed loop: 100 concurrent officers (perf/locustfile.py) against 200,000
tasks on PostgreSQL. Prints p50/p95/p99, requests
per second and errors per request type against its target: 200 ms for lists, searches, details
and PDA pages, 1 s for statistics. Last line: `worst_p95_ratio_to_target=R` (R ≤ 1: all met).

Run (after `make perf-tools`, which makes .venv-perf with locust):
  DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/lowcode_load \\
  .venv/bin/python perf/run_closed_loop_load.py [--tasks 200000] [--users 100] [--seconds 120]
The database is created when missing and filled once (perf/datagen/closed_loop.py); the
application runs under gunicorn, one worker process per core.
"""
from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
LOCUST = ROOT / ".venv-perf" / "bin" / "locust"
TARGETS_MS = {"列表": 200, "搜索": 200, "详情": 200, "PDA": 200, "统计": 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("请设置 DATABASE_URL 为 PostgreSQL 数据库，例如 postgresql+psycopg://postgres@127.0.0.1:5432/lowcode_load")
    if not LOCUST.exists():
        sys.exit("缺少 locust：请先运行 make perf-tools")
    _create_database(url)
    instance = ROOT / "instance-load"
    # Every simulated officer signs in from this one address: the per-address login limit would refuse them.
    env = {**os.environ, "LOWCODE_INSTANCE_PATH": str(instance), "DEMO_CLUES": "0", "LOGIN_RATE_LIMIT": "10000/minute"}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "perf.datagen.closed_loop", "--tasks", str(args.tasks)], cwd=ROOT, env=env,
                   check=True)
    # Schema, roles and definitions as this checkout has them (serve publishes only new packs).
    for command in ("migrate", "load-definitions"):
        subprocess.run([str(ROOT / ".venv" / "bin" / "lowcode"), command], cwd=ROOT, env=env, check=True)
    port = _free_port()
    # A production server: one worker process per core, a few threads each.
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(os.cpu_count() or 2),
                               "--threads", "4", "--bind", f"127.0.0.1:{port}", "lowcode.app:create_app()"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(f"http://127.0.0.1:{port}/health")
        prefix = instance / "locust"
        # Figures of the steady state: the stats restart once every officer has signed in.
        subprocess.run([str(LOCUST), "-f", str(ROOT / "perf" / "locustfile.py"), "--headless", "--only-summary",
                        "--reset-stats",
                        "-u", str(args.users), "-r", str(max(1, args.users // 10)), "-t", f"{args.seconds}s",
                        "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix)], cwd=ROOT, env=env, check=False)
        _report(Path(f"{prefix}_stats.csv"), args)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _create_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).scalar():
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


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


def _report(stats: Path, args) -> None:
    rows = [row for row in csv.DictReader(stats.open(encoding="utf-8")) if ":" in row["Name"]]
    print(f"\n{args.users} 名并发民警，{args.tasks} 条任务，{args.seconds} 秒；CPU {os.cpu_count()} 核")
    print(f"{'请求':<12}{'次数':>7}{'失败':>6}{'p50':>8}{'p95':>8}{'p99':>8}{'每秒':>8}{'目标':>8}")
    worst = 0.0
    for row in sorted(rows, key=lambda r: r["Name"]):
        target = TARGETS_MS[row["Name"].split(":")[0]]
        p95 = float(row["95%"])
        worst = max(worst, p95 / target)
        print(f"{row['Name']:<12}{row['Request Count']:>7}{row['Failure Count']:>6}{row['50%']:>8}{row['95%']:>8}"
              f"{row['99%']:>8}{float(row['Requests/s']):>8.1f}{target:>8}")
    print(f"worst_p95_ratio_to_target={worst:.2f}")


if __name__ == "__main__":
    main()
