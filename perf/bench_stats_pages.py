"""What the analysts' and the wall screens' requests of the city load test (perf/locust_city.py)
cost the server, one request at a time: wall and CPU milliseconds and SQL statements per request
type, application and PostgreSQL CPU alike (measured as bench_load_pages measures the desk pages).
The requests are those the load test makes, by the city's analyst (yanpan) and a 支队 leader
(zd_xuhui): 风险分析, 任务统计, 线索统计 (by type, level, department and time in turn), the 首页
large screen, its data API and the station map.

Run against city data (`python -m perf.datagen.city`, then `lowcode refresh-dashboards --all`):
  DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/lowcode_city \\
  LOWCODE_INSTANCE_PATH=instance-load .venv/bin/python perf/bench_stats_pages.py [--requests N]
Last line: `<type>_cpu_ms=N …` for every request type, application and database CPU together.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load_pages import instrumented_app, measure, record, report, signed_in  # noqa: E402  perf/ is the script's own folder

ACCOUNTS = ("yanpan", "zd_xuhui")
CLUE_DIMENSIONS = ("type", "level", "department", "time")


def requests(client) -> dict:
    """The load test's analyst and wall-screen request types: name → a call returning a response."""
    clue_by = itertools.cycle(CLUE_DIMENSIONS)
    return {
        "风险分析": lambda: client.get("/dashboards/nmv/RISK"),
        "任务统计": lambda: client.get("/tasks/stats"),
        "线索统计": lambda: client.get("/clues/statistics", query_string={"by": next(clue_by)}),
        "首页": lambda: client.get("/dashboards/nmv/HOME"),
        "首页数据": lambda: client.get("/api/v1/dashboards/nmv/HOME"),
        "站点分布": lambda: client.get("/api/v1/dashboards/nmv/HOME/STATION_MAP"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per type and account")
    args = parser.parse_args()
    app, statements, database = instrumented_app()
    results: dict[str, tuple[list, list, list, list]] = {}
    for name in ACCOUNTS:
        for kind, call in requests(signed_in(app, name)).items():
            for _ in CLUE_DIMENSIONS:   # warm: templates compiled, caches filled, every dimension once
                call()
            record(results, kind, measure(call, args.requests, statements, database))
    report(results)


if __name__ == "__main__":
    main()
