"""Saved views of the instance list: a user's named sets of filters, columns and sort order.

A view keeps only the list's known parameters (case_search.is_known_param), never the page number,
and only a query the list accepts: opening a view always shows a list, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db
from app.models import SavedView, User
from app.services import case_search
from app.services.errors import FormInvalid, NotFound

PAGE = "instances"
MAX_NAME = 80
MAX_VIEWS = 50


def list_views(actor: User) -> list[SavedView]:
    case_search.require_tracker(actor)
    return list(db.session.scalars(select(SavedView).where(SavedView.user_id == actor.id, SavedView.page == PAGE)
                                   .order_by(SavedView.name)))


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise FormInvalid("请填写视图名称", {"name": ["请填写视图名称"]})
    if len(name) > MAX_NAME:
        raise FormInvalid("视图名称过长", {"name": [f"视图名称不能超过 {MAX_NAME} 个字"]})
    return name


def _taken(actor: User, name: str) -> bool:
    return db.session.scalar(select(SavedView.id).where(
        SavedView.user_id == actor.id, SavedView.page == PAGE, SavedView.name == name)) is not None


def save_view(actor: User, name: str, query: Mapping[str, Sequence[str]]) -> SavedView:
    """Keep the list's current query under a name of the actor's own."""
    case_search.require_tracker(actor)
    name = _clean_name(name)
    params = {k: v for k, v in case_search.normalise(query).items() if k != "page"}
    case_search.parse(actor, params)  # FormInvalid: a view is never saved with a query the list refuses
    if _taken(actor, name):
        raise FormInvalid("已有同名的视图", {"name": [f"您已保存过名为“{name}”的视图，请换一个名称"]})
    if len(list_views(actor)) >= MAX_VIEWS:
        raise FormInvalid("保存的视图过多", {"name": [f"最多保存 {MAX_VIEWS} 个视图，请先删除不用的视图"]})
    view = SavedView(user_id=actor.id, page=PAGE, name=name, query=params, created_at=clock.now())
    db.session.add(view)
    try:
        db.session.commit()
    except IntegrityError:  # the same name saved at the same moment from another tab
        db.session.rollback()
        raise FormInvalid("已有同名的视图", {"name": [f"您已保存过名为“{name}”的视图，请换一个名称"]}) from None
    return view


def get_view(actor: User, view_id: int) -> SavedView:
    case_search.require_tracker(actor)
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != actor.id or view.page != PAGE:
        raise NotFound("没有该视图")
    return view


def delete_view(actor: User, view_id: int) -> str:
    """Remove one of the actor's views; returns its name."""
    view = get_view(actor, view_id)
    name = view.name
    db.session.delete(view)
    db.session.commit()
    return name


def stored_query(view: SavedView) -> dict[str, list[str]]:
    """The view's parameters, again limited to those the list knows (a view may predate a change)."""
    return {k: v for k, v in case_search.normalise(view.query or {}).items() if k != "page"}
