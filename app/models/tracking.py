"""Managers' tracking: saved list views, case comments, reset checkpoints and the e-mail outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.process import ProcessInstance
from app.models.user import User


class SavedView(db.Model):
    """A named set of list filters one user keeps (the instance list, the inbox)."""

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("user_id", "page", "name", name="uq_saved_view_user_id_page_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    page: Mapped[str] = mapped_column(String(40))  # instances, inbox
    name: Mapped[str] = mapped_column(String(80))
    # The list's query parameters, as the page reads them (values are strings or lists of strings).
    query: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class CaseComment(db.Model):
    """A remark on a case, visible to everyone who may see the case. Never edited or deleted."""

    __tablename__ = "case_comment"
    __table_args__ = (Index("ix_case_comment_instance_id_id", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    author: Mapped[User] = relationship()
    instance: Mapped[ProcessInstance] = relationship()


class InstanceCheckpoint(db.Model):
    """The engine state at the moment some user tasks became ready: where a reset goes back to.

    The saved state keeps no finished history (runtime.prune_history), so an administrator's
    "reset to an earlier task" restores the checkpoint taken when that task was created. One row
    per save that created tasks: the cost of a step stays independent of the case's length.
    """

    __tablename__ = "instance_checkpoint"
    __table_args__ = (Index("ix_instance_checkpoint_instance_id_id", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    # The state as JSON (rows written before migration 0009), or packed: the compact JSON deflated
    # with the previous checkpoint of the instance (base_id) as the dictionary, a chain of at most
    # services.checkpoints.MAX_CHAIN rows (depth 0: deflated alone). See services/checkpoints.py.
    state: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    packed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    base_id: Mapped[int | None] = mapped_column(ForeignKey("instance_checkpoint.id"), nullable=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EmailMessage(db.Model):
    """An e-mail written in the transaction that decided to send it, sent after commit (outbox)."""

    __tablename__ = "email_message"
    __table_args__ = (Index("ix_email_message_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    to_address: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # pending, sent, failed (gave up after the last attempt)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
