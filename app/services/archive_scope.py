"""Whose performance archive (业绩档案) a unit's HR may audit, and so whose attachments it may open.

Kept apart from app.services.archives so that app.services.documents can ask it without an
import cycle (archives uses documents for uploads).
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Achievement, Document, User

AUDIT_ROLES = ("employer_hr", "self_managed_admin")


def audit_org_ids(actor: User) -> set[int]:
    """The organisations whose staff's archives the actor audits."""
    return {r.org_id for r in actor.roles if r.role in AUDIT_ROLES}


def may_audit(actor: User, person: User) -> bool:
    """Only the HR of the person's own unit, and never one's own archive."""
    return person.id != actor.id and person.org_id in audit_org_ids(actor)


def may_view_attachment(actor: User, doc: Document) -> bool:
    """A document attached to an achievement of a person whose archive the actor audits."""
    person = db.session.get(User, doc.uploaded_by_id) if doc.uploaded_by_id is not None else None
    if person is None or not may_audit(actor, person):
        return False
    rows = db.session.scalars(select(Achievement.attachments).where(Achievement.user_id == person.id))
    return any(doc.id in (ids or []) for ids in rows)
