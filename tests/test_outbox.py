"""Feedback push: the outbox row written with the acceptance, delivery to a real (fake) receiver
over HTTP, back-off, dead letter, re-send from the page, and no double send under racing pollers."""
import datetime as dt
import json
import threading
import urllib.request
import uuid

import pytest
from sqlalchemy import select

from connectors import feedback_push
from lowcode import clock, outbox
from lowcode.models import Dispatch, OutboxMessage
from tests.conftest import csrf_token, services_mode, web_login
from tests.test_workflow_paths import adopted_task, ctx, dispatch_to, do, record  # noqa: F401


def message(key: str | None = None) -> OutboxMessage:
    from lowcode.extensions import db

    key = key or f"test:{uuid.uuid4().hex}"
    message_id = outbox.enqueue(kind="feedback", target="nmv_traffic", key=key,
                                payload={"idempotency_key": key, "data": {"feedback": {"结论": "已整改"}}})
    db.session.commit()
    return db.session.get(OutboxMessage, message_id)


def fresh(message_id: int) -> OutboxMessage:
    from lowcode.extensions import db

    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_accepted_top_level_feedback_is_queued_with_the_acceptance_and_delivered(ctx, app, receiver):  # noqa: F811
    from lowcode.extensions import db

    task = adopted_task("推送测试：某站点亡人事故")
    dispatch_to(task, ["310104000000"])
    top = db.session.scalar(select(Dispatch).where(Dispatch.task_id == task.id).execution_options(unscoped=True))
    do("zd_xuhui", {"handling": "转发下级"}, dispatch_id=top.id)
    do("zd_xuhui", {"receivers": [{"department_code": "310104010000"}]}, dispatch_id=top.id)
    child = db.session.scalar(select(Dispatch).where(Dispatch.parent_id == top.id).execution_options(unscoped=True))
    do("dd_xuhui", {"handling": "本单位处置"}, dispatch_id=child.id)
    do("dd_xuhui", dispatch_id=child.id)
    do("zd_xuhui", {"feedback_review_result": "通过"}, dispatch_id=child.id)
    # The binding pushes top-level feedback only: the brigade's feedback to its 支队 stays inside.
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.dispatch_id == child.id)) is None
    do("zd_xuhui", dispatch_id=top.id)
    do("yanpan", {"feedback_review_result": "通过"}, dispatch_id=top.id)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dispatch_id == top.id))
    assert row.state == "pending" and row.idempotency_key == f"nmv:feedback:dispatch:{top.id}"
    data = row.payload["data"]
    assert data["handling_department"] == "徐汇交警支队" and data["accepted_by_department"] == record(
        Dispatch, top.id).issuer.name
    assert data["task_id"] == task.id and isinstance(data["feedback"], dict) and data["feedback"]
    assert data["warning_type_name"] and data["fed_back_by"]

    outbox.deliver_due()
    assert fresh(row.id).state == "sent" and fresh(row.id).sent_at is not None
    assert receiver.received[row.idempotency_key]["message"] == row.payload
    assert receiver.posts[row.idempotency_key] == 1


def test_the_same_key_twice_is_the_same_message(app, db_session):
    from lowcode.extensions import db

    with app.app_context():
        first = message()
        again = outbox.enqueue(kind="feedback", target="nmv_traffic", key=first.idempotency_key,
                               payload={"idempotency_key": first.idempotency_key, "data": {"other": 1}})
        db.session.commit()
        assert again == first.id
        rows = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == first.idempotency_key)).all()
        assert [r.payload for r in rows] == [first.payload]


def test_a_failing_receiver_is_retried_with_exponential_back_off(app, receiver, db_session):
    with app.app_context():
        outbox.deliver_due()  # whatever earlier tests left due goes first
        row = message()
        receiver.fail_next = 2
        start = clock.now()
        assert outbox.deliver_due(now=start) == {"sent": 0, "retry": 1, "dead": 0}
        first = fresh(row.id)
        base = app.config["OUTBOX_BACKOFF_SECONDS"]
        assert first.state == "pending" and first.attempts == 1 and "503" in first.last_error
        assert first.next_attempt_at == start + dt.timedelta(seconds=base)
        assert outbox.deliver_due(now=start) == {"sent": 0, "retry": 0, "dead": 0}  # not yet due
        later = first.next_attempt_at
        outbox.deliver_due(now=later)
        assert fresh(row.id).next_attempt_at == later + dt.timedelta(seconds=2 * base)
        assert outbox.deliver_due(now=fresh(row.id).next_attempt_at)["sent"] == 1
        assert fresh(row.id).attempts == 3 and fresh(row.id).last_error is None
        assert receiver.posts[row.idempotency_key] == 3 and row.idempotency_key in receiver.received


