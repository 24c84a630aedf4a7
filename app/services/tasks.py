"""The inbox and task completion."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app import clock
from app.engine import EngineError
from app.extensions import db
from app.models import HumanTask, ProcessInstance, User
from app.services import audit, cases, documents, forms, notifications, panels, privacy, registry
from app.services.access import actionable_tasks_clause, can_act, can_view, holds, role_holders
from app.services.errors import (
    Conflict,
    FormInvalid,
    NotAllowed,
    NotFound,
    RuleViolation,
    TaskAlreadyCompleted,
)


def scope_clause(actor: User, scope: str) -> ColumnElement[bool] | None:
    """mine: assigned to or claimed by the actor; group: nobody's yet; all: None (no condition)."""
    if scope == "mine":
        return or_(HumanTask.assignee_id == actor.id, HumanTask.claimed_by_id == actor.id)
    if scope == "group":
        return and_(HumanTask.assignee_id.is_(None), HumanTask.claimed_by_id.is_(None))
    return None


def open_tasks_for(
    actor: User, instance_id: int | None = None, process_model: str | None = None, scope: str = "all"
) -> list[HumanTask]:
    """scope: all, mine (assigned to or claimed by me), group (unclaimed tasks of my groups)."""
    query = select(HumanTask).join(ProcessInstance).where(actionable_tasks_clause(actor))
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    if process_model:
        query = query.where(ProcessInstance.process_id == process_model)
    scoped = scope_clause(actor, scope)
    if scoped is not None:
        query = query.where(scoped)
    return list(db.session.scalars(query.order_by(HumanTask.due_date.is_(None), HumanTask.due_date, HumanTask.id)))


def get_task(actor: User, task_id: int) -> HumanTask:
    task = db.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("任务不存在")
    if not can_act(actor, task) and not can_view(actor, task.instance):
        raise NotAllowed("您无权查看该任务")
    return task


def _actionable(actor: User, task_id: int) -> HumanTask:
    # The task's instance is locked first, as a completion does: claims and completions of its
    # tasks then follow one another (no lost claim, no deadlock), and the task is read after it.
    cases.lock(task_id=task_id)
    task = db.session.get(HumanTask, task_id, populate_existing=True)
    _check_actionable(actor, task)
    return task


def _check_actionable(actor: User, task: HumanTask | None) -> None:
    if task is None:
        raise NotFound("任务不存在")
    if not can_act(actor, task):
        raise NotAllowed("该任务不属于您或您所在的机构")
    if task.state == "completed":
        raise TaskAlreadyCompleted(f"任务“{task.name}”已由{_who(task.completed_by)}办理完毕")
    if task.state != "open":
        raise Conflict(f"任务“{task.name}”已取消（流程已变化）")


def _who(user: User | None) -> str:
    return f"{user.display_name}（{user.username}）" if user else "他人"


def claim(actor: User, task_id: int) -> HumanTask:
    task = _actionable(actor, task_id)
    if task.claimed_by_id not in (None, actor.id):
        raise Conflict(f"任务已被{_who(task.claimed_by)}认领")
    task.claimed_by_id = actor.id
    audit.record("task_claimed", actor=actor, instance=task.instance, task=task, details={"name": task.name})
    db.session.commit()
    return task


def release(actor: User, task_id: int) -> HumanTask:
    task = _actionable(actor, task_id)
    if task.claimed_by_id != actor.id:
        raise Conflict("只能释放自己认领的任务")
    task.claimed_by_id = None
    task.delegated_by_id = None  # a released task is back with the group, no longer handed to anyone
    audit.record("task_released", actor=actor, instance=task.instance, task=task, details={"name": task.name})
    db.session.commit()
    return task


def task_form(task: HumanTask) -> tuple[forms.FormDefinition, dict[str, Any]]:
    """The form definition and the task's current data (prefill)."""
    instance = task.instance
    meta = instance.version.meta["tasks"].get(task.bpmn_id, {})
    defn = forms.load_definition(registry.files(instance.version), meta.get("form"), meta.get("ui"))
    case = cases.load(instance, None)
    ready = next((t for t in case.ready_user_tasks() if t.guid == task.task_guid), None)
    return defn, (ready.data if ready else dict(instance.data))


