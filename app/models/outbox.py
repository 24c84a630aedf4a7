from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime


class OutboxMessage(db.Model):
    """A message between instances, written in the sender's transaction and delivered after it.

    Thrown BPMN messages and the services' notifications go through here, so a message is
    neither lost when the sender commits nor delivered when it rolls back (transactional outbox).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    name: Mapped[str] = mapped_column(String(200))
    correlation: Mapped[dict] = mapped_column(JSON, default=dict)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # pending, delivered, dropped (nobody waited), failed
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_to: Mapped[list] = mapped_column(JSON, default=list)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
