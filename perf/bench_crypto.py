"""Cost of personal-data field encryption (SM4-GCM, per-field tokens) on a list page of 1,000 records.

Two lists, each measured with the values in clear (masking only) and encrypted (decrypt + mask):
  - 1,000 riders: the rider section (姓名, 身份证号, 手机号: all x-personal) of red_label_rider
    payloads, as a clue list would show them (`personal.mask_form`);
  - 1,000 officers read from the database with their encrypted 手机号 (`Officer.mobile`, masked),
    against the same query reading a clear column and masking it.
Also: encrypting 1,000 rider sections (the write side) and one exact search by blind index.
Last line: `rider_list_plain_ms=… rider_list_encrypted_ms=… rider_per_record_us=… officer_list_plain_ms=…
officer_list_encrypted_ms=… encrypt_1000_riders_ms=… blind_index_search_ms=…` (medians).
Run: .venv/bin/python perf/bench_crypto.py [--records 1000] [--repeats 15]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from sqlalchemy import insert, select, text

PAYLOAD = "forms/payloads/red_label_rider"


def median_ms(call, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def rider(i: int) -> dict:
    return {"rider": {"name": f"骑手{i:04d}", "id_card": "11010519491231002X", "mobile": f"138{i:08d}",
                      "rider_type": "外卖专送", "plate_number": f"沪A{i:05d}"}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="bench-crypto-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/bench.db"
    from lowcode import form_service, personal, publishing
    from lowcode.app import create_app
    from lowcode.extensions import db
    from lowcode.models import Department, Officer
    from lowcode.server import prepare

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "REDIS_URL": None,
                      "CELERY_EAGER": True})
    with app.test_request_context():
        prepare(app)
        form = form_service.form_for(publishing.current_tree().packs["nmv"], PAYLOAD)
        clear = [rider(i) for i in range(args.records)]
        encrypted = [personal.protect_form(form, item) for item in clear]
        rider_plain = median_ms(lambda: [personal.mask_form(form, item) for item in clear], args.repeats)
        rider_encrypted = median_ms(lambda: [personal.mask_form(form, item) for item in encrypted], args.repeats)
        encrypt = median_ms(lambda: [personal.protect_form(form, item) for item in clear], args.repeats)

        department = db.session.scalars(select(Department).where(Department.depth == 2)).first()
        db.session.execute(insert(Officer.__table__), [
            {"username": f"crypto{i:05d}", "first_name": "测", "last_name": "试", "email": f"c{i}@bench.cn",
             "active": True, "department_id": department.id, "dept_path": department.path, "password": "x"}
            for i in range(args.records)])
        db.session.commit()
        officers = db.session.scalars(select(Officer).where(Officer.username.like("crypto%"))).all()
        for i, officer in enumerate(officers):
            officer.mobile = f"139{i:08d}"
        db.session.commit()

        def encrypted_list():
            db.session.expire_all()
            rows = db.session.scalars(select(Officer).where(Officer.username.like("crypto%")).order_by(Officer.id))
            return [(o.username, o.mobile) for o in rows]

        def plain_list():  # the same page if the column held the number in clear: query and mask only
            db.session.expire_all()
            rows = db.session.scalars(select(Officer).where(Officer.username.like("crypto%")).order_by(Officer.id))
            return [(o.username, personal.mask("mobile", f"139{o.id:08d}")) for o in rows]

        assert encrypted_list()[0][1].count("*") == 4
        officer_plain = median_ms(plain_list, args.repeats)
        officer_encrypted = median_ms(encrypted_list, args.repeats)
        candidates = personal.index_candidates("ab_user", "mobile", "mobile", "13900000007")
        search = median_ms(lambda: db.session.execute(
            select(Officer.id).where(Officer.mobile_index.in_(candidates))).all(), args.repeats)
        assert db.session.execute(text("SELECT count(*) FROM ab_user WHERE mobile LIKE '139%'")).scalar() == 0

    per_record = (rider_encrypted - rider_plain) * 1000 / args.records
    print(f"{args.records} records, median of {args.repeats} runs, database {url.split(':')[0]}")
    print(f"rider_list_plain_ms={rider_plain:.1f} rider_list_encrypted_ms={rider_encrypted:.1f} "
          f"rider_per_record_us={per_record:.0f} officer_list_plain_ms={officer_plain:.1f} "
          f"officer_list_encrypted_ms={officer_encrypted:.1f} encrypt_1000_riders_ms={encrypt:.1f} "
          f"blind_index_search_ms={search:.2f}")


if __name__ == "__main__":
    main()
