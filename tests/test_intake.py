"""Receiving warnings: verbatim storage, validation with field errors, idempotence, merging, replay."""
import json
from contextlib import contextmanager

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select

from lowcode import form_service, intake, publishing
from lowcode.models import ApiClient, Clue, InboundWarning, ProcessInstance, WorkItem
from tests.form_samples import sample


@pytest.fixture(scope="module")
def api_key(app):
    from lowcode import clock
    from lowcode.extensions import db

    with app.app_context():
        client = ApiClient(code="xuhui-yanpan", name="徐汇支队研判系统", created_at=clock.now(), key_prefix="", key_hash="")
        key = intake.issue_key(client)
        db.session.add(client)
        db.session.commit()
    return key


def warning(app, source_id: str, warning_type: str = "STATION_PLATE_COVERAGE_LOW", subject_id: str = "ST-001", **changes):
    with app.app_context():
        pack = publishing.current_tree().packs["nmv"]
        payload = sample(pack, pack.warning_types[warning_type].content["payload_form"])
    item = {"type": warning_type, "source_id": source_id, "occurred_at": "2026-11-20T09:30:00+08:00",
            "district_code": "310104", "subject": {"id": subject_id, "name": "某某配送站"}, "payload": payload}
    item.update(changes)
    return item


def post(client, key, body):
    return client.post("/api/v1/warnings/", data=json.dumps(body, ensure_ascii=False),
                       headers={"X-API-Key": key, "Content-Type": "application/json"})


def stored(db_session, source_id: str) -> list[InboundWarning]:
    db_session.expire_all()
    return db_session.scalars(select(InboundWarning).where(InboundWarning.source_id == source_id)).all()


