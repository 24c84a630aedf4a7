"""The OpenAPI description of API v1."""

from __future__ import annotations

from typing import Any

from app.services.instances import STATUSES
from app.services.numbers import INT_MAX

ERROR = {"$ref": "#/components/schemas/Error"}
MALFORMED = "请求格式不正确（请求体不是 JSON 或参数含 NUL 字符）"
TOO_LARGE = "请求体过大"
NOT_AN_OBJECT = "请求体或字段的类型不对"
ROW_ID = {"type": "integer", "minimum": -INT_MAX, "maximum": INT_MAX}
CE_HOURS = ("professional", "public", "general_public")
CE_HOUR = {"type": "integer", "minimum": 0, "maximum": 2000, "description": "学时；一般公需科目不超过公需科目"}
EMPTY = {"type": "string", "maxLength": 0}
PAGE = {"type": "integer", "minimum": -INT_MAX, "maximum": INT_MAX, "description": "从 1 开始；小于 1 即第 1 页"}


def _op(summary: str, responses: dict[int, str], body: dict | None = None, params: list | None = None,
        auth: bool = True, multipart: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {}}
    # Any request may be malformed (a body that is not JSON, a NUL character in a parameter); any
    # request body may exceed MAX_CONTENT_LENGTH, or be JSON of the wrong shape (a list, a string).
    defaults = {400: MALFORMED, **({413: TOO_LARGE, 422: NOT_AN_OBJECT} if body is not None else {})}
    responses = {**defaults, **responses}
    for code, desc in sorted(responses.items()):
        entry: dict[str, Any] = {"description": desc}
        entry["content"] = {"application/json": {"schema": ERROR if code >= 400 else {"type": ["object", "array"]}}}
        op["responses"][str(code)] = entry
    if body is not None:
        kind = "multipart/form-data" if multipart else "application/json"
        op["requestBody"] = {"required": True, "content": {kind: {"schema": body}}}
    if params:
        op["parameters"] = params
    if not auth:
        op["security"] = []
    return op


def _q(name: str, kind: str = "string", where: str = "query", required: bool = False,
       schema: dict | None = None) -> dict:
    schema = schema or {"type": kind}
    if where == "query" and not required and schema != {"type": "string"}:
        # An optional parameter given empty (as a page's empty input sends it) is one not given.
        schema = {"anyOf": [schema, EMPTY]}
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema}


STD = {401: "未登录或令牌无效", 403: "没有权限", 404: "不存在"}


