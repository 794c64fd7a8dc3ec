"""Plausible answers for a compiled form: what a diligent officer would enter. Tests use them as
valid submissions; demo and benchmark data generators use them, seeded, for varied records.

Every field that can be answered is answered (so any conditional requirement is met), choices
are picked by the seeded generator (or the first one without it); attachments come from the
caller's `attach(field, path)`, which stores a file where the host keeps them and returns its id.
"""
from __future__ import annotations

import datetime as dt
import random
import struct
import zlib
from collections.abc import Callable
from typing import Any

from . import decoding
from .fields import Field
from .form import Form
from .formats import ID_CARD_CHECK, ID_CARD_WEIGHTS, USCC_CHARSET, USCC_WEIGHTS

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳敏静磊军洋勇艳杰涛明超霞平刚桂英华建国志强秀兰玉梅丽娟红海燕晓东俊文斌"
PHRASES = ("已核实情况属实，已按要求处置", "经现场检查，相关问题已当场整改", "已约谈负责人并责令限期整改",
           "已依法处罚并录入系统", "已开展安全教育培训并留存记录", "经复查整改到位，后续将持续跟踪")
# Shanghai district division codes: the first six digits of an ID number issued there.
DIVISIONS = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113", "310114",
             "310115", "310116", "310117", "310118", "310120", "310151")


Attach = Callable[[Field, str], str]


def example(form: Form, rng: random.Random | None = None, attach: Attach | None = None, **overrides) -> dict:
    """An answer to every field of `form`; `overrides` replace top-level answers."""
    answer = _value(form.root, _Context(rng, attach), "")
    answer.update(overrides)
    return answer


def png(width: int = 2, height: int = 2, shade: int = 0x80) -> bytes:
    """A real (grey) PNG image: what a camera attachment holds in tests and demo data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + bytes([shade]) * width * 3 for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def id_card(rng: random.Random | None = None, born: dt.date = dt.date(1990, 1, 1)) -> str:
    """An 18-digit 身份证号 with a correct check character."""
    rng = rng or random.Random(0)
    body = f"{rng.choice(DIVISIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ID_CARD_CHECK[sum(int(d) * w for d, w in zip(body, ID_CARD_WEIGHTS)) % 11]


def uscc(rng: random.Random | None = None) -> str:
    """An 18-character 统一社会信用代码 with a correct check character."""
    rng = rng or random.Random(0)
    body = "9131" + "0104" + "MA1" + "".join(rng.choice(USCC_CHARSET[:10] + "FGHJK") for _ in range(6))
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS))
    return body + USCC_CHARSET[(31 - total % 31) % 31]


def person_name(rng: random.Random | None = None) -> str:
    rng = rng or random.Random(0)
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def mobile(rng: random.Random | None = None) -> str:
    rng = rng or random.Random(0)
    return f"1{rng.choice('3589')}{rng.randrange(10 ** 9):09d}"


class _Context:
    def __init__(self, rng: random.Random | None, attach: Attach | None):
        self.rng, self.attach = rng, attach


def _pick(options, rng):
    return options[0] if rng is None else rng.choice(options)


def _value(field: Field, ctx: _Context, path: str) -> Any:
    rng = ctx.rng
    if field.read_only and field.kind != "object":
        return field.default
    if field.kind == "object":
        found = {child.name: _value(child, ctx, decoding.join(path, child.name)) for child in field.children}
        return {name: value for name, value in found.items() if value is not None}
    if field.kind == "group":
        return [_value(field.item, ctx, decoding.join(path, str(row))) for row in range(max(1, field.min_items))]
    if field.kind in ("attachment", "attachments"):
        if ctx.attach is None:
            return None
        if field.kind == "attachment":
            return ctx.attach(field, path)
        return [ctx.attach(field, path) for _ in range(max(1, field.min_items))]
    if field.kind == "choice":
        return _pick(field.options, rng).value
    if field.kind == "choices":
        count = max(1, field.min_items)
        chosen = field.options[:count] if rng is None else rng.sample(field.options, min(count, len(field.options)))
        return [option.value for option in chosen]
    if field.kind == "boolean":
        return True if rng is None else rng.random() < 0.8
    if field.examples:
        return _pick(field.examples, rng)
    if field.kind in ("number", "integer"):
        return _number(field, rng)
    return _text(field, rng)


def _number(field: Field, rng: random.Random | None):
    low = field.minimum if field.minimum is not None else 1
    high = field.maximum if field.maximum is not None else low + 100
    value = low if rng is None else rng.uniform(low, high)
    return int(round(value)) if field.kind == "integer" else round(value, 2)


def _text(field: Field, rng: random.Random | None) -> str:
    today = dt.date(2026, 11, 20) - dt.timedelta(days=rng.randrange(30) if rng else 0)
    by_format = {
        "date": lambda: today.isoformat(),
        "date-time": lambda: f"{today.isoformat()}T10:00:00+08:00",
        "time": lambda: "10:00",
        "email": lambda: "duty@police.sh.cn",
        "mobile": lambda: mobile(rng),
        "id-card": lambda: id_card(rng),
        "uscc": lambda: uscc(rng),
        "uri": lambda: "https://jtgl.sh.cn/records/1",
    }
    if field.format in by_format:
        return by_format[field.format]()
    if "姓名" in field.title or field.title.endswith("人"):
        return person_name(rng)
    return _pick(PHRASES, rng)
