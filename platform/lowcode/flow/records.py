"""Loading the records a process works on, past the data scope: the engine acts for everyone
involved (issuer and receivers alike), and the calling view has already checked access."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select

from lowcode import publishing
from lowcode.definitions import Pack
from lowcode.extensions import db
from lowcode.models import Clue, DefinitionRelease, Dispatch, ProcessInstance, Task

UNSCOPED = {"unscoped": True}


def get(model, identity):
    return db.session.get(model, identity, execution_options=UNSCOPED)


def select_all(statement):
    return db.session.scalars(statement.execution_options(**UNSCOPED)).all()


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
