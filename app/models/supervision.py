"""Supervision (评审监督): decisions on a committee's authority, findings, random draws, reminders."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.committee import Committee
from app.models.user import User


class AuthorityDecision(db.Model):
    """A recorded decision on a committee's (or self-managed unit's) authority to evaluate.

    warn 告诫, rectify 责令整改, suspend 暂停评审权, revoke 取消评审权, restore 恢复 (rectified / suspension lifted).
    """

    __tablename__ = "authority_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committee.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    documents: Mapped[list] = mapped_column(JSON, default=list)
    doc_no: Mapped[str | None] = mapped_column(String(80))
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    committee: Mapped[Committee] = relationship()
    decided_by: Mapped[User] = relationship()


class SupervisionFinding(db.Model):
    """What supervision found about a committee or unit in a plan year."""

    __tablename__ = "supervision_finding"
    __table_args__ = (Index("ix_supervision_finding_year_kind", "plan_year", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # self_inspection 自查自纠, daily_assessment 日常考核, patrol 巡查, reexamination 集中复审, random_inspection 随机抽查
    kind: Mapped[str] = mapped_column(String(30))
    plan_year: Mapped[int] = mapped_column(Integer)
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committee.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))  # the committee or unit, as named when found
    # compliant 符合规定, problems 存在问题, serious 问题严重
    result: Mapped[str] = mapped_column(String(20))
    findings: Mapped[str] = mapped_column(Text)
    # For the concentrated re-examination: the checklist items (evaluation, continuing education, daily assessment).
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)
    documents: Mapped[list] = mapped_column(JSON, default=list)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))  # who recorded it
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)

    committee: Mapped[Committee | None] = relationship()


class RandomDraw(db.Model):
    """A random inspection draw (随机抽查): the seed and the eligible list make it reproducible."""

    __tablename__ = "random_draw"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_year: Mapped[int] = mapped_column(Integer, index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    seed: Mapped[str] = mapped_column(String(64))
    eligible: Mapped[list] = mapped_column(JSON)  # names, in the order the draw used
    count: Mapped[int] = mapped_column(Integer)
    selected: Mapped[list] = mapped_column(JSON)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Notification(db.Model):
    """An in-app notice (e.g. a deadline reminder) for a person, or for a role in an organisation."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_org_role", "org_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))  # reminder, overdue, ...
    message: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
