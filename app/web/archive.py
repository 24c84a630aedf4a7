"""Performance archive (业绩档案) and continuing-education hours (继续教育学时) pages."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import FileField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired
from wtforms.widgets import DateInput

from app.rules import title as title_rules
from app.services import archives, ce, forms
from app.services.errors import Conflict, FormInvalid, NotAllowed, RuleViolation
from app.web import uploads
from app.web.pages import _attach_errors

bp = Blueprint("archive", __name__)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"ARCHIVE_STATUS_LABELS": archives.STATUS_LABELS, "DECISION_LABELS": archives.DECISIONS}


# -- forms (the services validate; these render, keep typed values and carry the CSRF token) ----
class AchievementForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    kind = SelectField("业绩类别", choices=[("", "请选择"), *((k, k) for k in archives.KINDS)], validate_choice=False)
    title = StringField("业绩名称", description="论文题目、著作名称、项目名称、奖项名称等，2–200 字")
    achieved_on = StringField("取得时间", widget=DateInput(), description="发表、出版、结题、获奖或授权的日期，不能晚于今天")
    description = TextAreaField("说明", description="选填，不超过 2000 字：刊物与期次、本人排名、承担的工作等")
    attachments = forms.DocumentListField("证明材料", description="PDF、JPG、PNG，可多选；单个文件不超过 10 MB")


class AuditForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    decision = RadioField("审核结论", choices=list(archives.DECISIONS.items()), validate_choice=False)
    opinion = TextAreaField("审核意见", description="退回修改时必填：写明需补充或更正的内容")
    seen = HiddenField()


class CeEntryForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    username = StringField("用户名", [InputRequired(message="请填写用户名")])
    year = IntegerField("年度", [InputRequired(message="请填写年度")])
    professional = IntegerField("专业科目", [InputRequired(message="请填写专业科目学时")])
    public = IntegerField("公需科目", [InputRequired(message="请填写公需科目学时")])
    general_public = IntegerField("一般公需科目", [InputRequired(message="请填写一般公需科目学时")],
                                  description="一般公需科目学时计入公需科目学时，不能超过公需科目学时")


class CeImportForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    file = FileField("学时登记表（.xlsx）")


# -- helpers -----------------------------------------------------------------------------------
def _achievement_data(data: MultiDict) -> dict[str, Any]:
    """Kept attachments (edit page) plus this request's uploads."""
    return {"kind": data.get("kind"), "title": data.get("title"), "achieved_on": data.get("achieved_on"),
            "description": data.get("description"),
            "attachments": data.getlist("keep") + data.getlist("attachments")}


def _save(form: AchievementForm, action: Callable[[dict[str, Any]], Any]) -> Any:
    return uploads.submit(form, lambda data: action(_achievement_data(data)),
                          lambda data: archives.check_achievement(_achievement_data(data)),
                          message="业绩信息填写有误，请按提示修改")


def _mine(form: AchievementForm, status: int = 200, form_errors: list[str] | None = None):
    archive = archives.archive_for(current_user)
    items = archives.achievements_of(current_user)
    return render_template("archive/mine.html", archive=archive, items=items, docs=archives.attachments_of(items),
                           form=form, form_errors=form_errors or []), status


def _edit(item, form: AchievementForm, kept: list[str], status: int = 200, form_errors: list[str] | None = None):
    return render_template("archive/edit.html", archive=archives.archive_for(current_user), item=item, form=form,
                           kept=kept, docs=archives.attachments_of([item]), form_errors=form_errors or []), status


# -- my archive --------------------------------------------------------------------------------
@bp.get("/archive")
@login_required
def mine():
    return _mine(AchievementForm())


@bp.post("/archive/achievements")
@login_required
def add():
    form = AchievementForm()
    try:
        item = _save(form, lambda values: archives.add_achievement(current_user, values))
    except FormInvalid as exc:
        flash(exc.message, "error")
        return _mine(form, 422, _attach_errors(form, exc.fields))
    flash(f"已添加业绩“{item.title}”", "success")
    return redirect(url_for("archive.mine"))


@bp.route("/archive/achievements/<int:achievement_id>/edit", methods=["GET", "POST"])
@login_required
def edit(achievement_id: int):
    item = archives.get_achievement(current_user, achievement_id)
    if request.method == "GET":
        return _edit(item, AchievementForm(obj=item), list(item.attachments or []))
    form = AchievementForm()
    try:
        item = _save(form, lambda values: archives.update_achievement(current_user, achievement_id, values))
    except FormInvalid as exc:
        flash(exc.message, "error")
        item = archives.get_achievement(current_user, achievement_id)  # the session was rolled back
        return _edit(item, form, request.form.getlist("keep"), 422, _attach_errors(form, exc.fields))
    flash(f"已保存业绩“{item.title}”", "success")
    return redirect(url_for("archive.mine"))


