"""等级与类型管理: clue and task levels and two-level types, listed and edited as tables; a save
publishes a new release of the pack (validated as a whole first, nothing stored on error)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import has_access

from lowcode import bootstrap, labels

BLANK_ROWS = 3


def _table(kind: str) -> labels.Table:
    return labels.TABLES.get(kind) or abort(404)


def _posted_rows(table: labels.Table) -> list[dict]:
    """What was posted, cell by cell as typed, to show the form again with its errors."""
    count = request.form.get("row_count", "")
    return [{**{c.name: request.form.get(f"rows-{i}-{c.name}", "") for c in table.columns},
             "_delete": request.form.get(f"rows-{i}-_delete") == "on"}
            for i in range(int(count) if count.isdigit() else 0)]


class LabelsView(BaseView):
    route_base = "/labels"
    default_view = "index"
    class_permission_name = "ClueLabel"
    method_permission_name = {"index": "read", "edit": "write", "save": "write"}
    base_permissions = ["can_read", "can_write"]

    @expose("/")
    @has_access
    def index(self):
        tables = [(table, labels.rows_of(table, labels.current_content(table))) for table in labels.TABLES.values()]
        return self.render_template("labels/index.html", tables=tables,
                                    can_write=self.appbuilder.sm.has_access("can_write", self.class_permission_name))

    @expose("/<kind>/edit")
    @has_access
    def edit(self, kind: str):
        table = _table(kind)
        rows = labels.rows_of(table, labels.current_content(table))
        return self._form(table, rows, [])

    @expose("/<kind>/edit", methods=["POST"])
    @has_access
    def save(self, kind: str):
        table = _table(kind)
        try:
            release = labels.save(table, request.form, request.form.get("note", "").strip())
        except labels.SaveRefused as refused:
            return self._form(table, _posted_rows(table), refused.errors), 422
        if release is None:
            flash("内容与当前版本相同，无需发布。", "info")
        else:
            bootstrap.apply_published([release])
            flash(f"已保存{table.title}：发布定义包 {release.pack_code} 第 {release.number} 版，立即生效。", "success")
        return redirect(url_for("LabelsView.index"))

    def _form(self, table: labels.Table, rows: list[dict], errors: list[str]):
        # A form shown again after errors keeps its rows, blank ones included, and gets no more.
        extra = 0 if request.method == "POST" else min(request.args.get("extra", BLANK_ROWS, type=int) or BLANK_ROWS, 50)
        return self.render_template("labels/edit.html", table=table, errors=errors,
                                    rows=rows + [{} for _ in range(extra)], note=request.form.get("note", ""))


class LabelsApi(BaseApi):
    resource_name = "labels"
    class_permission_name = "ClueLabel"
    method_permission_name = {"get": "read", "put": "write"}
    base_permissions = ["can_read", "can_write"]
    allow_browser_login = True
    openapi_spec_tag = "线索管理"

    @expose("/<kind>", methods=["GET"])
    @protect()
    @safe
    def get(self, kind: str):
        """Levels or two-level types as the definitions in force hold them
        ---
        get:
          parameters:
          - {in: path, name: kind, required: true, schema: {type: string, enum: [clue_levels, clue_types, task_levels, task_types]}}
          responses:
            200: {description: 定义文件中的条目}
            404: {description: 没有这种表}
        """
        table = labels.TABLES.get(kind)
        if table is None:
            return self.response_404()
        return self.response(200, kind=kind, title=table.title, result=labels.current_content(table))

    @expose("/<kind>", methods=["PUT"])
    @protect()
    @safe
    def put(self, kind: str):
        """Replace the entries and publish a new release of the pack
        ---
        put:
          description: '请求体 {"entries": [...], "note": "..."}，条目格式与定义文件相同；先整体校验，有错不保存。'
          responses:
            200: {description: 已发布（release 为新版本号，无变化时为 null）}
            400: {description: 校验未通过，errors 逐条说明}
        """
        table = labels.TABLES.get(kind)
        if table is None:
            return self.response_404()
        body = request.get_json(silent=True) or {}
        try:
            release = labels.publish(table, body.get("entries"), str(body.get("note") or ""))
        except labels.SaveRefused as refused:
            return self.response_400(message={"errors": refused.errors})
        if release is not None:
            bootstrap.apply_published([release])
        return self.response(200, release=release.number if release else None)
