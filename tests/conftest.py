"""Shared fixtures.

The suite runs on the embedded default (a SQLite file, Celery eager). With LOWCODE_TEST_SERVICES=1
it runs on the services named by TEST_DATABASE_URL (a fresh database is created on that server
and dropped afterwards) and TEST_REDIS_URL (a real Celery worker is started on it).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "Demo@2026"
# Access tokens live 15 minutes (flask-jwt-extended's default): fetched anew after 10.
TOKEN_REUSE_SECONDS = 600


def services_mode() -> bool:
    return os.environ.get("LOWCODE_TEST_SERVICES") == "1"


def _create_database(server_url: str) -> tuple[str, callable]:
    """A fresh, empty database on the server of `server_url`; returns its URL and a dropper."""
    url = make_url(server_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"lowcode_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ), {"n": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def empty_database_url(tmp_path_factory):
    """A factory of empty databases of the kind this run tests on."""
    droppers = []

    def make() -> str:
        if services_mode():
            url, drop = _create_database(os.environ["TEST_DATABASE_URL"])
            droppers.append(drop)
            return url
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'lowcode.db'}"

    yield make
    for drop in droppers:
        drop()


@pytest.fixture(scope="session")
def settings(empty_database_url, tmp_path_factory) -> dict:
    instance = tmp_path_factory.mktemp("instance")
    return {
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": empty_database_url(),
        "REDIS_URL": os.environ["TEST_REDIS_URL"] if services_mode() else None,
        "CELERY_EAGER": not services_mode(),
        "STORAGE_PATH": str(instance / "files"),
        "DEFINITIONS_PATH": str(ROOT / "definitions"),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "SECRET_KEY": "test-secret-key-of-a-sensible-length-0123456789",
        # The suite signs in far more often than a person could; tests of the limit lower it.
        "LOGIN_RATE_LIMIT": "100000/minute",
    }


@pytest.fixture(scope="session")
def app(settings):
    from lowcode.app import create_app
    from lowcode.server import prepare

    application = create_app(settings)
    with application.app_context():
        prepare(application)
    yield application


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def db_session(app):
    from lowcode.extensions import db

    with app.app_context():
        yield db.session
        db.session.rollback()


def csrf_token(html: str) -> str:
    for tag in re.findall(r"<(?:input|meta)[^>]*>", html):
        if 'name="csrf_token"' in tag or 'name="csrf-token"' in tag:
            return re.search(r'(?:value|content)="([^"]+)"', tag).group(1)
    raise AssertionError("no CSRF token on the page")


def web_login(client, username: str, password: str = DEMO_PASSWORD):
    page = client.get("/login/")
    response = client.post(
        "/login/",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture(scope="session")
def api_tokens(app):
    """JWT access tokens by username, fetched once (password hashing is deliberately slow) and
    again before they expire (15 minutes: a slow machine's suite takes longer)."""
    cache: dict[str, tuple[str, float]] = {}

    def token(username: str) -> str:
        if username not in cache or time.monotonic() - cache[username][1] > TOKEN_REUSE_SECONDS:
            response = app.test_client().post(
                "/api/v1/security/login",
                json={"username": username, "password": DEMO_PASSWORD, "provider": "db"},
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            cache[username] = response.get_json()["access_token"], time.monotonic()
        return cache[username][0]

    return token


@pytest.fixture()
def api(client, api_tokens):
    """api(username).get(path) etc.: the test client with that user's bearer token."""

    class Caller:
        def __init__(self, username: str):
            self.headers = {"Authorization": f"Bearer {api_tokens(username)}"}

        def __getattr__(self, method):
            def call(path, **kwargs):
                return getattr(client, method)(path, headers=self.headers, **kwargs)

            return call

    return Caller


@pytest.fixture(scope="session")
def live_server(app):
    """The application served over HTTP on a free local port, for the browser tests."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def celery_worker(app, settings):
    """A real Celery worker process on Redis in services mode; in-process (eager) otherwise."""
    if not services_mode():
        yield None
        return
    env = {
        **os.environ,
        "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": settings["REDIS_URL"],
        "LOWCODE_INSTANCE_PATH": settings["INSTANCE_PATH"],
        "SECRET_KEY": settings["SECRET_KEY"],
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "lowcode.cli", "worker", "--pool=solo", "--without-gossip", "--without-mingle"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    yield worker
    worker.terminate()
    worker.wait(timeout=20)


@pytest.fixture()
def receiver(app):
    """The fake 非机动车道路交通管理信息系统 on a free port, where this test's pushes go."""
    from connectors import fake_receiver

    server, state = fake_receiver.start("127.0.0.1", 0)
    previous = app.config["FEEDBACK_PUSH_URL"]
    app.config["FEEDBACK_PUSH_URL"] = f"http://127.0.0.1:{server.server_port}/feedback"
    yield state
    app.config["FEEDBACK_PUSH_URL"] = previous
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium (tests/browser.py), one per test module."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
