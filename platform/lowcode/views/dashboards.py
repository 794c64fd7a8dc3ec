"""统计大屏: the dashboards of the packs in force, as pages and as REST API alike."""
from __future__ import annotations

from flask import abort
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import has_access

from lowcode import dashboard_screens

READ = {"index": "read", "show": "read", "list": "read", "get": "read", "panel": "read"}


def _panel_json(panel: dashboard_screens.PanelView) -> dict:
    return {"code": panel.code, "title": panel.title, "chart": panel.chart, "counted": panel.counted,
            "value_label": panel.value_label, "group_label": panel.group_label, "total": panel.total, "previous": panel.previous,
            "groups": [{"name": n, "value": v, "previous": p} for n, v, p in panel.groups], "figure": panel.figure}


class DashboardsView(BaseView):
    route_base = "/dashboards"
    default_view = "index"
    class_permission_name = "Dashboard"
    method_permission_name = READ
    base_permissions = ["can_read"]

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("dashboards/index.html", dashboards=dashboard_screens.dashboards_in_force())

    @expose("/<pack>/<code>")
    @has_access
    def show(self, pack: str, code: str):
        try:
            return self.render_template("dashboards/screen.html", screen=dashboard_screens.screen(pack, code))
        except dashboard_screens.NoSuchDashboard:
            abort(404)


class DashboardApi(BaseApi):
    resource_name = "dashboards"
    class_permission_name = "Dashboard"
    method_permission_name = READ
    base_permissions = ["can_read"]
    allow_browser_login = True
    openapi_spec_tag = "统计大屏"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def list(self):
        """The dashboards of the packs in force
        ---
        get:
          responses:
            200: {description: 统计大屏列表（包、代码、名称）}
        """
        return self.response(200, result=[{"pack": p, "code": c, "name": n}
                                          for p, c, n in dashboard_screens.dashboards_in_force()])

    @expose("/<pack>/<code>", methods=["GET"])
    @protect()
    @safe
    def get(self, pack: str, code: str):
        """Every panel of a dashboard, summed over the caller's districts
        ---
        get:
          parameters:
          - {in: path, name: pack, required: true, schema: {type: string}}
          - {in: path, name: code, required: true, schema: {type: string}}
          responses:
            200: {description: 各面板的合计、分组、与前一日对比和 plotly 图}
            404: {description: 没有这个统计大屏}
        """
        try:
            screen = dashboard_screens.screen(pack, code)
        except dashboard_screens.NoSuchDashboard:
            return self.response_404()
        return self.response(200, name=screen.name, refreshed_at=screen.refreshed_at and screen.refreshed_at.isoformat(),
                             panels=[_panel_json(p) for p in screen.panels])

    @expose("/<pack>/<code>/<panel>", methods=["GET"])
    @protect()
    @safe
    def panel(self, pack: str, code: str, panel: str):
        """One panel of a dashboard (for example the map's points)
        ---
        get:
          parameters:
          - {in: path, name: pack, required: true, schema: {type: string}}
          - {in: path, name: code, required: true, schema: {type: string}}
          - {in: path, name: panel, required: true, schema: {type: string}}
          responses:
            200: {description: 面板的合计、分组和 plotly 图}
            404: {description: 没有这个统计大屏或面板}
        """
        try:
            screen = dashboard_screens.screen(pack, code, only=panel)
        except dashboard_screens.NoSuchDashboard:
            return self.response_404()
        return self.response(200, result=_panel_json(screen.panels[0]))
