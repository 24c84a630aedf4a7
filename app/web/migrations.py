"""版本迁移: moving running instances to another version of their model, in bulk, and undo.

The bulk job's progress page (/jobs/<id>) is the generic one of app/web/jobs.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.models import ProcessInstance
from app.services import migration
from app.services.access import can_view
from app.services.errors import FormInvalid, NotFound

bp = Blueprint("migrations", __name__)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"may_migrate": migration.may_migrate, "migration_history": migration.history,
            "migration_undo_blocker": migration.undo_blocker}


def _ints(values: list[str], what: str) -> list[int]:
    try:
        return [int(v) for v in values if str(v).strip()]
    except ValueError as exc:
        raise FormInvalid(f"{what}参数无效", {what: ["应为整数"]}) from exc


@bp.get("/migrations")
@login_required
def index():
    migration.require_migrator(current_user)
    return render_template("migrations/index.html", models=migration.models_overview())


def _page(process_id: str, status: int = 200, errors: list[str] | None = None, checked: set[int] | None = None):
    versions = migration.versions(process_id)
    published = [v for v in versions if v.status == "published"]
    if not published:
        raise NotFound(f"流程 {process_id} 没有已发布的版本")
    source = request.values.getlist("from")
    to = request.values.get("to", "")
    errors = list(errors or [])
    try:
        sources = _ints(source, "from") or None
        target_no = _ints([to], "to")[0] if to.strip() else published[-1].version
    except FormInvalid as exc:
        errors.append("版本参数无效，已显示全部版本")
        status = status if status != 200 else 422
        sources, target_no = None, published[-1].version
        del exc
    target = migration.version_of(process_id, target_no)
    if sources is not None:
        for number in sources:
            migration.version_of(process_id, number)  # unknown → 404
    instances = [i for i in migration.candidates(process_id, sources) if i.version_id != target.id]
    rows = [(i, migration.check(i, target)) for i in instances]
    return render_template("migrations/migrate.html", process_id=process_id, name=versions[-1].name,
                           versions=versions, published=published, target=target, sources=sources or [],
                           rows=rows, errors=errors, checked=checked or set()), status


@bp.route("/models/<process_id>/migrate", methods=["GET", "POST"])
@login_required
def migrate(process_id: str):
    migration.require_migrator(current_user)
    if request.method == "GET":
        return _page(process_id)
    try:
        ids = _ints(request.form.getlist("instance_ids"), "instance_ids")
        to = _ints([request.form.get("to", "")], "to")
        if not to:
            raise FormInvalid("请选择目标版本", {"to": ["请选择目标版本"]})
        target = migration.version_of(process_id, to[0])
        known = {i.id for i in migration.candidates(process_id, None, limit=100000)}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise FormInvalid("所选实例不属于该流程或已结束", {"instance_ids": [f"实例 {i} 不能迁移" for i in unknown]})
        job = migration.start_bulk(current_user, ids, target)
    except FormInvalid as exc:
        messages = [m for ms in exc.fields.values() for m in ms] or [exc.message]
        flash(exc.message, "error")
        try:
            checked = set(_ints(request.form.getlist("instance_ids"), "instance_ids"))
        except FormInvalid:
            checked = set()
        return _page(process_id, 422, messages, checked)
    flash(f"已开始迁移 {job.total} 个实例到版本 {target.version}", "success")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.get("/instances/<int:instance_id>/migrations")
@login_required
def instance_history(instance_id: int):
    migration.require_migrator(current_user)
    instance = _instance(instance_id)
    return render_template("migrations/instance.html", instance=instance, form_errors=[])


def _instance(instance_id: int) -> ProcessInstance:
    from app.extensions import db

    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("流程实例不存在")
    return instance


@bp.post("/migrations/<int:migration_id>/undo")
@login_required
def undo(migration_id: int):
    migration.require_migrator(current_user)
    row = migration.get_migration(migration_id)
    instance_id = row.instance_id
    try:
        migration.undo(row, current_user, request.form.get("reason", ""))
    except FormInvalid as exc:
        flash(exc.message, "error")
        instance = _instance(instance_id)
        return render_template("migrations/instance.html", instance=instance,
                               form_errors=[m for ms in exc.fields.values() for m in ms]), 422
    flash("已撤销迁移，实例已恢复到迁移前的版本和状态", "success")
    if can_view(current_user, _instance(instance_id)):
        return redirect(url_for("pages.instance", instance_id=instance_id))
    return redirect(url_for("migrations.instance_history", instance_id=instance_id))
