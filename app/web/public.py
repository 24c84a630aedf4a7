"""Public pages (no login): health check and certificate verification."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from app.services import certificates

bp = Blueprint("public", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/certificates/verify")
def verify():
    number = (request.args.get("number") or "").strip()[:40]
    cert = certificates.verify(number) if number else None
    holder = certificates.mask_name(cert.holder_name) if cert else ""
    return render_template("public/verify.html", number=number, searched=bool(number), cert=cert, holder=holder)
