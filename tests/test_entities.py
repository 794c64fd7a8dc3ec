"""基础信息: entity tables made from the definitions, the sync API (verbatim batches, field errors,
idempotent bulk upsert, encrypted personal fields), the pages and JSON API with their permissions,
masks, audited reveal and district scope. Runs on SQLite and, in services mode, on PostgreSQL."""
import json
import uuid

import pytest
from sqlalchemy import inspect, select, text

from lowcode import clock, intake
from lowcode.models import ApiClient, AuditEvent, EntityBatch
from tests.conftest import web_login

XUHUI, PUDONG = "310104", "310115"
ID_NUMBER = "31010419900307123X"


@pytest.fixture(scope="module")
def api_key(app):
    from lowcode.extensions import db

    with app.app_context():
        # Per module that uses it (the browser tests too): a client of its own.
        client = ApiClient(code=f"meituan-sync-{uuid.uuid4().hex[:8]}", name="美团基础信息同步", created_at=clock.now(),
                           key_prefix="", key_hash="")
        key = intake.issue_key(client)
        db.session.add(client)
        db.session.commit()
    return key


def push(client, key, name, items):
    return client.post(f"/api/v1/entities/nmv/{name}", data=json.dumps({"items": items}, ensure_ascii=False),
                       headers={"X-API-Key": key, "Content-Type": "application/json"})


def enterprise(code, district=XUHUI, **changes):
    return {"code": code, "name": f"测试配送企业{code}", "kind": "takeaway", "uscc": "91310000MA1FL0000X",
            "contact_name": "张三", "contact_phone": "13812345678", "risk_level": "high", "district_code": district,
            **changes}


def rider(code, station, district=XUHUI, **changes):
    return {"code": code, "name": "王小明", "id_number": ID_NUMBER, "mobile": "13900001111", "gender": "male",
            "kind": "takeaway", "enterprise": "T-ENT-1", "station": station, "status": "active", "mark": "red",
            "registered": True, "last_active_date": "2026-11-20", "district_code": district, **changes}


@pytest.fixture(scope="module")
def loaded(app, api_key):
    """Two enterprises, a supplier, a station in each of two districts and riders under them."""
    client = app.test_client()
    assert push(client, api_key, "enterprise", [enterprise("T-ENT-1"), enterprise("T-ENT-2", PUDONG)]).status_code == 200
    supplier = {"code": "T-SUP-1", "name": "测试加盟商", "enterprise": "T-ENT-1", "star": 3, "district_code": XUHUI}
    assert push(client, api_key, "supplier", [supplier]).get_json()["accepted"] == 1
    stations = [{"code": f"T-ST-{d}", "name": f"测试站点{d}", "enterprise": "T-ENT-1", "supplier": "T-SUP-1", "star": 4,
                 "lng": 121.43, "lat": 31.18, "district_code": d} for d in (XUHUI, PUDONG)]
    assert push(client, api_key, "station", stations).get_json()["accepted"] == 2
    riders = [rider(f"T-R-{i:03}", f"T-ST-{XUHUI}") for i in range(25)] + [rider("T-R-PD", f"T-ST-{PUDONG}", PUDONG)]
    answer = push(client, api_key, "rider", riders).get_json()
    assert answer["accepted"] == 26, answer
    return answer


def test_the_tables_follow_the_definitions(app):
    from lowcode.extensions import db

    with app.app_context():
        inspector = inspect(db.engine)
        assert {"ent_nmv_enterprise", "ent_nmv_rider", "ent_nmv_violation"} <= set(inspector.get_table_names())
        columns = {c["name"] for c in inspector.get_columns("ent_nmv_rider")}
        assert {"id", "code", "name", "name_index", "id_number_index", "station", "created_at", "updated_at", "synced_at"} <= columns
        indexes = {i["name"]: i for i in inspector.get_indexes("ent_nmv_rider")}
        assert indexes["ux_ent_nmv_rider_code"]["unique"]
        assert indexes["ix_ent_nmv_rider_station"]["column_names"] == ["station"]
        assert indexes["ix_ent_nmv_rider_district_code_mark"]["column_names"] == ["district_code", "mark"]


