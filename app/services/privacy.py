"""Personal identifiers shown only to whom they are for.

An ID number (身份证号) is given by the applicant for the eligibility check (资格审查): the applicant,
the committee office that checks the case and system administrators (who correct case data)
see it whole; everyone else who may see the case sees it masked, wherever it appears: case
data, form prefills, the audit trail's details (API and pages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, User

ENTITLED_TASK_ROLE = "committee_office"


def mask_id_number(value: str) -> str:
    """332501********123X: the issuing area and the last four, never the birth date."""
    text = str(value)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


SENSITIVE: dict[str, Callable[[str], str]] = {"id_number": mask_id_number}


def entitled(actor: User, instance: ProcessInstance) -> bool:
    """The applicant, the committee office that has (had) a task on the case, administrators."""
    if actor.id == instance.starter_id or actor.has_role("system_admin"):
        return True
    offices = sorted({r.org_id for r in actor.roles if r.role == ENTITLED_TASK_ROLE and r.org_id is not None})
    if not offices:
        return False
    return db.session.scalar(
        select(HumanTask.id).where(HumanTask.instance_id == instance.id, HumanTask.role == ENTITLED_TASK_ROLE,
                                   HumanTask.org_id.in_(offices)).limit(1)) is not None


def contains_sensitive(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any((key in SENSITIVE and isinstance(item, str) and item) or contains_sensitive(item)
                   for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_sensitive(item) for item in value)
    return False


def masked(value: Any) -> Any:
    """A copy of ``value`` with every sensitive field masked, at any depth."""
    if isinstance(value, Mapping):
        return {key: (SENSITIVE[key](item) if key in SENSITIVE and isinstance(item, str) and item else masked(item))
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked(item) for item in value]
    return value


class Viewer:
    """What one actor may see of one case; asks the database only when something is sensitive."""

    def __init__(self, actor: User, instance: ProcessInstance):
        self.actor = actor
        self.instance = instance
        self._entitled: bool | None = None

    @property
    def entitled(self) -> bool:
        if self._entitled is None:
            self._entitled = entitled(self.actor, self.instance)
        return self._entitled

    def show(self, value: Any) -> Any:
        if not contains_sensitive(value) or self.entitled:
            return value
        return masked(value)


def show(actor: User, instance: ProcessInstance, value: Any) -> Any:
    return Viewer(actor, instance).show(value)


def keep_unmasked(submitted: MutableMapping[str, Any], current: Mapping[str, Any]) -> None:
    """A form prefilled with a masked value and sent back unchanged keeps the real value."""
    for name, mask in SENSITIVE.items():
        value = current.get(name)
        if isinstance(value, str) and value and submitted.get(name) == mask(value):
            submitted[name] = value
