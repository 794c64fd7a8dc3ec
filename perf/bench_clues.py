"""线索查询与统计 at scale: the combined query and the GROUP BY statistics through the REST API.

Builds N clues (default 100,000) spread over the districts, warning types and a year of days in a
fresh database (DATABASE_URL, else a temporary SQLite file), then measures for a 支队 user (scoped)
and the 总队 研判员 (whole city): the list filtered by level and title, sorted by level, page 1;
and the statistics by type, by department and by week.
Last line: `list_ms_p95=N city_list_ms_p95=N stats_ms_p95=N city_stats_ms_p95=N`.
Run: .venv/bin/python perf/bench_clues.py [--clues N] [--requests N]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile

from sqlalchemy import insert, select

from bench_foundation import p95, timed  # perf/ is on the path when a benchmark runs as a script


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clues", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="bench-clues-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/bench.db"
    from lowcode import publishing
    from lowcode.app import create_app
    from lowcode.extensions import db
    from lowcode.models import Clue, Department
    from lowcode.server import prepare

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "REDIS_URL": None,
                      "CELERY_EAGER": True})
    with app.app_context():
        prepare(app)
        owners = db.session.scalars(select(Department).where(Department.depth <= 1)).all()
        pack = publishing.current_tree().packs["nmv"]
        types = [d.content for d in pack.warning_types.values()]
        start = dt.datetime(2026, 1, 1)
        for chunk in range(0, args.clues, 10_000):
            rows = []
            for i in range(chunk, min(chunk + 10_000, args.clues)):
                owner, warning = owners[i % len(owners)], types[i % len(types)]
                rows.append({"pack_code": "nmv", "warning_type": warning["code"], "title": f"{warning['name']}：对象{i}",
                             "level_code": warning["clue_level"], "source": warning["source"],
                             "type_code": f"{warning['clue_type']['category']}/{warning['clue_type']['subtype']}",
                             "district_code": owner.district_code, "department_id": owner.id, "dept_path": owner.path,
                             "subject": {"id": f"S{i}"}, "subject_key": f"S{i}", "payload": {}, "status": "待审核",
                             "created_at": start + dt.timedelta(minutes=5 * i % (365 * 24 * 60))})
            db.session.execute(insert(Clue.__table__), rows)
        db.session.commit()

    client = app.test_client()

    def token(username: str) -> dict:
        body = client.post("/api/v1/security/login",
                           json={"username": username, "password": app.config["DEMO_PASSWORD"], "provider": "db"})
        return {"Authorization": f"Bearer {body.get_json()['access_token']}"}

    district, city = token("zd_xuhui"), token("yanpan")
    listing = "/api/v1/clues/?level=IMPORTANT&title=对象1&sort=level&order=asc&page=1"
    stats = iter(["/api/v1/clues/statistics?by=type", "/api/v1/clues/statistics?by=department",
                  "/api/v1/clues/statistics?by=time&period=week"] * args.requests)
    measures = {
        "scoped list": timed(lambda: client.get(listing, headers=district), args.requests),
        "city list": timed(lambda: client.get(listing, headers=city), args.requests),
        "scoped stats": timed(lambda: client.get(next(stats), headers=district), args.requests),
        "city stats": timed(lambda: client.get(next(stats), headers=city), args.requests),
    }
    print(f"database: {url.split(':')[0]}, clues: {args.clues}, requests per measure: {args.requests}")
    for label, samples in measures.items():
        print(f"{label:>13}: p50 {statistics.median(samples):7.1f} ms  p95 {p95(samples):7.1f} ms")
    print(f"list_ms_p95={p95(measures['scoped list']):.1f} city_list_ms_p95={p95(measures['city list']):.1f} "
          f"stats_ms_p95={p95(measures['scoped stats']):.1f} city_stats_ms_p95={p95(measures['city stats']):.1f}")


if __name__ == "__main__":
    main()
