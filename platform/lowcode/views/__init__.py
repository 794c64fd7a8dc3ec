"""Web pages and REST APIs, registered on the AppBuilder in one place.

MENU records which menu entries belong to which permission resource, so role definitions only
name resources and actions, and menu access follows from read access.
"""
from __future__ import annotations

from collections import defaultdict

from lowcode.extensions import appbuilder

MENU: dict[str, set[str]] = defaultdict(set)


def add_page(view, name: str, label: str, category: str, category_label: str, icon: str = "") -> None:
    appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    MENU[view.class_permission_name].update({name, category})


def register() -> None:
    from lowcode.views.audit import AuditEventApi, AuditEventView
    from lowcode.views.definitions import DefinitionsView
    from lowcode.views.departments import DepartmentApi, DepartmentView
    from lowcode.views.forms import FormsView
    from lowcode.views.intake import ApiClientView, InboundWarningView, WarningsApi
    from lowcode.views.officers import OfficerApi
    from lowcode.views.personal_search import ClueSearchApi
    from lowcode.views.workflow import IncidentsView, WorkflowApi

    add_page(DepartmentView, "Departments", "组织机构", "System", "系统管理", "fa-sitemap")
    add_page(AuditEventView, "AuditEvents", "审计日志", "System", "系统管理", "fa-history")
    add_page(DefinitionsView, "Definitions", "定义与版本", "Configuration", "业务配置", "fa-code-fork")
    add_page(IncidentsView, "Incidents", "流程异常", "System", "系统管理", "fa-exclamation-triangle")
    add_page(ApiClientView, "ApiClients", "接入系统", "Intake", "预警接收", "fa-plug")
    add_page(InboundWarningView, "InboundWarnings", "接收记录", "Intake", "预警接收", "fa-inbox")
    add_page(FormsView, "Forms", "全部表单", "Forms", "表单", "fa-edit")
    for api in (DepartmentApi, OfficerApi, AuditEventApi, WorkflowApi, WarningsApi, ClueSearchApi):
        appbuilder.add_api(api)
