"""The one command-line entry point: `lowcode <command>`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup

from lowcode.app import create_app
from lowcode.security_cli import COMMANDS as SECURITY_COMMANDS


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True)
def main() -> None:
    """交管执法业务平台命令行。"""


def _definitions_path(path: str | None) -> Path:
    return Path(path or current_app.config["DEFINITIONS_PATH"])


@main.command("migrate")
def migrate_command() -> None:
    """升级数据库结构到最新版本（含业务实体表），并同步权限。"""
    from lowcode import bootstrap, migrate

    migrate.upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    bootstrap.sync_permissions()
    for created in bootstrap.sync_entities():
        click.echo(f"已创建 {created}")
    click.echo("数据库已是最新版本。")


@main.command("load-definitions")
@click.argument("path", required=False)
def load_definitions_command(path: str | None) -> None:
    """校验并发布目录中有变化的定义包，然后应用组织机构与角色。"""
    from lowcode import bootstrap
    from lowcode.publishing import PublishRefused

    try:
        releases = bootstrap.load_definitions(_definitions_path(path))
    except PublishRefused as refused:
        for error in refused.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(str(refused))
    for release in releases:
        click.echo(f"已发布 {release.pack_code} 第 {release.number} 版。")
    click.echo("定义已加载。" if releases else "定义没有变化。")


@main.command("validate-definitions", with_appcontext=False)
@click.argument("path", required=False, default="definitions")
def validate_definitions(path: str) -> None:
    """校验定义目录（或单个定义包），有任何错误即以非零状态退出。"""
    from lowcode.definitions import validate_definitions_command

    sys.exit(validate_definitions_command(path))


@main.command("seed-demo")
def seed_demo_command() -> None:
    """创建演示账号（已存在的跳过）。"""
    from lowcode import bootstrap

    created = bootstrap.seed_demo_users(current_app.config["DEMO_PASSWORD"])
    click.echo(f"新建演示账号 {created} 个。")


@main.command("seed-activity")
@click.option("--count", default=300, show_default=True, help="线索条数")
@click.option("--seed", "seed_value", default=2026, show_default=True, help="随机种子（相同种子生成相同数据）")
def seed_activity_command(count: int, seed_value: int) -> None:
    """生成演示业务数据：预警、线索、任务按真实流程办理到各个环节（已有线索时跳过）。"""
    from lowcode import demo_activity

    made = demo_activity.seed(count, seed_value)
    click.echo(f"生成演示线索 {made} 条。" if made else "已有线索，未生成演示业务数据。")


@main.command("refresh-dashboards")
@click.option("--all", "everything", is_flag=True, help="不论是否到期，全部重新统计")
def refresh_dashboards_command(everything: bool) -> None:
    """重新统计到期的统计大屏面板和任务、线索统计（预汇总数据）。"""
    from lowcode import dashboard_rollups

    done = dashboard_rollups.refresh_due(force=everything)
    for panel, rows in done.items():
        click.echo(f"  {panel}：{rows} 行")
    click.echo(f"已统计面板 {len(done)} 个。")


@main.command("create-admin")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--last-name", default="管理")
@click.option("--first-name", default="员")
@click.option("--email", required=True)
def create_admin_command(username, password, last_name, first_name, email) -> None:
    """创建系统管理员账号。"""
    from lowcode import bootstrap, passwords

    try:
        bootstrap.create_admin(username, password, last_name, first_name, email)
    except passwords.PasswordRefused as refused:
        raise click.ClickException(f"密码不符合要求：{refused}") from None
    click.echo(f"系统管理员 {username} 已创建。")


@main.command("worker", context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker_command(celery_args) -> None:
    """启动 Celery worker（需要 REDIS_URL）。"""
    current_app.extensions["celery"].worker_main(["worker", "--loglevel=INFO", *celery_args])


@main.command("beat", context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat_command(celery_args) -> None:
    """启动 Celery beat 定时调度（需要 REDIS_URL）。"""
    current_app.extensions["celery"].start(["beat", "--loglevel=INFO", *celery_args])


@main.command("fake-receiver", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8091, show_default=True)
def fake_receiver_command(host: str, port: int) -> None:
    """启动模拟的非机动车道路交通管理信息系统反馈接收端（演示与测试用）。"""
    from connectors import fake_receiver
    from werkzeug.serving import make_server

    server = make_server(host, port, fake_receiver.make_app(fake_receiver.Receiver()), threaded=True)
    click.echo(f"模拟接收方已启动：http://{host}:{port}/feedback（GET /received 查看，POST /fail?times=N 模拟失败）")
    server.serve_forever()


@main.command("serve")
@click.option("--threads", default=8, show_default=True)
def serve_command(threads: int) -> None:
    """升级数据库、首次加载定义与演示数据，然后启动 Web 服务。"""
    from lowcode import server

    server.serve(current_app._get_current_object(), threads=threads)


for _command in SECURITY_COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    sys.exit(main())
