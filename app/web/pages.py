"""Staff pages: inbox, start, task, my applications, instance."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from app import clock
from app.extensions import db
from app.services import documents, forms, instances, registry, tasks
from app.services.access import can_act
from app.services.errors import FormInvalid

bp = Blueprint("pages", __name__)

# -- labels shared by the templates ----------------------------------------------------------
FIELD_LABELS = {
    "education": "学历",
    "graduation_date": "毕业时间",
    "work_start_date": "工作起始时间",
    "months_pre_degree": "学位前工作月数",
    "specialty": "专业",
    "requested_level": "申请级别",
    "submitted_on": "提交日期",
    "months_post_grad": "毕业后工作月数",
    "max_level": "规则允许的最高级别",
    "level_reason": "规则依据",
    "eligible": "是否符合",
    "suggested_level": "建议级别",
    "reviewer_org": "审核机关",
    "batch": "批次",
    "outcome": "结果",
    "approved_level": "确认级别",
    "certificate_no": "证书编号",
    "opinion": "审核意见",
    "attachments": "证明材料",
}
OUTCOME_LABELS = {"approved": "通过", "rejected": "未通过", "lapsed": "已失效"}
STATUS_LABELS = {
    "running": "办理中",
    "waiting": "等待中",
    "completed": "已办结",
    "suspended": "已挂起",
    "terminated": "已终止",
    "error": "出错",
}
EVENT_LABELS = {
    "instance_started": "发起申请",
    "task_created": "生成任务",
    "task_claimed": "认领",
    "task_released": "释放",
    "task_completed": "办理完成",
    "step_completed": "自动步骤",
    "timer_fired": "定时器触发",
    "certificate_issued": "颁发证书",
    "instance_completed": "流程结束",
    "engine_error": "流程出错",
    "task_cancelled": "任务取消",
}
TASK_STATE_LABELS = {"open": "待办", "completed": "已办结", "cancelled": "已取消"}


def show_value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key == "outcome":
        return OUTCOME_LABELS.get(str(value), str(value))
    if key == "attachments" and isinstance(value, (list, tuple)):
        return f"{len(value)} 份（见材料）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) or "—"
    return str(value)


@bp.app_template_filter("local")
def local_time(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.to_local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "FIELD_LABELS": FIELD_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "EVENT_LABELS": EVENT_LABELS,
        "TASK_STATE_LABELS": TASK_STATE_LABELS,
        "show_value": show_value,
        "is_document_field": lambda field: isinstance(field, forms.DocumentListField),
    }


# -- helpers -----------------------------------------------------------------------------------
def _attach_errors(form, fields: dict[str, list[str]]) -> list[str]:
    """Put service field errors on the form's fields; return those that match no field."""
    other: list[str] = []
    for name, errs in (fields or {}).items():
        if name in form._fields and name != "csrf_token":
            form[name].errors = list(errs)
        else:
            other.extend(f"{name}：{e}" for e in errs)
    return other


def _with_uploads(form) -> tuple[MultiDict, list[str], dict[str, list[str]]]:
    """request.form plus the ids of the files uploaded for every document field.

    Returns the data, the ids stored by this request and, per field, the files refused.
    """
    data = request.form.copy()
    stored: list[str] = []
    refused: dict[str, list[str]] = {}
    for name, field in form._fields.items():
        if not isinstance(field, forms.DocumentListField):
            continue
        for storage in request.files.getlist(name):
            if not storage or not storage.filename:
                continue
            try:
                doc = documents.upload(current_user, storage.filename, storage.stream)
            except FormInvalid as exc:
                refused.setdefault(name, []).extend(
                    f"{storage.filename}：{m}" for errs in exc.fields.values() for m in errs)
                continue
            stored.append(doc.id)
            data.add(name, doc.id)
    return data, stored, refused


def _submit(form, defn, base: dict[str, Any], action: Callable[[MultiDict], Any]) -> Any:
    """Store the uploads, then run the action; on any form error report every field at once and
    discard this request's uploads (the browser cannot keep chosen files across a re-render)."""
    data, stored, refused = _with_uploads(form)
    try:
        if refused:
            fields = {name: list(errs) for name, errs in refused.items()}
            try:
                if defn is not None:
                    forms.validate(defn, base, data)
            except FormInvalid as exc:
                for name, errs in exc.fields.items():
                    fields.setdefault(name, []).extend(errs)
            raise FormInvalid("表单填写有误，请按提示修改", fields)
        return action(data)
    except FormInvalid as exc:
        db.session.rollback()
        documents.discard(current_user, stored)
        if stored or refused:
            exc.message += "；附件请重新选择上传"
        raise


