"""What a case page shows beyond the generic parts, per procedure (read-only views)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Objection, ProcessInstance, PublicNotice, User
from app.services import documents, notices, review_panels, review_sessions, session_access, title_review

CONCLUSION_LABELS = notices.CONCLUSION_LABELS


def _official(actor: User) -> bool:
    return actor.has_role(*documents.OFFICIAL_ROLES)


def _application(actor: User, instance: ProcessInstance) -> dict[str, Any]:
    objections = list(db.session.scalars(select(Objection).where(
        Objection.application_instance_id == instance.id).order_by(Objection.id)))
    return {"entry": title_review.entry_of(instance.id),
            "objections": objections if _official(actor) else [],
            "objection_count": len(objections),
            "session_docs": session_access.documents_for_case(actor, instance)}


def _session(actor: User, instance: ProcessInstance) -> dict[str, Any]:
    notices = list(db.session.scalars(select(PublicNotice).where(
        PublicNotice.session_instance_id == instance.id).order_by(PublicNotice.id)))
    objections = list(db.session.scalars(select(Objection).where(
        Objection.session_instance_id == instance.id).order_by(Objection.id)))
    return {"entries": review_sessions.entries_of(instance.id), "lists": review_panels.ranked(instance.id),
            "notices": notices, "objections": objections if _official(actor) else []}


VIEWS = {"title_application": _application, "review_session": _session}


def extras(actor: User, instance: ProcessInstance) -> dict[str, Any]:
    view = VIEWS.get(instance.process_id)
    return view(actor, instance) if view else {}
