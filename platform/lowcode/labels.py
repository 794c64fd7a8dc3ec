"""等级与类型管理: clue and task levels and two-level types, edited as tables and saved by
publishing a new release of their pack. The definition files stay the only truth: a save is a
whole-tree validation and a publish, or, on any error, nothing at all."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from lowcode import publishing
from lowcode.definitions import DefinitionError

PACK = "nmv"


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str = "text"      # text | number | color | boolean
    category: bool = False  # a column of the first level of a two-level table


@dataclass(frozen=True)
class Table:
    kind: str               # the pack's content kind and the file's top-level key
    title: str
    columns: tuple[Column, ...]
    two_level: bool = False

    @property
    def own_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.category]


CODE, NAME, DESCRIPTION = Column("code", "代码"), Column("name", "名称"), Column("description", "说明")
LEVEL = (CODE, NAME, Column("color", "颜色", "color"), Column("order", "排序（1 最紧急）", "number"))
CATEGORY = (Column("category_code", "一级代码", category=True), Column("category_name", "一级名称", category=True))
TABLES = {table.kind: table for table in (
    Table("clue_levels", "线索等级", (*LEVEL, DESCRIPTION)),
    Table("clue_types", "线索类型", (*CATEGORY, Column("code", "二级代码"), Column("name", "二级名称"), DESCRIPTION),
          two_level=True),
    Table("task_levels", "任务等级与时限", (*LEVEL, Column("sign_hours", "签收时限（小时）", "number"),
                                          Column("feedback_hours", "反馈时限（小时）", "number"),
                                          Column("reminder_before_hours", "到期前提醒（小时）", "number"), DESCRIPTION)),
    Table("task_types", "任务类型", (*CATEGORY, Column("code", "二级代码"), Column("name", "二级名称"),
                                    Column("feedback_form", "反馈表单"), Column("sign_hours", "签收时限（小时）", "number"),
                                    Column("feedback_hours", "反馈时限（小时）", "number"),
                                    Column("forwardable", "可转发", "boolean"), DESCRIPTION), two_level=True),
)}


class SaveRefused(Exception):
    """Nothing was published; `errors` say why, in Chinese, by row where they can."""

    def __init__(self, errors: list[str]):
        super().__init__(f"未保存：{len(errors)} 处错误")
        self.errors = errors


def _file_path(table: Table) -> str:
    manifest = json.loads(publishing.release_files(publishing.current_releases()[PACK])["pack.json"])
    paths = manifest["contents"].get(table.kind) or []
    if len(paths) != 1 or not paths[0].endswith(".json"):
        raise SaveRefused([f"定义包 {PACK} 的{table.title}不在单个文件中，请在“定义与版本”页面修改"])
    return paths[0]


def current_content(table: Table) -> list[dict]:
    return json.loads(publishing.release_files(publishing.current_releases()[PACK])[_file_path(table)])[table.kind]


def rows_of(table: Table, entries: list[dict]) -> list[dict[str, Any]]:
    """The table's entries as flat rows (a two-level table: one row per second-level entry)."""
    if not table.two_level:
        return [dict(entry) for entry in entries]
    return [{"category_code": category["code"], "category_name": category["name"], **subtype}
            for category in entries for subtype in category["subtypes"]]


def _value(column: Column, raw: str, line: int, errors: list[str]) -> Any:
    """A cell as the file holds it; None for an empty cell (the file then omits it)."""
    raw = raw.strip()
    if column.kind == "boolean":
        return raw == "on"
    if not raw:
        return None
    if column.kind == "number":
        try:
            number = float(raw)
        except ValueError:
            errors.append(f"第 {line} 行「{column.label}」应为数字，填写的是“{raw}”")
            return None
        return int(number) if number.is_integer() else number
    return raw


