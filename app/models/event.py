from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.user import User


def canonical_details(details: Any) -> Any:
    """Details as the JSON column gives them back (string keys, lists), so a link hashes alike
    before it is stored and after it is read."""
    return json.loads(json.dumps(details or {}, ensure_ascii=False))


def link_hash(prev: str, chain: int, seq: int, at: datetime, type_: str, actor_id: int | None,
              task_id: int | None, bpmn_id: str | None, details: Any) -> str:
    """SHA-256 of the previous link's hash and one event's fields. The format is fixed: stored
    chains are verified with it (changing it needs a migration that re-chains)."""
    body = json.dumps(
        [chain, seq, at.astimezone(UTC).isoformat(timespec="microseconds"), type_, actor_id, task_id,
         bpmn_id, details],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


class Event(db.Model):
    """Append-only audit trail. Nothing updates or deletes rows (PostgreSQL enforces it).

    Each row is a link of a hash chain, one chain per instance and one for events without an
    instance: ``chain_seq`` counts from 1 and ``hash`` covers the previous link's hash and this
    row's fields (app.services.audit), so an edited, removed or inserted row breaks the chain.
    """

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_instance_id_id", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    type: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    bpmn_id: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    chain_seq: Mapped[int | None] = mapped_column(Integer)
    hash: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()


class AuditChain(db.Model):
    """The head of the chain of events without an instance (``chain`` 0): its last link's number
    and hash. Appending takes this row's lock, so two transactions never extend the chain from the
    same link. (An instance's chain has its head on the instance row, under the instance lock.)"""

    __tablename__ = "audit_chain"

    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")
