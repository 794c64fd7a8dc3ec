"""The form engine in the application: forms of the definitions in force compiled once, validation
(the engine's, plus the rule that an attachment is the submitter's own), rendering with the
attachments a user may see, submissions, drafts and uploads.

Views call these; so will the workflow's user tasks, which render and check the same forms.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import PurePosixPath
from typing import Any

from cryptography.hazmat.primitives import hashes
from flask import g, url_for
from markupsafe import Markup
from sqlalchemy import insert, select, update
from werkzeug.datastructures import FileStorage

import forms
import pda_renderer
from lowcode import audit, clock, personal, publishing, scoping
from lowcode.definitions import Pack, form_ui
from lowcode.extensions import db
from lowcode.models import Attachment, FormDraft, FormSubmission
from lowcode.storage import storage

CHUNK = 256 * 1024
ATTACHMENT_NOT_OWNED = "附件无效：须是本人为此项上传、尚未随其他表单提交的文件"
ATTACHMENT_TAKEN = "附件刚刚随另一份表单提交，请重新上传后再提交"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class AttachmentRefused(Exception):
    """An upload that is not stored; the message says why, in Chinese."""


def form_for(pack: Pack, key: str) -> forms.Form:
    """Form `key` of `pack`, compiled (validator included) once per loaded pack: a loaded pack
    never changes, and a publish loads a new one."""
    compiled = pack.__dict__.setdefault("_compiled_forms", {})
    if key not in compiled:
        compiled[key] = forms.compile_form(pack.forms[key].uri, pack.form_registry, form_ui(pack, key))
    return compiled[key]


def current_pack(pack_code: str) -> Pack | None:
    return publishing.current_tree().packs.get(pack_code)


# ------------------------------------------------------------------ validation and rendering

def validate_submission(pack: Pack, key: str, data: Any, user) -> forms.Errors:
    """Every problem of `data` (as it would be stored: decoded or normalised by the form) by field
    path, in Chinese; empty when it may be stored."""
    form = form_for(pack, key)
    errors = form.errors(data)
    refs = [(path, attachment_id) for path, attachment_id in form.attachment_refs(data)
            if forms.FORMATS["attachment"](attachment_id)]    # a malformed id is already reported
    owned = _usable_attachments(pack.code, key, {attachment_id for _, attachment_id in refs}, user)
    for path, attachment_id in refs:
        if owned.get(attachment_id) != schema_path(path):
            messages = errors.setdefault(path, [])
            if ATTACHMENT_NOT_OWNED not in messages:
                messages.append(ATTACHMENT_NOT_OWNED)
    return errors


def render_web(pack: Pack, key: str, data: Any, errors: forms.Errors | None = None) -> Markup:
    form = form_for(pack, key)
    return forms.render_web(form, data, errors, attachment_views(form, data))


def render_pda(pack: Pack, key: str, data: Any, errors: forms.Errors | None = None) -> Markup:
    form = form_for(pack, key)
    return pda_renderer.render_pda(form, data, errors, attachment_views(form, data))


def render_summary(pack: Pack, key: str, data: Any, revealed: bool = False) -> Markup:
    """Personal fields masked, or in full when `revealed` (the caller checked the permission and audits)."""
    form = form_for(pack, key)
    shown = personal.reveal_form(form, data) if revealed else personal.mask_form(form, data)
    return forms.render_summary(form, shown, attachment_views(form, data))


def attachment_views(form: forms.Form, data: Any) -> dict[str, forms.AttachmentView]:
    """What the signed-in user may see of the attachments `data` refers to."""
    ids = {attachment_id for _, attachment_id in form.attachment_refs(data) if forms.FORMATS["attachment"](attachment_id)}
    if not ids:
        return {}
    rows = db.session.scalars(select(Attachment).where(Attachment.id.in_(ids))).all()
    return {row.id: attachment_view(row) for row in _readable(rows, g.user)}


def attachment_view(attachment: Attachment) -> forms.AttachmentView:
    return forms.AttachmentView(attachment.id, attachment.file_name, attachment.content_type, attachment.size,
                                url_for("FormsView.download", attachment_id=attachment.id))


def schema_path(path: str) -> str:
    """A data path without its row indices: which field of the form it is."""
    return ".".join(part for part in path.split(".") if not part.isdigit())


# ------------------------------------------------------------------ submissions and drafts

def submit(pack_code: str, key: str, data: Any, business_key: str, user) -> tuple[FormSubmission | None, forms.Errors]:
    """Store `data` if the server's validation accepts it; nothing is stored otherwise. What hidden
    fields held and names the form does not declare are dropped first, whoever the caller is."""
    pack = current_pack(pack_code)
    form = form_for(pack, key)
    data = form.normalise(data)
    errors = validate_submission(pack, key, data, user)
    if errors:
        return None, errors
    try:
        submission_id = record_submission(pack, key, personal.protect_form(form, data), business_key, user,
                                          publishing.current_releases()[pack_code].id)
    except AttachmentTaken:
        db.session.rollback()
        return None, {"": [ATTACHMENT_TAKEN]}
    draft = find_draft(pack_code, key, business_key, user)
    if draft is not None:
        db.session.delete(draft)
    db.session.commit()
    return db.session.get(FormSubmission, submission_id), {}


class AttachmentTaken(Exception):
    """A concurrent submission claimed one of the attachments after validation."""


def record_submission(pack: Pack, key: str, protected: dict, business_key: str, user, release_id: int) -> int:
    """Store validated data, `protected` as stored (personal.protect_form), and claim the attachments
    it refers to, in the caller's transaction (the caller commits, or rolls back on AttachmentTaken);
    returns the submission's id. The row is inserted by Core (nothing reads it back as an object
    here): a flush of the unit of work costs several times the statement, on every submit of a
    work item with photos."""
    form = form_for(pack, key)
    submission_id = db.session.connection().execute(_insert_submission(), dict(
        pack_code=pack.code, form_key=key, form_title=form.title, business_key=business_key,
        data=protected, release_id=release_id, submitted_by_id=user.id,
        submitted_at=clock.now(), dept_path=scoping.prefix_for(user))).scalar_one()
    attachment_ids = sorted({attachment_id for _, attachment_id in form.attachment_refs(protected)})
    claimed = db.session.execute(
        update(Attachment).where(Attachment.id.in_(attachment_ids), Attachment.submission_id.is_(None))
        .values(submission_id=submission_id).execution_options(synchronize_session=False)).rowcount
    if claimed != len(attachment_ids):
        raise AttachmentTaken
    # The answers themselves stay out of the trail: they may hold personal data (身份证号, 手机号).
    audit.record("submit_form", "FormSubmission", submission_id, f"提交表单「{form.title}」{_about(business_key)}",
                 after={"form": f"{pack.code}/{key}", "release": release_id, "business_key": business_key,
                        "attachments": attachment_ids})
    return submission_id


@cache
def _insert_submission():
    return insert(FormSubmission.__table__).returning(FormSubmission.__table__.c.id)


def _about(business_key: str) -> str:
    return f"（业务编号 {business_key}）" if business_key else ""


def find_draft(pack_code: str, key: str, business_key: str, user) -> FormDraft | None:
    # Drafts are the owner's whatever department they sit in now: looked up by owner, unscoped.
    return db.session.scalar(select(FormDraft).where(
        FormDraft.owner_id == user.id, FormDraft.pack_code == pack_code, FormDraft.form_key == key,
        FormDraft.business_key == business_key).execution_options(unscoped=True))


def draft_answers(pack: Pack, key: str, draft: FormDraft) -> Any:
    """A draft's answers in clear, to resume it: only its owner ever gets here (find_draft)."""
    return personal.reveal_form(form_for(pack, key), draft.data)


