"""The command line: one entry point; `serve`'s preparation is idempotent and keeps data."""
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from lowcode.models import Department, Officer
from lowcode.server import prepare

ROOT = Path(__file__).resolve().parents[1]


def lowcode(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lowcode.cli", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)


def test_help_lists_every_command():
    result = lowcode("--help", env={})
    assert result.returncode == 0
    for command in ["migrate", "load-definitions", "seed-demo", "create-admin", "worker", "beat", "serve"]:
        assert command in result.stdout


def test_migrate_load_seed_and_create_admin_on_a_fresh_database(empty_database_url, tmp_path):
    env = {"DATABASE_URL": empty_database_url(), "LOWCODE_INSTANCE_PATH": str(tmp_path)}
    for args in (["migrate"], ["load-definitions"], ["seed-demo"],
                 ["create-admin", "--username", "chief", "--password", "Zongdui@2026x", "--email", "c@x.cn"]):
        result = lowcode(*args, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
    weak = lowcode("create-admin", "--username", "chief2", "--password", "chief2abc", "--email", "d@x.cn", env=env)
    assert weak.returncode != 0
    assert "密码不符合要求" in weak.stderr and "至少三类" in weak.stderr and "不能包含登录名" in weak.stderr
    again = lowcode("seed-demo", env=env)
    assert "新建演示账号 0 个" in again.stdout
    assert (tmp_path / "secret_key").exists()


def test_preparing_twice_keeps_the_data(app, db_session):
    count = lambda model: db_session.scalar(select(func.count(model.id)))  # noqa: E731
    officers, departments = count(Officer), count(Department)
    with app.app_context():
        prepare(app)
    assert (count(Officer), count(Department)) == (officers, departments)
    assert departments >= 1 + 16 * 3
