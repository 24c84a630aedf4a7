"""Domain errors → status codes and pages, in one place."""

from __future__ import annotations

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


def register(app: Flask) -> None:
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