def save_draft(pack_code: str, key: str, business_key: str, data: Any, user) -> FormDraft:
    """Keep partial answers, unvalidated, for the same user to resume on the web or the PDA."""
    draft = find_draft(pack_code, key, business_key, user) or FormDraft(
        owner_id=user.id, pack_code=pack_code, form_key=key, business_key=business_key)
    form = form_for(current_pack(pack_code), key)
    draft.form_title = form.title
    draft.data, draft.saved_at, draft.dept_path = personal.protect_form(form, data), clock.now(), scoping.prefix_for(user)
    db.session.add(draft)
    db.session.flush()
    audit.record("save_draft", "FormDraft", draft.id, f"保存表单草稿「{draft.form_title}」{_about(business_key)}",
                 after={"form": f"{pack_code}/{key}", "business_key": business_key})
    db.session.commit()
    return draft


def discard_draft(pack_code: str, key: str, business_key: str, user) -> bool:
    draft = find_draft(pack_code, key, business_key, user)
    if draft is None:
        return False
    db.session.delete(draft)
    audit.record("discard_draft", "FormDraft", draft.id, f"删除表单草稿「{draft.form_title}」{_about(business_key)}",
                 before={"form": f"{pack_code}/{key}", "business_key": business_key})
    db.session.commit()
    return True


