"""Who may see and act on what: organisation-scoped, role-scoped."""

from __future__ import annotations

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from app.models import HumanTask, Notification, Organisation, ProcessInstance, User, UserRole

OVERSIGHT_ROLES = ("system_admin", "manager")
# Who follows cases across units: the instance list (案件跟踪) and the dashboard (统计).
TRACKING_ROLES = ("manager", "hr_staff", "system_admin")


def holds(user: User, role: str | None, org_id: int | None) -> bool:
    return any(r.role == role and r.org_id == org_id for r in user.roles)


def role_holders(role: str | None, org_id: int | None) -> list[User]:
    """The active users holding a role in an organisation, by username (who a group task is for)."""
    from app.extensions import db

    if role is None or org_id is None:
        return []
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == role, UserRole.org_id == org_id, User.active.is_(True))
        .order_by(User.username).distinct()))


def can_act(user: User, task: HumanTask) -> bool:
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return holds(user, task.role, task.org_id)


def _oversight_scope(user: User) -> ColumnElement[bool] | None:
    """Administrators see everything; a manager sees the city, or only their county."""
    if user.has_role("system_admin"):
        return true()
    if user.has_role("manager"):
        if user.org.county == "市本级":
            return true()
        return ProcessInstance.county == user.org.county
    return None


def _bureau_scope(user: User) -> ColumnElement[bool] | None:
    """HR bureau staff follow their own area's cases: the city bureau every case, a district
    or county bureau the cases of its county (besides those it takes part in)."""
    counties = {r.org.county for r in user.roles if r.role == "hr_staff" and r.org is not None}
    if not counties:
        return None
    if "市本级" in counties:
        return true()
    return ProcessInstance.county.in_(sorted(c for c in counties if c))


def visible_instances_clause(user: User) -> ColumnElement[bool]:
    scope = _oversight_scope(user)
    if scope is not None:
        return scope
    bureau = _bureau_scope(user)
    org_ids = {r.org_id for r in user.roles} | {user.org_id}
    employer_orgs = {r.org_id for r in user.roles if r.role in ("employer_hr", "self_managed_admin")}
    took_part = exists(
        select(HumanTask.id).where(
            HumanTask.instance_id == ProcessInstance.id,
            or_(HumanTask.org_id.in_(org_ids), HumanTask.assignee_id == user.id),
        )
    )
    # A case filed with an organisation (备案, e.g. a self-managed unit's summary) is readable there.
    filed_with = exists(
        select(Notification.id).where(
            Notification.instance_id == ProcessInstance.id, Notification.kind == "filing",
            Notification.org_id.in_(org_ids),
        )
    )
    return or_(
        bureau if bureau is not None else false(),
        ProcessInstance.starter_id == user.id,
        ProcessInstance.employer_org_id.in_(employer_orgs) if employer_orgs else false(),
        took_part,
        filed_with,
    )


def can_view(user: User, instance: ProcessInstance) -> bool:
    from app.extensions import db

    return bool(
        db.session.scalar(
            select(ProcessInstance.id).where(ProcessInstance.id == instance.id, visible_instances_clause(user))
        )
    )


def actionable_tasks_clause(user: User) -> ColumnElement[bool]:
    held = exists(
        select(UserRole.id).where(
            UserRole.user_id == user.id, UserRole.role == HumanTask.role, UserRole.org_id == HumanTask.org_id
        )
    )
    return and_(
        HumanTask.state == "open",
        or_(HumanTask.assignee_id == user.id, and_(HumanTask.assignee_id.is_(None), held)),
    )


def can_start(user: User, starter_roles: list[str]) -> bool:
    return bool(user.role_names() & set(starter_roles))


def org_by_name(name: str | None) -> Organisation | None:
    from app.extensions import db

    if not name:
        return None
    return db.session.scalar(select(Organisation).where(Organisation.name == name))
