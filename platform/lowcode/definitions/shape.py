"""Reading values out of documents that may have failed their meta-schema.

Cross-checks run on every file, valid or not, so that one typo does not hide the other problems;
these accessors return None or nothing where a value is missing or of the wrong type.
"""
from __future__ import annotations

from typing import Any


def member(node: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(node, dict) and isinstance(key, str):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return None
    return node


def text(node: Any, *path: str | int) -> str | None:
    value = member(node, *path)
    return value if isinstance(value, str) else None


def number(node: Any, *path: str | int) -> float | None:
    value = member(node, *path)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def objects(node: Any, *path: str | int) -> list[tuple[int, dict]]:
    """(index, item) for the items of a list that are objects."""
    value = member(node, *path)
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def texts(node: Any, *path: str | int) -> list[tuple[int, str]]:
    value = member(node, *path)
    return [(index, item) for index, item in enumerate(value) if isinstance(item, str)] if isinstance(value, list) else []