def parse_rows(table: Table, form: Mapping[str, str]) -> tuple[list[tuple[int, dict]], list[str]]:
    """The posted rows (fields `rows-<i>-<column>`) less deleted and blank ones, each with its line
    number on the page, and their errors."""
    count = str(form.get("row_count", ""))
    rows, errors = [], []
    for index in range(int(count) if count.isdigit() else 0):
        prefix = f"rows-{index}-"
        cells = {c.name: form.get(prefix + c.name, "") for c in table.columns}
        blank = not any(cells[c.name].strip() for c in table.columns if c.kind != "boolean")
        if form.get(prefix + "_delete") == "on" or blank:
            continue
        values = {c.name: _value(c, cells[c.name], index + 1, errors) for c in table.columns}
        rows.append((index + 1, {name: value for name, value in values.items() if value is not None}))
    return rows, errors


def entries_of(table: Table, rows: list[tuple[int, dict]], previous: list[dict]) -> tuple[list[dict], list[str]]:
    """Rows back to the file's entries; codes must be unique (within a category for second levels)."""
    errors, seen = [], set()
    for line, row in rows:
        key = (row.get("category_code"), row.get("code"))
        if key[1] is not None and key in seen:
            where = f"一级类型 {key[0]} 下" if table.two_level else ""
            errors.append(f"第 {line} 行：{where}代码 {key[1]} 重复")
        seen.add(key)
    if not table.two_level:
        return [row for _, row in rows], errors
    described = {c["code"]: c.get("description") for c in previous}
    categories: dict[str, dict] = {}
    for line, row in rows:
        code, name = row.pop("category_code", None), row.pop("category_name", None)
        if not code or not name:
            errors.append(f"第 {line} 行：请填写一级代码和一级名称")
            continue
        category = categories.setdefault(code, {"code": code, "name": name, "subtypes": []})
        if category["name"] != name:
            errors.append(f"第 {line} 行：一级类型 {code} 的名称与前面的行不一致（“{category['name']}”与“{name}”）")
        if described.get(code):
            category["description"] = described[code]
        category["subtypes"].append(row)
    return list(categories.values()), errors


def _readable(table: Table, error: DefinitionError, path: str) -> str:
    """A definition error in the table's words (项 and column labels) where it points into the table."""
    parts = error.pointer.strip("/").split("/")
    if not (error.file.endswith(path) and len(parts) >= 2 and parts[0] == table.kind and parts[1].isdigit()):
        return f"{error.file}#{error.pointer}：{error.reason}"
    labels = {c.name: c.label for c in table.own_columns}
    where = f"{table.title}第 {int(parts[1]) + 1} 项"
    rest = parts[2:]
    if table.two_level and rest[:1] == ["subtypes"] and len(rest) >= 2 and rest[1].isdigit():
        where, rest = f"{where}的第 {int(rest[1]) + 1} 个二级类型", rest[2:]
    elif table.two_level and rest[:1] in (["code"], ["name"]):
        labels = {"code": "一级代码", "name": "一级名称"}
    field = "、".join(labels.get(part, part) for part in rest[:1])
    return f"{where}{'「' + field + '」' if field else ''}：{error.reason}"


def save(table: Table, form: Mapping[str, str], note: str):
    """The page's save: the posted rows become the table's entries, then `publish`."""
    rows, errors = parse_rows(table, form)
    entries, more = entries_of(table, rows, current_content(table))
    if errors + more:
        raise SaveRefused(errors + more)
    return publish(table, entries, note)


def publish(table: Table, entries: Any, note: str):
    """Publish the pack with this table's entries replaced; SaveRefused (nothing stored) on any
    error. Returns the new release, or None when nothing changed."""
    path = _file_path(table)
    if not isinstance(entries, list) or not entries:
        raise SaveRefused([f"{table.title}至少要有一项"])
    files = publishing.release_files(publishing.current_releases()[PACK])
    document = json.loads(files[path])
    if document[table.kind] == entries:
        return None  # the same content, whatever the file's layout: nothing to publish
    document[table.kind] = entries
    files[path] = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
    try:
        return publishing.publish(PACK, files, source="labels", note=note or f"修改{table.title}")
    except publishing.PublishRefused as refused:
        raise SaveRefused([_readable(table, error, path) for error in refused.errors]) from refused
