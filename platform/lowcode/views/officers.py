from flask_appbuilder import ModelRestApi
from flask_appbuilder.models.sqla.interface import SQLAInterface

from lowcode.models import Officer
from lowcode.permissions import READ_WRITE_DELETE
from lowcode.security import OFFICER_LABELS, OFFICER_PERMISSIONS


class OfficerApi(ModelRestApi):
    """Officers within the caller's scope; personal fields stay out of the list."""

    resource_name = "officer"
    datamodel = SQLAInterface(Officer)
    class_permission_name = "Officer"
    method_permission_name = READ_WRITE_DELETE
    allow_browser_login = True
    list_columns = ["id", "username", "last_name", "first_name", "police_no", "department_id", "active"]
    show_columns = list_columns
    # Passwords are set only through the pages (hashed, under the policy); login bookkeeping and
    # the scope path are the system's own.
    add_columns = edit_columns = ["username", "last_name", "first_name", "police_no", "mobile", "email",
                                  "department", "active", "roles"]
    search_columns = ["username", "last_name", "police_no", "department_id", "active"]
    order_columns = ["username", "last_name", "police_no"]
    label_columns = OFFICER_LABELS
    base_permissions = OFFICER_PERMISSIONS
