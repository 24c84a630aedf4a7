from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.org import Organisation
from app.models.user import User


class ProcessVersion(db.Model):
    """One deployed version of a process model: its source files, stored once by content hash."""

    __tablename__ = "process_version"
    __table_args__ = (
        UniqueConstraint("process_id", "content_hash", name="uq_process_version_process_id_content_hash"),
        UniqueConstraint("process_id", "version", name="uq_process_version_process_id_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)  # BPMN process id
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    plan_year: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    # {"files": {relative name: text}} for BPMN, DMN, forms and lanes. Deferred: a task completion
    # reads the version's meta with the instance lock, and its files through registry.files (cached).
    sources: Mapped[dict] = mapped_column(JSON, deferred=True)
    # Derived at deploy: start form key, lane map, task metadata (kept for fast reads).
    meta: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="published")  # published, retired
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ProcessInstance(db.Model):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_status_next_timer", "status", "next_timer_at"),
        Index("ix_process_instance_model_status", "process_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    title: Mapped[str] = mapped_column(String(200))
    # running, waiting, completed, suspended, terminated, error
    status: Mapped[str] = mapped_column(String(20))
    # Engine state without the spec.
    state: Mapped[dict] = mapped_column(JSON)
    # The case's result fields (contract §5), kept flat for lists and the API.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    starter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    employer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    county: Mapped[str | None] = mapped_column(String(40), index=True)
    # Copied from the case data on every save, for the managers' filters and statistics.
    plan_year: Mapped[int | None] = mapped_column(Integer, index=True)
    committee: Mapped[str | None] = mapped_column(String(200), index=True)
    # Likewise the outcome, title level and competent department the dashboard counts by.
    outcome: Mapped[str | None] = mapped_column(String(40))
    title_level: Mapped[str | None] = mapped_column(String(40))
    dept_org: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error_message: Mapped[str | None] = mapped_column(Text)
    library_version: Mapped[str] = mapped_column(String(20))
    serializer_version: Mapped[str] = mapped_column(String(20))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    # The head of the instance's audit hash chain (app.services.audit): its last link's number
    # and hash, read with the instance lock and written with the instance's own update.
    audit_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    audit_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")

    version: Mapped[ProcessVersion] = relationship()
    starter: Mapped[User] = relationship(foreign_keys=[starter_id])
    employer_org: Mapped[Organisation | None] = relationship(foreign_keys=[employer_org_id])

    __mapper_args__ = {"version_id_col": lock_version}


class MessageSubscription(db.Model):
    """A message an instance is waiting for (projection of engine state, like the inbox)."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_message_subscription_name", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    # The values a sender may correlate on, taken when the wait began: instance_id and the
    # model's correlation_keys (model.json; default: applicant).
    correlation: Mapped[dict] = mapped_column(JSON, default=dict)
