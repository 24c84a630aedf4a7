"""REST API v1 (contract §3). JSON in and out; the same services as the HTML pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from app import clock
from app.extensions import csrf
from app.models import CaseComment, HumanTask, ProcessInstance, ProcessVersion, User
from app.services import (
    auth,
    ce,
    documents,
    instances,
    messages,
    privacy,
    registry,
    reminders,
    rules,
    tasks,
    timers,
)
from app.services import calendar as calendar_service
from app.services import clock as clock_service
from app.services.access import can_start
from app.services.comments import add_comment, comments_for
from app.services.errors import DomainError, FormInvalid, NotAuthenticated, NotFound
from app.services.numbers import INT_MAX
from app.web.openapi import spec

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def api_user(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise NotAuthenticated("缺少访问令牌（Authorization: Bearer …）")
        user = auth.user_for_token(header.removeprefix("Bearer ").strip())
        if user is None:
            raise NotAuthenticated("访问令牌无效或已过期")
        g.api_user = user
        return view(user, *args, **kwargs)

    return wrapper


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        raise DomainError("请求体应为 JSON")
    if not isinstance(data, dict):
        raise FormInvalid("请求体应为 JSON 对象", {"body": ["应为对象"]})
    return data


CLOCK_YEARS = (1900, 2100)
PAGE_MAX = INT_MAX  # the offset, (page - 1) × per_page, stays a 64-bit integer


def int_arg(name: str, default: int, maximum: int = INT_MAX) -> int:
    """An integer query parameter; past an integer column's range (or `maximum`) the database
    cannot bind it."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise FormInvalid("参数有误", {name: ["应为整数"]}) from exc
    if abs(value) > maximum:
        raise FormInvalid("参数有误", {name: [f"应为绝对值不超过 {maximum} 的整数"]})
    return value


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# -- serialisers ------------------------------------------------------------------------------
def user_json(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": sorted(user.role_names()),
        "organisation": {"id": user.org.id, "name": user.org.name, "county": user.org.county, "kind": user.org.kind},
    }


def task_json(task: HumanTask, user: User, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": task.id,
        "instance_id": task.instance_id,
        "process_model": task.instance.process_id,
        "bpmn_id": task.bpmn_id,
        "name": task.name,
        "lane": task.lane,
        "organisation": task.org.name if task.org else None,
        "assignee": (task.claimed_by or task.assignee).username if (task.claimed_by or task.assignee) else None,
        "state": task.state,
        "due_date": iso(task.due_date),
        "created_at": iso(task.created_at),
    }
    if detail:
        defn, data = tasks.task_form(task)
        from app.services import forms

        viewer = privacy.Viewer(user, task.instance)
        out["form"] = forms.api_form(defn, data)
        out["data"] = viewer.show(forms.prefill(defn, data))
        out["case"] = viewer.show(task.instance.data)
        if user.has_role("system_admin", "manager"):
            out["candidates"] = tasks.candidates(task)
    return out


def instance_json(instance: ProcessInstance, user: User) -> dict[str, Any]:
    return {
        "id": instance.id,
        "process_model": instance.process_id,
        "version": instance.version.version,
        "title": instance.title,
        "status": instance.status,
        "data": privacy.show(user, instance, instance.data),
        "open_tasks": [
            {"id": t.id, "bpmn_id": t.bpmn_id, "name": t.name, "organisation": t.org.name if t.org else None,
             "due_date": iso(t.due_date)}
            for t in instances.open_tasks(instance)
        ],
        "error": instance.error_message,
        "created_at": iso(instance.created_at),
        "completed_at": iso(instance.completed_at),
        "library_version": instance.library_version,
    }


def model_json(version: ProcessVersion) -> dict[str, Any]:
    return {"id": version.process_id, "name": version.name, "version": version.version,
            "plan_year": version.plan_year, "description": version.meta.get("description")}


# -- endpoints --------------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())


@bp.post("/auth/token")
def token():
    data = body()
    user = auth.authenticate(str(data.get("username") or ""), str(data.get("password") or ""), request.remote_addr)
    value, row = auth.issue_token(user)
    return jsonify({"token": value, "expires_at": iso(row.expires_at)})


@bp.get("/me")
@api_user
def me(user: User):
    return jsonify(user_json(user))


@bp.get("/process-models")
@api_user
def process_models(user: User):
    return jsonify([model_json(v) for v in registry.current()])


@bp.get("/process-models/<process_id>")
@api_user
def process_model(user: User, process_id: str):
    version = registry.for_new_instances(process_id)
    out = model_json(version)
    out["may_start"] = can_start(user, version.meta.get("starter_roles", []))
    defn = instances.start_form(version)
    if out["may_start"] and defn is not None:
        out["start_form"] = {"schema": defn.schema, "ui_schema": defn.ui}
    return jsonify(out)


