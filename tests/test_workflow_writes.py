"""`records.write`: a change written past the unit of work keeps what the flush did for it: the
version guard of a process instance, the audit event of an audited record, the loaded object."""
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from lowcode.flow import records
from lowcode.models import AuditEvent, Dispatch, ProcessInstance
from tests.test_workflow_paths import adopted_task, ctx, dispatch_to, record  # noqa: F401


def _db():
    from lowcode.extensions import db

    return db


def _instance_of(kind: str, business_id: int) -> ProcessInstance:
    return _db().session.scalar(select(ProcessInstance).where(
        ProcessInstance.business_kind == kind, ProcessInstance.business_id == business_id)
        .execution_options(unscoped=True))


def test_a_write_bumps_the_version_and_leaves_the_object_clean(ctx):  # noqa: F811
    instance = _instance_of("task", adopted_task("版本递增测试").id)
    version = instance.lock_version
    records.write(instance, {"status": "cancelled"})
    assert instance.status == "cancelled" and instance.lock_version == version + 1
    assert not _db().session.is_modified(instance)
    _db().session.commit()
    stored = record(ProcessInstance, instance.id)
    assert (stored.status, stored.lock_version) == ("cancelled", version + 1)


def test_a_write_of_an_instance_changed_since_it_was_read_is_refused(ctx):  # noqa: F811
    instance = _instance_of("task", adopted_task("版本守卫测试").id)
    version = instance.lock_version
    table = ProcessInstance.__table__
    # Another writer saved the instance after this one read it: the object still holds the old version.
    records.execute(update(table).where(table.c.id == instance.id).values(lock_version=table.c.lock_version + 1))
    with pytest.raises(StaleDataError):
        records.write(instance, {"status": "cancelled"})
    _db().session.rollback()
    stored = record(ProcessInstance, instance.id)
    assert (stored.status, stored.lock_version) == ("running", version)


def _last_update(dispatch_id: int) -> AuditEvent:
    return _db().session.scalars(select(AuditEvent).where(
        AuditEvent.action == "update", AuditEvent.object_type == "Dispatch",
        AuditEvent.object_id == str(dispatch_id)).order_by(AuditEvent.seq.desc())
        .execution_options(unscoped=True)).first()


def test_a_write_is_audited_as_the_flush_hook_audits_the_same_change(ctx):  # noqa: F811
    task = adopted_task("审计一致测试")
    dispatch_to(task, ["310104000000", "310115000000"])
    by_flush, by_write = _db().session.scalars(select(Dispatch).where(Dispatch.task_id == task.id)
                                               .order_by(Dispatch.id).execution_options(unscoped=True)).all()
    before = by_flush.status
    by_flush.status = "已签收"
    _db().session.commit()
    records.write(by_write, {"status": "已签收", "requirements": by_write.requirements})  # an unchanged value is no change
    _db().session.commit()
    events = [_last_update(d.id) for d in (by_flush, by_write)]
    for dispatch, event in zip((by_flush, by_write), events):
        assert event.summary == f"修改下发「{record(Dispatch, dispatch.id)}」：status"
        assert (event.before, event.after) == ({"status": before}, {"status": "已签收"})
    assert events[0].seq < events[1].seq  # both chained


def test_writing_nothing_new_sends_no_statement(ctx):  # noqa: F811
    from sqlalchemy import event

    instance = _instance_of("task", adopted_task("无变化测试").id)
    sent = []
    engine = _db().engine
    listener = lambda *args: sent.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        records.write(instance, {"status": instance.status, "incident": instance.incident})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert sent == []
