"""Staff pages for HR bureaus: the objection reports (异议报告) they receive (DT-07)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app import clock
from app.services import notices

bp = Blueprint("reports", __name__)


@bp.get("/objection-reports")
@login_required
def objection_reports():
    return render_template("reports/objection_reports.html", objections=notices.reports_for(current_user),
                           today=clock.today(), status_labels=notices.STATUS_LABELS,
                           conclusion_labels=notices.CONCLUSION_LABELS, kinds=notices.KIND_LABELS)