def test_schema_sync_adds_what_a_new_version_needs_and_drops_nothing(app):
    from dataclasses import replace

    from lowcode.entities import schema_sync
    from lowcode.entities.spec import Entity, Field
    from lowcode.entities.tables import table_for
    from lowcode.extensions import db

    code = Field("code", "编号", "string", max_length=20, required=True, search="exact", list=True)
    first = Entity("probe", "thing", "探针", "code", "district_code", None,
                   (code, Field("district_code", "行政区", "string", max_length=6, required=True)), (), "v1")
    second = replace(first, fields=first.fields + (Field("note", "备注", "string", max_length=50, search="contains"),
                                                   Field("phone", "电话", "string", personal="mobile", search="exact")),
                     indexes=(("district_code", "created_at"),), sha256="v2")
    with app.app_context():
        try:
            assert schema_sync.sync(db.engine, [table_for(first, {})]) == [
                "ent_probe_thing", "ent_probe_thing ix_ent_probe_thing_district_code", "ent_probe_thing ux_ent_probe_thing_code"]
            with db.engine.begin() as connection:
                connection.execute(text("INSERT INTO ent_probe_thing (code, district_code, created_at, updated_at) "
                                        "VALUES ('A', '310104', '2026-01-01', '2026-01-01')"))
            done = schema_sync.sync(db.engine, [table_for(second, {})])
            assert {"ent_probe_thing.note", "ent_probe_thing.phone", "ent_probe_thing.phone_index",
                    "ent_probe_thing ix_ent_probe_thing_district_code_created_at",
                    "ent_probe_thing ix_ent_probe_thing_phone_index"} <= set(done)
            assert ("ent_probe_thing ix_ent_probe_thing_note_trgm" in done) == (db.engine.dialect.name == "postgresql")
            assert schema_sync.sync(db.engine, [table_for(first, {})]) == []   # an older version drops nothing
            with db.engine.connect() as connection:
                assert connection.execute(text("SELECT code, note FROM ent_probe_thing")).all() == [("A", None)]
        finally:
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS ent_probe_thing"))


def test_a_batch_is_kept_verbatim_and_answered_per_record(app, client, api_key, loaded, db_session):
    items = [enterprise("T-ENT-3", kind="bicycle", district_code="999999"),
             {"code": "T-ENT-4", "name": "缺区划", "kind": "express", "size": 3}, "not an object",
             rider("T-R-BAD", "NO-SUCH-STATION")]
    body = push(client, api_key, "enterprise", items[:3]).get_json()
    assert body["accepted"] == 0 and body["rejected"] == 3
    assert body["items"][0]["errors"] == {
        "kind": "企业类型取值 bicycle 无效，应为以下之一：express（快递）、takeaway（外卖）、rental（租赁）",
        "district_code": "所属行政区999999 不是组织机构中的行政区划代码"}
    assert body["items"][1]["errors"] == {"size": "未定义的字段", "district_code": "缺少所属行政区"}
    assert body["items"][2]["errors"] == {"": "每条记录应为 JSON 对象"}
    bad_ref = push(client, api_key, "rider", items[3:]).get_json()["items"][0]
    assert bad_ref["errors"] == {"station": "所属站点 NO-SUCH-STATION 不存在（站点）"}
    from lowcode.entities import sync

    batch = db_session.scalars(select(EntityBatch).where(EntityBatch.entity == "enterprise")
                               .order_by(EntityBatch.id.desc())).first()
    assert json.loads(sync.raw_text(batch)) == {"items": items[:3]} and batch.rejected == 3
    assert ID_NUMBER not in batch.raw


def test_the_same_batch_twice_changes_nothing_and_a_change_updates(app, client, api_key, loaded, db_session):
    def state():
        db_session.expire_all()
        return db_session.execute(text("SELECT code, star, updated_at, created_at FROM ent_nmv_supplier "
                                       "WHERE code = 'T-SUP-1'")).one()

    supplier = {"code": "T-SUP-1", "name": "测试加盟商", "enterprise": "T-ENT-1", "star": 3, "district_code": XUHUI}
    before = state()
    assert push(client, api_key, "supplier", [supplier]).get_json()["items"] == [
        {"position": 0, "status": "accepted", "key": "T-SUP-1"}]
    assert state() == before
    push(client, api_key, "supplier", [{**supplier, "star": 5}, {**supplier, "star": 2}])
    after = state()
    assert after.star == 2 and after.created_at == before.created_at
    count = db_session.execute(text("SELECT count(*) FROM ent_nmv_supplier WHERE code = 'T-SUP-1'")).scalar()
    assert count == 1


