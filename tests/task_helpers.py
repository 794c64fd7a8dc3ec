"""Driving clues and tasks through the workflow service for the page tests: create a clue of a
warning type and submit every open step with valid sample answers until it is dispatched."""
from __future__ import annotations

from sqlalchemy import select

from lowcode.extensions import db
from lowcode.flow import actions
from lowcode.models import Dispatch, Task, WorkItem
from tests.form_samples import sample
from tests.test_workflow_paths import department, pack, user

CITY = "310000000000"
CHOICES = {"review_result": "通过", "evaluation_result": "采纳下发", "approval_result": "通过",
           "feedback_review_result": "通过", "handling": "本单位处置", "requirements": "请按期处置反馈"}
UNSCOPED = {"unscoped": True}


def answers(form_key: str, **overrides) -> dict:
    """Valid answers for a form, with the workflow choices that keep a case moving."""
    properties = pack().forms[form_key].schema.content.get("properties", {})
    chosen = {k: v for k, v in {**CHOICES, **overrides}.items() if k in properties}
    return sample(pack(), form_key, **chosen)


def open_items(username: str, **where) -> list[WorkItem]:
    query = actions.inbox_query(user(username)).execution_options(**UNSCOPED)
    for column, value in where.items():
        query = query.where(getattr(WorkItem, column) == value)
    return db.session.scalars(query).all()


def do(username: str, overrides: dict | None = None, **where) -> WorkItem:
    [item] = open_items(username, **where)
    return actions.submit(item.id, answers(item.form_key, **(overrides or {})), user(username))


def dispatched_task(title: str, receivers: list[str], warning_type: str = "RED_LABEL_RIDER") -> Task:
    """A clue of `warning_type` taken through review, evaluation and approval (as its type requires)
    by the 总队 and dispatched to `receivers` (department codes)."""
    payload = sample(pack(), pack().warning_types[warning_type].content["payload_form"])
    clue = actions.create_clue(warning_type=warning_type, title=title, department=department(CITY),
                               source="总队研判", payload=payload)
    overrides = {"receivers": [{"department_code": code} for code in receivers]}
    for _ in range(5):
        task_id = db.session.scalar(select(Task.id).where(Task.clue_id == clue.id).execution_options(**UNSCOPED))
        items = open_items("yanpan", task_id=task_id) if task_id else open_items("yanpan", clue_id=clue.id)
        if not items:
            break
        actions.submit(items[0].id, answers(items[0].form_key, **overrides), user("yanpan"))
    task = db.session.scalar(select(Task).where(Task.clue_id == clue.id).execution_options(**UNSCOPED))
    assert task is not None and task.status != "已创建", "the task was not dispatched"
    return task


def dispatch_of(task: Task, code: str) -> Dispatch:
    return db.session.scalar(select(Dispatch).where(Dispatch.task_id == task.id,
                                                    Dispatch.receiver_department_id == department(code).id)
                             .execution_options(**UNSCOPED))


def fresh(model, identity):
    db.session.expire_all()
    return db.session.get(model, identity, execution_options=UNSCOPED)
