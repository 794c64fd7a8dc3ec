"""Data scoping: a district's user never sees another district's records."""
from sqlalchemy import select

from lowcode.models import Officer
from lowcode.scoping import scoped_as
from tests.conftest import web_login


def officer_id(db_session, username: str) -> int:
    return db_session.scalar(select(Officer.id).where(Officer.username == username))


def test_district_user_lists_only_its_district(api):
    body = api("zd_xuhui").get("/api/v1/officer/?q=(page_size:100)").get_json()
    usernames = {row["username"] for row in body["result"]}
    assert usernames == {"zd_xuhui", "dd_xuhui", "pda_xuhui"}
    assert body["count"] == 3


def test_city_level_user_sees_every_district(api):
    body = api("lingdao").get("/api/v1/officer/?q=(page_size:100)").get_json()
    assert {"zd_xuhui", "zd_huangpu", "pda_chongming", "admin"} <= {row["username"] for row in body["result"]}


def test_other_districts_record_is_404_by_api_and_page(api, client, db_session):
    other = officer_id(db_session, "dd_huangpu")
    own = officer_id(db_session, "dd_xuhui")
    caller = api("zd_xuhui")
    assert caller.get(f"/api/v1/officer/{own}").status_code == 200
    response = caller.get(f"/api/v1/officer/{other}")
    assert response.status_code == 404
    assert "dd_huangpu" not in response.get_data(as_text=True)
    web_login(client, "zd_xuhui")
    page = client.get(f"/users/show/{other}")
    assert page.status_code == 404
    assert "dd_huangpu" not in page.get_data(as_text=True)


def test_scope_is_applied_to_every_query_not_only_views(app, db_session):
    with app.test_request_context():
        with scoped_as("/310000000000/310104000000/"):
            names = set(db_session.scalars(select(Officer.username)))
        assert names == {"zd_xuhui", "dd_xuhui", "pda_xuhui"}
        with scoped_as("/310000000000/310104000000/310104010000/"):
            assert set(db_session.scalars(select(Officer.username))) == {"dd_xuhui", "pda_xuhui"}


def test_brigade_user_sees_only_its_own_unit(app, db_session):
    with app.test_request_context():
        brigade = db_session.scalar(select(Officer).where(Officer.username == "dd_pudong")).department
        with scoped_as(brigade.path):
            assert set(db_session.scalars(select(Officer.username))) == {"dd_pudong", "pda_pudong"}