def _list_filters() -> list[dict]:
    """The instance list's optional filters on GET /process-instances (app/services/case_filters.py)."""
    dates = ("created_from", "created_to", "completed_from", "completed_to")
    out = [_q("plan_year", schema={"type": "integer", "minimum": 1900, "maximum": 2100}),
           *(_q(n) for n in ("committee", "series", "county", "employer", "applicant", "step")),
           {**_q("overdue", schema={"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "是", "否"]}),
            "description": "1 只看有逾期待办的案件（不区分大小写）"}]
    return out + [_q(n, schema={"type": "string", "format": "date"}) for n in dates]


def _admin_actions() -> dict[str, Any]:
    """Administrators' actions on an instance; each needs a reason (recorded in the audit trail)."""
    reason = {"type": "string", "minLength": 1, "maxLength": 500, "description": "操作原因（必填）"}
    extra = {"reset": ("退回到之前的任务", {"task_id": {"type": "integer", "description": "已办结或已取消的任务编号"}}),
             "correct": ("更正流程数据", {"data": {"type": "object", "description": "字段名 → 新值"}}),
             "suspend": ("挂起流程", {}), "resume": ("恢复流程", {}), "terminate": ("终止流程（不可撤销）", {})}
    return {f"/api/v1/process-instances/{{id}}/{action}": {"post": _op(
        f"{summary}（仅系统管理员）", {200: "实例", **STD, 409: "状态不允许或并发冲突", 422: "原因或数据有误"},
        {"type": "object", "required": ["reason", *props], "properties": {"reason": reason, **props}},
        params=[_q("id", "integer", "path")])} for action, (summary, props) in extra.items()}


def spec() -> dict[str, Any]:
    obj = {"type": "object"}
    paths = {
        "/api/v1/auth/token": {"post": _op("获取访问令牌", {200: "令牌", 401: "用户名或密码错误", 429: "登录失败次数过多"},
                                           {"type": "object", "required": ["username", "password"],
                                            "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
                                           auth=False)},
        "/api/v1/me": {"get": _op("当前用户", {200: "用户", 401: STD[401]})},
        "/api/v1/process-models": {"get": _op("已发布的流程模型", {200: "列表", 401: STD[401]})},
        "/api/v1/process-models/{id}": {"get": _op("流程模型及发起表单", {200: "模型", **STD}, params=[_q("id", where="path")])},
        "/api/v1/process-models/validate": {"post": _op("校验流程模型（不发布）", {200: "结果", 401: STD[401], 403: STD[403], 422: "文件不合法"},
                                                    {"type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}},
                                                    multipart=True)},
        "/api/v1/process-instances": {
            "post": _op("发起流程", {201: "实例", **STD, 422: "表单校验失败"},
                        {"type": "object", "required": ["process_model"],
                         "properties": {"process_model": {"type": "string", "minLength": 1}, "data": obj}}),
            "get": _op("我可见的流程实例（另可按结果字段筛选：f.<字段名>=<值>，如 f.outcome=published）",
                       {200: "分页列表", 401: STD[401], 422: "参数有误"},
                       params=[_q("process_model"), _q("status", schema={"type": "string", "enum": list(STATUSES)}),
                               _q("page", schema=PAGE), *_list_filters()]),
        },
        "/api/v1/process-instances/{id}": {"get": _op("流程实例", {200: "实例", **STD}, params=[_q("id", "integer", "path")])},
        "/api/v1/process-instances/{id}/events": {"get": _op("审计记录", {200: "事件列表", **STD}, params=[_q("id", "integer", "path")])},
        **_admin_actions(),
        "/api/v1/tasks": {"get": _op("我可办理的待办任务", {200: "任务列表", 401: STD[401], 422: "参数有误"},
                                     params=[_q("instance_id", schema=ROW_ID), _q("process_model")])},
        "/api/v1/tasks/{id}": {"get": _op("任务及其表单", {200: "任务", **STD}, params=[_q("id", "integer", "path")])},
        "/api/v1/tasks/{id}/claim": {"post": _op("认领任务", {200: "任务", **STD, 409: "已被他人认领或已办结"}, params=[_q("id", "integer", "path")])},
        "/api/v1/tasks/{id}/release": {"post": _op("释放任务", {200: "任务", **STD, 409: "冲突"}, params=[_q("id", "integer", "path")])},
        "/api/v1/tasks/{id}/complete": {"post": _op(
            "办理任务（评审会议表决结果另附 data.votes：{案件编号: {yes: 同意票数, score: 量化评分}}）",
            {200: "实例及新的待办", **STD, 409: "已办结或被他人认领", 422: "表单校验失败"},
            {"type": "object", "properties": {"data": {"type": "object", "properties": {"votes": {
                "type": "object", "description": "录入评审会议表决结果的任务：每名参评人员的同意票数（只记票数）",
                "additionalProperties": {"type": "object", "properties": {
                    "yes": {"type": "integer", "minimum": 0}, "score": {"type": "number"}}}}}}}},
            params=[_q("id", "integer", "path")])},
        "/api/v1/tasks/{id}/delegate": {"post": _op(
            "转办任务给本机构负责该任务的同事", {200: "任务", **STD, 409: "已被他人认领或已办结", 422: "不能转办给该用户或个人任务"},
            {"type": "object", "required": ["to"], "properties": {"to": {"type": "string", "description": "同事的用户名"}}},
            params=[_q("id", "integer", "path")])},
        "/api/v1/process-instances/{id}/comments": {
            "get": _op("案件留言（按时间先后）", {200: "留言列表", **STD}, params=[_q("id", "integer", "path")]),
            "post": _op("发表留言", {201: "留言", **STD, 422: "内容为空或超过 2000 字"},
                        {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 2000}}},
                        params=[_q("id", "integer", "path")]),
        },
        "/api/v1/messages": {"post": _op("投递 BPMN 消息", {202: "已投递", **STD, 422: "参数有误"},
                                         {"type": "object", "required": ["name"],
                                          "properties": {"name": {"type": "string", "minLength": 1}, "correlation": obj, "payload": {}}})},
        "/api/v1/rules/{rule_id}/evaluate": {"post": _op("计算规则", {200: "输出", **STD, 422: "输入有误"},
                                                          {"type": "object", "properties": {"inputs": obj}},
                                                          params=[_q("rule_id", where="path")])},
        "/api/v1/calendar/add-working-days": {"get": _op("工作日计算", {200: "日期", 401: STD[401], 422: "参数有误"},
                                                          params=[_q("date", required=True, schema={"type": "string", "format": "date"}),
                                                                  _q("days", schema={"type": "integer", "minimum": -3650,
                                                                                     "maximum": 3650, "default": 0})])},
        "/api/v1/clock": {
            "get": _op("系统时钟", {200: "时钟", 401: STD[401]}),
            "put": _op("设置系统时钟（仅管理员，仅 CLOCK_OVERRIDE=1）", {200: "时钟", 401: STD[401], 403: STD[403], 422: "格式有误"},
                       {"type": "object", "properties": {"now": {"type": ["string", "null"]}}}),
        },
        "/api/v1/plans": {"get": _op("年度评审计划列表", {200: "计划", 401: STD[401]})},
        "/api/v1/plans/{year}": {"get": _op("某年度的市计划及派生的县（市、区）计划", {200: "计划", 401: STD[401], 404: STD[404]},
                                            params=[_q("year", "integer", where="path", required=True)])},
        "/api/v1/timers/run": {"post": _op("触发到期定时器（管理员）", {200: "触发数", 401: STD[401], 403: STD[403]})},
        "/api/v1/reminders/run": {"post": _op("发送到期提醒并发送待发邮件（管理员）",
                                              {200: "提醒数与发送的邮件数", 401: STD[401], 403: STD[403]})},
        "/api/v1/ce-records": {"put": _op("登记继续教育学时", {200: "条数", 401: STD[401], 403: STD[403], 422: "数据有误"},
                                          {"type": "array", "minItems": 1, "items": {
                                              "type": "object", "required": ["username", "year", *CE_HOURS],
                                              "properties": {"username": {"type": "string"},
                                                             "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
                                                             **dict.fromkeys(CE_HOURS, CE_HOUR)}}})},
        "/api/v1/documents": {"post": _op("上传文件", {201: "文件", 401: STD[401], 413: "过大", 422: "类型不允许"},
                                          {"type": "object", "required": ["file"],
                                           "properties": {"file": {"type": "string", "format": "binary"}}},
                                          multipart=True)},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "丽水市职称评审工作流 API", "version": "1.0.0"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}}}},
        },
    }
