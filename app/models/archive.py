from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.user import User


class PerformanceArchive(db.Model):
    """A professional's performance archive (业绩档案): one per person, audited by their own unit."""

    __tablename__ = "performance_archive"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    # draft 未提交, submitted 待审核, audited 已审核, returned 已退回
    status: Mapped[str] = mapped_column(String(20), default="draft")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last audit decision (approval or return); kept when the archive changes afterwards.
    audited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    audited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    audit_opinion: Mapped[str | None] = mapped_column(Text)
    # Last change of any achievement.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    audited_by: Mapped[User | None] = relationship(foreign_keys=[audited_by_id])


class Achievement(db.Model):
    """One entry of a performance archive: a paper, a project, an award …"""

    __tablename__ = "achievement"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # 论文、著作、科研项目、获奖、专利、标准规范、技术报告、教学成果、其他
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    achieved_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    # Document ids (the owner's own uploads).
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
