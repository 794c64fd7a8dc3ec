"""HTML of a form: the web renderer (Bootstrap 3, as Flask-AppBuilder looks), the read-only summary,
and the shared machinery another renderer (pda_renderer) plugs its own layout and template into.

The HTML carries what static/forms/*.js needs: input names are data paths, each object's
conditions travel as data-rules, groups carry a row template. It is a fragment: the host wraps it
in its <form> with its own action, CSRF token and buttons.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader
from markupsafe import Markup

from . import slots
from .fields import Field, option_key
from .form import Errors, Form

WIDE_KINDS = {"object", "group", "choices", "attachment", "attachments"}


@dataclass(frozen=True)
class Layout:
    name: str               # CSS class of the form body: lc-<name>
    columns: int            # default columns of an object's grid
    max_columns: int        # a handheld keeps one column whatever ui:columns says
    inline_options: bool    # radios and checkboxes side by side

    def columns_of(self, field: Field) -> int:
        return min(field.columns or self.columns, self.max_columns)


WEB = Layout("web", columns=2, max_columns=4, inline_options=True)


@dataclass(frozen=True)
class AttachmentView:
    """What a page shows of a stored attachment; the host supplies it (and the URL)."""

    id: str
    name: str
    content_type: str
    size: int
    url: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")


Attachments = Mapping[str, AttachmentView]


def make_environment(*loaders: BaseLoader) -> Environment:
    """A template environment seeing `loaders` first, then the forms templates; built once."""
    environment = Environment(loader=ChoiceLoader([*loaders, PackageLoader("forms", "templates")]),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(option_key=option_key, filesize=filesize, local_date_time=local_date_time)
    environment.globals.update(wide=is_wide)
    return environment


def render(environment: Environment, template: str, layout: Layout, form: Form, data: Any,
           errors: Errors | None = None, attachments: Attachments | None = None) -> Markup:
    errors = errors or {}
    root = slots.build(form.root, data, errors)
    order = {path: index for index, path in enumerate(slots.paths_in_order(root))} if errors else {}
    error_list = [(slots.anchor_of(path), label_of(form, path), message)
                  for path, messages in sorted(errors.items(), key=lambda item: order.get(item[0], -1))
                  for message in messages]
    html = environment.get_template(template).render(
        form=form, root=root, panels=slots.panels(root), layout=layout, attachments=attachments or {},
        error_list=error_list)
    return Markup(html)


def render_web(form: Form, data: Any, errors: Errors | None = None, attachments: Attachments | None = None) -> Markup:
    """The fill-in form for a desktop browser."""
    return render(ENVIRONMENT, "forms/web.html", WEB, form, data, errors, attachments)


def render_summary(form: Form, data: Any, attachments: Attachments | None = None) -> Markup:
    """The read-only rendering of submitted data, for detail pages and timelines."""
    return render(ENVIRONMENT, "forms/summary.html", WEB, form, data, None, attachments)


def render_attachment(path: str, attachment: AttachmentView) -> Markup:
    """One uploaded attachment as it sits in its field: what the upload endpoint returns to the page."""
    template = ENVIRONMENT.get_template("forms/controls.html")
    return Markup(template.module.attachment_item(path, attachment.id, attachment, False))


def label_of(form: Form, path: str) -> str:
    """"检查基本信息 › 检查人员 › 第 2 项 › 姓名" for "inspection.inspectors.1.name"."""
    labels, field = [], form.root
    for part in path.split(".") if path else []:
        if field.kind == "group" and part.isdigit():
            labels.append(f"第 {int(part) + 1} 项")
            field = field.item
        elif part in field.child:
            field = field.child[part]
            labels.append(field.title)
        else:
            break
    return " › ".join(labels) or form.title


def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    return f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def local_date_time(value: Any) -> Any:
    """What <input type="datetime-local"> can show: the wall-clock part without an offset."""
    return value[:19] if isinstance(value, str) and len(value) > 19 else value


def is_wide(field: Field) -> bool:
    return field.kind in WIDE_KINDS or field.widget == "textarea"


ENVIRONMENT = make_environment()
