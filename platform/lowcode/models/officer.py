from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_appbuilder.security.sqla.models import User

from lowcode.models.department import Department
from lowcode.models.mixins import AuditedMixin, ScopedMixin
from lowcode.personal import install as install_personal, personal_attribute


class Officer(ScopedMixin, AuditedMixin, User):
    """A user of the platform: Flask-AppBuilder's user, placed in a department."""

    __tablename__ = "ab_user"
    __audit_label__ = "用户"
    # Login bookkeeping is audited as login events, not as edits of the user.
    __audit_ignore__ = ("last_login", "login_count", "fail_login_count", "locked_until", "changed_on", "mobile_index")
    __audit_masked__ = ("password",)

    department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"), index=True)
    police_no: Mapped[Optional[str]] = mapped_column(String(20))
    # 手机号: an SM4-GCM token and its blind index; `mobile` reads masked (lowcode.personal).
    mobile_token: Mapped[Optional[str]] = mapped_column("mobile", String(128), info={"personal": "mobile"})
    mobile_index: Mapped[Optional[str]] = mapped_column(String(48), index=True)
    __personal__ = {"mobile": ("mobile_token", "mobile_index", "mobile")}
    mobile = personal_attribute("mobile")
    # Set after too many failed logins (lowcode.lockout); kept here so every web process agrees.
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    department: Mapped[Optional[Department]] = relationship(lazy="joined")

    @property
    def display_name(self) -> str:
        return f"{self.last_name}{self.first_name}"

    def get_full_name(self) -> str:
        return self.display_name

    def __repr__(self) -> str:
        return self.display_name


@event.listens_for(Officer.department, "set")
def _follow_department(officer: Officer, department: Optional[Department], _old, _initiator) -> None:
    officer.dept_path = department.path if department is not None else "/"


install_personal(Officer)
