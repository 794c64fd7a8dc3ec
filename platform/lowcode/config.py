"""Configuration from the environment, with an embedded default that needs no services."""
from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from connectors.feedback_push import DEFAULT_URL as DEFAULT_PUSH_URL

REPO_ROOT = Path(__file__).resolve().parents[2]


def _instance_path(env) -> Path:
    return Path(env.get("LOWCODE_INSTANCE_PATH") or REPO_ROOT / "instance")


def _secret_key(env, instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if env.get("SECRET_KEY"):
        return env["SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config(env=None) -> dict:
    """Return the Flask configuration; reads the environment only when called."""
    env = os.environ if env is None else env
    instance = _instance_path(env)
    redis_url = env.get("REDIS_URL") or None
    return {
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{instance / 'lowcode.db'}",
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "REDIS_URL": redis_url,
        # Without Redis, Celery runs tasks in-process and a built-in thread polls timers.
        "CELERY_EAGER": redis_url is None,
        "SECRET_KEY": _secret_key(env, instance),
        "STORAGE_PATH": env.get("STORAGE_PATH") or str(instance / "files"),
        "DEFINITIONS_PATH": env.get("DEFINITIONS_PATH") or str(REPO_ROOT / "definitions"),
        "DEMO_PASSWORD": env.get("DEMO_PASSWORD") or "Demo@2026",
        # How many demo clues `make run` works through the processes on its first start.
        "DEMO_CLUES": int(env.get("DEMO_CLUES") or 300),
        "HOST": env.get("LOWCODE_HOST") or "127.0.0.1",
        "PORT": int(env.get("LOWCODE_PORT") or 8080),
        "LOG_LEVEL": env.get("LOG_LEVEL") or "INFO",
        # Feedback push (outbox): where, how often, how long to wait between tries.
        "FEEDBACK_PUSH_URL": env.get("FEEDBACK_PUSH_URL") or DEFAULT_PUSH_URL,
        "OUTBOX_MAX_ATTEMPTS": int(env.get("OUTBOX_MAX_ATTEMPTS") or 8),
        "OUTBOX_BACKOFF_SECONDS": float(env.get("OUTBOX_BACKOFF_SECONDS") or 30),
        "OUTBOX_BACKOFF_CAP_SECONDS": float(env.get("OUTBOX_BACKOFF_CAP_SECONDS") or 3600),
        "OUTBOX_TIMEOUT_SECONDS": float(env.get("OUTBOX_TIMEOUT_SECONDS") or 10),
        # Keys (lowcode.keyring): unset means generated once under instance/keys/.
        "MASTER_KEY": env.get("LOWCODE_MASTER_KEY") or None,
        "MASTER_KEY_FILE": env.get("LOWCODE_MASTER_KEY_FILE") or None,
        "SIGNING_KEY_FILE": env.get("LOWCODE_SIGNING_KEY_FILE") or None,
        "SIGNER_ID": env.get("LOWCODE_SIGNER_ID") or "lowcode-platform",
        "AUDIT_CHECKPOINT_EVERY": int(env.get("LOWCODE_AUDIT_CHECKPOINT_EVERY") or 500),
        # Production verifies the signature of every definition file when a tree is loaded.
        "LOWCODE_ENV": env.get("LOWCODE_ENV") or "development",
        **_access_settings(env),
    }


def engine_options(database_uri: str) -> dict:
    """SQLAlchemy engine options for the database at `database_uri`. PostgreSQL sessions run
    without parallel workers and JIT: a page's queries take milliseconds, which starting workers
    or compiling a plan would exceed, taking the cores other requests are waiting for."""
    if not database_uri.startswith("postgresql"):
        return {}
    return {"connect_args": {"options": "-c max_parallel_workers_per_gather=0 -c jit=off"}}


def _access_settings(env) -> dict:
    """Lockout, session and cookie settings, and rate limits ("<count>/<second|minute|hour>")."""
    https = env.get("LOWCODE_HTTPS", "") in ("1", "true", "yes")
    return {
        "LOGIN_LOCKOUT_ATTEMPTS": int(env.get("LOGIN_LOCKOUT_ATTEMPTS") or 5),
        "LOGIN_LOCKOUT_MINUTES": int(env.get("LOGIN_LOCKOUT_MINUTES") or 15),
        # Flask re-signs the session cookie on every request and refuses one older than this.
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(minutes=int(env.get("SESSION_IDLE_MINUTES") or 30)),
        "HTTPS": https,
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_SECURE": https,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT") or "20/minute",
        "INTAKE_RATE_LIMIT": env.get("INTAKE_RATE_LIMIT") or "300/minute",
    }
