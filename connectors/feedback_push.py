"""Feedback push to the 非机动车道路交通管理信息系统: the message built from a mapping the caller
takes from its definitions, and one delivery attempt over HTTP. No retries here: the caller's
outbox decides when to try again (`backoff_seconds`), so an attempt is one short request."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

# The local fake receiver (`lowcode fake-receiver`), so the embedded default pushes somewhere real.
DEFAULT_URL = "http://127.0.0.1:8091/feedback"
KEY_HEADER = "Idempotency-Key"
# (body, path) → the signature headers (SM2 over the method, path, time, nonce and exact body bytes).
Signer = Callable[[bytes, str], Mapping[str, str]]


class DeliveryFailed(Exception):
    """The receiver did not confirm the message; the message says why."""


def value_at(context: Mapping[str, Any], path: str) -> Any:
    """`a.b.c` looked up in nested mappings; None where the path leads nowhere."""
    node: Any = context
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def build_message(fields: Mapping[str, str], context: Mapping[str, Any], key: str) -> dict:
    """The message: each field of the mapping filled from its path in `context`."""
    return {"idempotency_key": key, "data": {name: value_at(context, path) for name, path in fields.items()}}


def encode(message: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): sorted keys, UTF-8, no ASCII escapes."""
    return json.dumps(message, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def deliver(url: str, message: Mapping[str, Any], *, timeout: float = 10.0, signer: Signer | None = None) -> int:
    """POST the message once; returns the HTTP status of a 2xx answer, raises DeliveryFailed otherwise."""
    body = encode(message)
    headers = {"Content-Type": "application/json; charset=utf-8", KEY_HEADER: str(message["idempotency_key"])}
    if signer is not None:
        headers.update(signer(body, urlsplit(url).path or "/"))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"接收方返回 HTTP {error.code}：{error.read(200).decode('utf-8', 'replace')}") from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryFailed(f"无法连接接收方 {url}：{reason}") from error


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Wait before the next try after `attempts` failures: base, 2·base, 4·base, … up to cap."""
    return min(cap, base * 2 ** max(0, attempts - 1))
