"""Deny by default: an anonymous request reaches only the endpoints named here.

Every view also checks its own permission; this gate is the net under them, so a route added
without a permission check (or one of Flask-AppBuilder's that checks inside, like `action`) is
still closed to anyone not signed in. A new public endpoint must be added here on purpose.
"""
from __future__ import annotations

from flask import redirect, request

PUBLIC_ENDPOINTS = frozenset({
    "PlatformAuthDBView.login", "PlatformAuthDBView.logout",
    "SecurityApi.login", "SecurityApi.refresh",  # the API's own token login
    "WarningsApi.receive", "EntityApi.sync",  # authenticated by the caller's API key
    "health.health", "static", "appbuilder.static",
    "HomeView.index",  # anonymous: only a link to the login page
    "LocaleView.index", "UtilView.back",  # redirects that show no data
})


def refuse_anonymous():
    """The answer to an anonymous request for a non-public endpoint; None lets it through."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None  # unknown URLs get their 404 / 405
    if request.path.startswith("/api/"):
        from lowcode.errors import respond

        return respond(401)
    from lowcode.extensions import appbuilder

    return redirect(appbuilder.get_url_for_login_with(request.full_path))
