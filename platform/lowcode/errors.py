"""Chinese error pages for people, JSON errors for API clients."""
from __future__ import annotations

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请检查后重试。"),
    401: ("需要登录", "请先登录。"),
    403: ("无权访问", "您的角色没有访问此页面或数据的权限。如需开通，请联系系统管理员。"),
    404: ("未找到", "您要找的页面或记录不存在，或不在您的数据权限范围内。"),
    405: ("不支持的操作", "此地址不支持该请求方式。"),
    429: ("请求过于频繁", "请稍后再试。"),
    500: ("系统错误", "系统处理时出错，已记录。请稍后重试或联系系统管理员。"),
}


CSRF_MESSAGE = "页面已过期或缺少安全令牌（CSRF），请刷新页面后重新提交。"


def respond(code: int, message: str = ""):
    title, default = MESSAGES.get(code, MESSAGES[500])
    message = message or default
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(message=message), code
    from flask_login import current_user

    from lowcode.extensions import appbuilder

    # An error raised before Flask-AppBuilder's own before_request (a refused CSRF token) leaves
    # g.user unset, and the menu of the error page needs it.
    g.user = g.get("user") or current_user
    return render_template("error.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                           code=code, title=title, message=message), code


def too_many_requests(retry_after: int):
    """429 with Retry-After, telling the caller in Chinese how long to wait."""
    body, code = respond(429, f"请求过于频繁，请在 {retry_after} 秒后再试。")
    response = make_response(body, code)
    response.headers["Retry-After"] = str(retry_after)
    return response


def register(app: Flask) -> None:
    def handle_http(error: HTTPException):
        return respond(error.code or 500)

    def handle_unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return respond(500)

    for code in MESSAGES:
        if code != 500:
            app.register_error_handler(code, handle_http)
    app.register_error_handler(500, handle_unexpected)
    app.register_error_handler(CSRFError, lambda error: respond(400, CSRF_MESSAGE))
