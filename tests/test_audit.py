"""Every state change and every read of personal data leaves an audit event."""
from sqlalchemy import select

from lowcode.models import AuditEvent, Department, Officer
from tests.conftest import web_login


def events(db_session, **where):
    query = select(AuditEvent).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return db_session.scalars(query).all()


def test_an_api_change_records_who_what_before_after_request_and_address(api, db_session):
    department = db_session.scalar(select(Department).where(Department.code == "310104510000"))
    old_name = department.name
    response = api("admin").put(
        f"/api/v1/department/{department.id}", json={"name": "徐汇分局徐家汇派出所（测试）"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    db_session.expire_all()
    event = events(db_session, object_type="Department", object_id=str(department.id), action="update")[-1]
    assert event.actor_name == db_session.scalar(select(Officer).where(Officer.username == "admin")).display_name
    assert event.before == {"name": old_name}
    assert event.after == {"name": "徐汇分局徐家汇派出所（测试）"}
    assert event.request_id == response.headers["X-Request-ID"]
    assert event.client_addr == "10.1.2.3"
    api("admin").put(f"/api/v1/department/{department.id}", json={"name": old_name})


def test_create_and_delete_are_recorded_in_the_same_transaction(app, db_session):
    with app.test_request_context():
        department = Department(code="310104990000", name="临时测试中队", kind="中队", district_code="310104",
                                path="/310000000000/310104000000/310104990000/")
        db_session.add(department)
        db_session.commit()
        created = events(db_session, object_type="Department", object_id=str(department.id), action="create")
        assert created and created[-1].after["name"] == "临时测试中队"
        identifier = str(department.id)
        db_session.delete(department)
        db_session.rollback()  # a rolled-back delete leaves no trace
        assert events(db_session, object_type="Department", object_id=identifier, action="delete") == []
        db_session.delete(db_session.get(Department, int(identifier)))
        db_session.commit()
        deleted = events(db_session, object_type="Department", object_id=identifier, action="delete")
        assert deleted[-1].before["code"] == "310104990000"


def test_personal_fields_are_masked_in_the_trail(app, db_session):
    with app.test_request_context():
        officer = db_session.scalar(select(Officer).where(Officer.username == "pda_jinshan"))
        officer.mobile = "13812345678"
        db_session.commit()
        event = events(db_session, object_type="Officer", object_id=str(officer.id), action="update")[-1]
        assert event.after == {"mobile": "138****5678"}  # masked as a 手机号, never in clear
        assert "13812345678" not in str(event.before) + str(event.after) + event.summary


def test_login_and_failed_login_are_recorded(client, db_session):
    before = len(events(db_session, action="login"))
    web_login(client, "zd_baoshan")
    db_session.expire_all()
    logins = events(db_session, action="login")
    assert len(logins) == before + 1 and logins[-1].actor_name != "系统"
    page = client.get("/login/")
    from tests.conftest import csrf_token

    client.get("/logout/")
    page = client.get("/login/")
    client.post("/login/", data={"username": "zd_baoshan", "password": "wrong",
                                 "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert events(db_session, action="login_failed")[-1].summary.startswith("zd_baoshan")


def test_reading_an_officers_personal_data_is_recorded(client, db_session):
    target = db_session.scalar(select(Officer.id).where(Officer.username == "dd_songjiang"))
    web_login(client, "zd_songjiang")
    assert client.get(f"/users/show/{target}").status_code == 200
    reads = events(db_session, action="read_personal", object_id=str(target))
    assert reads and reads[-1].actor_name != "系统"


def test_audit_page_searches_by_action(client):
    web_login(client, "admin")
    html = client.get("/audit/list/?_flt_0_action=login").get_data(as_text=True)
    assert "审计日志" in html and "登录成功" in html
    assert "创建演示账号" not in html


def test_a_transactions_events_are_chained_at_its_commit_with_one_lock_of_the_head(app, db_session):
    from sqlalchemy import event as sa_event

    from lowcode import audit

    with app.test_request_context():
        departments = db_session.scalars(select(Department).where(Department.depth == 2).limit(2)).all()
        names = [d.name for d in departments]
        statements = []

        def seen(_conn, _cursor, statement, *_):
            statements.append(statement)

        sa_event.listen(db_session.get_bind(), "before_cursor_execute", seen)
        try:
            departments[0].name += "（甲）"
            db_session.flush()
            audit.record("test_event", "Department", departments[0].id, "一次事务中的事件")
            departments[1].name += "（乙）"
            db_session.flush()
            assert not [s for s in statements if "audit" in s]  # nothing chained before the commit
            db_session.commit()
        finally:
            sa_event.remove(db_session.get_bind(), "before_cursor_execute", seen)
        # Locked, then advanced (on PostgreSQL with the rows inserted in the same statement).
        assert len([s for s in statements if "UPDATE audit_chain_head" in s]) == 2
        rows = db_session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(3)).all()[::-1]
        assert [r.action for r in rows] == ["update", "test_event", "update"]
        assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 3))
        for department, name in zip(departments, names):
            department.name = name
        db_session.commit()


def test_a_rolled_back_savepoint_drops_the_events_held_since_it_began(app, db_session):
    from lowcode import audit

    with app.test_request_context():
        audit.record("test_event", "Chain", 1, "保存点之前")
        try:
            with db_session.begin_nested():
                audit.record("test_event", "Chain", 2, "保存点之内")
                raise RuntimeError("回滚保存点")
        except RuntimeError:
            pass
        with db_session.begin_nested():
            audit.record("test_event", "Chain", 3, "提交的保存点之内")
        db_session.commit()
        rows = db_session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(2)).all()[::-1]
        assert [r.summary for r in rows] == ["保存点之前", "提交的保存点之内"]