@bp.post("/process-models/validate")
@api_user
def validate_model(user: User):
    from app.services import modeling

    files = {f.filename: f.read() for f in request.files.getlist("files") or request.files.values()}
    return jsonify(modeling.validate_upload(user, files))


@bp.post("/process-instances")
@api_user
def start(user: User):
    data = body()
    if not data.get("process_model"):
        raise FormInvalid("缺少流程编号", {"process_model": ["此项为必填项"]})
    instance = instances.start_instance(user, str(data["process_model"]), data.get("data") or {})
    return jsonify(instance_json(instance, user)), 201


@bp.get("/process-instances")
@api_user
def list_instances(user: User):
    from app.services import case_search

    process_model, status = request.args.get("process_model") or None, request.args.get("status") or None
    # The instance list's filters (plan_year, committee, ..., f.<field>) are optional extras.
    extra = {k: v for k, v in request.args.to_dict(flat=False).items() if case_search.is_api_filter(k)}
    if extra:
        page = case_search.api_page(user, process_model, status, extra, int_arg("page", 1, PAGE_MAX))
    else:
        page = instances.list_instances(user, process_model, status, int_arg("page", 1, PAGE_MAX))
    return jsonify({"items": [instance_json(i, user) for i in page.items], "total": page.total, "page": page.page,
                    "per_page": page.per_page})


@bp.get("/process-instances/<int:instance_id>")
@api_user
def get_instance(user: User, instance_id: int):
    return jsonify(instance_json(instances.get_instance(user, instance_id), user))


@bp.get("/process-instances/<int:instance_id>/events")
@api_user
def instance_events(user: User, instance_id: int):
    instance = instances.get_instance(user, instance_id)
    viewer = privacy.Viewer(user, instance)
    return jsonify([
        {"id": e.id, "at": iso(e.at), "type": e.type, "actor": e.actor.username if e.actor else None,
         "task": e.bpmn_id, "details": viewer.show(e.details)}
        for e in instances.events_of(instance)
    ])


@bp.post("/process-instances/<int:instance_id>/suspend", defaults={"action": "suspend"})
@bp.post("/process-instances/<int:instance_id>/resume", defaults={"action": "resume"})
@bp.post("/process-instances/<int:instance_id>/terminate", defaults={"action": "terminate"})
@bp.post("/process-instances/<int:instance_id>/reset", defaults={"action": "reset"})
@bp.post("/process-instances/<int:instance_id>/correct", defaults={"action": "correct"})
@api_user
def admin_action(user: User, instance_id: int, action: str):
    """Administrators: {"reason"} and, for reset, {"task_id"}; for correct, {"data": {...}}."""
    from app.services import case_admin

    return jsonify(instance_json(case_admin.run(user, instance_id, action, body()), user))


@bp.get("/tasks")
@api_user
def list_tasks(user: User):
    instance_id = int_arg("instance_id", 0) or None
    rows = tasks.open_tasks_for(user, instance_id, request.args.get("process_model") or None)
    return jsonify([task_json(t, user) for t in rows])


@bp.get("/tasks/<int:task_id>")
@api_user
def get_task(user: User, task_id: int):
    return jsonify(task_json(tasks.get_task(user, task_id), user, detail=True))


@bp.post("/tasks/<int:task_id>/claim")
@api_user
def claim(user: User, task_id: int):
    return jsonify(task_json(tasks.claim(user, task_id), user))


@bp.post("/tasks/<int:task_id>/release")
@api_user
def release(user: User, task_id: int):
    return jsonify(task_json(tasks.release(user, task_id), user))


@bp.post("/tasks/<int:task_id>/complete")
@api_user
def complete(user: User, task_id: int):
    data = body().get("data", {})
    instance = tasks.complete_task(user, task_id, data)
    out = instance_json(instance, user)
    return jsonify({**out, "instance": out})


@bp.post("/tasks/<int:task_id>/delegate")
@api_user
def delegate(user: User, task_id: int):
    # The service checks who may act on the task first, then whom it goes to: a stranger to the
    # task hears 403/404, not what the body lacks.
    to = body().get("to")
    return jsonify(task_json(tasks.delegate(user, task_id, to if isinstance(to, str) else ""), user))


def comment_json(comment: CaseComment) -> dict[str, Any]:
    return {"id": comment.id, "instance_id": comment.instance_id, "body": comment.body,
            "author": {"username": comment.author.username, "display_name": comment.author.display_name,
                       "organisation": comment.author.org.name if comment.author.org else None},
            "created_at": iso(comment.created_at)}


@bp.get("/process-instances/<int:instance_id>/comments")
@api_user
def instance_comments(user: User, instance_id: int):
    return jsonify([comment_json(c) for c in comments_for(user, instance_id)])


