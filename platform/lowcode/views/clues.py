"""线索管理: the combined query, the detail, the statistics (pages and REST API alike)."""
from __future__ import annotations


from flask import abort, g, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import has_access

from lowcode import clue_stats, clues, scoping, statistics_rollups
from lowcode.distinct import distinct_values
from lowcode.models import Clue
from lowcode.views.workflow import WORK_ITEM_FIELDS, _plain

READ = {"index": "read", "detail": "read", "statistics": "read",
        "get_list": "read", "get": "read", "get_statistics": "read"}


def _query():
    """The query a request asks for; the errors by argument when it is malformed."""
    try:
        return clues.parse_query(request.args), {}
    except clues.QueryInvalid as invalid:
        return clues.Query(clues.Filters()), invalid.errors


def _statistics_args() -> tuple[str, str, str]:
    return request.args.get("by") or "type", request.args.get("period") or "day", request.args.get("chart") or "bar"


def link(**changes) -> str:
    """This page's URL with its arguments (the filters) kept and some changed."""
    return url_for(request.endpoint, **{**request.args.to_dict(), **changes})


class CluesView(BaseView):
    route_base = "/clues"
    default_view = "index"
    class_permission_name = "Clue"
    method_permission_name = READ
    base_permissions = ["can_read"]

    def render_template(self, template, **kwargs):
        return super().render_template(template, link=link, **kwargs)

    @expose("/")
    @has_access
    def index(self):
        query, errors = _query()
        rows, total, more = clues.run(query) if not errors else ([], 0, False)
        names = clues.catalogue()
        return self.render_template(
            "clues/list.html", rows=[clues.row(c, names) for c in rows], total=total, more=more, query=query,
            errors=errors,
            options=_options(names), labels=clues.ARGUMENT_LABELS, pages=max(1, -(-total // query.page_size)),
            page_sizes=clues.PAGE_SIZES)

    @expose("/<int:clue_id>")
    @has_access
    def detail(self, clue_id: int):
        clue = scoping.visible(Clue, clue_id) or abort(404)
        return self.render_template("clues/detail.html", clue=clue, row=clues.row(clue, clues.catalogue()),
                                    payload=clues.payload_summary(clue), **clues.detail(clue))

    @expose("/statistics")
    @has_access
    def statistics(self):
        query, errors = _query()
        by, period, chart = _statistics_args()
        result = None
        try:
            if not errors:
                result = clue_stats.statistics(query.filters, by, period, chart)
        except clue_stats.StatisticsInvalid as invalid:
            errors = {"by": str(invalid)}
        return self.render_template(
            "clues/statistics.html", result=result, errors=errors, query=query, by=by, period=period, chart=chart,
            dimensions=clue_stats.DIMENSIONS, charts=clue_stats.CHARTS, periods=clue_stats.dashboards.PERIODS,
            options=_options(clues.catalogue()), labels=clues.ARGUMENT_LABELS,
            refresh_minutes=statistics_rollups.REFRESH_MINUTES)


def _options(names: clues.Catalogue) -> list[tuple]:
    statuses = distinct_values(Clue.status)
    return clues.filter_options(names, statuses, clues.departments_in_scope(g.user))


class ClueApi(BaseApi):
    resource_name = "clues"
    class_permission_name = "Clue"
    method_permission_name = READ
    base_permissions = ["can_read"]
    allow_browser_login = True
    openapi_spec_tag = "线索管理"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """Combined query of clues in my scope
        ---
        get:
          description: 按预警类型、线索等级、线索类型（一级）、来源、状态、标题（包含）、创建日期范围、研判部门（含下级）组合查询，分页排序。
          parameters:
          - {in: query, name: warning_type, schema: {type: string}}
          - {in: query, name: level, schema: {type: string}}
          - {in: query, name: category, schema: {type: string}}
          - {in: query, name: source, schema: {type: string}}
          - {in: query, name: status, schema: {type: string}}
          - {in: query, name: title, schema: {type: string}}
          - {in: query, name: department, description: 部门代码（含下级）, schema: {type: string}}
          - {in: query, name: created_from, schema: {type: string, format: date}}
          - {in: query, name: created_to, schema: {type: string, format: date}}
          - {in: query, name: sort, schema: {type: string, enum: [created_at, level, title, warning_type, status, department]}}
          - {in: query, name: order, schema: {type: string, enum: [asc, desc]}}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, enum: [20, 50, 100]}}
          responses:
            200: {description: 一页线索与总数}
            400: {description: 参数错误（按参数）}
        """
        query, errors = _query()
        if errors:
            return self.response_400(message=errors)
        rows, total, more = clues.run(query)
        names = clues.catalogue()
        return self.response(200, count=total, more=more, page=query.page, page_size=query.page_size,
                             result=[clues.row(c, names) for c in rows])

    @expose("/<int:clue_id>", methods=["GET"])
    @protect()
    @safe
    def get(self, clue_id: int):
        """One clue: basic information, payload, attachments, history, tasks, open work items
        ---
        get:
          responses:
            200: {description: 线索详情}
            404: {description: 不存在或不在本人数据范围内}
        """
        clue = scoping.visible(Clue, clue_id)
        if clue is None:
            return self.response_404()
        more = clues.detail(clue)
        return self.response(200, result={
            **clues.row(clue, clues.catalogue()), "payload": clue.payload, "source_ids": more["source_ids"],
            "attachments": [{"name": a.name, "url": a.url, "content_type": a.content_type, "size": a.size}
                            for a in more["attachments"]],
            "history": [{**step, "at": _plain(step["at"])} for step in more["history"]],
            "open_work_items": [{**{f: getattr(i, f) for f in WORK_ITEM_FIELDS}, "department": i.department.name,
                                 "url": f"/inbox/{i.id}"} for i in more["open_items"]],
            "tasks": [{"id": t.id, "title": t.title, "status": t.status, "url": f"/tasks/{t.id}"} for t in more["tasks"]],
        })

    @expose("/statistics", methods=["GET"])
    @protect()
    @safe
    def get_statistics(self):
        """Clue counts by one dimension, over the same filters as the list
        ---
        get:
          parameters:
          - {in: query, name: by, schema: {type: string, enum: [type, level, source, warning_type, time, department]}}
          - {in: query, name: period, schema: {type: string, enum: [day, week, month]}}
          - {in: query, name: chart, schema: {type: string, enum: [bar, line, pie]}}
          responses:
            200: {description: 分组计数与 plotly 图；refreshed_at 为预汇总数据的统计时间（实时统计时为空）}
            400: {description: 参数错误}
        """
        query, errors = _query()
        if errors:
            return self.response_400(message=errors)
        try:
            result = clue_stats.statistics(query.filters, *_statistics_args())
        except clue_stats.StatisticsInvalid as invalid:
            return self.response_400(message=str(invalid))
        return self.response(200, dimension=result.dimension.name, total=result.total, figure=result.figure,
                             refreshed_at=result.refreshed_at and result.refreshed_at.isoformat(),
                             groups=[{"key": k, "name": name, "count": n} for k, name, n in result.groups])
