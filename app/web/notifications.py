"""In-app notifications: the list, unread counts, marking read."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__)
