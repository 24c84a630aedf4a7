"""In-app notifications (reminders of deadlines, overdue notices) for a person or a role in a unit."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from app import clock
from app.extensions import db
from app.models import Notification, ProcessInstance, User


def notify(kind: str, message: str, *, org_id: int | None = None, role: str | None = None,
           user_id: int | None = None, instance: ProcessInstance | None = None) -> Notification:
    """Queue a notice in the caller's transaction."""
    row = Notification(kind=kind, message=message, org_id=org_id, role=role, user_id=user_id,
                       instance_id=instance.id if instance is not None else None, created_at=clock.now())
    db.session.add(row)
    return row


def for_user(user: User, limit: int = 20) -> list[Notification]:
    """The user's own notices and those for a role they hold in an organisation, newest first."""
    held = [and_(Notification.org_id == r.org_id, or_(Notification.role.is_(None), Notification.role == r.role))
            for r in user.roles]
    return list(db.session.scalars(
        select(Notification).where(or_(Notification.user_id == user.id, *held))
        .order_by(Notification.id.desc()).limit(limit)))
