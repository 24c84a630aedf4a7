"""The integrity archive (诚信档案库): fraud findings and the application bar they carry (DT-03, D5)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import IntegrityRecord, User
from app.rules import title


def active_ban_until(user: User) -> date | None:
    """The latest bar recorded for the person (the intake check compares it with the submission)."""
    return db.session.scalar(select(func.max(IntegrityRecord.ban_until)).where(IntegrityRecord.user_id == user.id))


def record_finding(user: User, finding_type: str, stage: str, finding_date: date, *, actor: User | None,
                   instance_id: int | None = None, objection_id: int | None = None) -> title.IntegrityResult:
    """Apply DT-03 to a substantiated fraud finding and keep it in the archive. The caller commits."""
    current = active_ban_until(user)
    outcome = title.integrity_gate("finding", finding_type, stage, finding_date, None, current)
    if outcome["action"] in ("veto", "revoke"):
        db.session.add(IntegrityRecord(
            user_id=user.id, finding_type=finding_type, stage=stage, finding_date=finding_date,
            ban_until=date.fromisoformat(outcome["ban_until"]),
            record_until=date.fromisoformat(outcome["integrity_record_until"]),
            action=outcome["action"], reason=outcome["reason"], instance_id=instance_id,
            objection_id=objection_id, created_at=clock.now(), created_by_id=actor.id if actor else None))
    return outcome


def records_of(user: User) -> list[IntegrityRecord]:
    return list(db.session.scalars(
        select(IntegrityRecord).where(IntegrityRecord.user_id == user.id).order_by(IntegrityRecord.finding_date)))
