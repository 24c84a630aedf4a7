"""Public pages (no login): health check, certificate verification, the 公示 and objections."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, StringField, TextAreaField

from app import clock
from app.extensions import limiter
from app.models import PublicNotice
from app.services import certificates, notices
from app.services.errors import FormInvalid, NotFound, RuleViolation
from app.services.numbers import INT_MAX
from app.web.form_errors import attach_errors

bp = Blueprint("public", __name__)
# One budget per client address, shared by every public page that reads the database.
public_limit = limiter.shared_limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"], scope="public")
RECEIPTS = "objection_receipts"  # the receipts this browser may see again (no enumeration by id)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/certificates/verify")
@public_limit
def verify():
    number = (request.args.get("number") or "").strip()[:40]
    cert = certificates.verify(number) if number else None
    holder = certificates.mask_name(cert.holder_name) if cert else ""
    return render_template("public/verify.html", number=number, searched=bool(number), cert=cert, holder=holder)


# -- 公示 and objections -----------------------------------------------------------------------
class ObjectionForm(FlaskForm):
    """Renders, keeps typed values and carries the CSRF token; notices.submit_objection validates."""

    class Meta:
        locales = ("zh",)

    entry = SelectField("反映对象", validate_choice=False)
    objector_name = StringField("反映人姓名（实名）", description="请填写真实姓名，2–40 字")
    objector_contact = StringField("联系方式", description="电话号码或电子邮箱，便于核实情况时联系您")
    content = TextAreaField("反映的问题", description="10–2000 字，请写明具体事实和线索")
    evidence = MultipleFileField("证明材料", description="PDF、PNG、JPG，最多 5 个文件，单个文件不超过 10 MB")


def _objection_form(table: list[dict[str, Any]]) -> ObjectionForm:
    form = ObjectionForm()
    form.entry.choices = [("", "请选择公示名单中的人员"),
                          *((str(r["entry_id"]), f"{r['序号']}. {r['姓名']}（{r['工作单位']}）") for r in table)]
    return form


def _notice_page(notice: PublicNotice, form: ObjectionForm | None = None, status: int = 200,
                 form_errors: list[str] | None = None):
    today = clock.today()
    published = notices.is_published(notice, today)
    table = notices.rows(notice) if published else []
    is_open = notices.is_open(notice, today)
    if form is None and is_open:
        form = _objection_form(table)
    return render_template("public/notice.html", notice=notice, kind=notices.KIND_LABELS.get(notice.kind, "公示"),
                           published=published, is_open=is_open, columns=notices.columns(notice), table=table,
                           form=form if is_open else None, form_errors=form_errors or []), status


@bp.get("/notices", endpoint="notices")
@public_limit
def notices_list():
    today = clock.today()
    items = [(n, notices.is_open(n, today)) for n in notices.current_and_recent(today)]
    return render_template("public/notices.html", items=items, kinds=notices.KIND_LABELS)


@bp.get("/notices/<int:notice_id>")
@public_limit
def notice(notice_id: int):
    return _notice_page(notices.get_notice(notice_id))


@bp.post("/notices/<int:notice_id>/objections")
@public_limit
@limiter.limit(lambda: current_app.config["OBJECTION_RATE_LIMIT"])
def objection(notice_id: int):
    item = notices.get_notice(notice_id)
    chosen = [(f.filename, f.stream) for f in request.files.getlist("evidence") if f and f.filename]
    try:
        received = notices.submit_objection(
            item.id, request.form.get("entry"), request.form.get("objector_name", ""),
            request.form.get("objector_contact", ""), request.form.get("content", ""), chosen)
    except RuleViolation as exc:
        flash(exc.message, "error")
        return _notice_page(notices.get_notice(notice_id), status=exc.status)
    except FormInvalid as exc:
        item = notices.get_notice(notice_id)
        form = _objection_form(notices.rows(item))
        other = attach_errors(form, exc.fields)
        flash(exc.message + ("；证明材料请重新选择上传" if chosen else ""), "error")
        return _notice_page(item, form, 422, other)
    session[RECEIPTS] = [*session.get(RECEIPTS, [])[-9:], received.id]
    return redirect(url_for("public.objection_received", notice_id=notice_id, objection_id=received.id))


@bp.get("/notices/<int:notice_id>/objections/<int:objection_id>/received")
@public_limit
def objection_received(notice_id: int, objection_id: int):
    if objection_id not in session.get(RECEIPTS, []):
        raise NotFound("回执不存在或已失效")
    received = notices.get_objection(notice_id, objection_id)
    return render_template("public/objection_received.html", notice=received.notice, objection=received,
                           receipt=notices.receipt_number(received))


@bp.get("/supervision/<int:year>")
@public_limit
def supervision_results(year: int):
    """公开抽查结果 and 复审督察情况通报 of a plan year, with each draw's record so anyone can check it."""
    from app.services import supervision
    from app.services.supervision_panels import CHECKS, RESULTS

    if year > INT_MAX:  # no plan year: no integer column holds it (and binding it would be a 500)
        raise NotFound(f"没有{year}年度的抽查结果")
    return render_template("public/supervision.html", year=year, results=supervision.published(year),
                           labels=RESULTS, checks=CHECKS)
