"""后台作业: the progress page of any bulk job (migration, case export, plan import) and its file.

Who may follow a job is the service's rule (jobs.may_view: the creator, system administrators,
and for a bulk migration whoever may migrate). Without Celery workers, each poll of the JSON
advances the job by one batch; with them, the page only reads the progress.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, jsonify, render_template, send_file, url_for
from flask_login import current_user, login_required

from app import worker
from app.models import BackgroundJob
from app.services import documents, jobs
from app.services.errors import NotFound

bp = Blueprint("jobs", __name__)

# How a kind's items read on the page: the item column, the words for done / not done, and the
# page an item links to (an endpoint taking the item as `link_arg`).
ITEM_VIEWS: dict[str, dict[str, str]] = {
    "migrate": {"column": "实例", "ok": "已迁移", "failed": "未迁移",
                "link": "migrations.instance_history", "link_arg": "instance_id"},
}
DEFAULT_VIEW = {"column": "步骤", "ok": "完成", "failed": "未完成"}
# Where a job's result (jobs.set_outcome) is shown.
OUTCOME_PAGES = {"plan": ("plans.show", "plan_id")}


def _view(job: BackgroundJob) -> dict[str, str]:
    view = {**DEFAULT_VIEW, **ITEM_VIEWS.get(job.kind, {})}
    if "link" in view:
        # A pattern with 0 for the item; the polling script puts each item's id in its place.
        view["link_pattern"] = url_for(view["link"], **{view["link_arg"]: 0})
    return view


def _progress(job: BackgroundJob) -> dict[str, Any]:
    shown = jobs.progress(job)
    shown["download_url"] = url_for("jobs.download", job_id=job.id) if shown["file"] else None
    outcome = shown["outcome"]
    page = OUTCOME_PAGES.get(outcome["kind"]) if outcome else None
    shown["outcome_url"] = url_for(page[0], **{page[1]: outcome["id"]}) if page else None
    return shown


@bp.get("/jobs/<int:job_id>")
@login_required
def show(job_id: int):
    job = jobs.get_for(current_user, job_id)
    return render_template("jobs/show.html", job=job, progress=_progress(job), view=_view(job))


@bp.get("/jobs/<int:job_id>.json")
@login_required
def progress(job_id: int):
    """The job's progress; without Celery workers each poll also advances it by one batch."""
    job = jobs.get_for(current_user, job_id)
    if not jobs.finished(job) and not worker.enabled():
        job = jobs.advance(job_id)
    return jsonify(_progress(job))


@bp.get("/jobs/<int:job_id>/download")
@login_required
def download(job_id: int):
    job = jobs.get_for(current_user, job_id)
    doc = jobs.document_of(job) if jobs.finished(job) else None
    if doc is None:
        raise NotFound("该作业没有可下载的文件（尚未完成或未生成文件）")
    try:
        content = documents.content_of(doc)
    except OSError as exc:
        raise NotFound("文件已不存在，请重新发起") from exc
    return send_file(io.BytesIO(content), mimetype=doc.content_type, as_attachment=True,
                     download_name=doc.name, max_age=0)
