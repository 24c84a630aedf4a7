"""Messages between instances: written in the sender's transaction, delivered after its commit.

A BPMN throw (or a service notifying other cases) adds a row here while the sender is saved;
`dispatch` then delivers each row in its own transaction to every instance whose subscription
matches, so a message is never lost with a failed delivery nor sent for a rolled-back step.
Rows that fail stay for the timer sweep to retry (Celery workers will run the same function).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from app import clock
from app.extensions import db
from app.models import OutboxMessage, ProcessInstance

MAX_ATTEMPTS = 5
PENDING_KEY = "outbox_pending"
_dispatching: ContextVar[bool] = ContextVar("outbox_dispatching", default=False)


def enqueue(name: str, correlation: dict[str, Any], payload: dict[str, Any] | None = None,
            source: ProcessInstance | None = None) -> OutboxMessage:
    row = OutboxMessage(created_at=clock.now(), source_instance_id=source.id if source is not None else None,
                        name=name, correlation=dict(correlation), payload=dict(payload or {}), status="pending",
                        attempts=0, delivered_to=[])
    db.session.add(row)
    mark_pending()
    return row


def mark_pending() -> None:
    """This unit of work leaves messages to deliver: cases.commit dispatches after committing."""
    db.session.info[PENDING_KEY] = True


def take_pending() -> bool:
    """Whether the unit of work left messages to deliver (and forget it)."""
    return bool(db.session.info.pop(PENDING_KEY, False))


def _next_pending() -> OutboxMessage | None:
    """The oldest deliverable row, locked (PostgreSQL skips rows another dispatcher holds; SQLite
    takes the database's write lock first, so a second dispatcher waits and then sees the row
    delivered)."""
    pending = select(OutboxMessage.id).where(
        OutboxMessage.status == "pending", OutboxMessage.attempts < MAX_ATTEMPTS).order_by(OutboxMessage.id).limit(1)
    if db.session.get_bind().dialect.name == "sqlite":
        if db.session.scalar(pending) is None:
            return None  # nothing to deliver: the write lock is not taken
        # A no-op write to the oldest row takes the write lock.
        take = (update(OutboxMessage).where(OutboxMessage.id == pending.scalar_subquery())
                .values(attempts=OutboxMessage.attempts).execution_options(synchronize_session=False))
        try:
            db.session.execute(take)
        except OperationalError:
            # This transaction read before another writer committed: start afresh (it then waits
            # for the lock). dispatch runs after its caller's commit, so nothing is lost.
            db.session.rollback()
            db.session.execute(take)
    # The same query for the row itself, skipping rows another dispatcher holds (PostgreSQL).
    return db.session.scalar(pending.with_only_columns(OutboxMessage).with_for_update(skip_locked=True))


def _deliver_row(row: OutboxMessage) -> None:
    from app.services import messages

    targets = [instance_id for instance_id in messages.matching(row.name, row.correlation)
               if messages.deliver_to(instance_id, row.name, row.payload, actor=None) is not None]
    row.status = "delivered" if targets else "dropped"
    row.delivered_to = targets
    row.processed_at = clock.now()


def dispatch_after_commit() -> str | None:
    """After a use case committed messages: with Celery workers, their delivery is a worker's (the
    request returns at once; returns the task id); without, delivered here and now."""
    from app import background, worker

    if worker.enabled():
        return background.dispatch_outbox.delay().id
    dispatch()
    return None


def dispatch(limit: int = 10_000) -> int:
    """Deliver pending messages, oldest first, each in its own transaction. Returns how many.

    Deliveries may throw further messages; they are picked up by the same loop (a call made
    while a dispatch is running returns at once).
    """
    if _dispatching.get():
        return 0
    token = _dispatching.set(True)
    done = 0
    try:
        while done < limit:
            row = _next_pending()
            if row is None:
                # End the transaction that looked: on SQLite it may hold the write lock (a row
                # another dispatcher delivered meanwhile), which would block every other writer
                # until this session ended. Callers dispatch after their own commit.
                db.session.rollback()
                break
            row_id = row.id
            try:
                _deliver_row(row)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
                db.session.rollback()
                current_app.logger.exception("outbox message %s failed", row_id)
                _record_failure(row_id, exc)
            done += 1
    finally:
        _dispatching.reset(token)
    return done


def _record_failure(row_id: int, exc: Exception) -> None:
    row = db.session.get(OutboxMessage, row_id)
    if row is None:
        return
    row.attempts += 1
    row.error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
    db.session.commit()
