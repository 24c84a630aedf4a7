"""Who may open a review session's published documents from an applicant's case.

The session case itself is for the committee office and the HR bureaus; its publication
document and passed list (public anyway once published) are also for every applicant of the
session and their unit's HR, and the 委托评审函 for the applicants it recommends. Kept apart
from the services that import documents, so documents can ask it without an import cycle.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Document, ProcessInstance, SessionEntry, User

PUBLISHED_KINDS = ("publication", "list_4_3")
LETTER_KIND = "commission_letter"


def _concerns(actor: User, entry: SessionEntry) -> bool:
    units = {r.org_id for r in actor.roles if r.role in ("employer_hr", "self_managed_admin")}
    return entry.applicant_id == actor.id or entry.employer_org_id in units


def may_view_session_document(actor: User, doc: Document) -> bool:
    if doc.instance_id is None or doc.kind not in (*PUBLISHED_KINDS, LETTER_KIND):
        return False
    entries = db.session.scalars(select(SessionEntry).where(SessionEntry.session_instance_id == doc.instance_id))
    for entry in entries:
        if not _concerns(actor, entry):
            continue
        if doc.kind in PUBLISHED_KINDS or (entry.result == "recommended" and entry.status == "active"):
            return True
    return False


def documents_for_case(actor: User, application: ProcessInstance) -> list[Document]:
    """The session documents the viewer of an applicant's case may open, once published."""
    entry = db.session.scalar(select(SessionEntry).where(SessionEntry.application_instance_id == application.id))
    data = application.data or {}
    if entry is None or not (data.get("published_doc_no") or data.get("commission_letter_no")):
        return []
    docs = db.session.scalars(select(Document).where(
        Document.instance_id == entry.session_instance_id, Document.kind.in_((*PUBLISHED_KINDS, LETTER_KIND)))
        .order_by(Document.created_at))
    return [d for d in docs if may_view_session_document(actor, d)]
