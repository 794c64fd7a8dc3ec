"""What the load test's simulated peer systems need, made with the application's own code (the
locust process never imports it): the calling system LOAD_TEST with a new API key, and a warning
template of a type chosen from the definitions with a valid payload from its form's examples.
Writes both as JSON to the path given; the runner hands the path to locust."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy import select


def main(target: Path) -> None:
    from lowcode import clock, intake
    from lowcode.app import create_app
    from lowcode.extensions import db
    from lowcode.models import ApiClient, Department
    from perf import choose
    from tests.form_samples import sample

    with create_app().app_context():
        client = db.session.scalar(select(ApiClient).where(ApiClient.code == "LOAD_TEST"))
        if client is None:
            client = ApiClient(code="LOAD_TEST", name="性能测试", created_at=clock.now())
            db.session.add(client)
        key = intake.issue_key(client)
        db.session.commit()
        pack, kind = choose.warning_type(clue_generation={"mode": "per_warning"})
        payload = sample(pack, pack.warning_types[kind].content["payload_form"])
        districts = sorted(set(db.session.scalars(select(Department.district_code).where(Department.depth == 1))))
    target.write_text(json.dumps({"api_key": key, "type": kind, "payload": payload, "districts": districts},
                                 ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