# ------------------------------------------------------------------ attachments

def attachment_field(pack: Pack, key: str, field_path: str) -> forms.Field:
    """The attachment field a data path names; AttachmentRefused if it names none."""
    field = form_for(pack, key).field_at(field_path)
    if field is None or field.kind not in ("attachment", "attachments"):
        raise AttachmentRefused("此项不接受附件")
    return field


def too_large(field: forms.Field) -> AttachmentRefused:
    return AttachmentRefused(f"文件超过 {field.max_size_mb:g} MB，未保存")


def store_attachment(pack: Pack, key: str, field_path: str, upload: FileStorage, user) -> Attachment:
    """Store an uploaded file for one attachment field: its size within the field's limit, its
    type sniffed from its bytes and accepted by the field, its SM3 digest recorded."""
    field = attachment_field(pack, key, field_path)
    attachment_id = uuid.uuid4().hex
    chunks = _MeteredChunks(upload.stream, field.max_bytes)
    try:
        storage().save(attachment_id, chunks)
    except _TooLarge:
        raise too_large(field) from None
    content_type = _sniffed(attachment_id)
    if not chunks.size or content_type is None or not forms.accepts(field.accept, content_type):
        storage().delete(attachment_id)
        allowed = "、".join(dict.fromkeys(forms.content_type_label(kind) for kind in field.accept))
        found = "空文件" if not chunks.size else forms.content_type_label(content_type) if content_type else "无法识别的文件"
        raise AttachmentRefused(f"不接受此文件（{found}），此项可上传：{allowed}")
    attachment = Attachment(
        id=attachment_id, pack_code=pack.code, form_key=key, field_path=schema_path(field_path),
        file_name=_file_name(upload.filename), content_type=content_type, size=chunks.size,
        sm3=chunks.digest.finalize().hex(), uploaded_by_id=user.id, uploaded_at=clock.now(),
        dept_path=scoping.prefix_for(user))
    db.session.add(attachment)
    audit.record("upload_attachment", "Attachment", attachment_id,
                 f"上传附件「{attachment.file_name}」（{forms.content_type_label(content_type)}，{chunks.size} 字节）",
                 after={"form": f"{pack.code}/{key}", "field": attachment.field_path, "content_type": content_type,
                        "size": chunks.size, "sm3": attachment.sm3})
    db.session.commit()
    return attachment


def readable_attachment(attachment_id: str, user) -> Attachment | None:
    """The attachment if `user` may download it: their own upload, or part of a submission they
    may see (and within their department's scope either way)."""
    attachment = scoping.visible(Attachment, attachment_id)
    return next(iter(_readable([attachment], user)), None) if attachment is not None else None


class _TooLarge(Exception):
    pass


class _MeteredChunks:
    """An upload's chunks, counted and SM3-digested as storage reads them; past the limit, stop."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.size = stream, limit, 0
        self.digest = hashes.Hash(hashes.SM3())

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.stream.read(CHUNK):
            self.size += len(chunk)
            if self.size > self.limit:
                raise _TooLarge
            self.digest.update(chunk)
            yield chunk


def _sniffed(attachment_id: str) -> str | None:
    with storage().open(attachment_id) as stream:
        return forms.sniff(stream)


def _file_name(name: str | None) -> str:
    base = PurePosixPath((name or "").replace("\\", "/")).name
    return _CONTROL_CHARACTERS.sub("", base)[-255:] or "附件"


def _usable_attachments(pack_code: str, key: str, ids: set[str], user) -> dict[str, str]:
    """Those of `ids` the user uploaded for this form and no submission has used yet: id → the
    field they were uploaded for."""
    if not ids:
        return {}
    return dict(db.session.execute(select(Attachment.id, Attachment.field_path).where(
        Attachment.id.in_(ids), Attachment.uploaded_by_id == user.id, Attachment.pack_code == pack_code,
        Attachment.form_key == key, Attachment.submission_id.is_(None))).all())


def _readable(attachments: Iterable[Attachment], user) -> list[Attachment]:
    attachments = list(attachments)
    submission_ids = {a.submission_id for a in attachments if a.submission_id is not None}
    visible = set(db.session.scalars(select(FormSubmission.id).where(FormSubmission.id.in_(submission_ids)))) \
        if submission_ids else set()
    return [a for a in attachments if a.uploaded_by_id == user.id or a.submission_id in visible]
