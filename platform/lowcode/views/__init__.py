"""Web pages and REST APIs, registered on the AppBuilder in one place.

MENU records which menu entries belong to which permission resource, so role definitions only
name resources and actions, and menu access follows from read access.
"""
from __future__ import annotations

from collections import defaultdict

from flask import current_app

from lowcode.extensions import appbuilder

MENU: dict[str, set[str]] = defaultdict(set)


def add_page(view, name: str, label: str, category: str, category_label: str, icon: str = "") -> None:
    appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    MENU[view.class_permission_name].update({name, category})


def add_link(resource: str, name: str, label: str, href: str, category: str, category_label: str,
             icon: str = "") -> None:
    """A menu link to a page of `resource` (another view's route), shown to whoever may read it."""
    appbuilder.add_link(name, label=label, href=href, icon=icon, category=category, category_label=category_label)
    MENU[resource].add(name)


def register() -> None:
    from lowcode import notifications
    from lowcode.views.audit import AuditEventApi, AuditEventView
    from lowcode.views.clues import ClueApi, CluesView
    from lowcode.views.dashboards import DashboardApi, DashboardsView
    from lowcode.views.definitions import DefinitionsView
    from lowcode.views.entities import EntitiesView, EntityApi, readable
    from lowcode.views.departments import DepartmentApi, DepartmentView
    from lowcode.views.forms import FormsView
    from lowcode.views.labels import LabelsApi, LabelsView
    from lowcode.views.assets import page_assets
    from lowcode.views.menu import menu_html
    from lowcode.views.intake import ApiClientView, InboundWarningView, WarningsApi
    from lowcode.views.officers import OfficerApi
    from lowcode.views.outbox import OutboxApi, OutboxView
    from lowcode.views.personal_search import ClueSearchApi
    from lowcode.views.workflow import IncidentsView, WorkflowApi
    from lowcode.views.inbox import InboxView
    from lowcode.views.notifications import NotificationApi, NotificationView
    from lowcode.views.pda import PdaView
    from lowcode.views.tasks import TaskApi, TaskView

    add_page(InboxView, "Inbox", "待办事项", "MyWork", "我的工作", "fa-inbox")
    add_link("Inbox", "InboxDone", "已办事项", "/inbox/done", "MyWork", "我的工作", "fa-check")
    add_page(NotificationView, "Notifications", "通知", "MyWork", "我的工作", "fa-bell")
    add_page(PdaView, "Pda", "交通执法 II（PDA）", "MyWork", "我的工作", "fa-mobile")
    add_page(DepartmentView, "Departments", "组织机构", "System", "系统管理", "fa-sitemap")
    add_page(AuditEventView, "AuditEvents", "审计日志", "System", "系统管理", "fa-history")
    add_page(DefinitionsView, "Definitions", "定义与版本", "Configuration", "业务配置", "fa-code-fork")
    add_page(IncidentsView, "Incidents", "流程异常", "System", "系统管理", "fa-exclamation-triangle")
    add_page(ApiClientView, "ApiClients", "接入系统", "Intake", "预警接收", "fa-plug")
    add_page(InboundWarningView, "InboundWarnings", "接收记录", "Intake", "预警接收", "fa-inbox")
    add_page(CluesView, "Clues", "线索查询", "Clues", "线索管理", "fa-search")
    add_link("Clue", "ClueStatistics", "线索统计", "/clues/statistics", "Clues", "线索管理", "fa-bar-chart")
    add_page(LabelsView, "Labels", "等级与类型管理", "Clues", "线索管理", "fa-tags")
    add_page(OutboxView, "Outbox", "反馈推送", "Intake", "预警接收", "fa-paper-plane")
    add_page(FormsView, "Forms", "全部表单", "Forms", "表单", "fa-edit")
    add_page(TaskView, "Tasks", "任务查询", "TaskManagement", "任务管理", "fa-tasks")
    add_page(DashboardsView, "Dashboards", "统计大屏", "Analysis", "统计分析", "fa-area-chart")
    add_link("Task", "TaskStats", "任务统计", "/tasks/stats", "TaskManagement", "任务管理", "fa-bar-chart")
    appbuilder.add_view_no_menu(EntitiesView)
    current_app.context_processor(lambda: {"unread_notifications": notifications.badge, "navbar_menu": menu_html,
                                           "entity_menu": readable, "page_assets": page_assets})
    for api in (DepartmentApi, OfficerApi, AuditEventApi, WorkflowApi, WarningsApi, ClueApi, LabelsApi, OutboxApi, TaskApi,
                NotificationApi, ClueSearchApi, EntityApi, DashboardApi):
        appbuilder.add_api(api)
