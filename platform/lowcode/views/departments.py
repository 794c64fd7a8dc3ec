from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

from lowcode.models import Department
from lowcode.permissions import READ_WRITE_DELETE
from lowcode.views.formatting import yes_no

LABELS = {
    "code": "机构代码",
    "name": "名称",
    "kind": "类别",
    "district_code": "行政区划代码",
    "district_name": "行政区划",
    "parent": "上级部门",
    "depth": "层级",
    "sort_order": "排序",
    "active": "启用",
    "path": "路径",
}


class DepartmentView(ModelView):
    route_base = "/departments"
    datamodel = SQLAInterface(Department)
    class_permission_name = "Department"
    method_permission_name = READ_WRITE_DELETE
    list_title = show_title = "组织机构"
    add_title = "新增部门"
    edit_title = "修改部门"
    label_columns = LABELS
    list_columns = ["code", "name", "kind", "district_name", "parent", "active"]
    show_columns = ["code", "name", "kind", "district_code", "district_name", "parent", "active"]
    edit_columns = ["name", "active", "sort_order"]
    add_columns = []
    search_columns = ["code", "name", "kind", "district_name", "active"]
    order_columns = ["code", "name", "kind", "district_name"]
    base_order = ("path", "asc")
    page_size = 20
    formatters_columns = {"active": yes_no}
    # The tree itself is loaded from definitions/core/organisation.json; the page only edits names.
    base_permissions = ["can_read", "can_write"]


class DepartmentApi(ModelRestApi):
    resource_name = "department"
    datamodel = SQLAInterface(Department)
    class_permission_name = "Department"
    method_permission_name = READ_WRITE_DELETE
    allow_browser_login = True
    list_columns = ["id", "code", "name", "kind", "district_code", "district_name", "parent_id", "depth", "active"]
    show_columns = list_columns
    edit_columns = ["name", "active", "sort_order"]
    add_columns = edit_columns
    search_columns = ["code", "name", "kind", "district_code", "parent_id", "active"]
    order_columns = ["code", "name", "kind", "district_code"]
    base_order = ("code", "asc")
    label_columns = LABELS
    base_permissions = ["can_read", "can_write"]
