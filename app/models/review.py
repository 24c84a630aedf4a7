"""The review session's people, its public notices and the objections raised during them.

A session's applicants are rows here, not workflow data: a session may hold thousands of them,
and the notice pages, the vote table and the name lists (附件4-3) read them as a table.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.process import ProcessInstance


class SessionEntry(db.Model):
    """One applicant of one review session (评审会次), with the D12 columns and the vote."""

    __tablename__ = "session_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    application_instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    seq: Mapped[int] = mapped_column(Integer)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    employer: Mapped[str] = mapped_column(String(200))
    employer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    specialty: Mapped[str] = mapped_column(String(100))
    target_title: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(20))
    application_mode: Mapped[str] = mapped_column(String(20))
    education: Mapped[str] = mapped_column(String(20))
    # 推荐 (titles_recommended): passing means recommended upward, not a title at this level.
    recommended: Mapped[bool] = mapped_column(Boolean, default=False)
    recommendation_target: Mapped[str | None] = mapped_column(String(200))
    single_list: Mapped[bool] = mapped_column(Boolean, default=False)  # 山区26县单列 (DT-04)
    m26_score: Mapped[float] = mapped_column(Float, default=0)
    score: Mapped[float | None] = mapped_column(Float)  # the committee's quantitative score
    yes_votes: Mapped[int | None] = mapped_column(Integer)
    # active; removed (objection substantiated); vetoed (fraud, DT-03); invalid (A-EB1)
    status: Mapped[str] = mapped_column(String(20), default="active")
    result: Mapped[str | None] = mapped_column(String(20))  # passed, recommended, failed
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    session: Mapped[ProcessInstance] = relationship(foreign_keys=[session_instance_id])
    application: Mapped[ProcessInstance] = relationship(foreign_keys=[application_instance_id])


class PublicNotice(db.Model):
    """A 公示 (评前公示 or 评后公示) published on a public page for a number of working days."""

    __tablename__ = "public_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # pre_review, post_review
    session_instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    committee: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer)
    # The entries listed, as published (a later removal does not rewrite what was shown).
    entry_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    session: Mapped[ProcessInstance] = relationship()


class Objection(db.Model):
    """An objection (异议) to one applicant of a notice. The objector's identity is for officials only."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("public_notice.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("session_entry.id"), index=True)
    application_instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    session_instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    objector_name: Mapped[str] = mapped_column(String(80))
    objector_contact: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON, default=list)  # document ids
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, concluded
    due_on: Mapped[date] = mapped_column(Date)  # D11: concluded within N working days
    # The HR bureau the conclusion is reported to (the session's supervising bureau, DT-07).
    report_to: Mapped[str] = mapped_column(String(200), index=True)
    # unfounded (不属实), substantiated (属实), fraud (属实且属弄虚作假：一票否决)
    conclusion: Mapped[str | None] = mapped_column(String(20))
    finding_type: Mapped[str | None] = mapped_column(String(40))
    findings: Mapped[str | None] = mapped_column(Text)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    notice: Mapped[PublicNotice] = relationship()
    entry: Mapped[SessionEntry] = relationship()
