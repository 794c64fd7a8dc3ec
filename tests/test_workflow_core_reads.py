"""`records.lock_item` builds the session's objects from a Core row: they must be what the ORM's
load gave — persistent, refreshed under the lock, their departments at hand."""
from sqlalchemy import event, inspect, select, update

from lowcode.flow import records
from lowcode.models import Dispatch, ProcessInstance, WorkItem
from tests.test_workflow_paths import adopted_task, ctx, dispatch_to, open_item, record  # noqa: F401


def _db():
    from lowcode.extensions import db

    return db


class _Statements:
    """The SQL statements sent while inside."""

    def __enter__(self):
        self.sent = []
        event.listen(_db().engine, "before_cursor_execute", self._sent)
        return self.sent

    def _sent(self, *args):
        self.sent.append(args[2])

    def __exit__(self, *_):
        event.remove(_db().engine, "before_cursor_execute", self._sent)


def test_lock_item_reads_item_records_and_departments_in_one_statement_and_refreshes_held_ones(ctx):  # noqa: F811
    task = adopted_task("核心读取测试")
    dispatch_to(task, ["310104000000"])
    item = open_item("zd_xuhui", task_id=task.id)
    held = _db().session.scalar(select(ProcessInstance).where(ProcessInstance.id == item.instance_id)
                                .execution_options(unscoped=True))
    version = held.lock_version
    table = ProcessInstance.__table__  # another writer saved the instance after this session read it
    records.execute(update(table).where(table.c.id == held.id).values(lock_version=table.c.lock_version + 1))
    with _Statements() as sent:
        locked, context = records.lock_item(item.id)
        names = (context.dispatch.receiver.name, context.dispatch.issuer.name, context.task.issuer.name,
                 context.clue.department.name, str(context.dispatch), context.dispatch.task.title)
    assert len(sent) == 1 and all(names)
    assert locked is item and context.instance is held and held.lock_version == version + 1
    assert (context.dispatch.id, context.task.id, context.clue.id) == (item.dispatch_id, task.id, task.clue_id)
    assert context.dispatch.receiver.id == context.dispatch.receiver_department_id


def test_objects_read_by_core_are_persistent_and_flush_their_changes(ctx):  # noqa: F811
    task = adopted_task("核心对象写回测试")
    dispatch_to(task, ["310115000000"])
    item = open_item("zd_pudong", task_id=task.id)
    _db().session.expunge_all()
    locked, context = records.lock_item(item.id)
    assert inspect(locked).persistent and locked.state == "open"
    assert inspect(context.dispatch).persistent and not _db().session.is_modified(context.dispatch)
    context.dispatch.requirements = "核心对象的修改照常保存"
    _db().session.commit()
    assert record(Dispatch, item.dispatch_id).requirements == "核心对象的修改照常保存"


def test_lock_item_of_a_missing_item_is_none(ctx):  # noqa: F811
    assert records.lock_item(-1) is None
