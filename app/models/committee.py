from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.org import Organisation


class Committee(db.Model):
    """A review committee (评审委员会). Its office staff belong to the committee's organisation."""

    __tablename__ = "committee"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    short_name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(4))  # 初, 中, 高
    series: Mapped[str] = mapped_column(String(60))
    # 市本级 for a city committee (D1: the forming unit decides), else the county it sits in.
    location: Mapped[str] = mapped_column(String(40))
    office: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    members: Mapped[int] = mapped_column(Integer, default=15)
    # ACTIVE, WARNED (告诫/责令整改, rectifying), SUSPENDED (暂停评审权), REVOKED (取消): changed only by
    # recorded decisions (AuthorityDecision).
    authority_state: Mapped[str] = mapped_column(String(20), default="ACTIVE")
    # A self-managed unit's own committee (自主评聘委员会): the unit it belongs to.
    self_managed_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))

    org: Mapped[Organisation] = relationship(foreign_keys=[org_id])
    scopes: Mapped[list[CommitteeScope]] = relationship(back_populates="committee", cascade="all, delete-orphan")

    @property
    def name(self) -> str:
        return self.org.name


class CommitteeScope(db.Model):
    """What a committee takes in one plan year (附件1 row): titles, specialties, who may apply."""

    __tablename__ = "committee_scope"
    __table_args__ = (UniqueConstraint("committee_id", "plan_year", name="uq_committee_scope_committee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committee.id"), index=True)
    plan_year: Mapped[int] = mapped_column(Integer, index=True)
    titles_evaluated: Mapped[list] = mapped_column(JSON, default=list)
    titles_recommended: Mapped[list] = mapped_column(JSON, default=list)
    # None: every specialty of the series.
    specialties: Mapped[list | None] = mapped_column(JSON)
    # None: the whole city; else county names and/or 市本级.
    counties: Mapped[list | None] = mapped_column(JSON)
    unit_types: Mapped[list | None] = mapped_column(JSON)
    # e.g. {"工程师": ["事业单位"]}: a title open only to some unit types (附件1 #17).
    unit_types_by_title: Mapped[dict | None] = mapped_column(JSON)
    # e.g. {"助理工艺美术师": ["龙泉市", "青田县"]}: a title not open to applicants of some counties (#20).
    excluded_counties_by_title: Mapped[dict | None] = mapped_column(JSON)
    exclude_self_managed: Mapped[bool] = mapped_column(Boolean, default=True)
    # The specialties × titles of an exclusive scope are taken away from every other committee
    # that year ("其他工程中评委不再受理").
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    recommendation_target: Mapped[str | None] = mapped_column(String(40))  # provincial_senior, city_senior
    start_month: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM
    finish_month: Mapped[str | None] = mapped_column(String(7))
    scope_text: Mapped[str | None] = mapped_column(Text)
    # Shown when this committee takes over what another used to accept (e.g. 2022 汽车零部件).
    note: Mapped[str | None] = mapped_column(Text)
    # None: any unit; else only staff of these organisations (a self-managed unit's own committee).
    employers: Mapped[list | None] = mapped_column(JSON)
    # The plan row this scope was derived from (None: bundled catalogue data).
    plan_entry_id: Mapped[int | None] = mapped_column(ForeignKey("plan_entry.id", ondelete="SET NULL"), index=True)

    committee: Mapped[Committee] = relationship(back_populates="scopes")
