"""`lowcode serve`: the embedded default, from an empty folder to a running, populated system."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from lowcode import bootstrap, migrate
from lowcode.extensions import db
from lowcode.models import Officer


def prepare(app: Flask) -> None:
    """Migrate, then load definitions and demo data once; safe to call on every start."""
    migrate.upgrade(app.config["SQLALCHEMY_DATABASE_URI"])
    bootstrap.sync_permissions()
    bootstrap.load_definitions(Path(app.config["DEFINITIONS_PATH"]), only_unpublished=True)
    if db.session.scalar(select(Officer.id).limit(1)) is None:
        bootstrap.seed_demo_users(app.config["DEMO_PASSWORD"])


def banner(app: Flask) -> str:
    address = f"http://{app.config['HOST']}:{app.config['PORT']}/"
    logins = [(a["username"], a["role"], a["department"].name) for a in bootstrap.demo_accounts()]
    lines = [
        "",
        f"  {app.config['APP_NAME']} 已启动：{address}",
        f"  演示账号（密码均为 {app.config['DEMO_PASSWORD']}）：",
    ]
    lines += [f"    {u:<16} {r:<10} {d}" for u, r, d in logins[:7]]
    lines.append(f"    …… 共 {len(logins)} 个：每个区有 zd_/dd_/pda_ 加区名拼音，如 zd_xuhui、dd_pudong、pda_minhang")
    return "\n".join(lines) + "\n"


def seed_activity(app: Flask) -> None:
    """The demo's clues and tasks, once, with progress: the first start takes a minute or two."""
    from lowcode import demo_activity

    def progress(done: int, total: int) -> None:
        if done == 1 or done % 25 == 0 or done == total:
            click.echo(f"  正在生成演示业务数据：{done}/{total} 条线索", err=True)

    demo_activity.seed(app.config["DEMO_CLUES"], progress=progress)


def serve(app: Flask, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    prepare(app)
    seed_activity(app)
    if app.config["CELERY_EAGER"]:
        from lowcode.flow.timers import start_embedded_poller

        start_embedded_poller(app)
    click.echo(banner(app))
    waitress_serve(app, host=app.config["HOST"], port=app.config["PORT"], threads=threads, ident="lowcode")
