"""A stand-in for the 非机动车道路交通管理信息系统's feedback endpoint, for the demo and the tests.

It keeps what it receives (once per idempotency key: repeats are answered as duplicates), counts
every POST, and can be told to fail the next N requests:

    POST /feedback           a pushed message (Idempotency-Key header) → 200 accepted | duplicate
    GET  /received           what it kept, in arrival order, and the POST count per key
    POST /fail?times=N       answer the next N pushes with 503
"""
from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs

from werkzeug.serving import make_server

from connectors.feedback_push import KEY_HEADER

# What a signed push carries (lowcode.signatures): kept with each message for the peer to verify.
SIGNATURE_HEADERS = ("X-Signer-Id", "X-Timestamp", "X-Nonce", "X-Signature")


class Receiver:
    def __init__(self):
        self.lock = threading.Lock()
        self.received: dict[str, dict] = {}
        self.posts: dict[str, int] = {}
        self.fail_next = 0

    def take(self, key: str, message: dict, signature: dict | None, body: bytes = b"") -> tuple[str, str]:
        with self.lock:
            self.posts[key] = self.posts.get(key, 0) + 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return "503 Service Unavailable", "temporarily failing"
            if key in self.received:
                return "200 OK", "duplicate"
            self.received[key] = {"message": message, "signature": signature, "body": body.decode("utf-8")}
            return "200 OK", "accepted"


def make_app(receiver: Receiver):
    def app(environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")

        def answer(status: str, body: dict):
            data = json.dumps(body, ensure_ascii=False).encode()
            start_response(status, [("Content-Type", "application/json; charset=utf-8"),
                                    ("Content-Length", str(len(data)))])
            return [data]

        if method == "POST" and path == "/feedback":
            key = environ.get("HTTP_" + KEY_HEADER.upper().replace("-", "_"))
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length)
                message = json.loads(body)
            except ValueError:
                return answer("400 Bad Request", {"error": "body is not JSON"})
            if not key or message.get("idempotency_key") != key:
                return answer("400 Bad Request", {"error": "missing or mismatched Idempotency-Key"})
            signature = {h: environ["HTTP_" + h.upper().replace("-", "_")] for h in SIGNATURE_HEADERS
                         if "HTTP_" + h.upper().replace("-", "_") in environ}
            status, outcome = receiver.take(key, message, signature or None, body)
            return answer(status, {"status": outcome})
        if method == "GET" and path == "/received":
            with receiver.lock:
                return answer("200 OK", {"received": list(receiver.received.values()), "posts": dict(receiver.posts)})
        if method == "POST" and path == "/fail":
            times = parse_qs(environ.get("QUERY_STRING", "")).get("times", ["1"])[0]
            with receiver.lock:
                receiver.fail_next = int(times) if times.isdigit() else 1
            return answer("200 OK", {"fail_next": receiver.fail_next})
        return answer("404 Not Found", {"error": "no such endpoint"})

    return app


def start(host: str = "127.0.0.1", port: int = 0, receiver: Receiver | None = None):
    """Serve in a daemon thread; returns (server, receiver). Port 0 picks a free port."""
    receiver = receiver or Receiver()
    server = make_server(host, port, make_app(receiver), threaded=True)
    threading.Thread(target=server.serve_forever, name="fake-receiver", daemon=True).start()
    return server, receiver
