"""Managers' dashboard: charts with their tables and Excel exports, the waiting heat map."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
