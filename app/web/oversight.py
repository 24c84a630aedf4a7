"""评审监督 pages: the 5× performance-archive KPI (DT-05), supervision flags, and the daily
assessment and patrol findings (日常考核和巡查)."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField

from app.extensions import db
from app.services import archive_kpi, committees, forms, oversight
from app.services.errors import Conflict, FormInvalid, NotAllowed
from app.web import uploads
from app.web.form_errors import attach_errors

bp = Blueprint("oversight", __name__, url_prefix="/oversight")

FIELD_LABELS = {"committee_id": "评审委员会", "kind": "监督方式", "result": "检查结论", "findings": "检查情况",
                "documents": "相关材料", "note": "处理说明"}
KPI_BADGES = {"COMPLIANT": "status-completed", "NON_COMPLIANT": "status-error", "NOT_APPLICABLE": ""}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def _labels() -> dict[str, Any]:
    user = current_user
    tabs = []
    if user.is_authenticated:
        tabs = [(endpoint, label) for endpoint, label, allowed in (
            ("oversight.archive_kpi", "业绩档案5倍要求", archive_kpi.may_view(user)),
            ("oversight.flags", "监督事项", oversight.may_view_flags(user)),
            ("oversight.findings", "日常考核和巡查", oversight.may_view_findings(user)),
        ) if allowed]
    return {"OVERSIGHT_TABS": tabs, "FLAG_KINDS": oversight.FLAG_KINDS, "FLAG_STATUS": oversight.FLAG_STATUS,
            "FINDING_KINDS": oversight.FINDING_KINDS, "FINDING_RESULTS": oversight.FINDING_RESULTS,
            "KPI_BADGES": KPI_BADGES, "KPI_STATUS": archive_kpi.STATUS_LABELS}


class FindingForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    committee_id = SelectField("评审委员会", choices=[], validate_choice=False,
                               description="本年度评审计划中的评审委员会")
    kind = RadioField("监督方式", choices=list(oversight.FINDING_KINDS.items()), validate_choice=False)
    result = RadioField("检查结论", choices=list(oversight.FINDING_RESULTS.items()), validate_choice=False)
    findings = TextAreaField("检查情况",
                             description=f"{oversight.FINDINGS_MIN}–{oversight.FINDINGS_MAX} 字：检查的内容、发现的问题及整改要求")
    documents = forms.DocumentListField("相关材料", description="选填；检查记录、整改通知等，PDF、JPG、PNG，可多选；单个文件不超过 10 MB")


class CloseFlagForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    note = TextAreaField("处理说明", description=f"{oversight.NOTE_MIN}–{oversight.NOTE_MAX} 字：核查情况与处理结果")


def _year() -> int:
    year = request.args.get("year", type=int)
    return year if year is not None and 2000 <= year <= 2100 else archive_kpi.default_year()


@bp.get("")
@login_required
def index():
    for endpoint, allowed in (("oversight.archive_kpi", archive_kpi.may_view(current_user)),
                              ("oversight.flags", oversight.may_view_flags(current_user)),
                              ("oversight.findings", oversight.may_view_findings(current_user))):
        if allowed:
            return redirect(url_for(endpoint))
    raise NotAllowed("您无权查看评审监督信息")


# -- DT-05 -------------------------------------------------------------------------------------
@bp.get("/archive-kpi", endpoint="archive_kpi")
@login_required
def archive_kpi_page():
    year = _year()
    return render_template("oversight/archive_kpi.html", year=year, years=archive_kpi.years(),
                           rows=archive_kpi.kpi_for(current_user, year), levels=archive_kpi.LEVELS,
                           county=archive_kpi.county_scope(current_user))


@bp.get("/archive-kpi.xlsx")
@login_required
def archive_kpi_xlsx():
    year = _year()
    content = archive_kpi.workbook(current_user, year)
    return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, max_age=0,
                     download_name=f"{year}年度业绩档案5倍要求完成情况.xlsx")


# -- supervision flags -------------------------------------------------------------------------
def _flags_page(status: int = 200, failed: tuple[int, CloseFlagForm] | None = None):
    entries = oversight.flags_for(current_user)
    return render_template("oversight/flags.html", entries=entries, failed=failed,
                           may_close=oversight.may_close_flags(current_user), close_form=CloseFlagForm(formdata=None)), status


@bp.get("/flags")
@login_required
def flags():
    return _flags_page()


@bp.post("/flags/<int:flag_id>/close")
@login_required
def close_flag(flag_id: int):
    form = CloseFlagForm()
    try:
        flag = oversight.close_flag(current_user, flag_id, form.note.data)
    except FormInvalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        attach_errors(form, exc.fields)
        return _flags_page(422, (flag_id, form))
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("oversight.flags"))
    flash(f"已关闭监督事项：{flag.subject}（{oversight.FLAG_KINDS.get(flag.kind, flag.kind)}）", "success")
    return redirect(url_for("oversight.flags"))


# -- daily assessment and patrol findings ------------------------------------------------------
def _finding_form() -> FindingForm:
    form = FindingForm()
    form.committee_id.choices = [("", "请选择"), *((str(c.id), c.name) for c in oversight.finding_committees())]
    return form


def _findings_page(form: FindingForm, status: int = 200, form_errors: list[str] | None = None):
    year = _year() if request.method == "GET" else committees.current_plan_year()
    items = oversight.findings_for(current_user, year)
    return render_template("oversight/findings.html", year=year, years=archive_kpi.years(), items=items,
                           docs=oversight.finding_documents(items), form=form,
                           may_record=oversight.may_record_findings(current_user),
                           form_errors=form_errors or []), status


def _record(form: FindingForm):
    def values(data):
        return {"committee_id": data.get("committee_id"), "kind": data.get("kind"), "result": data.get("result"),
                "findings": data.get("findings"), "documents": data.getlist("documents")}

    return uploads.submit(form, lambda data: oversight.record_finding(current_user, values(data)),
                          lambda data: oversight.check_finding(current_user, values(data)),
                          message="检查记录填写有误，请按提示修改", files="材料")


@bp.route("/findings", methods=["GET", "POST"])
@login_required
def findings():
    form = _finding_form()
    if request.method == "GET":
        return _findings_page(form)
    if not oversight.may_record_findings(current_user):  # before any upload is stored
        raise NotAllowed("只有行业主管部门和人社部门可以登记日常考核和巡查情况")
    try:
        item = _record(form)
    except FormInvalid as exc:
        flash(exc.message, "error")
        return _findings_page(form, 422, attach_errors(form, exc.fields, FIELD_LABELS))
    label = oversight.FINDING_KINDS[item.kind]
    flash(f"已登记对{item.subject}的{label}情况（{oversight.FINDING_RESULTS[item.result]}）", "success")
    return redirect(url_for("oversight.findings"))


@bp.get("/findings/<int:finding_id>/documents/<doc_id>")
@login_required
def finding_document(finding_id: int, doc_id: str):
    doc, content = oversight.finding_document(current_user, finding_id, doc_id)
    return send_file(io.BytesIO(content), mimetype=doc.content_type, as_attachment=True,
                     download_name=doc.name, max_age=0)
