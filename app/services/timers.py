"""Firing due timers: one service for the in-process loop, the CLI, the API and, later, Celery."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app import clock
from app.engine import EngineError
from app.extensions import db
from app.models import ProcessInstance, User
from app.services import audit, cases, outbox
from app.services.errors import Conflict, NotAllowed


def due_instance_ids(limit: int = 500) -> list[int]:
    return list(
        db.session.scalars(
            select(ProcessInstance.id)
            .where(ProcessInstance.status.in_(("waiting", "running")), ProcessInstance.next_timer_at <= clock.now())
            .order_by(ProcessInstance.next_timer_at)
            .limit(limit)
        )
    )


def fire_one(instance_id: int) -> bool:
    """Refresh timers, step and save one instance under its lock. One transaction."""
    try:
        instance = cases.lock(instance_id)
        if instance.status not in ("waiting", "running") or instance.next_timer_at is None:
            db.session.rollback()
            return False
        if instance.next_timer_at > clock.now():
            db.session.rollback()
            return False
        case = cases.load(instance, None)
        subscribed = cases.subscriptions(instance, case)
        due_at = instance.next_timer_at
        error = None
        try:
            case.fire_timers()
        except EngineError as exc:
            error = exc
        audit.record("timer_fired", instance=instance, details={"due_at": due_at.isoformat()})
        cases.save(instance, case, None, error, subscribed=subscribed)
        cases.commit()
    except (StaleDataError, Conflict):
        db.session.rollback()  # another sweep or a user saved it first; nothing is applied twice
        return False
    return True


def run_due_timers() -> int:
    fired = 0
    for instance_id in due_instance_ids():
        if fire_one(instance_id):
            fired += 1
    outbox.dispatch()  # and retry any message a failed delivery left behind
    return fired


def run_as(actor: User) -> int:
    if not actor.has_role("system_admin"):
        raise NotAllowed("只有系统管理员可以触发定时器")
    return run_due_timers()