@bp.post("/process-instances/<int:instance_id>/comments")
@api_user
def add_instance_comment(user: User, instance_id: int):
    return jsonify(comment_json(add_comment(user, instance_id, body().get("body")))), 201


@bp.post("/messages")
@api_user
def deliver(user: User):
    data = body()
    delivered = messages.deliver(user, data.get("name"), data.get("correlation") or {}, data.get("payload"))
    return jsonify({"delivered_to": delivered}), 202


@bp.post("/rules/<rule_id>/evaluate")
@api_user
def evaluate_rule(user: User, rule_id: str):
    return jsonify({"outputs": rules.evaluate(rule_id, body().get("inputs"))})


@bp.get("/calendar/add-working-days")
@api_user
def add_working_days(user: User):
    try:
        start_date = date.fromisoformat(request.args.get("date", ""))
    except ValueError as exc:
        raise FormInvalid("日期格式应为 YYYY-MM-DD", {"date": ["日期格式应为 YYYY-MM-DD"]}) from exc
    days = int_arg("days", 0)
    if abs(days) > 3650:
        raise FormInvalid("天数过大", {"days": ["绝对值不得超过 3650"]})
    try:
        result = calendar_service.add_working_days(start_date, days)
    except OverflowError as exc:  # before year 1 or past 9999
        raise FormInvalid("日期超出可计算的范围", {"date": ["日期加减工作日后超出 0001–9999 年"]}) from exc
    return jsonify({"date": result.date.isoformat(), "provisional": result.provisional})


@bp.get("/plans")
@api_user
def plan_list(user: User):
    """Published plans (with drafts for those who edit plans), newest year first."""
    from app.services import plans

    shown = [p for p in plans.all_plans() if p.status == "published" or plans.can_manage(user, p.issuer)]
    return jsonify({"plans": [plans.as_dict(p) for p in shown]})


@bp.get("/plans/<int:year>")
@api_user
def plan_of_year(user: User, year: int):
    """The city's published plan of a year, with the district plans derived from it."""
    from app.services import plans

    city = plans.city_plan(year) if year <= INT_MAX else None  # no integer column holds a larger year
    if city is None:
        raise NotFound(f"没有已发布的{year}年度计划")
    body = plans.as_dict(city)
    body["district_plans"] = [plans.as_dict(p) for p in plans.plans_of_year(year, published_only=True)
                              if p.id != city.id]
    return jsonify(body)


@bp.get("/clock")
@api_user
def get_clock(user: User):
    return jsonify({"now": clock.now().isoformat(), "local": clock.to_local(clock.now()).isoformat(),
                    "overridden": clock.override() is not None,
                    "override_enabled": bool(current_app.config.get("CLOCK_OVERRIDE"))})


def _clock_in_range(instant) -> bool:
    """Dates, deadlines and working days are reckoned from the clock: near year 1 or 9999 they
    overflow (in UTC or in Asia/Shanghai), and such a clock would fail every later request."""
    try:
        year = instant.astimezone(UTC).year
    except OverflowError:
        return False
    return CLOCK_YEARS[0] <= year <= CLOCK_YEARS[1]


@bp.put("/clock")
@api_user
def set_clock(user: User):
    value = body().get("now")
    if value is not None and not isinstance(value, str):
        raise FormInvalid("时间格式应为 ISO 8601", {"now": ["应为字符串（ISO 8601）或 null"]})
    try:
        instant = clock.parse_instant(value) if value else None
    except (TypeError, ValueError) as exc:
        raise FormInvalid("时间格式应为 ISO 8601", {"now": ["时间格式应为 ISO 8601，如 2022-08-10T09:00:00+08:00"]}) from exc
    if instant is not None and not _clock_in_range(instant):
        raise FormInvalid("时间超出范围", {"now": [f"应在 {CLOCK_YEARS[0]}–{CLOCK_YEARS[1]} 年之间"]})
    now = clock_service.set_clock(user, instant)
    return jsonify({"now": now.isoformat(), "local": clock.to_local(now).isoformat(), "overridden": instant is not None})


@bp.post("/timers/run")
@api_user
def run_timers(user: User):
    return jsonify({"fired": timers.run_as(user)})


@bp.post("/reminders/run")
@api_user
def run_reminders(user: User):
    return jsonify(reminders.run_as(user))


@bp.put("/ce-records")
@api_user
def ce_records(user: User):
    data = request.get_json(silent=True)
    if data is None:
        raise DomainError("请求体应为 JSON")
    return jsonify({"upserted": ce.upsert(user, data)})


@bp.post("/documents")
@api_user
def upload(user: User):
    file = request.files.get("file")
    if file is None:
        raise FormInvalid("缺少文件", {"file": ["请上传文件（multipart 字段 file）"]})
    doc = documents.upload(user, file.filename or "", file.stream)
    return jsonify({"id": doc.id, "name": doc.name, "size": doc.size, "content_type": doc.content_type}), 201
