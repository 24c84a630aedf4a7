"""流程模型: published versions, the drafts of a plan year, editing, comparing and publishing them.

/models                          the process models, their versions and open drafts; "new year" form
/models/new-year (POST)          copy every model as a draft for a plan year
/models/<process_id>             one model's versions and drafts; compare two versions
/models/<process_id>/compare     ?a=<version>&b=<version>, side by side
/drafts?year=<year>              the drafts of a plan year
/drafts/<id>                     a draft's files; validate, publish, discard
/drafts/<id>/file?name=<file>    edit one file (textarea)
/drafts/<id>/compare             the draft against the version it was copied from

(/models/<process_id>/migrate, moving running instances, is app/web/migrations.py; its progress page
/jobs/<id> is app/web/jobs.py.)
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from app.extensions import db
from app.models import ModelDraft, ProcessVersion
from app.services import drafts, model_diff, registry
from app.services.errors import Conflict, FormInvalid, NotFound

bp = Blueprint("models", __name__)

FILE_KINDS = {"model": "模型说明", "bpmn": "流程图（BPMN）", "dmn": "决策表（DMN）", "schema": "表单字段",
              "ui": "表单界面", "text": "其他"}
CHANGE_LABELS = {"added": "新增", "removed": "删除", "changed": "修改", "same": "未变"}


class NewYearForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    year = StringField("计划年度", description="如 2023：复制各流程模型（含决策表、表单）为该年度的草稿")


class FileForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    name = HiddenField()
    text = TextAreaField("文件内容")


class ActionForm(FlaskForm):
    """Validate, publish, discard: only the CSRF token."""


@bp.before_request
@login_required
def _managers_only():
    drafts.require_manager(current_user)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"DRAFT_STATUS_LABELS": drafts.STATUS_LABELS, "CHANGE_LABELS": CHANGE_LABELS,
            "FILE_KIND_LABELS": model_diff.FILE_KIND_LABELS, "file_kind": model_diff._file_kind}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise FormInvalid(f"参数 {name} 应为版本号（整数）", {name: ["应为整数"]}) from None


# -- models ----------------------------------------------------------------------------------
def _models_page(form: NewYearForm, status: int = 200, form_errors: list[str] | None = None):
    counts = drafts.instance_counts()
    rows = []
    for newest in registry.published():
        all_versions = drafts.versions(newest.process_id)
        current = registry.for_new_instances(newest.process_id)
        rows.append({"newest": newest, "current": current, "versions": all_versions,
                     "instances": sum(counts.get(v.id, {}).get("total", 0) for v in all_versions),
                     "active": sum(counts.get(v.id, {}).get("active", 0) for v in all_versions),
                     "drafts": drafts.drafts(newest.process_id)})
    users = drafts.users_by_id({v.deployed_by_id for r in rows for v in r["versions"]})
    return render_template("models/index.html", rows=rows, counts=counts, users=users, form=form,
                           form_errors=form_errors or [], open_drafts=drafts.drafts()), status


@bp.get("/models")
def index():
    return _models_page(NewYearForm())


@bp.post("/models/new-year")
def new_year():
    form = NewYearForm()
    if not form.validate_on_submit():
        return _models_page(form, 400, ["页面已过期，请刷新后重试"])
    try:
        year = drafts.check_year(form.year.data)
        created = drafts.copy_for_year(year, current_user)
    except FormInvalid as exc:
        db.session.rollback()
        form.year.errors = exc.fields.get("year") or [exc.message]
        flash(exc.message, "error")
        return _models_page(form, 422)
    if created:
        flash(f"已为 {year} 年度复制 {len(created)} 个流程模型草稿", "success")
    else:
        flash(f"{year} 年度的各流程模型已有草稿，未重复复制", "info")
    return redirect(url_for("models.year_drafts", year=year))


@bp.get("/models/<process_id>")
def process(process_id: str):
    versions = drafts.versions(process_id)
    if not versions:
        raise NotFound(f"流程 {process_id} 不存在")
    counts = drafts.instance_counts(process_id)
    all_drafts = drafts.drafts(process_id, status=None)
    users = drafts.users_by_id({v.deployed_by_id for v in versions} | {d.created_by_id for d in all_drafts}
                               | {d.published_by_id for d in all_drafts})
    current = registry.for_new_instances(process_id)
    return render_template("models/process.html", process_id=process_id, versions=versions, counts=counts,
                           drafts=all_drafts, users=users, current=current, newest=versions[0],
                           migrate_url=f"/models/{process_id}/migrate")


@bp.get("/models/<process_id>/compare")
def compare_versions(process_id: str):
    versions = drafts.versions(process_id)
    if not versions:
        raise NotFound(f"流程 {process_id} 不存在")
    a_no, b_no = _int_arg("a"), _int_arg("b")
    b = drafts.version_of(process_id, b_no) if b_no is not None else versions[0]
    if a_no is not None:
        a = drafts.version_of(process_id, a_no)
    else:
        older = [v for v in versions if v.version < b.version]
        a = older[0] if older else b
    diff = drafts.compare_versions(a, b)
    return render_template("models/compare.html", diff=diff, process_id=process_id, name=b.name,
                           old_label=_version_label(a), new_label=_version_label(b), versions=versions,
                           a=a, b=b, draft=None)


def _version_label(version: ProcessVersion | None) -> str:
    if version is None:
        return "（无）"
    year = f"{version.plan_year} 年度" if version.plan_year else "未定年度"
    return f"第 {version.version} 版（{year}）"


# -- drafts ----------------------------------------------------------------------------------
@bp.get("/drafts")
def year_drafts():
    year = _int_arg("year")
    items = drafts.drafts_for_year(year) if year is not None else drafts.drafts(status=None)
    users = drafts.users_by_id({d.created_by_id for d in items} | {d.published_by_id for d in items})
    return render_template("models/drafts.html", year=year, drafts=items, users=users, form=ActionForm())


def _draft_page(draft: ModelDraft, problems: list[dict[str, str]] | None = None, validated: bool = False,
                status: int = 200):
    users = drafts.users_by_id({draft.created_by_id, draft.updated_by_id, draft.published_by_id})
    files = sorted(draft.files or {}, key=lambda n: (list(FILE_KINDS).index(model_diff._file_kind(n)), n))
    summary = drafts.compare_draft(draft)
    changed = set(summary["files"]["changed"]) | set(summary["files"]["added"])
    return render_template("models/draft.html", draft=draft, files=files, changed=changed, problems=problems,
                           validated=validated, users=users, form=ActionForm(), change_count=summary["count"],
                           base_label=_version_label(draft.base_version)), status


@bp.get("/drafts/<int:draft_id>")
def draft(draft_id: int):
    return _draft_page(drafts.get(draft_id))


@bp.post("/drafts/<int:draft_id>/validate")
def validate(draft_id: int):
    item = drafts.get(draft_id)
    problems = drafts.validate(item)
    errors = drafts.errors_of(problems)
    if errors:
        flash(f"校验发现 {len(errors)} 处问题", "error")
    elif problems:
        flash(f"校验通过，可以发布；请留意 {len(problems)} 条提醒", "success")
    else:
        flash("校验通过，可以发布", "success")
    return _draft_page(item, problems, validated=True)


@bp.post("/drafts/<int:draft_id>/publish")
def publish(draft_id: int):
    item = drafts.get(draft_id)
    try:
        version = drafts.publish(item, current_user)
    except drafts.DraftInvalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _draft_page(drafts.get(draft_id), exc.problems, validated=True, status=422)
    flash(f"已发布 {version.name} 第 {version.version} 版（{version.plan_year} 年度）", "success")
    return redirect(url_for("models.process", process_id=version.process_id))


@bp.post("/drafts/<int:draft_id>/discard")
def discard(draft_id: int):
    item = drafts.discard(drafts.get(draft_id), current_user)
    flash(f"已废弃 {item.plan_year} 年度 {item.process_id} 草稿", "success")
    return redirect(url_for("models.year_drafts", year=item.plan_year))


@bp.route("/drafts/<int:draft_id>/file", methods=["GET", "POST"])
def edit_file(draft_id: int):
    item = drafts.get(draft_id)
    name = request.values.get("name", "")
    if name not in (item.files or {}):
        abort(404)
    form = FileForm()
    if request.method == "GET":
        form.name.data = name
        form.text.data = item.files[name]
        return _file_page(item, name, form)
    if item.status != drafts.OPEN:
        raise Conflict("草稿已发布或已废弃，不能再修改")
    try:
        drafts.update_file(item, name, form.text.data or "", current_user)
    except FormInvalid as exc:
        db.session.rollback()
        form.text.errors = list(exc.fields.get(name) or [exc.message])
        flash(exc.message, "error")
        return _file_page(drafts.get(draft_id), name, form, 422)
    flash(f"已保存 {name}", "success")
    return redirect(url_for("models.edit_file", draft_id=draft_id, name=name))


def _file_page(item: ModelDraft, name: str, form: FileForm, status: int = 200):
    base_files = item.base_version.sources.get("files", {}) if item.base_version else {}
    diff = drafts.compare({name: base_files[name]} if name in base_files else {}, {name: item.files[name]})
    return render_template("models/file.html", draft=item, name=name, form=form, diff=diff,
                           kind=FILE_KINDS.get(model_diff._file_kind(name), ""),
                           old_label=_version_label(item.base_version),
                           new_label=f"{item.plan_year} 年度草稿"), status


@bp.get("/drafts/<int:draft_id>/compare")
def compare_draft(draft_id: int):
    item = drafts.get(draft_id)
    diff = drafts.compare_draft(item)
    base = item.base_version
    return render_template("models/compare.html", diff=diff, process_id=item.process_id,
                           name=base.name if base else item.process_id, old_label=_version_label(base),
                           new_label=f"{item.plan_year} 年度草稿", versions=[], a=base, b=None, draft=item)
