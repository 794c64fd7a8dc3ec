"""Permission vocabulary shared by every view and API: each resource has read, write and delete.

Flask-AppBuilder derives one permission per view method; mapping methods onto these three keeps
roles (definitions/core/roles.json) short and stable as views gain methods.
"""

READ_WRITE_DELETE = {
    # ModelView methods
    "list": "read",
    "show": "read",
    "download": "read",
    "api": "read",
    "api_read": "read",
    "api_get": "read",
    "api_column_add": "write",
    "api_column_edit": "write",
    "api_readvalues": "read",
    "add": "write",
    "edit": "write",
    "api_create": "write",
    "api_update": "write",
    "delete": "delete",
    "api_delete": "delete",
    "action": "write",
    "action_post": "write",
    # ModelRestApi methods
    "get_list": "read",
    "get": "read",
    "info": "read",
    "post": "write",
    "put": "write",
}
