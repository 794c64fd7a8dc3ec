"""A JSON request body and, when it is a batch (an object whose "items" member is an array), the
text of each item exactly as sent. Parsed once: the items are decoded one by one where they
stand, so each keeps its own span of the body (what intake stores verbatim) instead of being
encoded again from the decoded values."""
from __future__ import annotations

import json
import re
from json.decoder import scanstring
from typing import Any

_DECODE = json.JSONDecoder().raw_decode
_SPACE = re.compile(r"[ \t\n\r]*")


def split(text: str) -> tuple[Any, list[Any] | None, list[str] | None]:
    """(the document, its items, their texts); the items and texts are None unless the document is
    a batch. Raises ValueError (json.JSONDecodeError) on malformed JSON."""
    start = _skip(text, 0)
    if not text.startswith("{", start):
        return json.loads(text), None, None
    members, items, texts = {}, None, None
    at = _skip(text, start + 1)
    while not (not members and text.startswith("}", at)):
        if not text.startswith('"', at):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, at)
        key, at = scanstring(text, at + 1)
        at = _skip(text, _expect(text, _skip(text, at), ":"))
        if key == "items" and text.startswith("[", at):
            items, texts, at = _array(text, at)
            members[key] = items
        else:
            members[key], at = _DECODE(text, at)
        at = _skip(text, at)
        if not text.startswith(",", at):
            break
        at = _skip(text, at + 1)
    at = _expect(text, at, "}")
    if _skip(text, at) != len(text):
        raise json.JSONDecodeError("Extra data", text, _skip(text, at))
    if items is None or members["items"] is not items:  # no "items" array (the last of a repeated key counts)
        return members, None, None
    return members, items, texts


def _array(text: str, at: int) -> tuple[list[Any], list[str], int]:
    items, texts = [], []
    at = _skip(text, at + 1)
    if text.startswith("]", at):
        return items, texts, at + 1
    while True:
        value, end = _DECODE(text, at)
        items.append(value)
        texts.append(text[at:end])
        at = _skip(text, end)
        if text.startswith(",", at):
            at = _skip(text, at + 1)
            continue
        return items, texts, _expect(text, at, "]")


def _skip(text: str, at: int) -> int:
    return _SPACE.match(text, at).end()


def _expect(text: str, at: int, character: str) -> int:
    if not text.startswith(character, at):
        raise json.JSONDecodeError(f"Expecting '{character}' delimiter", text, at)
    return at + 1
