"""In-app notifications: the list, unread counts, marking read."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from app.services import notifications

bp = Blueprint("notifications", __name__)

ORDERS = {"unread": "未读在前", "newest": "最新在前"}
PER_PAGE = 20


@bp.app_context_processor
def _unread_badge() -> dict:
    """The nav's unread count, for every page; computed only when base.html asks for it."""

    def unread_notifications() -> int:
        if not current_user or not current_user.is_authenticated:
            return 0
        try:
            return notifications.unread_count(current_user)
        except SQLAlchemyError:  # an error page after a failed transaction still renders
            return 0

    return {"unread_notifications": unread_notifications}


def _listing_args() -> dict:
    order = request.values.get("order", "unread")
    return {"order": order if order in ORDERS else "unread", "page": request.values.get("page", 1, type=int)}


@bp.get("/notifications")
@login_required
def index():
    args = _listing_args()
    page = notifications.page_for(current_user, page=args["page"], per_page=PER_PAGE,
                                  unread_first=args["order"] == "unread")
    return render_template("notifications/index.html", page=page, order=args["order"], ORDERS=ORDERS)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    notifications.mark_read(current_user, notification_id)
    return redirect(url_for("notifications.index", **_listing_args()))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    count = notifications.mark_all_read(current_user)
    flash(f"已将 {count} 条提醒标为已读" if count else "没有未读提醒", "success")
    return redirect(url_for("notifications.index", order=_listing_args()["order"]))
