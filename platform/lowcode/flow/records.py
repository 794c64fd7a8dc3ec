"""Loading the records a process works on, past the data scope: the engine acts for everyone
involved (issuer and receivers alike), and the calling view has already checked access."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Optional

from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.orm import aliased, lazyload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from lowcode import audit, publishing
from lowcode.definitions import Pack
from lowcode.extensions import db
from lowcode.models.mixins import AuditedMixin
from lowcode.models import Clue, DefinitionRelease, Dispatch, ProcessInstance, Task, WorkItem

UNSCOPED = {"unscoped": True}


def get(model, identity):
    return db.session.get(model, identity, execution_options=UNSCOPED)


def execute(statement, params=None):
    """A Core statement of the flow on the session's connection, past the ORM's execution layer:
    the flow's statements are unscoped anyway, and that layer costs as much as the statement."""
    return db.session.connection().execute(statement, params)


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


def write(obj, values: dict) -> None:
    """Set columns of a loaded record (by attribute) with one UPDATE built once per model and
    columns, past the unit of work, whose flush costs several times the statement. What the flush
    would do besides is done here too: an audited model's change is recorded, a versioned one is
    updated only at the version it was read at (else StaleDataError) and its version goes up, and
    the object holds the new values as loaded."""
    changed = {key: value for key, value in values.items() if getattr(obj, key) != value}
    if not changed:
        return
    if isinstance(obj, AuditedMixin):
        audit.record_update(obj, changed)
    version = _version_key(type(obj))
    params = {"row_id": obj.id, **{f"new_{key}": value for key, value in changed.items()}}
    if version is not None:
        params["row_version"] = getattr(obj, version)
        changed[version] = params["row_version"] + 1
    if execute(_update_statement(type(obj), tuple(params)), params).rowcount != 1:
        raise StaleDataError(f"{type(obj).__name__} {obj.id} 已被其他事务修改")
    for key, value in changed.items():
        set_committed_value(obj, key, value)


@cache
def _version_key(model) -> Optional[str]:
    mapper = inspect(model)
    return None if mapper.version_id_col is None else mapper.get_property_by_column(mapper.version_id_col).key


@cache
def _update_statement(model, params: tuple[str, ...]):
    """UPDATE by id (and version) of the columns named by `params` ("new_<attribute>")."""
    mapper = inspect(model)
    table = mapper.local_table
    columns = {mapper.column_attrs[name[4:]].columns[0]: bindparam(name)  # a column's own name is reserved
               for name in params if name.startswith("new_")}
    statement = update(table).where(table.c.id == bindparam("row_id")).values(columns)
    if "row_version" in params:
        version = mapper.version_id_col
        statement = statement.where(version == bindparam("row_version")).values({version: version + 1})
    return statement.execution_options(**UNSCOPED)
