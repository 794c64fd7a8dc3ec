"""Forms filled in: submissions (validated data, pinned to the pack release it was checked
against), drafts (one per user, form and business key), and attachments (files stored by id).
Their changes are audited as actions (提交表单, 保存草稿, 上传附件) by lowcode.form_service."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder import Model

from lowcode.models.audit import JSONType
from lowcode.models.mixins import ScopedMixin


class FormSubmission(ScopedMixin, Model):
    """Data of one form, accepted by the server's validation; scoped by the submitter's department."""

    __tablename__ = "form_submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_code: Mapped[str] = mapped_column(String(40), nullable=False)
    form_key: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    form_title: Mapped[str] = mapped_column(String(200), nullable=False)
    release_id: Mapped[int] = mapped_column(ForeignKey("definition_release.id"), nullable=False)
    business_key: Mapped[str] = mapped_column(String(100), nullable=False, default="", index=True)
    data: Mapped[dict] = mapped_column(JSONType, nullable=False)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False, index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)

    release = relationship("DefinitionRelease", lazy="joined")
    submitted_by = relationship("Officer", lazy="joined")

class FormDraft(ScopedMixin, Model):
    """Partial answers a user saved to resume later, on the web or the PDA."""

    __tablename__ = "form_draft"
    __indexes__ = (UniqueConstraint("owner_id", "pack_code", "form_key", "business_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    pack_code: Mapped[str] = mapped_column(String(40), nullable=False)
    form_key: Mapped[str] = mapped_column(String(200), nullable=False)
    form_title: Mapped[str] = mapped_column(String(200), nullable=False)
    business_key: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    data: Mapped[dict] = mapped_column(JSONType, nullable=False)
    saved_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)

class Attachment(ScopedMixin, Model):
    """An uploaded file, stored by its id; `content_type` is sniffed from the bytes, `sm3` is the
    SM3 digest of the stored content. It belongs to its uploader until a submission uses it."""

    __tablename__ = "attachment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pack_code: Mapped[str] = mapped_column(String(40), nullable=False)
    form_key: Mapped[str] = mapped_column(String(200), nullable=False)
    field_path: Mapped[str] = mapped_column(String(200), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sm3: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False, index=True)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    submission_id: Mapped[Optional[int]] = mapped_column(ForeignKey("form_submission.id"), index=True)
