"""Electronic title certificates: issued by a service task, verifiable by anyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Certificate, ProcessInstance, User
from app.services import audit
from app.services.operations import Call, operation


def _check_digit(digits: str) -> str:
    """Luhn check digit, so that a mistyped number is caught on the verification page."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            n = n - 9 if n > 9 else n
        total += n
    return str((10 - total % 10) % 10)


KIND_CODES = {"初定": "CD", "评审": "PS"}


def issue(instance: ProcessInstance, data: dict[str, Any], params: dict[str, Any], actor: User | None) -> dict:
    existing = db.session.scalar(select(Certificate).where(Certificate.instance_id == instance.id))
    if existing is not None:  # a retried step must not issue twice
        return {"number": existing.number}
    kind = str(params.get("kind") or "评审")
    today = clock.today()
    cert = Certificate(
        number=f"PENDING-{instance.id}",
        kind=kind,
        instance_id=instance.id,
        holder_id=instance.starter_id,
        holder_name=instance.starter.display_name,
        employer_name=data.get("employer_org") or "",
        specialty=str(params.get("specialty") or ""),
        level=str(params.get("level") or ""),
        issuer_name=str(params.get("issuer") or data.get("reviewer_org") or ""),
        issued_on=today,
        status="valid",
        created_at=clock.now(),
    )
    db.session.add(cert)
    db.session.flush()
    body = f"{today.year}{cert.id:07d}"
    cert.number = f"LS{KIND_CODES.get(kind, 'ZC')}{body}{_check_digit(body)}"
    db.session.flush()
    audit.record("certificate_issued", actor=actor, instance=instance,
                 details={"number": cert.number, "level": cert.level, "kind": kind})
    return {"number": cert.number}


@operation("issue_certificate")
def _issue_operation(call: Call) -> dict:
    return issue(call.instance, dict(call.data), dict(call.params), call.actor)


def verify(number: str) -> Certificate | None:
    number = (number or "").strip().upper()
    if not number or len(number) > 40:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.number == number))


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
