"""Browser-facing hardening: security headers with a per-request script nonce, and the idle
session timeout.

Scripts run only from our own origin or, inline, with this request's nonce: Flask-AppBuilder's
templates already put `nonce="{{ csp_nonce() }}"` on their inline scripts when a `csp_nonce`
global exists, and ours have no inline script at all. Inline *styles* stay allowed: Flask-AppBuilder's
markup uses style attributes, and a style cannot run code.
"""
from __future__ import annotations

import secrets

from flask import Flask, abort, current_app, g, request, session

CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
}


def csp_nonce() -> str:
    """This request's script nonce, made when a template first asks for it."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _start_request() -> None:
    g.pop("csp_nonce", None)  # an app context can outlive one request (tests)
    # A permanent session's cookie is re-signed on every request and refused by Flask once older
    # than PERMANENT_SESSION_LIFETIME: that makes it an idle timeout, enforced on the server.
    if session and not session.permanent:
        session.permanent = True


def _refuse_nul() -> None:
    """A NUL character has no business in a URL or a form, and PostgreSQL refuses it in any
    string: answer 400 here rather than fail deep in a query."""
    values = [request.path, *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += request.form.values()
    if any("\x00" in value for value in values):
        abort(400)


def _session_api_write_needs_token() -> None:
    """The REST API is exempt from CSRF because its callers send a token, but the workflow and
    officer APIs also accept a signed-in browser's session cookie: such a write must then carry
    the page's CSRF token (X-CSRFToken) like any form."""
    if (request.method in ("POST", "PUT", "PATCH", "DELETE") and request.path.startswith("/api/")
            and "_user_id" in session
            and not (request.headers.get("Authorization") or request.headers.get("X-API-Key"))):
        current_app.extensions["csrf"].protect()


def _add_headers(response):
    response.headers["Content-Security-Policy"] = CSP.format(nonce=csp_nonce())
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure or current_app.config["HTTPS"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def install(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.before_request(_start_request)
    app.before_request(_refuse_nul)
    app.before_request(_session_api_write_needs_token)
    app.after_request(_add_headers)
