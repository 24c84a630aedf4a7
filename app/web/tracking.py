"""Managers' instance list: filters, typed columns, sorting, paging, saved views, Excel export."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from app import clock
from app.services import case_export, case_filters, case_search, saved_views
from app.services.case_fields import BASE_COLUMNS, Column
from app.services.case_search import CaseQuery
from app.services.errors import FormInvalid
from app.web.pages import FIELD_LABELS, STATUS_LABELS, local_time, show_value

bp = Blueprint("tracking", __name__, url_prefix="/manage")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The filters' names in the export's title line and the error list.
PARAM_LABELS = {
    "process": "流程", "plan_year": "计划年度", "committee": "评委会", "series": "评审系列", "status": "状态",
    "county": "所在地", "employer": "工作单位", "applicant": "申请人", "step": "当前环节", "overdue": "逾期",
    "created_from": "发起日期自", "created_to": "发起日期至", "completed_from": "办结日期自",
    "completed_to": "办结日期至", "cols": "结果字段列", "sort": "排序", "dir": "排序方向", "page": "页码",
    "per_page": "每页条数", "name": "视图名称",
}


# Errors shown beside their input; the others (result fields, columns, sort) above the table.
INLINE_ERRORS = frozenset((*case_filters.FILTER_PARAMS, "per_page"))


# -- how cells read ------------------------------------------------------------------------
def display(column: Column, value: Any) -> str:
    """A cell as the page shows it (and the export writes text cells)."""
    if value is None or value == () or value == "":
        return "—"
    if column.key == "status":
        return STATUS_LABELS.get(value, value)
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, float):
        return f"{value:g}"
    if column.field is not None:
        return show_value(column.field, list(value) if isinstance(value, tuple) else value)
    return show_value(column.key, list(value) if isinstance(value, tuple) else value)


def raw(value: Any) -> str:
    """A cell's typed value for machines (data-value): ISO dates, true/false, plain numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return clock.to_local(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "|".join(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def param_label(name: str) -> str:
    if name.startswith(case_search.FIELD_PREFIX):
        field = name[len(case_search.FIELD_PREFIX):]
        return FIELD_LABELS.get(field, field)
    return PARAM_LABELS.get(name, name)


def filters_text(params: dict[str, list[str]]) -> str:
    names = dict(case_filters.choices().processes)
    shown = [(k, [names.get(x, x) for x in v] if k == "process" else v) for k, v in params.items()
             if not (k == "page" or k in case_search.VIEW_PARAMS)]
    return "；".join(f"{param_label(k)}：{'、'.join(v)}" for k, v in shown) or "全部案件"


def without(params: dict[str, list[str]], name: str) -> dict[str, list[str]]:
    """The list's parameters less one filter (and the page number): a filter's remove link."""
    return {k: v for k, v in params.items() if k not in (name, "page")}


# The background export (a job) writes text cells as the page shows them.
case_export.set_display(display)


# -- pages -----------------------------------------------------------------------------------
def _args() -> dict[str, list[str]]:
    return case_search.normalise(request.args.to_dict(flat=False))


def _options() -> dict[str, list[tuple[str, str]]]:
    choices = case_filters.choices()
    return {"process": choices.processes, "series": [(s, s) for s in choices.series],
            "committee": [(c, c) for c in choices.committees], "county": [(c, c) for c in choices.counties],
            "status": [(s, STATUS_LABELS.get(s, s)) for s in choices.statuses]}


def _render(params: dict[str, list[str]], query: CaseQuery | None = None, errors: dict | None = None,
            view_errors: dict | None = None, status: int = 200):
    errors = errors or {}
    page = case_search.search(query) if query is not None else None
    return render_template(
        "tracking/instances.html", query=query, result=page, params=params, errors=errors,
        list_errors=[(k, v) for k, v in errors.items() if k not in INLINE_ERRORS],
        view_errors=view_errors or {}, options=_options(), views=saved_views.list_views(current_user),
        columns=query.columns if query else BASE_COLUMNS, choosable=query.choosable if query else (),
        per_page_choices=case_search.PER_PAGE_CHOICES, cap=case_search.EXPORT_CAP, display=display, raw=raw,
        param_label=param_label, without=without,
    ), status


def _parse(params: dict[str, list[str]]) -> CaseQuery:
    return case_search.parse(current_user, params, FIELD_LABELS)


def _query_or_page() -> tuple[dict[str, list[str]], CaseQuery | None, Any]:
    """The request's filters parsed, or the list page re-rendered with their errors (422)."""
    case_search.require_tracker(current_user)
    params = _args()
    try:
        return params, _parse(params), None
    except FormInvalid as exc:
        flash(exc.message, "error")
        return params, None, _render(params, errors=exc.fields, status=422)


@bp.get("/instances")
@login_required
def instances():
    params, query, refused = _query_or_page()
    return refused or _render(params, query)


@bp.get("/instances/export.xlsx")
@login_required
def export():
    params, query, refused = _query_or_page()
    if refused:
        return refused
    total = case_search.count(query)
    title = f"案件跟踪（{clock.to_local(clock.now()):%Y-%m-%d %H:%M} 导出；{filters_text(params)}；共 {total} 条"
    if total > case_search.EXPORT_CAP:
        title += f"，超过导出上限，仅含前 {case_search.EXPORT_CAP} 条"
    if case_export.in_background(total):
        job = case_export.start_job(current_user, query, title + "）", cap=case_search.EXPORT_CAP)
        flash(f"共 {min(total, case_search.EXPORT_CAP)} 条，正在后台生成 Excel 文件；完成后可在本页下载", "info")
        return redirect(url_for("jobs.show", job_id=job.id))
    # Spooled: a large workbook goes to a temporary file instead of memory; send_file closes it.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    case_export.write(query, title + "）", display, out, cap=case_search.EXPORT_CAP)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, max_age=0,
                     download_name=f"案件跟踪-{clock.today():%Y%m%d}.xlsx")


@bp.post("/instances/views")
@login_required
def save_view():
    case_search.require_tracker(current_user)
    params = case_search.normalise({k: v for k, v in request.form.to_dict(flat=False).items()
                                    if k not in ("csrf_token", "name")})
    params.pop("page", None)
    try:
        view = saved_views.save_view(current_user, request.form.get("name", ""), params)
    except FormInvalid as exc:
        flash(exc.message, "error")
        try:
            query = _parse(params)
        except FormInvalid as bad:
            return _render(params, errors=bad.fields, view_errors=exc.fields, status=422)
        return _render(params, query, view_errors=exc.fields, status=422)
    flash(f"已保存视图“{view.name}”", "success")
    return redirect(url_for("tracking.instances", **saved_views.stored_query(view)))


@bp.get("/instances/views/<int:view_id>")
@login_required
def open_view(view_id: int):
    view = saved_views.get_view(current_user, view_id)
    return redirect(url_for("tracking.instances", **saved_views.stored_query(view)))


@bp.post("/instances/views/<int:view_id>/delete")
@login_required
def delete_view(view_id: int):
    name = saved_views.delete_view(current_user, view_id)
    flash(f"已删除视图“{name}”", "info")
    return redirect(url_for("tracking.instances"))
