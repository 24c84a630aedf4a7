"""Domain errors → status codes and pages, in one place."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import DomainError

HTTP_MESSAGES = {
    400: "请求格式不正确",
    401: "请先登录",
    403: "没有权限",
    404: "页面或资源不存在",
    405: "不支持该请求方法",
    409: "操作冲突",
    413: "上传内容过大",
    422: "提交内容有误",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，已记录，请稍后再试",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if fields:
            body["error"]["fields"] = fields
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


NUL_MESSAGE = "请求中含有不可用的控制字符（\\0），请检查后重新提交"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _refuse_nul():
    """PostgreSQL cannot store a NUL character in text: a query string, form or JSON body holding
    one is refused with a message here, before any query is built from it (never a 500)."""
    pairs = [*request.args.items(multi=True)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        pairs += [*request.form.items(multi=True)]
    if any(_has_nul(k) or _has_nul(v) for k, v in pairs) or (
            request.is_json and _has_nul(request.get_json(silent=True))):
        return error_response(400, "bad_request", NUL_MESSAGE)
    return None


def register(app: Flask) -> None:
    app.before_request(_refuse_nul)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return error_response(400, "csrf_failed", "页面已过期或缺少安全令牌（CSRF），请刷新页面后重试")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        return error_response(status, exc.name.lower().replace(" ", "_"), HTTP_MESSAGES.get(status, exc.description or ""))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unexpected error")
        return error_response(500, "internal_error", HTTP_MESSAGES[500])
