"""Loading the records a process works on, past the data scope: the engine acts for everyone
involved (issuer and receivers alike), and the calling view has already checked access."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Optional

from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from lowcode import audit, publishing
from lowcode.definitions import Pack
from lowcode.extensions import db
from lowcode.models.mixins import AuditedMixin
from lowcode.models import Clue, DefinitionRelease, Department, Dispatch, ProcessInstance, Task, WorkItem

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


def lock_item(work_item_id: int) -> Optional[tuple[WorkItem, Context]]:
    """A work item and the context of its instance, locked as by `lock`, read by one Core statement
    with the records the item is about and their departments (None if there is no such item):
    the ORM's loading of nine joined entities cost several times the statement. The item is as
    the statement's snapshot saw it; its instance, read under the lock, is the truth of what is open."""
    row = execute(_lock_item_statement(), {"work_item_id": work_item_id}).first()
    if row is None:
        return None
    item, instance, *rest = _held_row(row, (WorkItem, ProcessInstance, *_RECORDS, *(Department for _ in _DEPARTMENTS)))
    held = dict(zip(_RECORDS, rest))
    for (model, name), department in zip(_DEPARTMENTS, rest[len(_RECORDS):]):
        if held[model] is not None:  # as a joined load sets it: the record keeps its department alive
            set_committed_value(held[model], name, department)
    return item, _context(instance, *held.values())


# The records a work item is about (by its keys) and the departments that lanes and audit labels
# name: read with the instance, so that none of them costs a statement of its own.
_RECORDS = (Clue, Task, Dispatch)
_DEPARTMENTS = ((Clue, "department"), (Task, "issuer"), (Dispatch, "issuer"), (Dispatch, "receiver"))


@cache
def _lock_item_statement():
    item, instance = WorkItem.__table__, ProcessInstance.__table__
    records = {model: model.__table__.alias(model.__tablename__[:2]) for model in _RECORDS}
    joined = item.join(instance, instance.c.id == item.c.instance_id)
    for model, table in records.items():
        joined = joined.outerjoin(table, table.c.id == item.c[f"{model.__tablename__}_id"])
    departments = []
    for n, (model, name) in enumerate(_DEPARTMENTS):
        department = Department.__table__.alias(f"dep{n}")
        key = next(iter(inspect(model).relationships[name].local_columns))
        joined = joined.outerjoin(department, department.c.id == records[model].c[key.name])
        departments.append(department)
    tables = [(WorkItem, item), (ProcessInstance, instance), *records.items(), *((Department, d) for d in departments)]
    return (select(*(column for model, table in tables for column in _columns(model, table)))
            .select_from(joined).where(item.c.id == bindparam("work_item_id")).with_for_update(of=instance))


def _columns(model, table) -> list:
    """The columns of `model` in `table` (or an alias of it), in the order of `_attributes`."""
    return [table.c[attr.columns[0].name] for attr in inspect(model).column_attrs]


@cache
def _attributes(model) -> tuple[str, ...]:
    return tuple(attr.key for attr in inspect(model).column_attrs)


def _held_row(row, models) -> list:
    """The objects of a row of each model's columns in turn (None for an outer join's missing row);
    a record the row holds twice (one department in two roles) is made once."""
    session, made, objects, start = db.session(), {}, [], 0
    for model in models:
        keys = _attributes(model)
        values = dict(zip(keys, row[start:start + len(keys)]))
        start += len(keys)
        if values["id"] is not None and (model, values["id"]) not in made:
            made[model, values["id"]] = _held(session, model, values)
        objects.append(made.get((model, values["id"])))
    return objects


def _held(session, model, values: dict):
    """The session's object of a row read by Core, as a query with populate_existing gives it:
    the one held, refreshed from the row, else a new one, persistent as if loaded."""
    mapper = inspect(model)
    held = session.identity_map.get(mapper.identity_key_from_primary_key((values["id"],)))
    if held is not None:
        for key, value in values.items():
            set_committed_value(held, key, value)
        return held
    obj = mapper.class_manager.new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)  # relationships unloaded: they load on first use
    session.add(obj)
    return obj


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
