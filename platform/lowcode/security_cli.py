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


COMMANDS = [verify_audit_command]
