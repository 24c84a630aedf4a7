"""The instance page's diagram marks and administrators' actions on a case (each with a reason)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("case_admin", __name__)
