"""Inbox ergonomics: batch approve, delegation, comments on a case."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("inbox", __name__)
