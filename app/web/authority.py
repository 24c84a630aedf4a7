"""评审权管理: the committees an HR bureau oversees and the decisions on their authority to evaluate."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.widgets import DateInput

from app.extensions import db
from app.models import Committee
from app.rules import authority as rules
from app.services import authority, forms
from app.services.errors import FormInvalid
from app.web import uploads
from app.web.form_errors import attach_errors

bp = Blueprint("authority", __name__)

FIELD_LABELS = {"decision": "决定类型", "decided_on": "决定日期", "reason": "决定理由", "documents": "决定文件"}


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"AUTHORITY_STATE_LABELS": rules.STATE_LABELS, "decision_label": rules.decision_label,
            "supervising_bureau": authority.supervising_bureau, "plan_seq": _plan_seq}


def _plan_seq(scope) -> int | None:
    from app.models import PlanEntry

    entry = db.session.get(PlanEntry, scope.plan_entry_id) if scope.plan_entry_id else None
    return entry.seq if entry else None


class DecisionForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    decision = RadioField("决定类型", choices=[], validate_choice=False)
    decided_on = StringField("决定日期", widget=DateInput(), description="决定文件的印发日期，不能晚于今天")
    reason = TextAreaField("决定理由", description="4–2000 字：查实的问题、依据及整改要求或恢复的理由")
    documents = forms.DocumentListField("决定文件及依据材料",
                                        description="选填；PDF、JPG、PNG，可多选；单个文件不超过 10 MB")


def _form(committee: Committee) -> DecisionForm:
    form = DecisionForm()
    state = committee.authority_state or rules.ACTIVE
    form.decision.choices = [(d, rules.decision_label(d, state)) for d in rules.allowed_decisions(state)]
    return form


def _page(committee: Committee, form: DecisionForm, status: int = 200, form_errors: list[str] | None = None):
    decisions = authority.history(committee.id)
    return render_template("authority/committee.html", committee=committee, decisions=decisions,
                           docs=authority.documents_of(decisions), blocked=authority.blocked_reason(committee),
                           may_decide=authority.may_decide(current_user, committee), form=form,
                           form_errors=form_errors or []), status


@bp.get("/authority")
@login_required
def overview():
    return render_template("authority/overview.html", rows=authority.committees_overview(current_user),
                           allowed=rules.allowed_decisions)


def _decide(committee: Committee, form: DecisionForm):
    def values(data):
        return data.get("decision"), data.get("reason"), data.get("decided_on"), data.getlist("documents")

    return uploads.submit(form, lambda data: authority.decide(current_user, committee.id, *values(data)),
                          lambda data: authority.check_decision(current_user, committee.id, *values(data)),
                          message="评审权决定填写有误，请按提示修改", files="文件")


@bp.route("/authority/<int:committee_id>", methods=["GET", "POST"])
@login_required
def committee(committee_id: int):
    item = authority.committee_for(current_user, committee_id)
    form = _form(item)
    if request.method == "GET":
        return _page(item, form)
    authority.require_decider(current_user, item)  # before any upload is stored
    try:
        record = _decide(item, form)
    except FormInvalid as exc:
        flash(exc.message, "error")
        item = authority.committee_for(current_user, committee_id)  # the session was rolled back
        return _page(item, form, 422, attach_errors(form, exc.fields, FIELD_LABELS))
    flash(f"已对{item.short_name}作出“{rules.decision_label(record.decision, record.from_state)}”决定"
          f"（{record.doc_no}），评审权状态：{rules.STATE_LABELS[record.to_state]}", "success")
    return redirect(url_for("authority.committee", committee_id=committee_id))


@bp.get("/authority/documents/<doc_id>")
@login_required
def document(doc_id: str):
    doc, content = authority.decision_document(current_user, doc_id)
    return send_file(io.BytesIO(content), mimetype=doc.content_type, as_attachment=True,
                     download_name=doc.name, max_age=0)
