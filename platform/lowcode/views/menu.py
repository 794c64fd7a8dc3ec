"""The navbar's menu, rendered once per set of visible entries: every page draws it, and its HTML
depends on nothing else (Flask-AppBuilder's template spent more on it than many a page's own body)."""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import get_locale
from markupsafe import Markup

from lowcode.extensions import appbuilder


def menu_html() -> Markup:
    """The menu as Flask-AppBuilder's template draws it for the signed-in user. The key is the set
    of entries the user may see (asked of the permissions as the template would ask), so a change
    of roles or permissions takes effect on the next page."""
    menu = appbuilder.menu
    names = {item.name for top in menu.get_list() for item in (top, *top.childs) if item and item.name != "-"}
    shown = appbuilder.sm.permitted("menu_access", names)
    rendered = current_app.extensions.setdefault("lowcode_menu", {})
    key = (shown, request.script_root, str(get_locale()))   # labels are translated, links rooted
    if key not in rendered:
        rendered[key] = Markup(render_template("appbuilder/navbar_menu.html", menu=menu))
    return rendered[key]
