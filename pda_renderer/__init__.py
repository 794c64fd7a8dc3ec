"""The same forms on a handheld PDA (360 px wide, touch): one column of cards, choices stacked as
full-width tap targets, native camera capture, an index of the sections on top.

Controls, conditions, data paths and validation are the forms library's, so one definition gives
the web page and the PDA screen with the same rules; only the layout is this package's.
"""
from __future__ import annotations

from typing import Any

from jinja2 import PackageLoader
from markupsafe import Markup

from forms import Attachments, Errors, Form, Layout
from forms.rendering import make_environment, render

PDA = Layout("pda", columns=1, max_columns=1, inline_options=False)
_ENVIRONMENT = make_environment(PackageLoader("pda_renderer", "templates"))


def render_pda(form: Form, data: Any, errors: Errors | None = None, attachments: Attachments | None = None) -> Markup:
    """The fill-in form for the PDA; the host wraps it in its <form> and page."""
    return render(_ENVIRONMENT, "pda/form.html", PDA, form, data, errors, attachments)


__all__ = ["PDA", "render_pda"]
