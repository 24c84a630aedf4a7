"""流程模型的导出、导入、新建草稿、停用与恢复版本; the diagram on the comparison page.

/models/<process_id>/versions/<n>/export.zip   a deployed version as a zip
/drafts/<id>/export.zip                        a draft as a zip
/models/import                                 upload a zip (ours or SpiffArena's layout) → a draft
/models/<process_id>/new-draft (POST)          a draft for the current plan year
/models/<process_id>/versions/<n>/retire, /reinstate (POST)

The comparison page (templates/models/compare.html) calls `compare_diagram(diff, files)` to
colour the new version's diagram; the process page calls `model_history(process_id)`.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select

from app.extensions import db
from app.models import Event
from app.services import drafts, model_archive
from app.services.errors import Conflict, FormInvalid

bp = Blueprint("model_archive", __name__)

HISTORY_TYPES = ("model_published", "model_draft_created", "model_draft_imported", "model_draft_discarded",
                 "model_version_retired", "model_version_reinstated")
HISTORY_LABELS = {"model_published": "发布", "model_draft_created": "新建草稿", "model_draft_imported": "导入草稿",
                  "model_draft_discarded": "废弃草稿", "model_version_retired": "停用版本",
                  "model_version_reinstated": "恢复版本"}


class ImportForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    file = FileField("模型压缩包（.zip）", description="本系统导出的 zip，或 SpiffArena 的流程模型文件夹（含 process_model.json）打包的 zip")


class ActionForm(FlaskForm):
    """New draft, retire, reinstate: only the CSRF token."""


@bp.before_request
@login_required
def _managers_only():
    drafts.require_manager(current_user)


# -- export ----------------------------------------------------------------------------------
def _zip_response(name: str, data: bytes):
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=name)


@bp.get("/models/<process_id>/versions/<int:number>/export.zip")
def export_version(process_id: str, number: int):
    return _zip_response(*model_archive.export_version(drafts.version_of(process_id, number), current_user))


@bp.get("/drafts/<int:draft_id>/export.zip")
def export_draft(draft_id: int):
    return _zip_response(*model_archive.export_draft(drafts.get(draft_id), current_user))


# -- import ----------------------------------------------------------------------------------
def _import_page(form: ImportForm, status: int = 200, error: str | None = None, existing=None):
    return render_template("model_archive/import.html", form=form, error=error, existing=existing,
                           limits={"zip_mb": model_archive.MAX_ZIP_BYTES // 1024 // 1024,
                                   "entries": model_archive.MAX_ENTRIES,
                                   "total_mb": model_archive.MAX_TOTAL_BYTES // 1024 // 1024}), status


@bp.route("/models/import", methods=["GET", "POST"])
def import_model():
    form = ImportForm()
    if request.method == "GET":
        return _import_page(form)
    if not form.validate_on_submit():
        return _import_page(form, 400, "页面已过期，请刷新后重试")
    upload = form.file.data
    content = upload.read(model_archive.MAX_ZIP_BYTES + 1) if upload else b""
    try:
        result = model_archive.import_upload(content, current_user)
    except drafts.DraftExists as exc:
        db.session.rollback()
        return _import_page(form, 409, exc.message, existing=exc.draft)
    except FormInvalid as exc:
        db.session.rollback()
        return _import_page(form, 422, exc.message)
    flash(f"已导入为 {result.draft.plan_year} 年度草稿：{result.draft.process_id}", "success")
    for note in result.notes:
        flash(note, "info")
    return redirect(url_for("models.draft", draft_id=result.draft.id))


# -- new draft, retire, reinstate ------------------------------------------------------------
def _checked_form() -> None:
    if not ActionForm().validate_on_submit():
        raise FormInvalid("页面已过期，请刷新后重试")


@bp.post("/models/<process_id>/new-draft")
def new_draft(process_id: str):
    _checked_form()
    try:
        draft = drafts.new_draft(process_id, current_user)
    except drafts.DraftExists as exc:
        db.session.rollback()
        flash(exc.message, "info")
        return redirect(url_for("models.draft", draft_id=exc.draft.id))
    flash(f"已新建 {draft.plan_year} 年度草稿（复制自第 {draft.base_version.version} 版）", "success")
    return redirect(url_for("models.draft", draft_id=draft.id))


def _version_action(process_id: str, number: int, action, done: str):
    _checked_form()
    version = drafts.version_of(process_id, number)
    try:
        action(version, current_user)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("models.process", process_id=process_id))


@bp.post("/models/<process_id>/versions/<int:number>/retire")
def retire(process_id: str, number: int):
    return _version_action(process_id, number, drafts.retire,
                           f"已停用第 {number} 版：新案件不再使用该版本，在办案件不受影响")


@bp.post("/models/<process_id>/versions/<int:number>/reinstate")
def reinstate(process_id: str, number: int):
    return _version_action(process_id, number, drafts.reinstate, f"已恢复第 {number} 版")


# -- helpers for the models templates --------------------------------------------------------
def model_history(process_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """Publishing, drafts, retiring and reinstating of one process model, newest first."""
    events = db.session.scalars(select(Event).where(Event.type.in_(HISTORY_TYPES), Event.instance_id.is_(None))
                                .order_by(Event.at.desc(), Event.id.desc()).limit(1000))
    rows = [e for e in events if (e.details or {}).get("process_model") == process_id][:limit]
    users = drafts.users_by_id({e.actor_id for e in rows})
    return [{"at": e.at, "type": e.type, "label": HISTORY_LABELS.get(e.type, e.type),
             "actor": users[e.actor_id].display_name if e.actor_id in users else "系统",
             "version": (e.details or {}).get("version"), "plan_year": (e.details or {}).get("plan_year"),
             "draft_id": (e.details or {}).get("draft_id")} for e in rows]


def compare_diagram(diff: dict[str, Any], files: dict[str, str] | None) -> dict[str, Any] | None:
    """The new side's BPMN and the element ids to colour: {"file", "xml", "changes": {"file",
    "added", "changed", "removed": [{"id", "name", "type"}]}}; None without a BPMN file."""
    files = files or {}
    bpmn_names = sorted(n for n in files if n.endswith(".bpmn"))
    if not bpmn_names:
        return None
    by_file = {f["file"]: f for f in diff.get("bpmn", [])}
    name = next((n for n in bpmn_names if by_file.get(n, {}).get("elements")), bpmn_names[0])
    elements = by_file.get(name, {}).get("elements", [])
    removed = [{"id": e["id"], "name": e.get("name") or "", "type": e.get("type_label") or e.get("type") or ""}
               for e in elements if e["change"] == "removed"]
    for other, item in by_file.items():  # a BPMN file dropped altogether
        if other not in files:
            removed.extend({"id": e["id"], "name": e.get("name") or "", "type": e.get("type_label") or ""}
                           for e in item.get("elements", []))
    return {"file": name, "xml": files[name],
            "changes": {"file": name,
                        "added": [e["id"] for e in elements if e["change"] == "added"],
                        "changed": [e["id"] for e in elements if e["change"] == "changed"],
                        "removed": removed}}


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"model_history": model_history, "compare_diagram": compare_diagram,
            "model_action_form": ActionForm}
