"""The string formats of the form subset and the jsonschema FormatChecker that checks them.

jsonschema checks `format` only with a FormatChecker; this one knows exactly our formats, so a
format outside the subset can never be checked by accident with a library's looser meaning.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from jsonschema import FormatChecker

# GB 11643-1999: weights of the first 17 digits; the check character is CHECK[sum % 11].
ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CARD_CHECK = "10X98765432"
# GB 32100-2015: 31 characters (no I, O, Z, S, V), weights 3^i mod 31, check = 31 - sum % 31.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?")
# What <input type="datetime-local"> sends (no seconds, no offset) up to full RFC 3339.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#]+\S*")
_ID_CARD = re.compile(r"\d{17}[\dX]")
ATTACHMENT_ID = re.compile(r"[0-9a-f]{32}")


def is_date(value: str) -> bool:
    return _valid(_DATE, value, dt.date.fromisoformat)


def is_time(value: str) -> bool:
    return _valid(_TIME, value, dt.time.fromisoformat)


def is_date_time(value: str) -> bool:
    return _valid(_DATE_TIME, value, dt.datetime.fromisoformat)


def is_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


def is_mobile(value: str) -> bool:
    return _MOBILE.fullmatch(value) is not None


def is_uri(value: str) -> bool:
    return _URI.fullmatch(value) is not None


def is_id_card(value: str) -> bool:
    """An 18-digit 居民身份证号码: a real birth date and the right check character."""
    if _ID_CARD.fullmatch(value) is None or not is_date(f"{value[6:10]}-{value[10:12]}-{value[12:14]}"):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], ID_CARD_WEIGHTS))
    return ID_CARD_CHECK[total % 11] == value[17]


def is_uscc(value: str) -> bool:
    """An 18-character 统一社会信用代码 with the right check character."""
    if len(value) != 18 or any(char not in USCC_CHARSET for char in value):
        return False
    total = sum(USCC_CHARSET.index(char) * weight for char, weight in zip(value[:17], USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31] == value[17]


def is_attachment_id(value: str) -> bool:
    """An attachment is stored by id; the form data holds the id, never the file."""
    return ATTACHMENT_ID.fullmatch(value) is not None


def _valid(pattern: re.Pattern, value: str, parse: Callable[[str], object]) -> bool:
    if pattern.fullmatch(value) is None:
        return False
    try:
        parse(value)
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[str], bool]] = {
    "date": is_date, "date-time": is_date_time, "time": is_time, "email": is_email, "mobile": is_mobile,
    "id-card": is_id_card, "uscc": is_uscc, "uri": is_uri, "attachment": is_attachment_id,
}


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, check in FORMATS.items():
        # A format says nothing about non-strings: their type is the `type` keyword's business.
        checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
    return checker
