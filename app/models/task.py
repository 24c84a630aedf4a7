from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.org import Organisation
from app.models.process import ProcessInstance
from app.models.user import User


class HumanTask(db.Model):
    """The inbox: a projection of the engine's ready user tasks, rewritten with the state."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_open_group", "state", "role", "org_id"),
        Index("ix_human_task_open_user", "state", "assignee_id"),
        Index("ix_human_task_instance_state", "instance_id", "state"),
        Index("ix_human_task_state_due_date", "state", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    task_guid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(40))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    # Individual assignment (e.g. the applicant's own tasks).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    form_key: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="open")  # open, completed, cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_date: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Handed to a colleague (claimed_by) by this user (转办).
    delegated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The engine state when this task became ready (an administrator may reset to it).
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("instance_checkpoint.id"))
    # The last deadline reminder sent: before, due, overdue (reminders.py).
    reminder_stage: Mapped[str | None] = mapped_column(String(20))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    instance: Mapped[ProcessInstance] = relationship()
    org: Mapped[Organisation | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    delegated_by: Mapped[User | None] = relationship(foreign_keys=[delegated_by_id])
