"""Loading the records a process works on, past the data scope: the engine acts for everyone
involved (issuer and receivers alike), and the calling view has already checked access."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Optional

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import aliased, lazyload

from lowcode import publishing
from lowcode.definitions import Pack
from lowcode.extensions import db
from lowcode.models import Clue, DefinitionRelease, Dispatch, ProcessInstance, Task, WorkItem

UNSCOPED = {"unscoped": True}


def get(model, identity):
    return db.session.get(model, identity, execution_options=UNSCOPED)


def select_all(statement):
    return db.session.scalars(statement.execution_options(**UNSCOPED)).all()


def instance_of(kind: str, business_id: int) -> ProcessInstance:
    """The process instance of a business record. A service task runs within the change of its own
    instance, which the session holds already: that one is found without a query. Callers read only
    what never changes (release, business keys), so any copy the session holds serves."""
    for held in db.session.identity_map.values():
        if type(held) is ProcessInstance:
            loaded = inspect(held).dict  # loaded values only: an expired attribute is not reloaded
            if loaded.get("business_kind") == kind and loaded.get("business_id") == business_id:
                return held
    return select_all(select(ProcessInstance).where(ProcessInstance.business_kind == kind,
                                                    ProcessInstance.business_id == business_id))[0]


@dataclass
class Context:
    """Everything an instance's routing needs: its records, its pinned pack and binding."""

    instance: ProcessInstance
    pack: Pack
    binding: dict
    warning_type: str
    clue: Optional[Clue] = None
    task: Optional[Task] = None
    dispatch: Optional[Dispatch] = None

    @property
    def title(self) -> str:
        """What the work is about, as people call it: the task's title, else the clue's."""
        return (self.task or self.clue).title

    @property
    def record(self):
        return {"clue": self.clue, "task": self.task, "dispatch": self.dispatch}[self.instance.business_kind]


def context(instance: ProcessInstance) -> Context:
    clue = task = dispatch = None
    if instance.business_kind == "dispatch":
        dispatch = get(Dispatch, instance.business_id)
        task = get(Task, dispatch.task_id)
    elif instance.business_kind == "task":
        task = get(Task, instance.business_id)
    if task is not None:
        clue = get(Clue, task.clue_id) if task.clue_id else None
    else:
        clue = get(Clue, instance.business_id)
    return _context(instance, clue, task, dispatch)


def _context(instance: ProcessInstance, clue: Optional[Clue], task: Optional[Task],
             dispatch: Optional[Dispatch]) -> Context:
    warning_type = (task or clue).warning_type
    pack = pinned_pack(instance.release_id)
    binding_code = pack.warning_types[warning_type].content["process_binding"]
    return Context(instance, pack, pack.process_bindings[binding_code].content, warning_type, clue, task, dispatch)


_PINNED: dict[int, Pack] = {}


def pinned_pack(release_id: int) -> Pack:
    """The pack as its release published it; a release never changes, so one load per process."""
    if release_id not in _PINNED:
        release = get(DefinitionRelease, release_id)
        _PINNED[release_id] = publishing.pinned_tree(release).packs[release.pack_code]
    return _PINNED[release_id]


def lock(instance_id: int) -> ProcessInstance:
    """The instance, row-locked until commit (PostgreSQL); its version column guards SQLite."""
    statement = (select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update()
                 .execution_options(populate_existing=True, **UNSCOPED))
    return db.session.scalars(statement).one()


def lock_for(item: WorkItem) -> Context:
    """The context of the item's instance, locked as by `lock`, loaded by that one statement with
    the records the item is about (a work item's business keys never change)."""
    locked = db.session.execute(_lock_for_statement(), {"instance_id": item.instance_id, "dispatch_id": item.dispatch_id,
                                                         "task_id": item.task_id, "clue_id": item.clue_id}).one()
    return _context(*locked)


@cache
def _lock_for_statement():
    # Built once: building the aliases and joins costs more than running the statement.
    dispatch, task, clue = aliased(Dispatch), aliased(Task), aliased(Clue)  # their eager loads join the same tables
    return (select(ProcessInstance, clue, task, dispatch).select_from(ProcessInstance)
            .where(ProcessInstance.id == bindparam("instance_id"))
            .outerjoin(dispatch, dispatch.id == bindparam("dispatch_id"))
            .outerjoin(task, task.id == bindparam("task_id")).outerjoin(clue, clue.id == bindparam("clue_id"))
            .options(lazyload(dispatch.task))  # the task is loaded as itself
            .with_for_update(of=ProcessInstance).execution_options(populate_existing=True, **UNSCOPED))
