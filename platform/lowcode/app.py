"""The application factory."""
from __future__ import annotations

import logging
from typing import Optional

from flask import Flask, g, request
from flask_appbuilder.const import AUTH_DB
from flask_wtf.csrf import CSRFProtect

from lowcode import audit, errors, gate, http_security, ratelimit, read_only_commit, scoping, sqlite_settings
from lowcode.config import engine_options, load_config
from lowcode.extensions import appbuilder, db
from lowcode.jobs import make_celery
from lowcode.security import check_password

APP_NAME = "交管执法业务平台"


def _fab_settings() -> dict:
    return {
        "APP_NAME": APP_NAME,
        "APP_THEME": "",
        "AUTH_TYPE": AUTH_DB,
        "AUTH_ROLE_ADMIN": "系统管理员",
        "AUTH_ROLE_PUBLIC": "匿名",
        "AUTH_USER_REGISTRATION": False,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh": {"flag": "cn", "name": "简体中文"}},
        "FAB_INDEX_VIEW": "lowcode.views.home.HomeView",
        "FAB_BASE_TEMPLATE": "lowcode/base.html",
        "FAB_SECURITY_MANAGER_CLASS": "lowcode.security.PlatformSecurityManager",
        # Alembic owns the schema; Flask-AppBuilder must never create tables by itself.
        "FAB_CREATE_DB": False,
        "FAB_UPDATE_PERMS": False,
        "FAB_API_SWAGGER_UI": True,
        "FAB_ADD_SECURITY_API": False,
        "FAB_OPENAPI_SERVERS": [{"url": "/"}],
        "FAB_API_MAX_PAGE_SIZE": 100,
        "WTF_CSRF_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "FAB_PASSWORD_COMPLEXITY_ENABLED": True,
        "FAB_PASSWORD_COMPLEXITY_VALIDATOR": check_password,
    }


def create_app(overrides: Optional[dict] = None) -> Flask:
    config = load_config()
    if overrides:
        config.update(overrides)
    app = Flask(__name__, instance_path=config["INSTANCE_PATH"])
    app.config.update(_fab_settings())
    app.config.update(config)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)
    logging.getLogger("spiff").setLevel(logging.WARNING)  # it logs every task state change

    sqlite_settings.install()
    read_only_commit.install()
    db.init_app(app)
    CSRFProtect(app)  # every form post; the REST API (token-authenticated) is exempted by its views
    scoping.install()
    audit.install()
    with app.app_context():
        appbuilder.init_app(app, db.session)
        from lowcode import views

        views.register()

    from lowcode.health import blueprint as health_blueprint
    from lowcode.vendor import blueprint as vendor_blueprint

    app.register_blueprint(health_blueprint)
    app.register_blueprint(vendor_blueprint)
    errors.register(app)
    http_security.install(app)
    ratelimit.install(app)
    make_celery(app)
    app.before_request(_bind_request)
    app.after_request(_tag_response)
    return app


def _bind_request() -> None:
    """Fix who is acting and what they may see, once per request, before any view runs."""
    # Nothing of an earlier request may leak in (an app context can outlive one request).
    for key in ("data_scope", "scope_owners", "audit_actor", "request_id", "current_releases"):
        g.pop(key, None)
    audit.request_id()
    user = _authenticated_user()
    if user is None:
        return gate.refuse_anonymous()
    audit.set_actor(user)
    scoping.set_scope(scoping.prefix_for(user))


def _authenticated_user():
    user = g.get("user")
    if user is not None and user.is_authenticated:
        return user
    if request.headers.get("Authorization", "").startswith("Bearer "):
        from flask_jwt_extended import current_user, verify_jwt_in_request

        try:
            verify_jwt_in_request(optional=True)
        except Exception:  # an invalid token is answered by the view's own @protect
            return None
        return current_user if current_user else None
    return None


def _tag_response(response):
    response.headers["X-Request-ID"] = audit.request_id() or ""
    return response
