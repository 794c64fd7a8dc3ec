"""`make run`'s lived-in system: demo clues and tasks worked through the real processes to every
stage, over the last weeks, across the districts; told once."""
import pytest
from sqlalchemy import func, select

from lowcode.models import Clue, Dispatch, FormSubmission, Supervision, Task, WorkItem


@pytest.fixture(scope="module")
def demo_app(empty_database_url, tmp_path_factory, settings):
    from lowcode.app import create_app
    from lowcode.server import prepare

    instance = tmp_path_factory.mktemp("demo")
    # Eager Celery even beside real services: this database is not the one the test worker serves.
    application = create_app({**settings, "SQLALCHEMY_DATABASE_URI": empty_database_url(), "REDIS_URL": None,
                              "CELERY_EAGER": True, "INSTANCE_PATH": str(instance),
                              "STORAGE_PATH": str(instance / "files")})
    with application.app_context():
        prepare(application)
    return application


def count(db, statement) -> int:
    return db.session.scalar(statement.execution_options(unscoped=True))


def test_demo_stories_reach_every_stage_once(demo_app):
    from lowcode import demo_activity
    from lowcode.extensions import db

    with demo_app.test_request_context():
        assert demo_activity.seed(60) == 60
        clue_states = set(db.session.scalars(select(Clue.status).distinct()))
        task_states = set(db.session.scalars(select(Task.status).distinct().execution_options(unscoped=True)))
        assert len(clue_states) >= 4 and "待启动" not in clue_states, clue_states
        assert {"已办结归档"} <= task_states and len(task_states) >= 3, task_states
        assert count(db, select(func.count(Dispatch.id)).where(Dispatch.parent_id.is_not(None))) > 0   # forwards
        assert count(db, select(func.count(WorkItem.id)).where(WorkItem.state == "open")) > 10
        assert count(db, select(func.count(WorkItem.id)).where(WorkItem.overdue.is_(True))) > 0
        assert count(db, select(func.count(Supervision.id))) > 0
        assert count(db, select(func.count(FormSubmission.id))) > 0                               # feedback photos
        days = set(db.session.scalars(select(func.date(Clue.created_at)).distinct()))
        districts = set(db.session.scalars(select(Clue.district_code).distinct()))
        assert len(days) >= 10 and len(districts) >= 8
        assert demo_activity.seed(60) == 0
