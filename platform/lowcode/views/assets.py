"""The parts of every page that depend on nothing of the request: Flask-AppBuilder's stylesheets and
scripts (as its init.html links them, then ours), its confirmation and alert dialogs and its footer,
made once per script root and language instead of some forty url_for calls and includes a page."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

FAB_CSS = ("css/bootstrap.min.css", "css/fontawesome/fontawesome.min.css", "css/fontawesome/regular.min.css",
           "css/fontawesome/solid.min.css", "css/fontawesome/brands.min.css", "css/fontawesome/v4-shims.min.css",
           "css/bootstrap-datepicker/bootstrap-datepicker3.min.css", "css/select2/select2.min.css",
           "css/select2/select2-bootstrap.min.css", "css/flags/flags16.css", "css/ab.css")
OUR_CSS = ("lowcode.css", "forms/forms.css")
FAB_HEAD_JS = ("js/jquery-latest.js", "js/ab_filters.js", "js/ab_actions.js")
FAB_TAIL_JS = ("js/bootstrap.min.js", "js/bootstrap-datepicker/bootstrap-datepicker.min.js",
               "js/select2/select2.min.js", "js/ab.js")


@dataclass(frozen=True)
class PageAssets:
    css: Markup
    head_js: tuple[str, ...]
    tail_js: tuple[str, ...]
    lowcode_js: str
    modals: Markup
    footer: Markup


def _made() -> PageAssets:
    fab = [url_for("appbuilder.static", filename=name) for name in FAB_CSS]
    ours = [url_for("static", filename=name) for name in OUR_CSS]
    css = Markup("\n").join(Markup('<link href="{}" rel="stylesheet">').format(href) for href in fab + ours)
    return PageAssets(
        css=css,
        head_js=tuple(url_for("appbuilder.static", filename=name) for name in FAB_HEAD_JS),
        tail_js=tuple(url_for("appbuilder.static", filename=name) for name in FAB_TAIL_JS),
        lowcode_js=url_for("static", filename="lowcode.js"),
        modals=Markup(render_template("appbuilder/general/confirm.html") + render_template("appbuilder/general/alert.html")),
        footer=Markup(render_template("appbuilder/footer.html")))


def page_assets() -> PageAssets:
    made = current_app.extensions.setdefault("lowcode_page_assets", {})
    key = (request.script_root, str(get_locale()))   # links are rooted, the dialogs' words translated
    if key not in made:
        made[key] = _made()
    return made[key]
