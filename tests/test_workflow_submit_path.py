"""What the lean submit path relies on: the state read under the lock decides whether an item is
still open, deadline timers of closed items are retired by the poller instead of by the submit,
and a submit's audit row is written in its own transaction."""
import pytest
from sqlalchemy import func, select

from lowcode.flow import actions
from lowcode.flow.timers import fire_due
from lowcode.models import AuditEvent, TimerRow, WorkItem
from tests.form_samples import sample
from tests.test_workflow_paths import adopted_task, ctx, dispatch_to, open_item, pack, record, user  # noqa: F401


def _count(model, *where) -> int:
    from lowcode.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*where).execution_options(unscoped=True))


def test_a_stale_item_is_refused_when_another_session_handled_it(ctx, app):  # noqa: F811
    task = adopted_task("过期页面测试")
    dispatch_to(task, ["310116000000"])
    stale = open_item("zd_jinshan", task_id=task.id)  # stays open in this session's identity map
    data = sample(pack(), stale.form_key, handling="本单位处置")
    with app.app_context():  # another request handles it meanwhile
        actions.submit(stale.id, data, user("zd_jinshan"))
    assert stale.state == "open"
    with pytest.raises(actions.ActionRefused, match="该待办已处理或已失效"):
        actions.submit(stale.id, data, user("zd_jinshan"))  # the lock's read refreshed the stale copy
    assert stale.state == "done"
    assert _count(WorkItem, WorkItem.task_id == task.id, WorkItem.task_name == "Task_Feedback") == 1
    assert _count(AuditEvent, AuditEvent.action == "submit", AuditEvent.object_id == str(stale.id)) == 1


def test_deadline_timers_of_a_handled_item_are_retired_not_fired(ctx):  # noqa: F811
    task = adopted_task("期限退役测试")
    dispatch_to(task, ["310117000000"])
    item = open_item("zd_songjiang", task_id=task.id)
    actions.submit(item.id, sample(pack(), item.form_key, handling="本单位处置"), user("zd_songjiang"))
    signed = record(WorkItem, item.id)
    assert signed.state == "done"
    assert _count(TimerRow, TimerRow.work_item_id == item.id, TimerRow.cancelled.is_(False)) == 2
    fire_due(now=signed.due_at)  # the sign deadline has passed, but the item was handled in time
    assert _count(TimerRow, TimerRow.work_item_id == item.id, TimerRow.cancelled.is_(False)) == 0
    assert _count(AuditEvent, AuditEvent.action.in_(["overdue", "reminder"]),
                  AuditEvent.object_id == str(item.id)) == 0
    assert not record(WorkItem, item.id).overdue
    feedback = open_item("zd_songjiang", task_id=task.id)
    assert feedback.task_name == "Task_Feedback" and not feedback.overdue  # its own deadline is later