def _case_context(instance) -> dict[str, Any]:
    return {
        "instance": instance,
        "events": instances.events(current_user, instance.id),
        "docs": documents.for_instance(instance),
    }


# -- pages -------------------------------------------------------------------------------------
@bp.get("/")
@login_required
def index():
    return redirect(url_for("pages.inbox"))


@bp.get("/inbox")
@login_required
def inbox():
    mine = tasks.open_tasks_for(current_user, scope="mine")
    group = tasks.open_tasks_for(current_user, scope="group")
    return render_template("pages/inbox.html", mine=mine, group=group)


def _back(task_id: int):
    if request.form.get("next") == "task":
        return redirect(url_for("pages.task", task_id=task_id))
    return redirect(url_for("pages.inbox"))


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    task = tasks.claim(current_user, task_id)
    flash(f"已认领任务“{task.name}”", "success")
    return _back(task_id)


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release(task_id: int):
    task = tasks.release(current_user, task_id)
    flash(f"已释放任务“{task.name}”", "info")
    return _back(task_id)


def _render_task(task, form, status: int = 200, form_errors: list[str] | None = None, defn=None):
    actionable = task.state == "open" and can_act(current_user, task)
    return render_template(
        "pages/task.html",
        task=task,
        form=form,
        defn=defn,
        actionable=actionable,
        can_claim=actionable and task.assignee_id is None and task.claimed_by_id is None,
        can_release=actionable and task.claimed_by_id == current_user.id and task.assignee_id is None,
        form_errors=form_errors or [],
        **_case_context(task.instance),
    ), status


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: int):
    task = tasks.get_task(current_user, task_id)
    defn, data = tasks.task_form(task)
    if request.method == "GET":
        return _render_task(task, forms.build_form(defn, data, base=FlaskForm), defn=defn)
    form = forms.build_form(defn, data, formdata=request.form, base=FlaskForm)
    try:
        instance = _submit(form, defn, data, lambda submitted: tasks.complete_task(current_user, task_id, submitted))
    except FormInvalid as exc:
        task = tasks.get_task(current_user, task_id)  # session was rolled back
        form = forms.build_form(defn, data, formdata=request.form, base=FlaskForm)
        other = _attach_errors(form, exc.fields)
        flash(exc.message, "error")
        return _render_task(task, form, 422, other, defn=defn)
    flash("已提交", "success")
    return redirect(url_for("pages.instance", instance_id=instance.id))


@bp.get("/start")
@login_required
def start_list():
    return render_template("pages/start_list.html", versions=instances.startable(current_user))


@bp.route("/start/<process_id>", methods=["GET", "POST"])
@login_required
def start(process_id: str):
    version = registry.latest(process_id)
    defn = instances.start_form(version)
    title = (defn.schema.get("title") if defn else None) or version.name
    if request.method == "GET":
        form = forms.build_form(defn, {}, base=FlaskForm) if defn else FlaskForm()
        return render_template("pages/start.html", version=version, form=form, title=title, form_errors=[])
    form = forms.build_form(defn, {}, formdata=request.form, base=FlaskForm) if defn else FlaskForm()
    try:
        instance = _submit(form, defn, {},
                           lambda submitted: instances.start_instance(current_user, process_id, submitted))
    except FormInvalid as exc:
        form = forms.build_form(defn, {}, formdata=request.form, base=FlaskForm) if defn else FlaskForm()
        other = _attach_errors(form, exc.fields)
        flash(exc.message, "error")
        return render_template(
            "pages/start.html", version=version, form=form, title=title, form_errors=other
        ), 422
    flash("申请已提交", "success")
    return redirect(url_for("pages.instance", instance_id=instance.id))


@bp.get("/instances")
@login_required
def my_instances():
    page_no = request.args.get("page", 1, type=int) or 1
    status = request.args.get("status") or None
    page = instances.list_instances(current_user, status=status, page=page_no)
    pages = max(1, -(-page.total // page.per_page))
    return render_template("pages/instances.html", page=page, pages=pages, status=status)


@bp.get("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    inst = instances.get_instance(current_user, instance_id)
    return render_template("pages/instance.html", open_tasks=instances.open_tasks(inst), **_case_context(inst))


@bp.get("/documents/<doc_id>")
@login_required
def document(doc_id: str):
    doc, content = documents.get(current_user, doc_id)
    return send_file(
        io.BytesIO(content),
        mimetype=doc.content_type,
        as_attachment=True,
        download_name=doc.name,
        max_age=0,
    )
