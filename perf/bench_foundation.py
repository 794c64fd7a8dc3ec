"""Cost of the foundation's always-on mechanisms: data scoping on lists, the audit trail on writes.

Builds a city-sized officer table (default 20,000 officers spread over every department) in a
fresh database (DATABASE_URL, else a temporary SQLite file), then measures through the REST API:
  - the officer list (page of 20, sorted) for a 支队 user (scoped) and a 总队 user (whole city);
  - a department rename, which writes the change and its audit event in one transaction.
Last line: `scoped_list_ms_p95=N city_list_ms_p95=N audited_update_ms_p95=N`.
Run: .venv/bin/python perf/bench_foundation.py [--officers N] [--requests N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from sqlalchemy import insert, select


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def timed(call, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="bench-foundation-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/bench.db"
    from lowcode.app import create_app
    from lowcode.extensions import db
    from lowcode.models import Department, Officer
    from lowcode.server import prepare

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "REDIS_URL": None,
                      "CELERY_EAGER": True})
    with app.app_context():
        prepare(app)
        departments = db.session.scalars(select(Department)).all()
        rows = [
            {"username": f"bench{i:06d}", "first_name": "测", "last_name": "试", "email": f"b{i}@bench.cn",
             "active": True, "department_id": departments[i % len(departments)].id,
             "dept_path": departments[i % len(departments)].path, "password": "x"}
            for i in range(args.officers)
        ]
        db.session.execute(insert(Officer.__table__), rows)
        db.session.commit()
        target = departments[-1].id

    client = app.test_client()

    def token(username: str) -> dict:
        body = client.post("/api/v1/security/login",
                           json={"username": username, "password": app.config["DEMO_PASSWORD"], "provider": "db"})
        return {"Authorization": f"Bearer {body.get_json()['access_token']}"}

    district, city = token("zd_xuhui"), token("admin")
    query = "/api/v1/officer/?q=(order_column:username,order_direction:asc,page:0,page_size:20)"
    scoped = timed(lambda: client.get(query, headers=district), args.requests)
    whole = timed(lambda: client.get(query, headers=city), args.requests)
    names = iter(range(10**9))
    updates = timed(lambda: client.put(f"/api/v1/department/{target}", headers=city,
                                       json={"name": f"基准测试部门{next(names)}"}), args.requests)
    print(f"database: {url.split(':')[0]}, officers: {args.officers}, requests per measure: {args.requests}")
    for label, samples in (("scoped list", scoped), ("city list", whole), ("audited update", updates)):
        print(f"{label:>15}: p50 {statistics.median(samples):6.1f} ms  p95 {p95(samples):6.1f} ms")
    print(f"scoped_list_ms_p95={p95(scoped):.1f} city_list_ms_p95={p95(whole):.1f} "
          f"audited_update_ms_p95={p95(updates):.1f}")


if __name__ == "__main__":
    main()
