"""Drafts of process models for a plan year, and the moving of running instances between versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.process import ProcessVersion


class ModelDraft(db.Model):
    """Editable copy of a model's files (BPMN, DMN, forms, model.json) for a plan year.

    Publishing deploys the files as a new ProcessVersion with that plan year. One open draft per
    process and year (kept by the service)."""

    __tablename__ = "model_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    plan_year: Mapped[int] = mapped_column(Integer)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    files: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft, published, discarded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    base_version: Mapped[ProcessVersion | None] = relationship(foreign_keys=[base_version_id])
    published_version: Mapped[ProcessVersion | None] = relationship(foreign_keys=[published_version_id])


class BackgroundJob(db.Model):
    """A bulk operation with progress (bulk migration, plan import, …), advanced step by step."""

    __tablename__ = "background_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, running, done, failed
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # Per item: {"id": …, "ok": bool, "message": …}
    results: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InstanceMigration(db.Model):
    """One instance moved from one model version to another; keeps what is needed to undo it."""

    __tablename__ = "instance_migration"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    from_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("background_job.id"), index=True)
    state_before: Mapped[dict] = mapped_column(JSON)
    # What the move changed (e.g. task specs remapped, forms replaced), for the history.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    migrated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    migrated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
