"""Public pages (no login): health check and certificate verification."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from app.extensions import limiter
from app.services import certificates

bp = Blueprint("public", __name__)
# One budget per client address, shared by every public page that reads the database.
public_limit = limiter.shared_limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"], scope="public")


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
