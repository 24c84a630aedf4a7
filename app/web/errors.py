"""Domain errors → status codes and pages, in one place."""

from __future__ import annotations

import math
from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import DomainError, is_contention

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


MAX_JSON_DEPTH = 64


def _not_json(text: str):
    raise ValueError(f"{text} is not JSON (RFC 8259)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} does not fit a float")
    return value


def _check_tree(value: Any) -> None:
    """Iteratively (no recursion to exhaust): no nesting deeper than MAX_JSON_DEPTH and no string
    that is not Unicode text (a lone surrogate, as the escape \\ud800 makes one)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                item.encode("utf-8")  # UnicodeEncodeError, a ValueError, on a lone surrogate
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


class RequestJSON(DefaultJSONProvider):
    """Request bodies parse as JSON text a client means to send, else not at all (get_json gives
    None, the API answers 400): NaN and Infinity (not JSON, and PostgreSQL's jsonb refuses them),
    numbers beyond a float, lone surrogates (cannot be stored or encoded as UTF-8) and nesting past
    MAX_JSON_DEPTH (the decoder and every walk over the data recurse: a RecursionError, a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", _not_json)
        kwargs.setdefault("parse_float", _finite)
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from exc
        _check_tree(value)
        return value


def register(app: Flask) -> None:
    app.json = RequestJSON(app)
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
        response = make_response(error_response(status, exc.name.lower().replace(" ", "_"),
                                                HTTP_MESSAGES.get(status, exc.description or "")))
        # The exception's own headers stay on the answer: a 405 must say which methods are allowed
        # (Allow, RFC 9110 §15.5.6); only the body and its Content-Type are ours.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError):
        # Two writers at once that the database itself parts: SQLite's write lock held past its
        # busy timeout, a PostgreSQL deadlock or serialization failure. Nothing was saved; the
        # user may simply try again: a conflict, not an internal error.
        if not is_contention(exc):
            return _unexpected(exc)
        db.session.rollback()
        app.logger.warning("database contention: %s", type(exc.orig).__name__)
        return error_response(409, "conflict", "数据正由他人同时修改，本次操作未保存，请稍后重试")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unexpected error")
        return error_response(500, "internal_error", HTTP_MESSAGES[500])
