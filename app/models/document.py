from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime


class Document(db.Model):
    """An uploaded file, stored outside task data and referenced by id."""

    __tablename__ = "document"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    # None for a public objector's evidence and for documents the system generated.
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # upload, or what was generated: letter_4_2, list_4_3, recommendation_list, written_opinion,
    # publication, commission_letter, objection_evidence, objection_report, case_export (a
    # background job's case list: no instance, no uploader; offered only on the job's page)
    kind: Mapped[str] = mapped_column(String(40), default="upload")
    doc_no: Mapped[str | None] = mapped_column(String(80))  # 文号 of a generated document
    # None: everyone who may see the case; officials: committee offices and HR bureaus only
    # (an objector's evidence is never shown to the applicant or the employer).
    audience: Mapped[str | None] = mapped_column(String(20))


class DocSequence(db.Model):
    """The last number given for a document series (文号) per issuer prefix and year."""

    __tablename__ = "doc_sequence"

    prefix: Mapped[str] = mapped_column(String(80), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