@bp.post("/archive/achievements/<int:achievement_id>/delete")
@login_required
def delete(achievement_id: int):
    archives.delete_achievement(current_user, achievement_id)
    flash("已删除该业绩", "info")
    return redirect(url_for("archive.mine"))


@bp.post("/archive/submit")
@login_required
def submit():
    try:
        archives.submit_for_audit(current_user)
    except (RuleViolation, Conflict) as exc:
        flash(exc.message, "error")
    else:
        flash("业绩档案已提交单位审核", "success")
    return redirect(url_for("archive.mine"))


# -- the unit's audit --------------------------------------------------------------------------
@bp.get("/archive/audits")
@login_required
def audits():
    return render_template("archive/audits.html", pending=archives.pending_audits(current_user),
                           everyone=archives.archives_in_scope(current_user))


def _audit_page(user_id: int, form: AuditForm, status: int = 200, form_errors: list[str] | None = None):
    person, archive, items = archives.archive_for_audit(current_user, user_id)
    if request.method == "GET":
        form.seen.data = archives.fingerprint(archive, items)
    return render_template("archive/audit.html", person=person, archive=archive, items=items,
                           docs=archives.attachments_of(items), form=form, form_errors=form_errors or []), status


@bp.route("/archive/audits/<int:user_id>", methods=["GET", "POST"])
@login_required
def audit(user_id: int):
    if request.method == "GET":
        return _audit_page(user_id, AuditForm())
    form = AuditForm()
    try:
        archive = archives.audit(current_user, user_id, form.decision.data, form.opinion.data, form.seen.data)
    except FormInvalid as exc:
        flash(exc.message, "error")
        return _audit_page(user_id, form, 422, _attach_errors(form, exc.fields))
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("archive.audit", user_id=user_id))
    verb = "同意" if archive.status == "audited" else "退回"
    flash(f"已{verb}{archive.user.display_name}的业绩档案", "success")
    return redirect(url_for("archive.audits"))


# -- continuing education ----------------------------------------------------------------------
@bp.get("/my/ce")
@login_required
def my_ce():
    rows = ce.yearly_results(ce.records_for(current_user))
    return render_template("archive/my_ce.html", rows=rows, rules=title_rules)


def _ce_page(entry: CeEntryForm, upload: CeImportForm, status: int = 200, *, entry_errors: list[str] | None = None,
             import_errors: list[str] | None = None, username: str = ""):
    query = request.args.get("q", "").strip()
    persons = ce.search_persons(current_user, query)  # refuses anyone but HR staff
    person, rows = None, []
    if username:
        person, records = ce.person_records(current_user, username)
        rows = ce.yearly_results(records)
    return render_template("archive/ce.html", query=query, persons=persons, person=person, rows=rows, entry=entry,
                           upload=upload, entry_errors=entry_errors or [], import_errors=import_errors or []), status


@bp.get("/ce")
@login_required
def ce_entry():
    username = request.args.get("username", "").strip()
    return _ce_page(CeEntryForm(username=username or None), CeImportForm(), username=username)


@bp.post("/ce")
@login_required
def ce_save():
    form = CeEntryForm()
    upload = CeImportForm(formdata=None)
    if not form.validate():
        flash("学时信息填写有误，请按提示修改", "error")
        return _ce_page(form, upload, 422)
    record = {"username": form.username.data.strip(), "year": form.year.data,
              **{name: form[name].data for name in ce.FIELDS}}
    try:
        ce.upsert(current_user, [record])
    except (FormInvalid, NotAllowed) as exc:
        flash(exc.message, "error")
        fields = {key.partition(".")[2] or key: errs for key, errs in exc.fields.items()}
        return _ce_page(form, upload, exc.status, entry_errors=_attach_errors(form, fields))
    flash(f"已登记 {record['username']} {record['year']} 年度的继续教育学时", "success")
    return redirect(url_for("archive.ce_entry", username=record["username"]))


@bp.post("/ce/import")
@login_required
def ce_import():
    upload = CeImportForm()
    entry = CeEntryForm(formdata=None)
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            raise FormInvalid("请选择要导入的学时登记表", {"file": ["请选择 .xlsx 文件"]})
        count = ce.import_excel(current_user, io.BytesIO(file.read()))
    except (FormInvalid, NotAllowed) as exc:
        flash(f"{exc.message}，未导入任何记录", "error")
        errors = [f"{where}：{e}" if where != "file" else e for where, errs in exc.fields.items() for e in errs]
        return _ce_page(entry, upload, exc.status, import_errors=errors)
    flash(f"已导入 {count} 条继续教育学时记录", "success")
    return redirect(url_for("archive.ce_entry"))


@bp.get("/ce/template.xlsx")
@login_required
def ce_template():
    return send_file(io.BytesIO(ce.import_template(current_user)), as_attachment=True,
                     download_name="继续教育学时登记表.xlsx", max_age=0,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
