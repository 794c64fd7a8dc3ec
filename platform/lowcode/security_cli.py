"""Commands of the security half: verify-audit, rotate-keys, backup, restore."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("verify-audit")
@click.option("--checkpoint", is_flag=True, help="通过后为当前链头签一个检查点。")
@with_appcontext
def verify_audit_command(checkpoint: bool) -> None:
    """校验审计日志的 HMAC-SM3 链与 SM2 检查点，指出第一个有问题的位置。"""
    from lowcode import audit_chain
    from lowcode.extensions import db

    with db.engine.begin() as connection:
        findings = audit_chain.verify(connection)
        if findings:
            for finding in findings:
                click.echo(f"[{finding.kind}] {finding.message}", err=True)
            raise click.ClickException(f"审计日志校验未通过：第一个问题在第 {findings[0].position} 条。")
        head = audit_chain.checkpoint_now(connection) if checkpoint else None
    click.echo("审计日志完整：链与检查点全部校验通过。" + (f"已在第 {head} 条签检查点。" if head else ""))


def _backup_step(step: str, path: str, refused_prefix: str = "") -> dict:
    """Run backup.backup or backup.restore on the application's database, storage and keys."""
    from pathlib import Path

    from flask import current_app

    from lowcode import backup, keyring

    try:
        return getattr(backup, step)(current_app.config["SQLALCHEMY_DATABASE_URI"],
                                     Path(current_app.config["STORAGE_PATH"]), path, keyring.keyring())
    except backup.BackupRefused as refused:
        raise click.ClickException(f"{refused_prefix}{refused}")


@click.command("backup")
@click.argument("path", type=click.Path())
@with_appcontext
def backup_command(path: str) -> None:
    """备份数据库全部表与附件到目录 PATH，并生成 SM3 清单。"""
    manifest = _backup_step("backup", path)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"已备份 {len(manifest['tables'])} 张表 {rows} 行、附件 {len(manifest['files'])} 个到 {path}。")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@with_appcontext
def restore_command(path: str) -> None:
    """校验备份 PATH 的清单与全部 SM3 后，恢复到空数据库与附件目录。"""
    manifest = _backup_step("restore", path, "拒绝恢复：")
    click.echo(f"已从 {path} 恢复 {len(manifest['tables'])} 张表、附件 {len(manifest['files'])} 个。")


@click.command("rotate-keys")
@click.option("--new-key", is_flag=True, help="先在内置密钥目录生成新主密钥并设为当前密钥。")
@click.option("--batch", default=500, show_default=True, help="每批重新加密的行数。")
@with_appcontext
def rotate_keys_command(new_key: bool, batch: int) -> None:
    """用当前主密钥重新加密全部加密列并重建盲索引（分批、可续跑、留审计）。"""
    from flask import current_app

    from lowcode import keyring, rotation
    from lowcode.crypto import keys

    if new_key:
        if current_app.config.get("MASTER_KEY") or current_app.config.get("MASTER_KEY_FILE"):
            raise click.ClickException("主密钥来自环境变量或密钥文件：请在那里把新密钥放在第一位，再运行本命令")
        click.echo(f"已生成新主密钥 {keys.rotate_master_key(current_app.config['INSTANCE_PATH'])}。")
        keyring.reset()
    click.echo(f"当前主密钥：{keyring.keyring().current_id}")
    for column, count in rotation.rotate_all(batch=batch).items():
        click.echo(f"{column}：重新加密 {count} 行")
    click.echo("完成。旧密钥仍保留用于校验旧的审计记录与备份，请勿删除。")


COMMANDS = [verify_audit_command, backup_command, restore_command, rotate_keys_command]
