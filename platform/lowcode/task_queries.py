"""Task lists, details and statistics for the pages, the PDA and the REST API.

A task is visible to the departments that issued it (its own scope) and to those it was dispatched
or forwarded into. Queries here state that rule themselves, on the scope prefix of the request,
because it spans two scoped tables; everything else is scoped as usual.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

from sqlalchemy import func, or_, select

from lowcode import clock, publishing, scoping, task_visibility, title_search
from lowcode.definitions import resolve_form_key
from lowcode.distinct import distinct_values
from lowcode.extensions import db
from lowcode.flow import actions
from lowcode.models import Department, Dispatch, Supervision, Task, TaskVisibility, WorkItem

UNSCOPED = {"unscoped": True}
PAGE_SIZE = 20
COUNT_CAP = 500
SORTS = {"created_at": Task.created_at, "title": Task.title, "level": Task.level_code, "status": Task.status,
         "type": Task.type_code}


# ------------------------------------------------------------------ names from the definitions

def labels() -> dict[str, dict[str, str]]:
    """Names of task levels and types (\"CATEGORY/SUBTYPE\") of the packs in force that define warning types."""
    packs = publishing.business_packs()
    levels = {code: d.content for pack in packs for code, d in pack.task_levels.items()}
    types = {f"{category.code}/{subtype['code']}": f"{category.content['name']}/{subtype['name']}"
             for pack in packs for category in pack.task_types.values()
             for subtype in category.content.get("subtypes", [])}
    return {"level": {code: level["name"] for code, level in levels.items()}, "type": types,
            "level_color": {code: level.get("color", "#777") for code, level in levels.items()}}


# ------------------------------------------------------------------ the list

def _visible(query):
    """`query` (of tasks) narrowed to those issued within the caller's scope or dispatched into it:
    joined to the scope's visibility rows, one per task."""
    prefix = scoping.current_prefix()
    if prefix is None:
        return query
    return query.join(TaskVisibility, (TaskVisibility.task_id == Task.id) & (TaskVisibility.path == prefix))


def creation_column():
    """The creation time lists walk tasks by: under a scope its visibility rows' copy, whose index
    leads with the scope's path, so a list walks only what the scope sees and stops at its page."""
    return Task.created_at if scoping.current_prefix() is None else TaskVisibility.created_at


@dataclass
class TaskFilters:
    type_code: str = ""
    level_code: str = ""
    title: str = ""
    status: str = ""
    created_from: Optional[dt.date] = None
    created_to: Optional[dt.date] = None
    issuer_id: Optional[int] = None
    receiver_id: Optional[int] = None
    errors: dict[str, str] = field(default_factory=dict)


def _date(args, name: str, label: str, errors: dict) -> Optional[dt.date]:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = f"{label}：日期格式应为 YYYY-MM-DD"
        return None


def _int(args, name: str, label: str, errors: dict) -> Optional[int]:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        errors[name] = f"{label}：应为部门编号"
        return None
    return int(value)


def filters_from(args) -> TaskFilters:
    """Filters from query arguments; a malformed one is reported (in Chinese) and ignored."""
    errors: dict[str, str] = {}
    return TaskFilters(type_code=(args.get("type") or "").strip(), level_code=(args.get("level") or "").strip(),
                       title=(args.get("title") or "").strip()[:100], status=(args.get("status") or "").strip(),
                       created_from=_date(args, "created_from", "创建时间起", errors),
                       created_to=_date(args, "created_to", "创建时间止", errors),
                       issuer_id=_int(args, "issuer", "下发部门", errors),
                       receiver_id=_int(args, "receiver", "接收部门", errors), errors=errors)


def task_query(f: TaskFilters):
    """The tasks the caller may see that match `f`."""
    query = _visible(select(Task))
    if f.type_code:
        query = query.where(Task.type_code == f.type_code)
    if f.level_code:
        query = query.where(Task.level_code == f.level_code)
    if f.title:
        # Below the top of the tree the scope's tasks are walked newest first and their titles
        # read: the characters' index would fetch every task in the city that has them.
        prefix = scoping.current_prefix()
        query = query.where(title_search.contains(Task.title, f.title, indexed=prefix is None or prefix.count("/") <= 2))
    if f.status:
        query = query.where(Task.status == f.status)
    if f.created_from:
        query = query.where(Task.created_at >= dt.datetime.combine(f.created_from, dt.time()))
    if f.created_to:
        query = query.where(Task.created_at < dt.datetime.combine(f.created_to + dt.timedelta(days=1), dt.time()))
    if f.issuer_id:
        query = query.where(Task.issuer_department_id == f.issuer_id)
    if f.receiver_id:
        query = query.where(Task.id.in_(select(Dispatch.task_id).where(Dispatch.receiver_department_id == f.receiver_id)))
    return query


@dataclass
class Page:
    rows: list
    total: int
    page: int
    pages: int
    sort: str
    desc: bool
    more: bool = False   # more rows than `total`: the count stopped at COUNT_CAP

    @property
    def total_text(self) -> str:
        return f"{self.total}+" if self.more else str(self.total)


def capped_ids(query, order: tuple = (), **options) -> list[int]:
    """The ids of `query`'s rows (of a model, or of a table's columns), up to COUNT_CAP + 1: its capped
    count (counted), and (when not past the cap) the rows of every page, so that the search runs once
    and the page reads them by key. Counting every match of a broad search would cost more than the
    page itself: lists say "500+" instead. `order`: an index's order to walk the rows in (else any)."""
    entity = query.column_descriptions[0].get("entity")   # none for a table's columns
    key = entity.id if entity is not None else query.selected_columns.id
    return db.session.scalars(query.with_only_columns(key).order_by(None).order_by(*order).limit(COUNT_CAP + 1)
                              .execution_options(**options)).all()


def counted(ids: list[int]) -> tuple[int, bool]:
    """(the count to show, whether there are more) of capped_ids."""
    return min(len(ids), COUNT_CAP), len(ids) > COUNT_CAP


def page_rows(query, ordering: list, page: int, page_size: int, ids: list[int], keyed=None, **options) -> list:
    """One page of `query` in `ordering`, its capped_ids found before. Few matches are read by those
    ids and sorted; walking the order's index instead may read the whole table before meeting them
    (the planner cannot know a district has none of a word). Many are met soon, walking `query`.
    `keyed`: what the ids are read from when the ordering names a table the query joins (else the
    model's own table)."""
    if not counted(ids)[1]:
        if not ids:
            return []
        entity = query.column_descriptions[0]["entity"]
        query = (select(entity) if keyed is None else keyed).where(entity.id.in_(ids))
    return db.session.scalars(query.order_by(*ordering).limit(page_size).offset((page - 1) * page_size)
                              .execution_options(**options)).all()


def paged(query, args, sorts: dict, default_sort: str, page_size: int = PAGE_SIZE, unscoped: bool = True,
          keyed=None, count_order: tuple = ()) -> Page:
    """One page of `query`, sorted by a whitelisted column (`sort`, `desc=1|0`), and its total.
    `unscoped` when the query states its visibility itself (tasks span two scoped tables); `keyed`
    as page_rows takes it; `count_order` as capped_ids takes `order`."""
    options = UNSCOPED if unscoped else {}
    sort = args.get("sort") if args.get("sort") in sorts else default_sort
    desc = args.get("desc", "1") != "0"
    try:
        page = max(1, int(args.get("page", 1)))
    except ValueError:
        page = 1
    ids = capped_ids(query, order=count_order, **options)
    total, more = counted(ids)
    column = sorts[sort]
    ordering = [column.desc() if desc else column.asc(), *([] if sort == default_sort else [sorts[default_sort].desc()])]
    rows = page_rows(query, ordering, page, page_size, ids, keyed, **options)
    return Page(rows, total, page, max(1, -(-total // page_size)), sort, desc, more)


def task_page(args) -> tuple[Page, TaskFilters]:
    f = filters_from(args)
    created = creation_column()
    return paged(task_query(f), args, {**SORTS, "created_at": created}, "created_at", keyed=_visible(select(Task)),
                 count_order=(created.desc(),)), f


def statuses() -> list[str]:
    return distinct_values(Task.status)


# ------------------------------------------------------------------ one task

def visible_task(task_id: int) -> Optional[Task]:
    """A task the caller may see: issued within their scope, or dispatched into it."""
    return db.session.scalar(_visible(select(Task)).where(Task.id == task_id).execution_options(**UNSCOPED))


def is_issuer_view(task: Task) -> bool:
    prefix = scoping.current_prefix()
    return prefix is None or task.dept_path.startswith(prefix)


def visible_dispatches(task: Task) -> list[Dispatch]:
    """The issuer sees every receiver; a receiver its own dispatch and what it forwarded below."""
    query = select(Dispatch).where(Dispatch.task_id == task.id).order_by(Dispatch.id)
    if is_issuer_view(task):
        query = query.execution_options(**UNSCOPED)
    return list(db.session.scalars(query))


def steps(task: Task, visible: Optional[list[Dispatch]] = None) -> list[dict]:
    """The task's timeline as the caller may see it (`visible`: its visible_dispatches, when read already)."""
    if is_issuer_view(task):
        return actions.timeline(task.id)
    mine = visible_dispatches(task) if visible is None else visible
    ids = {d.id for d in mine}
    roots = [d for d in mine if d.parent_id not in ids]
    return sorted((s for d in roots for s in actions.timeline(task.id, dispatch_id=d.id)), key=lambda s: s["at"])


@dataclass
class Handling:
    """One receiver's handling of a task, with the dispatches it forwarded below it."""

    dispatch: Dispatch
    supervisions: list
    feedback: Optional[WorkItem]
    overdue: bool
    sign_overdue: bool
    children: list = field(default_factory=list)


def handling_tree(task: Task, dispatches: list[Dispatch]) -> list[Handling]:
    ids = [d.id for d in dispatches] or [-1]
    supervisions: dict[int, list] = {}
    for s in db.session.scalars(select(Supervision).where(Supervision.dispatch_id.in_(ids)).order_by(Supervision.id)):
        supervisions.setdefault(s.dispatch_id, []).append(s)
    checklist = checklist_key(task)
    feedback: dict[int, WorkItem] = {}
    overdue_items: set[int] = set()
    # One read for both: the done feedbacks (the latest counts) and the open items past due.
    for item in db.session.scalars(select(WorkItem).where(
            WorkItem.dispatch_id.in_(ids),
            ((WorkItem.form_key == checklist) & (WorkItem.state == "done"))
            | ((WorkItem.state == "open") & WorkItem.overdue.is_(True)))
            .order_by(WorkItem.completed_at).execution_options(**UNSCOPED)):
        if item.state == "open":
            overdue_items.add(item.dispatch_id)
        else:
            feedback[item.dispatch_id] = item
    now = clock.now()
    nodes = {d.id: Handling(d, supervisions.get(d.id, []), feedback.get(d.id),
                            d.id in overdue_items or (d.closed_at is None and d.feedback_due_at is not None
                                                      and d.feedback_due_at < now),
                            d.signed_at is None and d.closed_at is None and d.sign_due_at is not None
                            and d.sign_due_at < now) for d in dispatches}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.dispatch.parent_id)
        (parent.children if parent else roots).append(node)
    return roots


def checklist_key(task: Task) -> Optional[str]:
    pack = publishing.current_tree().packs.get(task.pack_code)
    if pack is None or task.warning_type not in pack.warning_types:
        return None
    return resolve_form_key(pack, task.warning_type, "$checklist")


def mark_supervisions_read(shown: Iterable[tuple[Dispatch, list[Supervision]]], user) -> None:
    """督办 messages are read when someone of the receiving department views them: those of the
    (dispatch, its supervisions) the page has loaded already."""
    unread = [s for dispatch, supervisions in shown if dispatch.receiver_department_id == user.department_id
              for s in supervisions if s.read_at is None]
    for supervision in unread:
        supervision.read_at = clock.now()
    if unread:
        db.session.commit()


def shown_in(tree: list[Handling]) -> Iterator[tuple[Dispatch, list[Supervision]]]:
    """Each dispatch of a handling tree with its supervisions."""
    for node in tree:
        yield node.dispatch, node.supervisions
        yield from shown_in(node.children)


def departments_for_filter() -> list[Department]:
    """Departments a user of this scope may filter by: their own subtree and those above it."""
    prefix = scoping.current_prefix()
    query = select(Department).order_by(Department.path)
    if prefix not in (None, scoping.NOTHING):
        ancestors = task_visibility.prefixes(prefix)[:-1]
        query = query.where(or_(Department.path.startswith(prefix), Department.path.in_(ancestors)))
    return list(db.session.scalars(query))
