"""The append-only audit trail. Events are added in the caller's transaction."""

from __future__ import annotations

from typing import Any

from app import clock
from app.extensions import db
from app.models import Event, HumanTask, ProcessInstance, User


def record(
    type_: str,
    *,
    actor: User | None = None,
    instance: ProcessInstance | None = None,
    task: HumanTask | None = None,
    bpmn_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        instance_id=instance.id if instance is not None else None,
        at=clock.now(),
        type=type_,
        actor_id=actor.id if actor is not None else None,
        task_id=task.id if task is not None else None,
        bpmn_id=bpmn_id or (task.bpmn_id if task is not None else None),
        details=details or {},
    )
    db.session.add(event)
    return event