def eventually(probe, seconds: float = 60.0):
    """The probe's first truthy answer: clue processes start in the Celery worker in services mode."""
    import time

    deadline = time.monotonic() + seconds
    while not (answer := probe()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


def test_a_warning_becomes_a_clue_with_its_process(client, app, api_key, db_session, celery_worker):
    response = post(client, api_key, warning(app, "XH-0001"))
    assert response.status_code == 200, response.get_data(as_text=True)
    [answer] = response.get_json()["items"]
    assert answer["status"] == "accepted"
    clue = db_session.get(Clue, answer["clue_id"])
    assert clue.department.name == "徐汇交警支队" and clue.subject_key == "ST-001"
    def work_items():
        db_session.rollback()  # a fresh snapshot: the worker commits in its own transaction
        return db_session.scalars(select(WorkItem).where(WorkItem.clue_id == clue.id)
                                  .execution_options(unscoped=True)).all()

    items = eventually(work_items)
    assert [i.task_name for i in items] == ["Task_ClueReview"] and items[0].department_id == clue.department_id
    [row] = stored(db_session, "XH-0001")
    assert json.loads(intake.raw_text(row))["source_id"] == "XH-0001" and row.status == "accepted"


def test_each_item_is_stored_exactly_as_it_was_sent(client, app, api_key, db_session):
    first = json.dumps(warning(app, "XH-VERBATIM-1"), ensure_ascii=False, indent=1)
    second = json.dumps(warning(app, "XH-VERBATIM-2"))  # ASCII escapes, another spacing
    body = '{"items" : [' + first + ' ,\n ' + second + "]}"
    response = client.post("/api/v1/warnings/", data=body.encode(),
                           headers={"X-API-Key": api_key, "Content-Type": "application/json"})
    assert [a["status"] for a in response.get_json()["items"]] == ["accepted", "accepted"]
    assert intake.raw_text(stored(db_session, "XH-VERBATIM-1")[0]) == first
    assert intake.raw_text(stored(db_session, "XH-VERBATIM-2")[0]) == second


def test_the_same_warning_twice_is_a_duplicate_of_the_same_clue(client, app, api_key):
    first = post(client, api_key, warning(app, "XH-0002")).get_json()["items"][0]
    again = post(client, api_key, warning(app, "XH-0002")).get_json()["items"][0]
    assert again == {"position": 0, "status": "duplicate", "clue_id": first["clue_id"]}


def test_invalid_items_are_rejected_with_field_errors_and_kept(client, app, api_key, db_session):
    broken = warning(app, "XH-0003", district_code="999")
    del broken["subject"]["id"]
    unknown = warning(app, "XH-0004", type="NO_SUCH_TYPE")
    bad_payload = warning(app, "XH-0005")
    bad_payload["payload"] = {"unexpected": 1}
    body = post(client, api_key, {"items": [broken, unknown, bad_payload, warning(app, "XH-0006")]}).get_json()
    assert [a["status"] for a in body["items"]] == ["rejected", "rejected", "rejected", "accepted"]
    assert body["items"][0]["errors"] == {"district_code": "应为上海市的 6 位行政区划代码", "subject/id": "缺少预警对象编号"}
    assert body["items"][1]["errors"] == {"type": "未知的预警类型 NO_SUCH_TYPE"}
    assert any(field.startswith("payload") for field in body["items"][2]["errors"])
    assert (body["accepted"], body["rejected"]) == (1, 3)
    [row] = stored(db_session, "XH-0005")
    assert row.status == "rejected" and json.loads(intake.raw_text(row))["payload"] == {"unexpected": 1}


def test_warnings_about_one_subject_merge_within_the_window(client, app, api_key):
    merging = "RED_LABEL_RIDER"  # clue_generation: merge_by_subject
    first = post(client, api_key, warning(app, "RL-1", merging, subject_id="RIDER-9")).get_json()["items"][0]
    second = post(client, api_key, warning(app, "RL-2", merging, subject_id="RIDER-9")).get_json()["items"][0]
    other = post(client, api_key, warning(app, "RL-3", merging, subject_id="RIDER-8")).get_json()["items"][0]
    assert first["status"] == second["status"] == "accepted"
    assert first["clue_id"] == second["clue_id"] != other["clue_id"]


def test_refusals_store_nothing(client, api_key, db_session):
    count = lambda: db_session.scalar(select(func.count(InboundWarning.id)))  # noqa: E731
    before = count()
    assert client.post("/api/v1/warnings/", data=b"{not json", headers={"X-API-Key": api_key}).status_code == 400
    assert post(client, "lc_wrong-key-000000000", {"type": "x"}).status_code == 401
    assert post(client, api_key, {"items": [{}] * (intake.MAX_BATCH + 1)}).status_code == 400
    assert count() == before


def test_items_stored_before_a_crash_are_replayed(app, api_key):
    from lowcode.extensions import db

    with app.app_context():
        client = db.session.scalar(select(ApiClient).where(ApiClient.code == "xuhui-yanpan"))
        ids = intake.store(client, [warning(app, "XH-CRASH")])  # the process died right after this
        assert db.session.get(InboundWarning, ids[0]).status == "received"
        [answer] = intake.replay(ids)
        assert answer["status"] == "accepted" and db.session.get(Clue, answer["clue_id"]) is not None


def test_attachment_references_are_checked_per_entry(client, app, api_key):
    good = warning(app, "XH-ATT-1", attachments=[{"name": "现场.jpg", "url": "https://peer.example/f/1.jpg",
                                                 "content_type": "image/jpeg", "size": 1024}])
    bad = warning(app, "XH-ATT-2", attachments=[{"name": "x", "url": "file:///etc/passwd"}, "照片", {"url": "http://a/b",
                                                                                                   "size": -1}])
    body = post(client, api_key, {"items": [good, bad]}).get_json()
    assert [a["status"] for a in body["items"]] == ["accepted", "rejected"]
    assert body["items"][1]["errors"] == {"attachments/0/url": "应为 http(s) 地址",
                                          "attachments/1": "应为 JSON 对象：{name, url, content_type, size}",
                                          "attachments/2/size": "应为非负整数（字节）"}


def _searchable_personal_type(app) -> str:
    """A warning type of one clue per warning whose payload holds a searchable personal value."""
    def searchable(field) -> bool:
        return (field.personal and field.format in ("id-card", "mobile")) or any(map(searchable, field.children))

    with app.app_context():
        pack = publishing.current_tree().packs["nmv"]
        return next(code for code, definition in sorted(pack.warning_types.items())
                    if definition.content["clue_generation"]["mode"] == "per_warning"
                    and searchable(form_service.form_for(pack, definition.content["payload_form"]).root))


def test_a_large_batch_goes_in_by_bulk_statements_and_keeps_every_answer(client, app, api_key, db_session):
    from lowcode import audit_chain
    from lowcode.models import AuditEvent, PersonalIndex

    kind = _searchable_personal_type(app)
    items = [warning(app, f"BULK-{n:03d}", kind, subject_id=f"ST-B{n}") for n in range(30)]
    items[7]["district_code"] = "999"
    items[20] = dict(items[19])  # the same source id twice in one batch
    answers = post(client, api_key, {"items": items}).get_json()["items"]
    assert [a["position"] for a in answers] == list(range(30))
    assert answers[7] == {"position": 7, "status": "rejected", "errors": {"district_code": "应为上海市的 6 位行政区划代码"}}
    assert answers[20] == {**answers[19], "position": 20, "status": "duplicate"}
    clue_ids = [a["clue_id"] for a in answers if a["status"] == "accepted"]
    assert len(clue_ids) == 28 == len(set(clue_ids)) and clue_ids == sorted(clue_ids)
    db_session.expire_all()
    rows = {row.position: row for row in db_session.scalars(select(InboundWarning).where(
        InboundWarning.source_id.like("BULK-%")))}
    assert rows[7].status == "rejected" and rows[7].errors == answers[7]["errors"] and rows[7].clue_id is None
    assert all(rows[a["position"]].clue_id == a.get("clue_id") and rows[a["position"]].status == a["status"]
               for a in answers)
    clues = {c.id: c for c in db_session.scalars(select(Clue).where(Clue.id.in_(clue_ids)).execution_options(unscoped=True))}
    assert [clues[a["clue_id"]].subject_key for a in answers if a["status"] == "accepted"] == \
        [f"ST-B{n}" for n in range(30) if n not in (7, 20)]
    indexed = db_session.scalars(select(PersonalIndex.object_id).where(PersonalIndex.object_type == "Clue",
                                                                       PersonalIndex.object_id.in_(clue_ids)))
    assert set(indexed) == set(clue_ids)
    created = db_session.scalars(select(AuditEvent.object_id).where(AuditEvent.object_type == "Clue",
                                                                    AuditEvent.action == "create",
                                                                    AuditEvent.object_id.in_(map(str, clue_ids))))
    assert sorted(map(int, created)) == clue_ids
    assert audit_chain.verify(db_session.connection()) == []

    def started():  # the clue processes start in the worker (in services mode)
        db_session.rollback()
        return db_session.scalar(select(func.count(ProcessInstance.id)).where(
            ProcessInstance.business_kind == "clue", ProcessInstance.business_id.in_(clue_ids))) == len(clue_ids)

    assert eventually(started)


QUIET_DISTRICT = "310151"  # 崇明: work items there stay out of the inboxes other tests page through


@contextmanager
def start_messages():
    """The clue ids of each start message sent meanwhile: published to Redis for the worker in
    services mode, run at once in-process when eager."""
    from celery import signals

    sent = []

    def published(sender=None, body=None, **_):
        if sender == "lowcode.start_clue_processes":
            sent.append(body[0][0])  # (args, kwargs, embed)

    def ran(sender=None, args=None, **_):
        if sender.name == "lowcode.start_clue_processes" and sender.request.is_eager:
            sent.append(args[0])

    signals.after_task_publish.connect(published)
    signals.task_prerun.connect(ran)
    try:
        yield sent
    finally:
        signals.after_task_publish.disconnect(published)
        signals.task_prerun.disconnect(ran)


def test_a_batch_queues_one_start_message_per_chunk_as_it_commits(client, app, api_key, db_session, monkeypatch,
                                                                   celery_worker):
    monkeypatch.setattr(intake, "CHUNK", 4)
    items = [warning(app, f"CHUNKED-{n}", subject_id=f"ST-C{n}", district_code=QUIET_DISTRICT) for n in range(10)]
    items[5]["district_code"] = "999"  # rejected: no clue, nothing to start
    with start_messages() as sent:
        answers = post(client, api_key, {"items": items}).get_json()["items"]
    clue_ids = [a.get("clue_id") for a in answers]
    assert sent == [clue_ids[0:4], [clue_ids[4], *clue_ids[6:8]], clue_ids[8:10]]

    def started():
        db_session.rollback()
        return db_session.scalar(select(func.count(ProcessInstance.id)).where(
            ProcessInstance.business_kind == "clue", ProcessInstance.business_id.in_(clue_ids[:5] + clue_ids[6:]))) == 9

    assert eventually(started)


def test_the_worker_starts_waiting_clues_a_batch_per_transaction_and_only_once(app, api_key, monkeypatch):
    from lowcode.extensions import db
    from lowcode.flow import actions

    monkeypatch.setattr(actions, "START_BATCH", 2)
    with app.app_context():
        client = db.session.scalar(select(ApiClient).where(ApiClient.code == "xuhui-yanpan"))
        items = [warning(app, f"WAITING-{n}", subject_id=f"ST-W{n}", district_code=QUIET_DISTRICT) for n in range(5)]
        ids = intake.store(client, items)
        clue_ids = [a["clue_id"] for a in intake.process(ids, start_processes=False)]
        commits, session = [], db.session()
        count = commits.append
        sqlalchemy_event.listen(session, "after_commit", count)
        try:
            assert actions.start_waiting_clues([*clue_ids, clue_ids[0], 10**9]) == 5
        finally:
            sqlalchemy_event.remove(session, "after_commit", count)
        assert len(commits) == 3  # batches of 2, 2 and 1
        assert actions.start_waiting_clues(clue_ids) == 0  # a message delivered twice starts nothing twice
        db.session.expire_all()
        instances = db.session.scalars(select(ProcessInstance).where(
            ProcessInstance.business_kind == "clue", ProcessInstance.business_id.in_(clue_ids))).all()
        assert sorted(i.business_id for i in instances) == clue_ids
        items = db.session.scalars(select(WorkItem).where(WorkItem.clue_id.in_(clue_ids))
                                   .execution_options(unscoped=True)).all()
        assert sorted((i.clue_id, i.task_name, i.state) for i in items) == \
            [(clue_id, "Task_ClueReview", "open") for clue_id in clue_ids]
        assert all(db.session.get(Clue, clue_id).status != "待启动" for clue_id in clue_ids)
