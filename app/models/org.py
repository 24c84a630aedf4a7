from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class Organisation(db.Model):
    """An organisation: bureau, department, committee office, employer or self-managed unit."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # hr_bureau, competent_dept, committee_office, committee, employer, self_managed_unit, association
    kind: Mapped[str] = mapped_column(String(40))
    # A county name of the nine, or 市本级.
    county: Mapped[str] = mapped_column(String(40), default="市本级")
    # 事业单位 / 企业 / 机关 (for employers).
    unit_type: Mapped[str | None] = mapped_column(String(20))
    self_managed: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    competent_dept_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    note: Mapped[str | None] = mapped_column(String(200))

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    competent_dept: Mapped[Organisation | None] = relationship(
        remote_side=[id], foreign_keys=[competent_dept_id]
    )

    @property
    def is_city_level(self) -> bool:
        return self.county == "市本级"
