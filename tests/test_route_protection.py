"""Every route of the application, enumerated from its URL map: none answers an anonymous caller,
and no state-changing page accepts a post without the CSRF token. A route added later is covered
without touching this file, and fails it if it is unprotected."""
import pytest

from tests.conftest import web_login

# Endpoints an anonymous caller may reach, and why.
PUBLIC = {
    "PlatformAuthDBView.login": "the login page",
    "PlatformAuthDBView.logout": "signing out needs no session",
    "SecurityApi.login": "the API's login",
    "SecurityApi.refresh": "needs a refresh token (401 without)",
    "health.health": "monitoring",
    "static": "our scripts and styles",
    "appbuilder.static": "Flask-AppBuilder's scripts and styles",
    "LocaleView.index": "switches the interface language, shows no data",
    "UtilView.back": "redirects to the previous page, shows no data",
    "WarningsApi.receive": "authenticated by API key (401 without), tested in test_intake",
    "EntityApi.sync": "authenticated by API key (401 without), tested in test_entities",
    "HomeView.index": "anonymous: only a link to the login page (checked below)",
}
WRITES = ("POST", "PUT", "PATCH", "DELETE")
DUMMY = {"integer": 1, "path": "nmv/none", "default": "none"}


def routes(app):
    for rule in app.url_map.iter_rules():
        values = {name: DUMMY.get(type(converter).__name__.replace("Converter", "").lower(), DUMMY["default"])
                  for name, converter in rule._converters.items()}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def refuses_anonymous(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 302 and "/login/" in response.headers["Location"]


def test_every_route_refuses_an_anonymous_caller(app, monkeypatch):
    # CSRF off, so that what refuses a post is the permission check and not the missing token.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    client = app.test_client()
    open_routes = []
    checked = 0
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC:
            continue
        response = client.open(url, method=method)
        checked += 1
        if not refuses_anonymous(response):
            open_routes.append(f"{method} {url} ({endpoint}) → {response.status_code}")
    assert checked > 100
    assert open_routes == []


def test_the_public_home_page_shows_nothing_but_the_way_in(client):
    body = client.get("/").get_data(as_text=True)
    assert "请先" in body and "/login/" in body and "管理端首页" not in body


def test_public_routes_still_exist(app):
    """A stale entry in PUBLIC would hide nothing, but would mislead the reader."""
    assert set(PUBLIC) <= {rule.endpoint for rule in app.url_map.iter_rules()}


def test_every_state_changing_page_refuses_a_post_without_the_csrf_token(app):
    client = app.test_client()
    web_login(client, "admin")
    accepted = []
    checked = 0
    for endpoint, method, url in routes(app):
        if method not in WRITES or url.startswith("/api/") or endpoint == "PlatformAuthDBView.login":
            continue
        response = client.open(url, method=method, data={"name": "x"})
        checked += 1
        if response.status_code != 400 or "安全令牌" not in response.get_data(as_text=True):
            accepted.append(f"{method} {url} ({endpoint}) → {response.status_code}")
    assert checked > 30
    assert accepted == []


def test_login_post_without_the_token_is_refused(app):
    response = app.test_client().post("/login/", data={"username": "admin", "password": "Demo@2026"})
    assert response.status_code == 400


@pytest.mark.parametrize("method, url", [("POST", "/api/v1/department/"), ("PUT", "/api/v1/officer/1"),
                                         ("POST", "/api/v1/workflow/work-items/1/submit")])
def test_api_write_with_only_a_session_cookie_needs_the_token(app, method, url):
    client = app.test_client()
    web_login(client, "admin")
    response = client.open(url, method=method, json={})
    assert response.status_code == 400 and "安全令牌" in response.get_json()["message"]
