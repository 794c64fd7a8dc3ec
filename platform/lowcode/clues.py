"""Clue management: the combined query (filters, sorting, paging), the names of codes from the
definitions in force, and what a clue's detail shows. Views and the REST API share all of it;
queries go through the session, so data scoping applies to every one."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from sqlalchemy import Date, case, select
from sqlalchemy.sql import Select

import forms
from lowcode import audit, form_service, intake, publishing, task_queries, title_search
from lowcode.extensions import db
from lowcode.flow import actions, records
from lowcode.models import Clue, Department, InboundWarning, ProcessInstance, Task, WorkItem

PAGE_SIZES = (20, 50, 100)
ATTACHMENT_KINDS = (("image/", "image"), ("video/", "video"))


# ------------------------------------------------------------------ names from the definitions

@dataclass(frozen=True)
class Catalogue:
    """Code → name tables of the packs in force that define warning types, for filters, lists and
    statistics."""

    warning_types: dict[str, str]
    levels: dict[str, dict]
    types: dict[str, str]          # "CATEGORY/SUBTYPE" → "一级 / 二级"
    categories: dict[str, str]
    sources: list[str]


def catalogue() -> Catalogue:
    packs = publishing.business_packs()
    levels = sorted((d.content for pack in packs for d in pack.clue_levels.values()), key=lambda level: level["order"])
    categories = [d.content for pack in packs for d in pack.clue_types.values()]
    warnings = sorted((code, d.content) for pack in packs for code, d in pack.warning_types.items())
    return Catalogue(
        warning_types={code: warning["name"] for code, warning in warnings},
        levels={level["code"]: level for level in levels},
        types={f"{c['code']}/{s['code']}": f"{c['name']} / {s['name']}" for c in categories for s in c["subtypes"]},
        categories={c["code"]: c["name"] for c in categories},
        sources=sorted({warning["source"] for _, warning in warnings}),
    )


# ------------------------------------------------------------------ the combined query

@dataclass(frozen=True)
class Filters:
    warning_type: str = ""
    level: str = ""
    category: str = ""
    source: str = ""
    status: str = ""
    title: str = ""
    department: str = ""
    created_from: str = ""
    created_to: str = ""

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, for links that keep them in the URL."""
        return {k: v for k, v in asdict(self).items() if v}


SORTS = ("created_at", "level", "title", "warning_type", "status", "department")
ARGUMENT_LABELS = {"created_from": "创建日期（起）", "created_to": "创建日期（止）", "sort": "排序", "page": "页码",
                   "page_size": "每页条数", "by": "统计维度"}


@dataclass(frozen=True)
class Query:
    filters: Filters
    sort: str = "created_at"
    descending: bool = True
    page: int = 1
    page_size: int = PAGE_SIZES[0]


class QueryInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(f"{k}：{v}" for k, v in errors.items()))
        self.errors = errors


def _date(value: str, label: str, errors: dict) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[label] = "日期格式应为 YYYY-MM-DD"
        return None


def parse_query(args: Mapping[str, str]) -> Query:
    """The query a request's arguments ask for; QueryInvalid names each bad argument in Chinese."""
    values = {f.name: (args.get(f.name) or "").strip()[:100] for f in fields(Filters)}
    errors: dict[str, str] = {}
    start = _date(values["created_from"], "created_from", errors)
    end = _date(values["created_to"], "created_to", errors)
    if start and end and start > end:
        errors["created_to"] = "结束日期不能早于开始日期"
    sort = args.get("sort") or "created_at"
    if sort not in SORTS:
        errors["sort"] = f"只能按 {'、'.join(SORTS)} 排序"
    page, size = args.get("page") or "1", args.get("page_size") or str(PAGE_SIZES[0])
    if not page.isdigit() or int(page) < 1:
        errors["page"] = "页码应为正整数"
    if not size.isdigit() or int(size) not in PAGE_SIZES:
        errors["page_size"] = f"每页条数只能是 {'、'.join(map(str, PAGE_SIZES))}"
    if errors:
        raise QueryInvalid(errors)
    return Query(Filters(**values), sort, (args.get("order") or "desc") != "asc", int(page), int(size))


def _level_rank():
    """Levels sorted by their `order` in the definitions, not by code."""
    ranks = {code: level["order"] for code, level in catalogue().levels.items()}
    return case(ranks, value=Clue.level_code, else_=len(ranks) + 1) if ranks else Clue.level_code


def filtered(filters: Filters, table=Clue, created=Clue.created_at) -> Select:
    """The clues matching every filter given (scoped by the session like every query); or the rows
    of `table` with the clue's columns (their daily counts, whose creation day is `created`)."""
    statement = select(table)
    exact = {"warning_type": table.warning_type, "level": table.level_code, "source": table.source,
             "status": table.status}
    for name, column in exact.items():
        if getattr(filters, name):
            statement = statement.where(column == getattr(filters, name))
    if filters.category:
        statement = statement.where(table.type_code.startswith(f"{filters.category}/", autoescape=True))
    if filters.title:
        statement = statement.where(title_search.contains(table.title, filters.title))
    if filters.created_from:
        statement = statement.where(created >= _day_start(created, dt.date.fromisoformat(filters.created_from)))
    if filters.created_to:
        statement = statement.where(created < _day_start(created, dt.date.fromisoformat(filters.created_to)
                                                         + dt.timedelta(days=1)))
    if filters.department:
        path = db.session.scalar(select(Department.path).where(Department.code == filters.department))
        statement = statement.where(table.dept_path.startswith(path or "/-/", autoescape=True))
    return statement