def test_personal_fields_are_encrypted_at_rest(loaded, db_session):
    stored = db_session.execute(text("SELECT name, id_number, mobile, id_number_index FROM ent_nmv_rider "
                                     "WHERE code = 'T-R-000'")).one()
    assert all(value.startswith("v1.") for value in stored[:3])
    assert "王小明" not in "".join(stored) and ID_NUMBER not in "".join(stored)


def test_refused_batches_and_keys(client, api_key):
    assert push(client, "lc_wrong-key-0000000", "rider", []).status_code == 401
    assert push(client, api_key, "spaceship", [{}]).status_code == 404
    refused = client.post("/api/v1/entities/nmv/rider", data=b"{not json", headers={"X-API-Key": api_key})
    assert refused.status_code == 400 and "JSON" in refused.get_json()["message"]


def test_the_api_lists_filters_sorts_and_masks(api, loaded):
    caller = api("yanpan")
    page = caller.get(f"/api/v1/entities/nmv/rider?station=T-ST-{XUHUI}&page_size=20&sort=code&desc=0").get_json()
    assert page["count"] == 25 and page["pages"] == 2 and len(page["result"]) == 20 and page["more"] is False
    assert [r["code"] for r in page["result"][:2]] == ["T-R-000", "T-R-001"]
    first = page["result"][0]
    assert first["name"] == "王**" and first["id_number"] == "310***********123X" and first["mobile"] == "139****1111"
    found = caller.get(f"/api/v1/entities/nmv/rider?id_number={ID_NUMBER.lower()}&code=T-R-PD").get_json()
    assert [r["code"] for r in found["result"]] == ["T-R-PD"]
    bad = caller.get("/api/v1/entities/nmv/rider?registered=maybe&mark=blue")
    assert bad.status_code == 400
    assert bad.get_json()["message"] == {"mark": "标识应为以下之一：red、yellow、green", "registered": "实际注册应为 1（是）或 0（否）"}
    contains = caller.get("/api/v1/entities/nmv/enterprise?name=企业T-ENT-2").get_json()
    assert [e["code"] for e in contains["result"]] == ["T-ENT-2"]


def test_one_record_with_related_records_and_an_audited_reveal(api, loaded, app):
    station = api("yanpan").get(f"/api/v1/entities/nmv/station/T-ST-{XUHUI}").get_json()
    riders = next(r for r in station["related"] if r["entity"] == "rider")
    assert riders["count"] == 25 and len(riders["records"]) == 10
    assert api("lingdao").get("/api/v1/entities/nmv/rider/T-R-000?reveal=1").status_code == 403
    revealed = api("yanpan").get("/api/v1/entities/nmv/rider/T-R-000?reveal=1").get_json()["result"]
    assert revealed["id_number"] == ID_NUMBER and revealed["name"] == "王小明"
    from lowcode.extensions import db

    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal_personal")
                                   .order_by(AuditEvent.id.desc())).first()
        assert (event.object_type, event.object_id) == ("Entity.nmv.rider", "T-R-000")


def test_reads_are_scoped_to_the_district_and_need_the_permission(api, loaded):
    xuhui = api("zd_xuhui").get("/api/v1/entities/nmv/rider?page_size=100").get_json()
    assert {r["district_code"] for r in xuhui["result"]} == {XUHUI} and "T-R-PD" not in {r["code"] for r in xuhui["result"]}
    assert api("zd_xuhui").get("/api/v1/entities/nmv/rider/T-R-PD").status_code == 404
    assert api("zd_pudong").get("/api/v1/entities/nmv/rider/T-R-PD").status_code == 200
    assert api("yanpan").get("/api/v1/entities/nmv/rider/T-R-PD").status_code == 200
    assert api("pda_xuhui").get("/api/v1/entities/nmv/rider").status_code == 403


