"""The integrity archive (职称评审诚信档案) and supervision flags raised by the procedures."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.user import User


class IntegrityRecord(db.Model):
    """A substantiated fraud finding: the person may not apply before ban_until (DT-03, D5)."""

    __tablename__ = "integrity_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    finding_type: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(40))
    finding_date: Mapped[date] = mapped_column(Date)
    ban_until: Mapped[date] = mapped_column(Date)
    record_until: Mapped[date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(20))  # veto, revoke
    reason: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    objection_id: Mapped[int | None] = mapped_column(ForeignKey("objection.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class SupervisionFlag(db.Model):
    """Something supervision (评审监督) must look at; raised by a procedure, never a sanction by itself."""

    __tablename__ = "supervision_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # off_platform, ...
    subject: Mapped[str] = mapped_column(String(200))  # the committee or unit concerned
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
