"""Values read with the signed-in officer at the start of a request, kept for the rest of it. They
live in the WSGI environ, not in `g`: an app context (and so `g`) may outlive one request."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request

MISSING = object()


def remember(name: str, user_id: int, value: Any) -> None:
    if has_request_context():
        request.environ[f"lowcode.{name}"] = (user_id, value)


def recall(name: str, user_id: int) -> Any:
    """The value remembered for this officer in this request, else MISSING."""
    known = request.environ.get(f"lowcode.{name}") if has_request_context() else None
    return known[1] if known is not None and known[0] == user_id else MISSING


def forget(name: str) -> None:
    if has_request_context():
        request.environ.pop(f"lowcode.{name}", None)
