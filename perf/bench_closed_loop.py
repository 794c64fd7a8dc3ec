"""Receiving: a batch of 10,000 warnings through to clues (stored verbatim, validated, deduplicated,
clue rows created) over HTTP through the Flask app. The clue processes are queued for the Celery
worker (on REDIS_URL, default the local Redis), which is not part of this measure; with --starts N
the first N clues' processes are then started in this process as the worker would, and the CPU
time per start is printed (`start_ms_per_clue`). CPU seconds hold still on a shared machine.
Last line: `batch10k_s=N clues_per_s=N` (the request's CPU seconds on the first line).
Run: .venv/bin/python perf/bench_closed_loop.py [--items N] [--starts N]  (DATABASE_URL for PostgreSQL)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--starts", type=int, default=0)
    args = parser.parse_args()
    from lowcode import clock, intake, process_tuning
    from perf import choose
    from lowcode.app import create_app
    from lowcode.extensions import db
    from lowcode.models import ApiClient
    from lowcode.server import prepare
    from tests.form_samples import sample

    instance = tempfile.mkdtemp(prefix="bench-closed-loop-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/bench.db"
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "REDIS_URL": redis_url,
                      "CELERY_EAGER": False})
    with app.app_context():
        prepare(app)
        client = ApiClient(code="bench", name="基准测试系统", created_at=clock.now(), key_prefix="", key_hash="")
        key = intake.issue_key(client)
        db.session.add(client)
        db.session.commit()
        pack, kind = choose.warning_type(clue_generation={"mode": "per_warning"})   # one clue per warning
        payload = sample(pack, pack.warning_types[kind].content["payload_form"])
    districts = ["310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113",
                 "310114", "310115", "310116", "310117", "310118", "310120", "310151"]
    items = [{"type": kind, "source_id": f"B-{i:06d}", "occurred_at": "2026-11-20T09:30:00+08:00",
              "district_code": districts[i % 16], "subject": {"id": f"ST-{i:06d}", "name": f"站点{i}"},
              "payload": payload} for i in range(args.items)]
    body = json.dumps({"items": items}, ensure_ascii=False).encode()
    process_tuning.settle()  # as each server process does once loaded
    started, cpu = time.perf_counter(), time.process_time()
    response = app.test_client().post("/api/v1/warnings/", data=body,
                                      headers={"X-API-Key": key, "Content-Type": "application/json"})
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    result = response.get_json()
    assert response.status_code == 200 and result["accepted"] == args.items, str(result)[:500]
    print(f"database: {url.split(':')[0]}, items: {args.items}, accepted: {result['accepted']}, "
          f"request CPU: {cpu:.2f} s")
    if args.starts:
        with app.app_context():
            from lowcode.flow import actions

            clue_ids = [answer["clue_id"] for answer in result["items"][:args.starts]]
            cpu_starts = time.process_time()
            assert actions.start_waiting_clues(clue_ids) == len(clue_ids)
            print(f"start_ms_per_clue={(time.process_time() - cpu_starts) / len(clue_ids) * 1000:.2f}")
    print(f"batch10k_s={elapsed:.2f} clues_per_s={args.items / elapsed:.0f}")


if __name__ == "__main__":
    main()