def _day_start(column, day: dt.date):
    """The dates are whole days (validated), so a day column compares as exactly as a time; each
    with its own type (SQLite compares them as text)."""
    return day if isinstance(column.type, Date) else dt.datetime.combine(day, dt.time())


def run(query: Query) -> tuple[list[Clue], int, bool]:
    """One page of clues, the count (up to task_queries.COUNT_CAP) and whether there are more."""
    statement = filtered(query.filters)
    ids = task_queries.capped_ids(statement)
    total, more = task_queries.counted(ids)
    column = (_level_rank() if query.sort == "level" else Clue.dept_path if query.sort == "department"
              else getattr(Clue, query.sort))
    ordering = [column.desc() if query.descending else column.asc(), Clue.id.desc() if query.descending else Clue.id]
    rows = task_queries.page_rows(statement, ordering, query.page, query.page_size, ids)
    return list(rows), total, more


def departments_in_scope(user) -> list[Department]:
    """The departments a user may filter by: their own and those below, 总队 down to 支队 level."""
    under = user.department.path if user.department is not None else "/-/"
    return list(db.session.scalars(select(Department).where(Department.path.startswith(under), Department.depth <= 2)
                                   .order_by(Department.path)))


def filter_options(names: Catalogue, statuses: list[str], departments: list[Department]) -> list[tuple]:
    """(argument, label, [(value, text)]) of each select of the filter form."""
    return [
        ("warning_type", "预警类型", list(names.warning_types.items())),
        ("level", "线索等级", [(code, level["name"]) for code, level in names.levels.items()]),
        ("category", "线索类型", list(names.categories.items())),
        ("source", "预警来源", [(s, s) for s in names.sources]),
        ("status", "状态", [(s, s) for s in statuses]),
        ("department", "研判部门", [(d.code, "　" * d.depth + d.name) for d in departments]),
    ]


def row(clue: Clue, names: Catalogue) -> dict:
    """A clue as lists and the API show it: codes with their names."""
    level = names.levels.get(clue.level_code, {})
    return {"id": clue.id, "title": clue.title, "warning_type": clue.warning_type,
            "warning_type_name": names.warning_types.get(clue.warning_type, clue.warning_type),
            "level_code": clue.level_code, "level_name": level.get("name", clue.level_code), "level_color": level.get("color"),
            "type_code": clue.type_code, "type_name": names.types.get(clue.type_code, clue.type_code),
            "source": clue.source, "status": clue.status, "district_code": clue.district_code,
            "department": clue.department.name, "department_code": clue.department.code,
            "subject": clue.subject, "created_at": clue.created_at.isoformat(timespec="seconds")}


# ------------------------------------------------------------------ the detail

@dataclass(frozen=True)
class InboundAttachment(forms.AttachmentView):
    """An attachment the sending system referred to in its warning; shown from where it lives."""

    @property
    def kind(self) -> str:
        return next((kind for prefix, kind in ATTACHMENT_KINDS if self.content_type.startswith(prefix)), "file")


def inbound_attachments(clue_id: int) -> list[InboundAttachment]:
    """The `attachments` of the warnings accepted into the clue, as kept verbatim in their raw
    record: each `{"name", "url", "content_type", "size"}`, the url http(s). Others are skipped."""
    rows = records.select_all(select(InboundWarning).where(InboundWarning.clue_id == clue_id,
                                                           InboundWarning.status == "accepted")
                              .order_by(InboundWarning.id))
    found = []
    for row in rows:
        entries = json.loads(intake.raw_text(row)).get("attachments")
        for entry in entries if isinstance(entries, list) else []:
            url = entry.get("url") if isinstance(entry, dict) else None
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                continue
            size = entry.get("size")
            found.append(InboundAttachment(str(len(found)), str(entry.get("name") or url.rsplit("/", 1)[-1])[:200],
                                           str(entry.get("content_type") or "application/octet-stream"),
                                           size if isinstance(size, int) else 0, url))
    return found


def _process_pack(clue: Clue):
    """The pack the clue's process runs on (its payload form as it was), else the one in force."""
    release_id = db.session.scalar(select(ProcessInstance.release_id).where(
        ProcessInstance.business_kind == "clue", ProcessInstance.business_id == clue.id))
    return records.pinned_pack(release_id) if release_id else publishing.current_tree().packs[clue.pack_code]


def payload_summary(clue: Clue):
    pack = _process_pack(clue)
    form_key = pack.warning_types[clue.warning_type].content["payload_form"]
    return form_service.render_summary(pack, form_key, clue.payload)


def detail(clue: Clue) -> dict[str, Any]:
    """Everything the detail page and the API show besides the basic row. Opening a detail is
    audited: the subject and payload may name a person (骑手)."""
    audit.record("read_personal", "Clue", clue.id, f"查看线索「{clue.title}」的详情")
    db.session.commit()
    items = records.select_all(select(WorkItem).where(WorkItem.clue_id == clue.id, WorkItem.business_kind == "clue")
                               .order_by(WorkItem.id))
    tasks = db.session.scalars(select(Task).where(Task.clue_id == clue.id).order_by(Task.id)).all()
    return {
        "history": actions.steps_of([i for i in items if i.state != "open"]),
        "open_items": [i for i in items if i.state == "open"],
        "tasks": tasks,
        "attachments": inbound_attachments(clue.id),
        "source_ids": records.select_all(select(InboundWarning.source_id).where(
            InboundWarning.clue_id == clue.id, InboundWarning.status == "accepted").order_by(InboundWarning.id)),
    }