def test_the_pages(client, loaded):
    web_login(client, "zd_xuhui")
    home = client.get("/entities/").get_data(as_text=True)
    assert "骑手" in home and "/entities/nmv/violation/" in home
    # The filter form posts every field, `name` (姓名) too: the pager's links keep the entity's path.
    listing = client.get(f"/entities/nmv/rider/?name=&station=T-ST-{XUHUI}&sort=code&desc=0").get_data(as_text=True)
    assert "共 25 条，第 1/2 页" in listing and "王**" in listing and ID_NUMBER not in listing
    assert 'href="/entities/nmv/rider/?name=&amp;station=T-ST-310104&amp;sort=code&amp;desc=0&amp;page=2"' in listing
    assert 'href="/entities/nmv/station/T-ST-310104"' in listing
    assert "没有符合条件的骑手记录。" in client.get("/entities/nmv/rider/?code=NOBODY").get_data(as_text=True)
    invalid = client.get("/entities/nmv/rider/?registered=maybe").get_data(as_text=True)
    assert "实际注册应为 1（是）或 0（否）" in invalid and "没有符合条件" not in invalid
    detail = client.get(f"/entities/nmv/station/T-ST-{XUHUI}").get_data(as_text=True)
    assert "关联骑手（所属站点）共 25 条" in detail and "查看全部 25 条" in detail and "查看完整个人信息" not in detail
    assert client.get(f"/entities/nmv/station/T-ST-{PUDONG}").status_code == 404
    menu = client.get("/clues/").get_data(as_text=True)
    assert "lc-entity-menu" in menu and "/entities/nmv/accident/" in menu


def test_the_menu_lists_only_the_entities_the_officer_may_read(client, loaded):
    web_login(client, "pda_xuhui")   # the PDA's role reads no 基础信息
    page = client.get("/notifications/")
    assert page.status_code == 200 and "通知" in page.get_data(as_text=True)
    assert "lc-entity-menu" not in page.get_data(as_text=True)
    assert "骑手" not in client.get("/entities/").get_data(as_text=True)


def test_counts_stop_at_the_cap(api, client, loaded, monkeypatch):
    """Counting every violation of a district costs more than the page: past the cap, lists say N+."""
    from lowcode import task_queries

    monkeypatch.setattr(task_queries, "COUNT_CAP", 10)
    page = api("zd_xuhui").get(f"/api/v1/entities/nmv/rider?station=T-ST-{XUHUI}&sort=code&desc=0").get_json()
    assert (page["count"], page["more"], len(page["result"])) == (10, True, 20)
    web_login(client, "zd_xuhui")
    assert "共 10+ 条" in client.get(f"/entities/nmv/rider/?station=T-ST-{XUHUI}").get_data(as_text=True)


def test_refs_link_only_to_records_in_the_viewers_scope(app, loaded):
    """Pudong's station belongs to a Xuhui enterprise and supplier: Pudong sees their codes as text
    (a link would answer 404), the city analyst as links."""
    links = ('href="/entities/nmv/enterprise/T-ENT-1"', 'href="/entities/nmv/supplier/T-SUP-1"')
    for username, linked in (("zd_pudong", False), ("yanpan", True)):
        viewer = app.test_client()
        web_login(viewer, username)
        detail = viewer.get(f"/entities/nmv/station/T-ST-{PUDONG}").get_data(as_text=True)
        listing = viewer.get(f"/entities/nmv/station/?code=T-ST-{PUDONG}").get_data(as_text=True)
        for page in (detail, listing):
            assert "T-ENT-1" in page and "T-SUP-1" in page
            assert all((link in page) == linked for link in links)


def test_the_reveal_page_needs_its_permission(client, loaded):
    web_login(client, "yanpan")
    page = client.get("/entities/nmv/rider/T-R-000").get_data(as_text=True)
    assert "查看完整个人信息" in page and ID_NUMBER not in page
    from tests.conftest import csrf_token

    revealed = client.post("/entities/nmv/rider/T-R-000/reveal", data={"csrf_token": csrf_token(page)})
    assert ID_NUMBER in revealed.get_data(as_text=True)
    client.get("/logout/")
    web_login(client, "pda_xuhui")
    assert client.get("/entities/nmv/rider/").status_code == 403
    assert "lc-entity-menu" not in client.get("/pda/").get_data(as_text=True)


def test_key_rotation_covers_entity_fields_and_batches(app, api, loaded):
    from lowcode import keyring, rotation
    from lowcode.crypto import keys

    with app.test_request_context():
        keys.rotate_master_key(app.config["INSTANCE_PATH"])
        keyring.reset()
        counts = rotation.rotate_all(batch=50)
        assert counts["ent_nmv_rider.id_number"] >= 26 and counts["entity_batch.raw"] >= 4
        assert rotation.rotate_all()["ent_nmv_rider.id_number"] == 0
    found = api("yanpan").get(f"/api/v1/entities/nmv/rider?id_number={ID_NUMBER}&code=T-R-PD").get_json()
    assert [r["code"] for r in found["result"]] == ["T-R-PD"] and found["result"][0]["name"] == "王**"
