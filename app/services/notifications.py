"""In-app notifications (reminders of deadlines, overdue notices) for a person or a role in a unit.

A notice is addressed to a person (``user_id``) or to a role in an organisation (``org_id`` +
``role``, or the whole organisation when ``role`` is empty). A row with both a person and an
organisation is the person's own copy of a role notice (reminders.py writes one per member of the
role, so each member keeps their own read state); only that person sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update

from app import clock
from app.extensions import db
from app.models import HumanTask, Notification, ProcessInstance, User
from app.services.errors import NotFound


def notify(kind: str, message: str, *, org_id: int | None = None, role: str | None = None,
           user_id: int | None = None, instance: ProcessInstance | None = None,
           task: HumanTask | None = None) -> Notification:
    """Queue a notice in the caller's transaction."""
    row = Notification(kind=kind, message=message, org_id=org_id, role=role, user_id=user_id,
                       instance_id=instance.id if instance is not None else None,
                       task_id=task.id if task is not None else None, created_at=clock.now())
    db.session.add(row)
    return row


def visible_clause(user: User) -> ColumnElement[bool]:
    """The notices a user sees: their own, and those for a role they hold in an organisation."""
    held = [and_(Notification.org_id == r.org_id, or_(Notification.role.is_(None), Notification.role == r.role))
            for r in user.roles]
    shared = and_(Notification.user_id.is_(None), or_(*held)) if held else false()
    return or_(Notification.user_id == user.id, shared)


def for_user(user: User, limit: int = 20) -> list[Notification]:
    """The user's own notices and those for a role they hold in an organisation, newest first."""
    return list(db.session.scalars(
        select(Notification).where(visible_clause(user)).order_by(Notification.id.desc()).limit(limit)))


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(visible_clause(user), Notification.read_at.is_(None))) or 0


@dataclass
class NoticePage:
    items: list[Notification]
    total: int
    unread: int
    page: int
    per_page: int
    # id -> the task's state (open, completed, cancelled) for notices about a task
    task_states: dict[int, str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_for(user: User, page: int = 1, per_page: int = 20, unread_first: bool = True) -> NoticePage:
    """One page of the user's notices: unread first (then newest), or newest first."""
    clause = visible_clause(user)
    total = db.session.scalar(select(func.count(Notification.id)).where(clause)) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    order = [Notification.id.desc()]
    if unread_first:
        order.insert(0, Notification.read_at.is_not(None))  # False (unread) sorts first
    items = list(db.session.scalars(
        select(Notification).where(clause).order_by(*order).offset((page - 1) * per_page).limit(per_page)))
    task_ids = {n.task_id for n in items if n.task_id is not None}
    states = {task_id: state for task_id, state in db.session.execute(
        select(HumanTask.id, HumanTask.state).where(HumanTask.id.in_(task_ids)))} if task_ids else {}
    return NoticePage(items, total, unread_count(user), page, per_page, states)


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's notices read (a notice for a role is read for the whole role)."""
    row = db.session.scalar(select(Notification).where(Notification.id == notification_id, visible_clause(user)))
    if row is None:
        raise NotFound("提醒不存在")
    if row.read_at is None:
        row.read_at = clock.now()
    db.session.commit()
    return row


def mark_all_read(user: User) -> int:
    """Mark every unread notice the user sees as read. Returns how many."""
    result = db.session.execute(
        update(Notification).where(visible_clause(user), Notification.read_at.is_(None)).values(read_at=clock.now())
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount or 0
