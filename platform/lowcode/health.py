"""/health: is the database reachable, and Redis when it is configured."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from lowcode.extensions import db

blueprint = Blueprint("health", __name__)


def check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # reported, not raised: /health must always answer
        return f"error: {exc.__class__.__name__}"


def check_redis() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


@blueprint.get("/health")
def health():
    checks = {"database": check_database(), "redis": check_redis()}
    healthy = all(v in ("ok", "not configured") for v in checks.values())
    return jsonify(status="ok" if healthy else "error", **checks), 200 if healthy else 503
