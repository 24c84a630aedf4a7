"""年度评审计划: plans as data (import, export, edit, publish, district plans) and starting a new year."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FileField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import DateInput

from app import clock
from app.extensions import db
from app.models import AnnualPlan, Organisation, PlanEntry
from app.rules.plan_text import join_months, join_titles
from app.services import committees, plan_import, plans
from app.services.errors import Conflict, DomainError, FormInvalid, NotAllowed, NotFound
from app.services.plan_io import LABELS, SECTION_LABELS, PlanTableInvalid, parse_rows
from app.web.form_errors import attach_errors

bp = Blueprint("plans", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_LABELS = {"draft": "草稿", "published": "已发布"}
KIND_LABELS = {"added": "新增", "removed": "删除", "changed": "修改"}


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"SECTION_LABELS": SECTION_LABELS, "PLAN_STATUS_LABELS": STATUS_LABELS, "CHANGE_LABELS": KIND_LABELS,
            "plan_title": plans.title_of}


def _viewer() -> None:
    if not plans.can_view(current_user):
        raise NotAllowed("没有查看年度评审计划的权限")


class ImportForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    year = IntegerField("计划年度", validators=[NumberRange(2000, 2100, "年度应为 2000–2100 之间的年份")])
    file = FileField("计划表（附件1，.csv 或 .xlsx）")
    doc_no = StringField("文号", validators=[Optional()], description="选填，如 丽人社函〔2023〕12号")
    issue_date = StringField("印发日期", widget=DateInput(), validators=[Optional()])
    basis_doc_nos = StringField("依据文件文号", validators=[Optional()], description="选填，多个用“、”分隔")


class EntryForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    section = SelectField("部分", choices=list(SECTION_LABELS.items()))
    seq = StringField("序号")
    committee_or_item = StringField("评委会名称（评审项目）")
    titles_evaluated = StringField("所评资格名称", description="多个用“、”分隔")
    titles_recommended = StringField("推荐资格名称", description="多个用“、”分隔")
    start_month = StringField("启动时间", description="YYYY-MM，如 2023-07")
    finish_months = StringField("完成时间", description="YYYY-MM；初定批次多个用“;”分隔")
    office = StringField("办公室（主管、初审单位）")
    phone = StringField("电话")
    scope = TextAreaField("申报对象")


class YearForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    year = IntegerField("年度", validators=[NumberRange(2000, 2100, "年度应为 2000–2100 之间的年份")])


# -- list, import ------------------------------------------------------------------------------
@bp.get("/plans")
@login_required
def index():
    _viewer()
    try:
        current = committees.current_plan_year()
    except LookupError:
        current = None
    issuer = plans.issuer_for(current_user)
    next_year = (max(plans.published_years() or [clock.today().year]) + 1)
    return render_template("plans/index.html", plans=plans.all_plans(), current=current,
                           published_years=plans.published_years(), import_form=ImportForm(formdata=None,
                           year=next_year), year_form=YearForm(formdata=None, year=next_year),
                           current_form=YearForm(formdata=None, year=current),
                           may_import=plans.can_manage(current_user, issuer), issuer=issuer,
                           may_start_year=current_user.has_role("process_owner", "system_admin")
                           or plans.can_manage(current_user, issuer))


def _import_page(form: ImportForm, status: int = 200, problems: list[Any] | None = None,
                 errors: list[str] | None = None):
    return render_template("plans/import.html", form=form, problems=problems or [], errors=errors or [],
                           issuer=plans.issuer_for(current_user)), status


@bp.route("/plans/import", methods=["GET", "POST"])
@login_required
def import_plan():
    _viewer()
    issuer = plans.issuer_for(current_user)
    form = ImportForm()
    if request.method == "GET":
        form.year.data = form.year.data or clock.today().year + 1
        return _import_page(form)
    plans.require_manage(current_user, issuer)
    if not form.validate_on_submit():
        return _import_page(form, 422)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise FormInvalid("请选择计划表文件", {"file": ["请选择 .csv 或 .xlsx 文件"]})
        issued = None
        if form.issue_date.data:
            try:
                issued = date.fromisoformat(form.issue_date.data)
            except ValueError as exc:
                raise FormInvalid("印发日期格式不正确", {"issue_date": ["日期格式应为 YYYY-MM-DD"]}) from exc
        basis = tuple(p.strip() for p in (form.basis_doc_nos.data or "").split("、") if p.strip())
        job = plan_import.start(current_user, form.year.data, upload.filename, upload.read(), issuer=issuer,
                                header=plans.PlanHeader(doc_no=form.doc_no.data or None, issue_date=issued,
                                                        basis_doc_nos=basis))
    except PlanTableInvalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _import_page(form, 422, problems=exc.problems)
    except (FormInvalid, Conflict) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        errors = attach_errors(form, exc.fields, {"file": "计划表", "issue_date": "印发日期", "year": "计划年度"})
        return _import_page(form, exc.status, errors=errors or [exc.message])
    flash(f"计划表校验通过（{len(job.params['rows'])} 行），正在导入为{form.year.data}年度草稿；"
          "完成后核对，发布即生效", "success")
    return redirect(url_for("jobs.show", job_id=job.id))


# -- one plan -----------------------------------------------------------------------------------
def _plan(plan_id: int) -> AnnualPlan:
    _viewer()
    return plans.get(plan_id)


def _previous(plan: AnnualPlan) -> AnnualPlan | None:
    if plan.copied_from_id:
        return db.session.get(AnnualPlan, plan.copied_from_id)
    return db.session.scalar(select(AnnualPlan).where(AnnualPlan.issuer_org_id == plan.issuer_org_id,
                                                      AnnualPlan.year < plan.year)
                             .order_by(AnnualPlan.year.desc()).limit(1))


def _district_choice(plan: AnnualPlan) -> Organisation | None:
    """The district bureau the viewer may derive a plan for from this city plan (None: none)."""
    if plan.issuer.name != plans.CITY_BUREAU or plan.status != "published":
        return None
    issuer = plans.issuer_for(current_user)
    if issuer.name == plans.CITY_BUREAU or not plans.can_manage(current_user, issuer):
        return None
    exists = db.session.scalar(select(AnnualPlan.id).where(AnnualPlan.year == plan.year,
                                                           AnnualPlan.issuer_org_id == issuer.id))
    return None if exists else issuer


@bp.get("/plans/<int:plan_id>")
@login_required
def show(plan_id: int):
    plan = _plan(plan_id)
    data = plans.as_dict(plan)
    by_seq: dict[int, list[dict[str, Any]]] = {}
    for item in data["committees"]:
        by_seq.setdefault(item["plan_seq"], []).append(item)
    sections = {key: [e for e in plan.entries if e.section == key] for key in SECTION_LABELS}
    children = list(db.session.scalars(select(AnnualPlan).where(AnnualPlan.parent_id == plan.id)))
    return render_template("plans/show.html", plan=plan, sections=sections, committees_by_seq=by_seq,
                           may_manage=plans.can_manage(current_user, plan.issuer), previous=_previous(plan),
                           district=_district_choice(plan), children=children,
                           join_titles=join_titles, join_months=join_months)


@bp.get("/plans/<int:plan_id>/export.csv")
@login_required
def export_csv(plan_id: int):
    plan = _plan(plan_id)
    return send_file(io.BytesIO(plans.export_csv(plan).encode("utf-8")), mimetype="text/csv; charset=utf-8",
                     as_attachment=True, download_name=f"{plan.year}年度职称评审计划-{plan.issuer.name}.csv",
                     max_age=0)


@bp.get("/plans/<int:plan_id>/export.xlsx")
@login_required
def export_xlsx(plan_id: int):
    plan = _plan(plan_id)
    return send_file(io.BytesIO(plans.export_xlsx(plan)), mimetype=XLSX, as_attachment=True,
                     download_name=f"{plan.year}年度职称评审计划-{plan.issuer.name}.xlsx", max_age=0)


@bp.post("/plans/<int:plan_id>/publish")
@login_required
def publish(plan_id: int):
    plan = _plan(plan_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        counts = plans.publish(current_user, plan)
        db.session.commit()
    except (Conflict, FormInvalid) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("plans.show", plan_id=plan_id))
    flash(f"已发布{plans.title_of(plan)}：{counts['scopes']} 个评委会的受理范围生效"
          f"（新建评委会 {counts['committees_created']} 个）", "success")
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.post("/plans/<int:plan_id>/derive")
@login_required
def derive(plan_id: int):
    plan = _plan(plan_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    issuer = plans.issuer_for(current_user)
    try:
        child = plans.derive_district(current_user, plan, issuer)
        db.session.commit()
    except (Conflict, FormInvalid) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("plans.show", plan_id=plan_id))
    flash(f"已由市计划派生{plans.title_of(child)}（草稿，{len(child.entries)} 行）", "success")
    return redirect(url_for("plans.show", plan_id=child.id))


def _entry(plan: AnnualPlan, entry_id: int) -> PlanEntry:
    entry = db.session.get(PlanEntry, entry_id)
    if entry is None or entry.plan_id != plan.id:
        raise NotFound("没有这一行")
    return entry


def _entry_form(entry: PlanEntry) -> EntryForm:
    return EntryForm(formdata=None, section=entry.section, seq=str(entry.seq), committee_or_item=entry.name,
                     titles_evaluated=join_titles(entry.titles_evaluated or []),
                     titles_recommended=join_titles(entry.titles_recommended or []),
                     start_month=entry.start_month or "", finish_months=join_months(entry.finish_months or []),
                     office=entry.office or "", phone=entry.phone or "", scope=entry.scope or "")


@bp.route("/plans/<int:plan_id>/entries/<int:entry_id>", methods=["GET", "POST"])
@login_required
def edit_entry(plan_id: int, entry_id: int):
    plan = _plan(plan_id)
    entry = _entry(plan, entry_id)
    plans.require_manage(current_user, plan.issuer)
    if request.method == "GET":
        return render_template("plans/entry.html", plan=plan, entry=entry, form=_entry_form(entry), errors=[])
    form = EntryForm()
    if not form.validate_on_submit():
        return render_template("plans/entry.html", plan=plan, entry=entry, form=form, errors=[]), 422
    keys = [key for key in LABELS]
    cells = [form.section.data, form.seq.data, form.committee_or_item.data, form.titles_evaluated.data,
             form.titles_recommended.data, form.start_month.data, form.finish_months.data, form.office.data,
             form.phone.data, form.scope.data]
    try:
        row = parse_rows([(1, keys), (2, cells)], plan.year)[0]
        plans.update_entry(current_user, entry, row)
        db.session.commit()
    except PlanTableInvalid as exc:
        db.session.rollback()
        by_label = {label: key for key, label in LABELS.items()}
        fields: dict[str, list[str]] = {}
        for problem in exc.problems:
            fields.setdefault(by_label.get(problem.column, "seq"), []).append(problem.message)
        errors = attach_errors(form, fields, dict(LABELS))
        flash("计划行填写有误，请按提示修改", "error")
        return render_template("plans/entry.html", plan=plan, entry=entry, form=form, errors=errors), 422
    except FormInvalid as exc:
        db.session.rollback()
        errors = attach_errors(form, exc.fields, dict(LABELS))
        flash(exc.message, "error")
        return render_template("plans/entry.html", plan=plan, entry=entry, form=form, errors=errors), 422
    note = "，评委会受理范围已按修改重新生效" if plan.status == "published" else ""
    flash(f"已保存第 {row.seq} 行（{row.name}）{note}", "success")
    return redirect(url_for("plans.show", plan_id=plan.id, _anchor=f"entry-{entry.id}"))


@bp.get("/plans/<int:plan_id>/compare")
@login_required
def compare(plan_id: int):
    plan = _plan(plan_id)
    other_id = request.args.get("with", type=int)
    other = plans.get(other_id) if other_id else _previous(plan)
    return render_template("plans/compare.html", plan=plan, other=other, diff=plans.compare(other, plan))


# -- the year in force, a new year --------------------------------------------------------------
@bp.post("/plans/current-year")
@login_required
def current_year():
    _viewer()
    form = YearForm()
    if not form.validate_on_submit():
        flash("；".join(e for errs in form.errors.values() for e in errs) or "请填写年度", "error")
        return redirect(url_for("plans.index"))
    try:
        plans.set_current_year(current_user, form.year.data)
        db.session.commit()
    except FormInvalid as exc:
        db.session.rollback()
        flash("；".join(e for errs in exc.fields.values() for e in errs) or exc.message, "error")
        return redirect(url_for("plans.index"))
    flash(f"当前计划年度已设为 {form.year.data} 年：申报表只列出该年度计划中的评委会", "success")
    return redirect(url_for("plans.index"))


@bp.post("/years/new")
@login_required
def new_year():
    _viewer()
    form = YearForm()
    if not form.validate_on_submit():
        flash("；".join(e for errs in form.errors.values() for e in errs) or "请填写年度", "error")
        return redirect(url_for("plans.index"))
    year = form.year.data
    try:
        result = start_year(year)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        raise  # a refusal is a 403, not a message on the plans page
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("plans.index"))
    flash(f"已开始 {year} 年度：复制计划 {result['plans']} 份、流程模型 {result['models']} 个为草稿；"
          f"修改、对照上一年度后发布", "success")
    return redirect(url_for("plans.year", year=year))


def start_year(year: int) -> dict[str, int]:
    """Copy last year's plans (and, for process owners, the process models) as drafts of `year`."""
    from app.services import drafts

    may_models = current_user.has_role("process_owner", "system_admin")
    if not may_models and not plans.can_manage(current_user, plans.issuer_for(current_user)):
        raise NotAllowed("只有流程管理员或人力社保局工作人员可以开始新年度")
    copied = plans.copy_year(current_user, year - 1, year)
    models = drafts.copy_for_year(year, current_user) if may_models else []
    return {"plans": len(copied), "models": len(models)}


@bp.get("/years/<int:year>")
@login_required
def year(year: int):
    """The new year side by side with the last: plan rows and, per process model, its draft's changes."""
    from app.services import drafts

    _viewer()
    rows = []
    for plan in plans.plans_of_year(year):
        previous = _previous(plan)
        rows.append({"plan": plan, "diff": plans.compare(previous, plan)})
    model_rows = [{"draft": d, "diff": drafts.compare_draft(d)} for d in drafts.drafts_for_year(year)]
    return render_template("plans/year.html", year=year, plan_rows=rows, model_rows=model_rows,
                           may_models=current_user.has_role("process_owner", "system_admin"))
