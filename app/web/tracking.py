"""Managers' instance list: filters, typed columns, sorting, paging, saved views, Excel export."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tracking", __name__)
