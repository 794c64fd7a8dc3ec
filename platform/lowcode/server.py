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


def start_outbox_poller(app: Flask):
    from lowcode import outbox, pollers
    from lowcode.jobs import OUTBOX_INTERVAL_SECONDS

    return pollers.start(app, "outbox-poller", outbox.deliver_due, OUTBOX_INTERVAL_SECONDS)


def start_local_receiver(app: Flask) -> None:
    """The embedded default pushes feedback to the fake receiver: start it when the push address
    is a local one and nothing listens there yet."""
    from urllib.parse import urlsplit

    from connectors import fake_receiver

    address = urlsplit(app.config["FEEDBACK_PUSH_URL"])
    if address.hostname not in ("127.0.0.1", "localhost") or address.path != "/feedback":
        return
    try:
        fake_receiver.start(address.hostname, address.port or 80)
    except OSError:
        app.logger.info("fake receiver not started: %s is in use", address.netloc)
        return
    click.echo(f"  模拟接收方（非机动车道路交通管理信息系统）：{address.scheme}://{address.netloc}/received")


def serve(app: Flask, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    from lowcode import dashboard_rollups, process_tuning

    prepare(app)
    seed_activity(app)
    dashboard_rollups.refresh_due()
    if app.config["CELERY_EAGER"]:
        from lowcode.flow.timers import start_embedded_poller

        start_embedded_poller(app)
        start_outbox_poller(app)
        dashboard_rollups.start_embedded_poller(app)
        start_local_receiver(app)
    click.echo(banner(app))
    process_tuning.settle()
    waitress_serve(app, host=app.config["HOST"], port=app.config["PORT"], threads=threads, ident="lowcode")
