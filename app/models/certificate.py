from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime


class Certificate(db.Model):
    """An electronic title certificate (电子职称证书)."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # 初定, 评审
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(80))
    employer_name: Mapped[str] = mapped_column(String(200))
    specialty: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(40))
    issuer_name: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="valid")  # valid, revoked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
