"""The 管理端 home page: who I am, where I sit, what I may open."""
from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select

from lowcode.extensions import db
from lowcode.models import AuditEvent, Department, Officer


PDA_ROLE = "PDA执法民警"


class HomeView(IndexView):
    index_template = "home.html"

    @expose("/")
    def index(self):
        user = g.user
        if not user or not user.is_authenticated:
            return self.render_template(self.index_template, appbuilder=self.appbuilder, user=None)
        if {role.name for role in user.roles} == {PDA_ROLE}:   # a handheld user lands on 交通执法 II
            return redirect(url_for("PdaView.index"))
        department = user.department
        under = department.path if department is not None else None
        counts = {
            "departments": db.session.scalar(
                select(func.count(Department.id)).where(Department.path.startswith(under or "/-/"))
            ),
            "officers": db.session.scalar(select(func.count(Officer.id))),
        }
        recent = db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id.desc()).limit(8)
        ).all()
        return self.render_template(
            self.index_template, appbuilder=self.appbuilder, user=user, department=department,
            counts=counts, recent=recent,
        )