def test_unreachable_receiver_ends_in_dead_letter_and_resend_delivers(app, client, receiver):
    with app.app_context():
        row = message()
        row_id, key = row.id, row.idempotency_key
        app.config["FEEDBACK_PUSH_URL"], working = "http://127.0.0.1:9/feedback", app.config["FEEDBACK_PUSH_URL"]
        limit, app.config["OUTBOX_MAX_ATTEMPTS"] = app.config["OUTBOX_MAX_ATTEMPTS"], 3
        try:
            moment = clock.now()
            for _ in range(3):
                outbox.deliver_due(now=moment)
                moment = fresh(row.id).next_attempt_at
            dead = fresh(row.id)
            assert dead.state == "dead" and dead.attempts == 3 and "无法连接" in dead.last_error
            outbox.deliver_due(now=moment + dt.timedelta(days=1))
            assert fresh(row.id).attempts == 3  # a dead letter is never tried again by itself
        finally:
            app.config["FEEDBACK_PUSH_URL"], app.config["OUTBOX_MAX_ATTEMPTS"] = working, limit

    web_login(client, "yewu")
    page = client.get("/outbox/list/?_flt_0_state=dead")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and key in html and "发送失败（死信）" in html and "确定吗" in html
    assert 'href="?_flt_0_state=dead">发送失败（死信）（' in html  # the state tabs with their counts
    response = client.post("/outbox/action_post", data={"action": "resend", "rowid": [str(row_id)],
                                                       "csrf_token": csrf_token(html)})
    assert response.status_code == 302
    with app.app_context():
        assert fresh(row_id).state == "pending" and fresh(row_id).attempts == 0
        outbox.deliver_due()
        assert fresh(row_id).state == "sent" and receiver.posts[key] == 1


def test_the_receiver_drops_a_repeated_key(receiver, app):
    with app.app_context():
        payload = {"idempotency_key": "k-1", "data": {}}
        assert feedback_push.deliver(app.config["FEEDBACK_PUSH_URL"], payload) == 200
        assert feedback_push.deliver(app.config["FEEDBACK_PUSH_URL"], payload) == 200
        listing = json.load(urllib.request.urlopen(app.config["FEEDBACK_PUSH_URL"].replace("/feedback", "/received")))
    assert listing["posts"] == {"k-1": 2} and len(listing["received"]) == 1


def test_outbox_page_needs_its_permission(client):
    web_login(client, "zd_xuhui")
    assert client.get("/outbox/list/").status_code in (302, 403)


@pytest.mark.skipif(not services_mode(), reason="row claims under concurrency are a PostgreSQL matter")
def test_two_racing_pollers_send_each_message_once(app, receiver):
    from lowcode.extensions import db

    with app.app_context():
        outbox.deliver_due()  # whatever earlier tests left due goes first
        keys = {message().idempotency_key for _ in range(20)}
    barrier, results = threading.Barrier(2), []

    def poll():
        with app.app_context():
            barrier.wait()
            results.append(outbox.deliver_due())
            db.session.remove()

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["sent"] for r in results) == 20
    assert {key: receiver.posts.get(key) for key in keys} == {key: 1 for key in keys}


def test_every_push_is_sm2_signed_by_the_platform(app, receiver):
    from lowcode import keyring, signatures

    with app.app_context():
        row = message()
        outbox.deliver_due()
        received = receiver.received[row.idempotency_key]
        body = received["body"].encode()
        assert body == feedback_push.encode(row.payload)
        public_key = keyring.signing_key().public_key
        signatures.verify_request(public_key, keyring.signer_id(), "POST", "/feedback", received["signature"], body)
        with pytest.raises(signatures.SignatureRefused):
            signatures.verify_request(public_key, keyring.signer_id(), "POST", "/feedback", received["signature"],
                                      body.replace(b"}", b" }", 1))


def test_the_api_lists_by_state_and_resends(app, api, receiver):
    with app.app_context():
        row = message()
        row_id = row.id
        from lowcode.extensions import db

        row.state = "dead"
        db.session.commit()
    caller = api("yewu")
    listing = caller.get("/api/v1/outbox/?state=dead").get_json()
    assert row_id in [m["id"] for m in listing["result"]] and listing["result"][0]["state_label"] == "发送失败（死信）"
    assert caller.get("/api/v1/outbox/?state=lost").status_code == 400
    assert caller.post("/api/v1/outbox/resend", json={"ids": [row_id]}).get_json()["resent"] == 1
    assert api("lingdao").post("/api/v1/outbox/resend", json={"ids": [row_id]}).status_code == 403
    with app.app_context():
        assert fresh(row_id).state == "pending"


def test_a_push_without_feedback_raises_so_the_instance_stops_in_an_incident(ctx):  # noqa: F811
    from lowcode.extensions import db
    from lowcode.flow.push import push_feedback

    task = adopted_task("推送测试：尚无反馈")
    dispatch_to(task, ["310112000000"])
    dispatch = db.session.scalar(select(Dispatch).where(Dispatch.task_id == task.id).execution_options(unscoped=True))
    with pytest.raises(LookupError, match="没有已提交的处置反馈"):
        push_feedback(dispatch.id)


def test_the_fake_receiver_runs_from_the_command_line(tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "lowcode.cli", "fake-receiver", "--port", str(port)],
                               cwd=ROOT, env={**os.environ, "LOWCODE_INSTANCE_PATH": str(tmp_path)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                feedback_push.deliver(f"http://127.0.0.1:{port}/feedback", {"idempotency_key": "cli-1", "data": {}})
                break
            except feedback_push.DeliveryFailed:
                assert time.monotonic() < deadline, "the fake receiver did not start"
                time.sleep(0.2)
        listing = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/received"))
        assert listing["posts"] == {"cli-1": 1}
    finally:
        process.terminate()
        process.wait(timeout=10)