def complete_task(actor: User, task_id: int, data: Any) -> ProcessInstance:
    # The task's instance is locked first; its open rows, read after the lock, say whether the
    # task is still open (and serve the inbox projection).
    with cases.changing(task_id=task_id) as instance:
        rows = cases.open_rows(instance)
        task = next((r for r in rows if r.id == task_id), None)
        if task is None:
            task = db.session.get(HumanTask, task_id, populate_existing=True)
        _check_actionable(actor, task)
        if task.claimed_by_id not in (None, actor.id):
            raise Conflict(f"任务已被{_who(task.claimed_by)}认领，不能由您办理")
        if instance.status in ("suspended", "terminated"):
            raise Conflict("流程已挂起或终止，不能办理任务")
        case = cases.load(instance, actor)
        ready = next((t for t in case.ready_user_tasks() if t.guid == task.task_guid), None)
        if ready is None:
            raise Conflict("任务状态已变化，请刷新后重试")
        subscribed = cases.subscriptions(instance, case)
        meta = instance.version.meta["tasks"].get(task.bpmn_id, {})
        defn = forms.load_definition(registry.files(instance.version), meta.get("form"), meta.get("ui"))
        panel = panels.get(meta.get("panel"))
        part, data = panel.take(data) if panel is not None and panel.take else ({}, data)
        if isinstance(data, MutableMapping):
            privacy.keep_unmasked(data, ready.data)
        clean = forms.validate(defn, ready.data, data)
        for name in forms.document_fields(defn):
            documents.check_owned(actor, clean.get(name) or [], instance, field=name)
        if panel is not None and panel.apply:
            panel.apply(actor, instance, part, clean, ready.data)
        error = None
        try:
            case.complete(task.task_guid, clean)
        except EngineError as exc:
            error = exc
        task.state = "completed"
        task.completed_at = clock.now()
        task.completed_by_id = actor.id
        task.claimed_by_id = task.claimed_by_id or actor.id
        audit.record("task_completed", actor=actor, instance=instance, task=task,
                     details={"name": task.name, "data": clean})
        cases.save(instance, case, actor, error, rows, subscribed)
        documents.attach(instance, [i for name in forms.document_fields(defn) for i in clean.get(name) or []])
    return instance


def candidates(task: HumanTask) -> list[str]:
    if task.assignee_id is not None:
        return [task.assignee.username] if task.assignee else []
    return [user.username for user in role_holders(task.role, task.org_id)]


def colleagues(actor: User, task: HumanTask) -> list[User]:
    """Whom the actor may hand this task to (转办): active holders of its role in its organisation."""
    if task.assignee_id is not None:
        return []
    return [user for user in role_holders(task.role, task.org_id) if user.id != actor.id]


def delegate(actor: User, task_id: int, to_username: str) -> HumanTask:
    """Hand a group task to a colleague holding its role in its organisation: it becomes theirs."""
    task = _actionable(actor, task_id)
    if task.assignee_id is not None:
        raise RuleViolation("个人任务（指派给本人的任务）不能转办")
    if task.claimed_by_id not in (None, actor.id):
        raise Conflict(f"任务已被{_who(task.claimed_by)}认领，只有认领人可以转办")
    username = to_username.strip() if isinstance(to_username, str) else ""
    colleague = db.session.scalar(select(User).where(User.username == username)) if username else None
    if colleague is None:
        raise FormInvalid("请选择要转办的同事", {"to": ["找不到该用户" if username else "应为用户名"]})
    if colleague.id == actor.id:
        raise FormInvalid("不能转办给自己", {"to": ["不能转办给自己"]})
    if not colleague.active or not holds(colleague, task.role, task.org_id):
        raise FormInvalid("只能转办给本机构中负责该任务的同事",
                          {"to": [f"{colleague.display_name}不负责{task.org.name if task.org else '该机构'}的此项任务"]})
    previous = task.claimed_by
    task.claimed_by_id = colleague.id
    task.delegated_by_id = actor.id
    audit.record("task_delegated", actor=actor, instance=task.instance, task=task,
                 details={"name": task.name, "from": actor.username, "to": colleague.username,
                          "claimed_by": previous.username if previous else None})
    notifications.notify("delegated", f"{actor.display_name}将任务“{task.name}”（{task.instance.title}）转办给您",
                         user_id=colleague.id, instance=task.instance, task=task)
    db.session.commit()
    return task
