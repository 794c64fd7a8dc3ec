"""`platform.push_feedback`: the service the dispatch process calls when the issuing department
accepts a feedback. It writes the push to the outbox in the same transaction as the acceptance;
what the message holds is the process binding's `feedback_push` mapping, not code."""
from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select

from connectors import feedback_push
from lowcode import clock, form_service, outbox, personal
from lowcode.definitions import checklist_form_key
from lowcode.flow import records
from lowcode.models import Clue, Department, Dispatch, InboundWarning, Task, WorkItem

TARGET = "nmv_traffic"


def push_feedback(dispatch_id: int) -> str | None:
    """Queue the accepted feedback of a dispatch; returns the message key, None when the binding
    pushes nothing for this dispatch. A missing feedback raises, and the instance stops in an incident."""
    dispatch = records.get(Dispatch, dispatch_id)
    ctx = records.context(records.instance_of("dispatch", dispatch_id))
    rule = ctx.binding.get("feedback_push")
    if rule is None or (rule["scope"] == "top_level" and dispatch.parent_id is not None):
        return None
    feedback = records.execute(_feedback_statement(), {"dispatch_id": dispatch_id,
                                                        "form_key": checklist_form_key(ctx.pack, ctx.warning_type)}).first()
    if feedback is None:
        raise LookupError(f"下发 {dispatch_id} 没有已提交的处置反馈，无法推送")
    key = f"{ctx.pack.code}:feedback:dispatch:{dispatch_id}"
    message = feedback_push.build_message(rule["fields"], _context(ctx.pack, ctx.clue, ctx.task, dispatch, feedback), key)
    outbox.enqueue(kind="feedback", target=TARGET, key=key, payload=message, dispatch_id=dispatch_id)
    return key


@cache
def _feedback_statement():
    """The last accepted checklist of a dispatch, as much of it as a push names (read by Core: the
    ORM's loading of a work item and its department cost several times the statement)."""
    return (select(WorkItem.form_key, WorkItem.data, WorkItem.completed_at, WorkItem.completed_by_name,
                   Department.name.label("department"))
            .join(Department, Department.id == WorkItem.department_id)
            .where(WorkItem.dispatch_id == bindparam("dispatch_id"), WorkItem.state == "done",
                   WorkItem.form_key == bindparam("form_key"))
            .order_by(WorkItem.completed_at.desc(), WorkItem.id.desc()).limit(1))


@cache
def _source_ids_statement():
    return (select(InboundWarning.source_id).where(InboundWarning.clue_id == bindparam("clue_id"),
                                                   InboundWarning.status == "accepted").order_by(InboundWarning.id))


def _plain(value: Any) -> Any:
    return value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else value


def _context(pack, clue: Clue | None, task: Task, dispatch: Dispatch, feedback) -> dict:
    """What a push mapping may name: clue.*, task.*, dispatch.*, feedback.*, accepted.*."""
    source_ids = records.execute(_source_ids_statement(), {"clue_id": clue.id}).scalars().all() if clue else []
    return {
        "clue": {"id": clue.id, "title": clue.title, "warning_type": clue.warning_type,
                 "warning_type_name": pack.warning_types[clue.warning_type].content["name"],
                 "level_code": clue.level_code, "type_code": clue.type_code, "source": clue.source,
                 "district_code": clue.district_code, "subject_key": clue.subject_key, "subject": clue.subject,
                 "source_ids": source_ids, "created_at": _plain(clue.created_at)} if clue else {},
        "task": {"id": task.id, "title": task.title, "level_code": task.level_code, "type_code": task.type_code,
                 "issuer_code": task.issuer.code, "issuer_name": task.issuer.name},
        "dispatch": {"id": dispatch.id, "receiver_code": dispatch.receiver.code, "receiver_name": dispatch.receiver.name,
                     "issuer_code": dispatch.issuer.code, "issuer_name": dispatch.issuer.name,
                     "requirements": dispatch.requirements, "signed_at": _plain(dispatch.signed_at)},
        # The peer system receives the answers in clear, over a signed push.
        "feedback": {"form": feedback.form_key, "data": personal.reveal_form(form_service.form_for(pack, feedback.form_key),
                                                                               feedback.data), "submitted_at": _plain(feedback.completed_at),
                     "submitted_by": feedback.completed_by_name, "department": feedback.department},
        "accepted": {"at": _plain(clock.now())},
    }
