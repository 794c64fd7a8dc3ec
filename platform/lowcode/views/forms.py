"""表单: the forms of the definitions in force, filled in on the web (/forms/...) or on the PDA
(/pda/forms/...), with drafts, attachments and the submissions they produce.

Every form of every pack is reachable here, so 业务管理员 can preview a checklist and officers can
fill one in before the workflow pages exist; the workflow's user tasks reuse form_service.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Callable

from flask import abort, flash, g, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from markupsafe import Markup
from sqlalchemy import select

import forms
from lowcode import audit, form_service, publishing, scoping
from lowcode.extensions import db
from lowcode.models import FormDraft, FormSubmission
from lowcode.storage import storage

FOLDER_LABELS = {"checklists": "处置反馈清单", "payloads": "预警信息", "workflow": "流程环节"}
INLINE_TYPES = ("image/", "video/", "application/pdf")
SUBMISSIONS_SHOWN = 100
MULTIPART_OVERHEAD = 64 * 1024   # headers and boundaries around the file in an upload


@dataclass(frozen=True)
class FillPage:
    """One way of filling in a form: its renderer, its page and where it goes next."""

    render: Callable[..., Markup]
    template: str
    fill_endpoint: str
    submission_endpoint: str


WEB = FillPage(form_service.render_web, "forms/fill.html", "FormsView.fill", "FormsView.submission")
PDA = FillPage(form_service.render_pda, "forms/pda_fill.html", "FormsView.pda_fill", "FormsView.pda_submission")


class FormsView(BaseView):
    route_base = ""   # two URL trees, /forms and /pda/forms, under one permission resource
    default_view = "index"
    class_permission_name = "Form"
    method_permission_name = {
        "index": "read", "fill": "read", "submissions": "read", "submission": "read", "download": "read",
        "pda_index": "read", "pda_fill": "read", "pda_submission": "read",
        "submit": "write", "pda_submit": "write", "upload": "write", "reveal": "reveal",
    }
    base_permissions = ["can_read", "can_write", "can_reveal"]

    def render_template(self, template, **kwargs):
        kwargs["can_write"] = self.appbuilder.sm.has_access("can_write", self.class_permission_name)
        kwargs["can_reveal"] = self.appbuilder.sm.has_access("can_reveal", self.class_permission_name)
        return super().render_template(template, **kwargs)

    # ------------------------------------------------------------------ lists

    @expose("/forms/")
    @has_access
    def index(self):
        return self.render_template("forms/index.html", packs=_form_catalogue(), folder_labels=FOLDER_LABELS)

    @expose("/pda/forms/")
    @has_access
    def pda_index(self):
        return self.render_template("forms/pda_index.html", packs=_form_catalogue(), folder_labels=FOLDER_LABELS)

    @expose("/form-submissions/")
    @has_access
    def submissions(self):
        rows = db.session.scalars(select(FormSubmission).order_by(FormSubmission.id.desc()).limit(SUBMISSIONS_SHOWN)).all()
        return self.render_template("forms/submissions.html", submissions=rows, shown=SUBMISSIONS_SHOWN)

    # ------------------------------------------------------------------ filling in

    @expose("/forms/<pack_code>/<path:key>")
    @has_access
    def fill(self, pack_code: str, key: str):
        return self._show(WEB, pack_code, key, _business_key(request.args.get("business_key")))

    @expose("/forms/<pack_code>/<path:key>", methods=["POST"])
    @has_access
    def submit(self, pack_code: str, key: str):
        return self._post(WEB, pack_code, key)

    @expose("/pda/forms/<pack_code>/<path:key>")
    @has_access
    def pda_fill(self, pack_code: str, key: str):
        return self._show(PDA, pack_code, key, _business_key(request.args.get("business_key")))

    @expose("/pda/forms/<pack_code>/<path:key>", methods=["POST"])
    @has_access
    def pda_submit(self, pack_code: str, key: str):
        return self._post(PDA, pack_code, key)

    def _show(self, page: FillPage, pack_code: str, key: str, business_key: str, data=None, errors=None,
              status: int = 200):
        pack = _pack_with_form(pack_code, key)
        draft = None
        if data is None:
            draft = form_service.find_draft(pack_code, key, business_key, g.user)
            data = form_service.draft_answers(pack, key, draft) if draft else form_service.form_for(pack, key).defaults()
        body = page.render(pack, key, data, errors)
        return self.render_template(
            page.template, body=body, form=form_service.form_for(pack, key), pack_code=pack_code, key=key,
            business_key=business_key, draft=draft,
            action=url_for(page.fill_endpoint, pack_code=pack_code, key=key)), status

    def _post(self, page: FillPage, pack_code: str, key: str):
        pack = _pack_with_form(pack_code, key)
        business_key = _business_key(request.form.get("_business_key"))
        again = url_for(page.fill_endpoint, pack_code=pack_code, key=key, business_key=business_key or None)
        action = request.form.get("_action", "submit")
        if action == "discard":
            if form_service.discard_draft(pack_code, key, business_key, g.user):
                flash("草稿已删除。", "info")
            return redirect(again)
        data = form_service.form_for(pack, key).decode(request.form)
        if action == "draft":
            form_service.save_draft(pack_code, key, business_key, data, g.user)
            flash("草稿已保存，可稍后在网页或 PDA 上继续填写。", "success")
            return redirect(again)
        submission, errors = form_service.submit(pack_code, key, data, business_key, g.user)
        if errors:
            return self._show(page, pack_code, key, business_key, data, errors, status=422)
        flash("提交成功。", "success")
        return redirect(url_for(page.submission_endpoint, submission_id=submission.id))

    # ------------------------------------------------------------------ submissions

    @expose("/form-submissions/<int:submission_id>")
    @has_access
    def submission(self, submission_id: int):
        return self._submission("forms/submission.html", submission_id)

    @expose("/pda/submissions/<int:submission_id>")
    @has_access
    def pda_submission(self, submission_id: int):
        return self._submission("forms/pda_submission.html", submission_id)

    @expose("/form-submissions/<int:submission_id>/reveal", methods=["POST"])
    @has_access
    def reveal(self, submission_id: int):
        """The submission with its personal fields in full: a separate permission, always audited."""
        return self._submission("forms/submission.html", submission_id, revealed=True)

    def _submission(self, template: str, submission_id: int, revealed: bool = False):
        submission = scoping.visible(FormSubmission, submission_id) or abort(404)
        # Shown with the form as it was when the data was validated, not as it is now.
        pack = publishing.pinned_tree(submission.release).packs[submission.pack_code]
        if revealed:
            audit.record("reveal_personal", "FormSubmission", submission.id,
                         f"查看表单「{submission.form_title}」提交记录的完整个人信息")
            db.session.commit()
        body = form_service.render_summary(pack, submission.form_key, submission.data, revealed=revealed)
        return self.render_template(template, submission=submission, body=body, revealed=revealed)

    # ------------------------------------------------------------------ attachments

    @expose("/form-attachments/<pack_code>/<path:key>", methods=["POST"])
    @has_access
    def upload(self, pack_code: str, key: str):
        """Store one file for the attachment field `?field=<data path>`; answers JSON."""
        pack = _pack_with_form(pack_code, key)
        path = request.args.get("field", "")
        try:
            field = form_service.attachment_field(pack, key, path)
            # The field is named in the URL so that an oversized body is refused before it is read.
            if (request.content_length or 0) > field.max_bytes + MULTIPART_OVERHEAD:
                return jsonify(message=str(form_service.too_large(field))), 413
            upload = request.files.get("file")
            if upload is None:
                return jsonify(message="请选择文件"), 400
            attachment = form_service.store_attachment(pack, key, path, upload, g.user)
        except form_service.AttachmentRefused as refused:
            return jsonify(message=str(refused)), 400
        view = form_service.attachment_view(attachment)
        return jsonify(id=attachment.id, name=attachment.file_name, size=attachment.size,
                       content_type=attachment.content_type, sm3=attachment.sm3, url=view.url,
                       html=str(forms.render_attachment(path, view))), 201

    @expose("/form-attachments/<attachment_id>")
    @has_access
    def download(self, attachment_id: str):
        attachment = form_service.readable_attachment(attachment_id, g.user) or abort(404)
        inline = attachment.content_type.startswith(INLINE_TYPES) and not request.args.get("download")
        response = send_file(storage().open(attachment.id), mimetype=attachment.content_type,
                             as_attachment=not inline, download_name=attachment.file_name, max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"
        return response


def _pack_with_form(pack_code: str, key: str):
    pack = form_service.current_pack(pack_code)
    if pack is None or key not in pack.forms:
        abort(404)
    return pack


def _business_key(value: str | None) -> str:
    """The record a form is filled in for (e.g. a dispatch), when a caller names one."""
    return (value or "").strip()[:100]


def _form_catalogue() -> list[dict]:
    """The forms in force, by pack and folder, with which of them hold a draft of mine."""
    mine = set(db.session.execute(select(FormDraft.pack_code, FormDraft.form_key).where(
        FormDraft.owner_id == g.user.id).execution_options(unscoped=True)).tuples())
    catalogue = []
    for code, pack in sorted(publishing.current_tree().packs.items()):
        if not pack.forms:
            continue
        entries = sorted(({"key": key, "title": form.schema.content.get("title", key), "folder": key.split("/")[-2],
                           "draft": (code, key) in mine} for key, form in pack.forms.items()),
                         key=lambda entry: (entry["folder"], entry["key"]))
        catalogue.append({"code": code, "name": pack.manifest.content.get("name", code) if pack.manifest else code,
                          "folders": [(folder, list(items)) for folder, items in groupby(entries, lambda e: e["folder"])]})
    return catalogue
