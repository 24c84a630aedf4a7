"""Comments on a case (案件留言): anyone who may see the case may read and add them; never edited.

A new comment notifies the case's participants except its author: the applicant (starter) and
whoever holds each open task (its assignee, or its role in its organisation).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import clock
from app.extensions import db
from app.models import CaseComment, HumanTask, ProcessInstance, User
from app.services import audit, notifications
from app.services.access import can_view, holds, role_holders
from app.services.errors import FormInvalid, NotAllowed, NotFound

MAX_BODY = 2000
PREVIEW = 60


def _visible_instance(actor: User, instance_id: int) -> ProcessInstance:
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("流程实例不存在")
    if not can_view(actor, instance):
        raise NotAllowed("您无权查看该案件，也不能发表意见")
    return instance


def comments_for(actor: User, instance_id: int) -> list[CaseComment]:
    """Oldest first."""
    _visible_instance(actor, instance_id)
    return list(db.session.scalars(
        select(CaseComment).where(CaseComment.instance_id == instance_id)
        .options(selectinload(CaseComment.author).selectinload(User.org))
        .order_by(CaseComment.id)))


def clean_body(body: object) -> str:
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise FormInvalid("意见内容不能为空", {"body": ["请填写意见内容"]})
    if len(text) > MAX_BODY:
        raise FormInvalid(f"意见内容不能超过 {MAX_BODY} 个字符", {"body": [f"已填写 {len(text)} 个字符"]})
    return text


def add_comment(actor: User, instance_id: int, body: object) -> CaseComment:
    instance = _visible_instance(actor, instance_id)
    text = clean_body(body)
    comment = CaseComment(instance_id=instance.id, author_id=actor.id, body=text, created_at=clock.now())
    db.session.add(comment)
    db.session.flush()
    audit.record("comment_added", actor=actor, instance=instance,
                 details={"comment_id": comment.id, "length": len(text)})
    _notify_participants(actor, instance, text)
    db.session.commit()
    return comment


def _notify_participants(author: User, instance: ProcessInstance, text: str) -> None:
    preview = text if len(text) <= PREVIEW else text[:PREVIEW] + "…"
    message = f"{author.display_name}对“{instance.title}”发表了意见：{preview}"
    users: set[int] = {instance.starter_id}
    roles: set[tuple[str, int]] = set()
    open_tasks = db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open"))
    for task in open_tasks:
        if task.assignee_id is not None:
            users.add(task.assignee_id)
        elif task.role and task.org_id is not None:
            roles.add((task.role, task.org_id))
    for role, org_id in sorted(roles):
        if holds(author, role, org_id):
            # A notice to the role would reach the author too: tell the colleagues one by one.
            users.update(user.id for user in role_holders(role, org_id))
        else:
            notifications.notify("comment", message, org_id=org_id, role=role, instance=instance)
    for user_id in sorted(users - {author.id}):
        notifications.notify("comment", message, user_id=user_id, instance=instance)

