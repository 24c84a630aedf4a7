"""Delivering BPMN messages to the waiting instances they correlate with."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import clock
from app.engine import EngineError
from app.extensions import db
from app.models import MessageSubscription, OutboxMessage, ProcessInstance, User
from app.services import audit, cases, outbox
from app.services.access import can_view
from app.services.errors import FormInvalid, NotFound
from app.services.numbers import INT_MAX


def matching(name: str, correlation: dict[str, Any]) -> list[int]:
    """Ids of the instances waiting for `name` whose subscription has every correlation value."""
    query = select(MessageSubscription).where(MessageSubscription.name == name)
    target = correlation.get("instance_id")
    if target is not None:
        # Only an instance id can match (the subscriptions' correlations hold ints); anything else
        # (text, a list, a number past the database's integer) would fail to bind or compare: a 500.
        if not isinstance(target, int) or isinstance(target, bool) or not 0 < target <= INT_MAX:
            return []
        query = query.where(MessageSubscription.instance_id == target)
    subscriptions = db.session.scalars(query.order_by(MessageSubscription.instance_id)).all()
    return sorted({
        sub.instance_id for sub in subscriptions
        if all((sub.correlation or {}).get(k) == v for k, v in correlation.items())
    })


def deliver_to(instance_id: int, name: str, payload: Any, actor: User | None,
               correlation: dict[str, Any] | None = None) -> ProcessInstance | None:
    """Lock, load, deliver, save one instance; the caller commits. A suspended instance gets
    nothing now: the message is held for it and delivered when an administrator resumes it.
    None, and nothing done, when under the lock the instance no longer waits for the message
    (another delivery that matched it too, or a termination, committed first)."""
    instance = cases.lock(instance_id)
    if instance_id not in matching(name, {**(correlation or {}), "instance_id": instance_id}):
        return None
    if instance.status == "suspended":
        _hold(instance, name, payload, actor, correlation)
        return instance
    case = cases.load(instance, actor)
    error = None
    try:
        case.deliver(name, payload)
    except EngineError as exc:
        error = exc
    audit.record("message_delivered", actor=actor, instance=instance,
                 details={"name": name, "correlation": correlation or {}})
    cases.save(instance, case, actor, error)
    return instance


def _hold(instance: ProcessInstance, name: str, payload: Any, actor: User | None,
          correlation: dict[str, Any] | None) -> None:
    """An outbox row addressed to this instance alone, in status "held" (dispatch skips it)."""
    target = {**(correlation or {}), "instance_id": instance.id}
    db.session.add(OutboxMessage(created_at=clock.now(), source_instance_id=None, name=name, correlation=target,
                                 payload=payload, status="held", attempts=0, delivered_to=[]))
    audit.record("message_held", actor=actor, instance=instance,
                 details={"name": name, "correlation": correlation or {},
                          "note": "流程已挂起，消息暂存，恢复后投递"})


def _held_for(instance: ProcessInstance) -> list[OutboxMessage]:
    # Held rows are few (suspended cases only); the instance id sits inside the JSON correlation.
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "held")
                              .order_by(OutboxMessage.id)).all()
    return [row for row in rows if (row.correlation or {}).get("instance_id") == instance.id]


def release_held(instance: ProcessInstance) -> list[int]:
    """Back to pending: delivered by the outbox after the caller commits. Returns the row ids."""
    rows = _held_for(instance)
    for row in rows:
        row.status = "pending"
    if rows:
        outbox.mark_pending()
    return [row.id for row in rows]


def drop_held(instance: ProcessInstance, note: str) -> list[int]:
    rows = _held_for(instance)
    for row in rows:
        row.status = "dropped"
        row.error = note
        row.processed_at = clock.now()
    return [row.id for row in rows]


def deliver(actor: User, name: str, correlation: dict[str, Any], payload: Any) -> list[int]:
    """The REST API: deliver to the matching instances the caller may see."""
    if not isinstance(name, str) or not name:
        raise FormInvalid("消息名称必填", {"name": ["此项为必填项"]})
    if not isinstance(correlation, dict):
        raise FormInvalid("关联条件应为对象", {"correlation": ["应为对象"]})
    targets = [inst for inst in (db.session.get(ProcessInstance, i) for i in matching(name, correlation))
               if inst is not None and can_view(actor, inst)]
    if not targets:
        raise NotFound(f"没有等待消息“{name}”且符合关联条件的流程实例")
    done = [deliver_to(target.id, name, payload, actor, correlation) for target in targets]
    delivered = [instance.id for instance in done if instance is not None]
    if not delivered:  # each was delivered by someone else meanwhile
        db.session.rollback()
        raise NotFound(f"没有等待消息“{name}”且符合关联条件的流程实例")
    cases.commit()
    return delivered
