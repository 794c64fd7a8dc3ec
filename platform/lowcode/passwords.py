"""The password policy, one function used wherever a password is set: the officer pages, the
reset-password forms and the command line."""
from __future__ import annotations

from typing import Optional

from werkzeug.security import check_password_hash

MIN_LENGTH = 8
CLASSES = (
    ("大写字母", str.isupper),
    ("小写字母", str.islower),
    ("数字", str.isdigit),
    ("符号", lambda c: not c.isalnum() and not c.isspace()),
)


class PasswordRefused(ValueError):
    """The password breaks the policy; the message names every rule it breaks."""


def problems(password: str, username: str = "", current_hash: Optional[str] = None) -> list[str]:
    """Each rule the password breaks, in Chinese; empty when it may be used."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"密码长度不能少于 {MIN_LENGTH} 位")
    kinds = sum(1 for _, test in CLASSES if any(test(c) for c in password))
    if kinds < 3:
        found.append("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    if username and username.lower() in password.lower():
        found.append("密码不能包含登录名")
    if current_hash and check_password_hash(current_hash, password):
        found.append("新密码不能与当前密码相同")
    return found


def check(password: str, username: str = "", current_hash: Optional[str] = None) -> None:
    """Raise PasswordRefused naming the broken rules."""
    found = problems(password, username, current_hash)
    if found:
        raise PasswordRefused("；".join(found) + "。")
