"""Scenario tests of a draft, from the studio (process owners and system administrators).

POST /drafts/<id>/scenarios/run     run every scenario of the draft (CSRF); back to the draft page,
                                    or JSON when the request asks for it (fetch with X-CSRFToken)
GET  /drafts/<id>/scenarios.json    the last run's results, or a new run when there is none or the
                                    draft's files changed since (`fresh` says which)

The draft page (templates/models/draft.html) shows the last run through `scenario_panel(draft)`,
a template global this blueprint provides.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_login import current_user, login_required

from app.models import ModelDraft
from app.services import drafts, scenarios

bp = Blueprint("scenarios", __name__)


@bp.before_request
@login_required
def _managers_only():
    drafts.require_manager(current_user)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _body(draft: ModelDraft, run: dict[str, Any]) -> dict[str, Any]:
    return {"draft_id": draft.id, "process_model": draft.process_id, "plan_year": draft.plan_year, **run}


@bp.post("/drafts/<int:draft_id>/scenarios/run")
def run(draft_id: int):
    draft = drafts.get(draft_id)
    result = scenarios.run_draft(draft, current_user)
    if _wants_json():
        return jsonify(_body(draft, result))
    total = len(result["results"])
    failed = [r for r in result["results"] if not r["ok"]]
    if not total:
        flash("本草稿没有场景测试（scenarios/*.json）", "info")
    elif failed:
        flash(f"场景测试：{total} 个中 {len(failed)} 个未通过", "error")
    else:
        flash(f"场景测试：{total} 个全部通过", "success")
    return redirect(url_for("models.draft", draft_id=draft.id, _anchor="scenarios"))


@bp.get("/drafts/<int:draft_id>/scenarios.json")
def results(draft_id: int):
    draft = drafts.get(draft_id)
    last = scenarios.last_run(draft)
    if last is None or not last["fresh"]:
        last = scenarios.run_draft(draft, current_user)
    return jsonify(_body(draft, last))


@bp.app_context_processor
def _panel() -> dict[str, Any]:
    def scenario_panel(draft: ModelDraft) -> dict[str, Any]:
        """For the draft page: the scenario files, and the last run (or None)."""
        files = dict(draft.files or {})
        return {"files": scenarios.scenario_files(files), "run": scenarios.last_run(draft)}

    return {"scenario_panel": scenario_panel}
