"""Annual plans (年度职称评审计划, 附件1) and their rows.

A plan is what a bureau issues for a year: a city plan, or a district plan derived from it.
Its rows are kept as issued (text, month lists) so an import exports back unchanged; routing
reads the committee scopes derived from the rows of a published plan (CommitteeScope.plan_entry_id).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.org import Organisation

SECTIONS = ("city_committee", "provincial_recommendation", "graduate_initial_determination")


class AnnualPlan(db.Model):
    __tablename__ = "annual_plan"
    __table_args__ = (UniqueConstraint("year", "issuer_org_id", name="uq_annual_plan_year_issuer_org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    issuer_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    # A district plan derives from the city plan of the same year.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("annual_plan.id"))
    # The plan it was copied from when a new year was started.
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("annual_plan.id"))
    doc_no: Mapped[str | None] = mapped_column(String(80))
    issue_date: Mapped[date | None] = mapped_column(Date)
    basis_doc_nos: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft, published
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    issuer: Mapped[Organisation] = relationship(foreign_keys=[issuer_org_id])
    parent: Mapped[AnnualPlan | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    entries: Mapped[list[PlanEntry]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="(PlanEntry.section_order, PlanEntry.seq)")


class PlanEntry(db.Model):
    """One row of a plan section, as issued. `rule` is the routing scope read from it (editable)."""

    __tablename__ = "plan_entry"
    __table_args__ = (UniqueConstraint("plan_id", "section", "seq", name="uq_plan_entry_plan_id_section_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("annual_plan.id"), index=True)
    section: Mapped[str] = mapped_column(String(40))
    section_order: Mapped[int] = mapped_column(Integer, default=0)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    titles_evaluated: Mapped[list] = mapped_column(JSON, default=list)
    titles_recommended: Mapped[list] = mapped_column(JSON, default=list)
    start_month: Mapped[str | None] = mapped_column(String(7))
    finish_months: Mapped[list] = mapped_column(JSON, default=list)
    office: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    scope: Mapped[str | None] = mapped_column(Text)
    # "各县（市、区）…" rows: one committee per county.
    per_county: Mapped[bool] = mapped_column(Boolean, default=False)
    # Structured scope (geo, unit types, self-managed exclusion, level limits, specialties, …).
    rule: Mapped[dict] = mapped_column(JSON, default=dict)

    plan: Mapped[AnnualPlan] = relationship(back_populates="entries")
