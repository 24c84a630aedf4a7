"""计划执行进度: the plan year's timeline (committee windows against their review sessions), as a page
and as JSON."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.services import timeline
from app.services.errors import DomainError
from app.web.errors import error_response

bp = Blueprint("timeline", __name__, url_prefix="/plans")


@bp.context_processor
def _helpers() -> dict:
    return {"month_first": timeline.first_day, "month_last": timeline.last_day}


@bp.errorhandler(DomainError)
def _domain(exc: DomainError):
    """The JSON view answers errors in JSON too; the page as every other page does."""
    if request.path.endswith(".json"):
        return jsonify({"error": {"code": exc.code, "message": exc.message}}), exc.status
    return error_response(exc.status, exc.code, exc.message, exc.fields)


@bp.get("/timeline")
@login_required
def pick():
    """The year selector's target (a plain GET form): on to the chosen year's page."""
    timeline.county_scope(current_user)  # 403 before anything else
    year = request.args.get("year", type=int)
    return redirect(url_for("timeline.page", year=year if timeline.valid_year(year) else timeline.default_year()))


@bp.get("/<int:year>/timeline")
@login_required
def page(year: int):
    data = timeline.year_timeline(current_user, year)
    return render_template("timeline/year.html", tl=data, years=timeline.years(),
                           ROW_STATUS_LABELS=timeline.ROW_STATUS_LABELS)


@bp.get("/<int:year>/timeline.json")
@login_required
def as_json(year: int):
    return jsonify(timeline.year_timeline(current_user, year).to_dict())
