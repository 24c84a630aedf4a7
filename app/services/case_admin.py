"""Administrators' actions on a case: suspend, resume, terminate, reset to an earlier task, correct data.

Each is one transaction under the instance's lock, allowed to system administrators only, and
needs a reason, which goes into the audit event with what the case looked like before and after.
Side effects already done (documents issued, notices, messages sent to other cases) are not undone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, select

from app import clock
from app.engine import EngineError
from app.extensions import db
from app.models import (
    HumanTask,
    InstanceCheckpoint,
    MessageSubscription,
    ProcessInstance,
    ProcessVersion,
    User,
)
from app.rules.field_values import typed_value
from app.services import audit, cases, checkpoints, forms, messages, registry
from app.services.errors import Conflict, DomainError, FormInvalid, NotAllowed, NotFound
from app.services.numbers import INT_MAX, is_digits

ACTIONS = ("suspend", "resume", "terminate", "reset", "correct")
MAX_REASON = 500
_FINISHED = ("completed", "terminated")
# Which statuses each action starts from.
_FROM = {
    "suspend": ("running", "waiting", "error"),
    "resume": ("suspended",),
    "terminate": ("running", "waiting", "error", "suspended"),
    "reset": ("running", "waiting", "error", "suspended"),
    "correct": ("running", "waiting", "error", "suspended"),
}
_REFUSED = {
    "suspend": "只有办理中、等待中或出错的流程可以挂起",
    "resume": "只有已挂起的流程可以恢复",
    "terminate": "流程已办结或已终止，不能终止",
    "reset": "流程已办结或已终止，不能退回到之前的任务",
    "correct": "流程已办结或已终止，不能更正数据",
}


def is_admin(actor: User) -> bool:
    return actor.has_role("system_admin")


def require_admin(actor: User) -> None:
    if not is_admin(actor):
        raise NotAllowed("只有系统管理员可以挂起、恢复、终止、退回流程或更正流程数据")


def available(instance: ProcessInstance) -> list[str]:
    """The actions the instance's status allows now."""
    return [action for action in ACTIONS if instance.status in _FROM[action]]


def clean_reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise FormInvalid("请填写操作原因", {"reason": ["请填写操作原因（将记入办理记录）"]})
    if len(text) > MAX_REASON:
        raise FormInvalid("操作原因过长", {"reason": [f"不得超过 {MAX_REASON} 个字符（现为 {len(text)} 个）"]})
    return text


@contextmanager
def _locked(actor: User, instance_id: int, action: str, reason: Any) -> Iterator[tuple[ProcessInstance, str]]:
    """Admin check, reason, lock, status check; commits when the body succeeds."""
    require_admin(actor)
    why = clean_reason(reason)
    with cases.changing(instance_id) as instance:
        if instance.status not in _FROM[action]:
            raise Conflict(_REFUSED[action])
        yield instance, why
        instance.updated_at = clock.now()


def _snapshot(instance: ProcessInstance) -> dict[str, Any]:
    open_rows = db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == "open").order_by(HumanTask.id)).all()
    return {"status": instance.status, "open_tasks": [{"id": t.id, "name": t.name, "bpmn_id": t.bpmn_id}
                                                      for t in open_rows]}


# -- suspend, resume, terminate ----------------------------------------------------------------
def suspend(actor: User, instance_id: int, reason: Any) -> ProcessInstance:
    """Timers, task completion and message delivery wait until the case is resumed."""
    with _locked(actor, instance_id, "suspend", reason) as (instance, why):
        before = instance.status
        instance.status = "suspended"
        audit.record("instance_suspended", actor=actor, instance=instance,
                     details={"reason": why, "before": {"status": before}, "after": {"status": "suspended"}})
    return instance


def resume(actor: User, instance_id: int, reason: Any) -> ProcessInstance:
    """The status comes from the engine again; messages held meanwhile are delivered after commit."""
    with _locked(actor, instance_id, "resume", reason) as (instance, why):
        try:
            status = cases.load(instance, actor).status()
        except EngineError as exc:
            raise DomainError(f"流程状态无法加载，不能恢复：{exc}") from exc
        instance.status = status
        if status != "error":
            instance.error_message = None
        held = messages.release_held(instance)
        audit.record("instance_resumed", actor=actor, instance=instance,
                     details={"reason": why, "before": {"status": "suspended"}, "after": {"status": status},
                              "released_messages": held})
    return instance


def terminate(actor: User, instance_id: int, reason: Any) -> ProcessInstance:
    """Irreversible: open tasks cancelled, subscriptions and timers gone, held messages dropped."""
    with _locked(actor, instance_id, "terminate", reason) as (instance, why):
        before = _snapshot(instance)
        now = clock.now()
        for row in db.session.scalars(select(HumanTask).where(
                HumanTask.instance_id == instance.id, HumanTask.state == "open")):
            row.state = "cancelled"
            row.completed_at = now
            audit.record("task_cancelled", actor=actor, instance=instance, task=row,
                         details={"name": row.name, "reason": "流程已终止"})
        db.session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
        dropped = messages.drop_held(instance, "目标流程已终止，消息未投递")
        instance.status = "terminated"
        instance.next_timer_at = None
        audit.record("instance_terminated", actor=actor, instance=instance,
                     details={"reason": why, "before": before, "after": {"status": "terminated"},
                              "dropped_messages": dropped})
    return instance


# -- reset to an earlier task ------------------------------------------------------------------
def reset_candidates(instance: ProcessInstance) -> list[dict[str, Any]]:
    """Earlier human tasks of the case with a saved checkpoint, newest first; `ok` False (with a
    note) where the checkpoint belongs to another version of the process (the case was migrated)."""
    rows = db.session.execute(
        select(HumanTask, InstanceCheckpoint.version_id)
        .join(InstanceCheckpoint, InstanceCheckpoint.id == HumanTask.checkpoint_id)
        .where(HumanTask.instance_id == instance.id, HumanTask.state.in_(("completed", "cancelled")))
        .order_by(HumanTask.id.desc())
    ).all()
    out = []
    for task, version_id in rows:
        note = None if version_id == instance.version_id else _version_note(version_id, instance)
        out.append({"task": task, "ok": note is None, "note": note})
    return out


def _version_note(version_id: int, instance: ProcessInstance) -> str:
    old = db.session.get(ProcessVersion, version_id)
    label = f"第 {old.version} 版" if old is not None else "其他版本"
    return f"该任务属于流程{label}，实例现为第 {instance.version.version} 版（已迁移），不能退回到迁移前的任务"


def reset(actor: User, instance_id: int, task_id: Any, reason: Any) -> ProcessInstance:
    """Back to the engine state saved when an earlier task became ready; the current open tasks
    are cancelled and the restored ones get new inbox rows (fresh task ids, the old rows stay)."""
    with _locked(actor, instance_id, "reset", reason) as (instance, why):
        target = _reset_target(instance, task_id)
        point = db.session.get(InstanceCheckpoint, target.checkpoint_id)
        if point.version_id != instance.version_id:
            raise FormInvalid(_version_note(point.version_id, instance), {"task_id": [_version_note(
                point.version_id, instance)]})
        before = {**_snapshot(instance), "data": dict(instance.data or {})}
        runtime = registry.runtime(cases.handler_for(instance, actor))
        try:
            case, _renamed = runtime.restore_renewed(registry.compiled(instance.version),
                                                    checkpoints.state_of(point))
        except EngineError as exc:
            raise DomainError(f"检查点无法加载，不能退回：{exc}") from exc
        cases.save(instance, case, actor)
        audit.record("instance_reset", actor=actor, instance=instance, task=target,
                     details={"reason": why, "name": target.name, "task_id": target.id, "checkpoint_id": point.id,
                              "before": before, "after": {**_snapshot(instance), "data": dict(instance.data or {})}})
    return instance


def _reset_target(instance: ProcessInstance, task_id: Any) -> HumanTask:
    if isinstance(task_id, str) and is_digits(task_id.strip()):
        task_id = int(task_id)
    # A larger number than an integer column takes names no task, and the database cannot bind it.
    if not isinstance(task_id, int) or isinstance(task_id, bool) or not 0 <= task_id <= INT_MAX:
        raise FormInvalid("请选择要退回到的任务", {"task_id": ["请选择要退回到的任务"]})
    task = db.session.get(HumanTask, task_id)
    if task is None or task.instance_id != instance.id:
        raise FormInvalid("该任务不属于本流程", {"task_id": ["该任务不属于本流程"]})
    if task.state not in ("completed", "cancelled") or task.checkpoint_id is None:
        raise FormInvalid("只能退回到已办结或已取消、且保存了检查点的任务",
                          {"task_id": ["只能退回到已办结或已取消、且保存了检查点的任务"]})
    return task


# -- correct data ------------------------------------------------------------------------------
def field_specs(version: ProcessVersion) -> dict[str, dict[str, Any]]:
    """Each form field's JSON Schema, from the version's forms (the first form naming it wins)."""
    specs = forms.field_schemas((version.sources or {}).get("files") or {})
    return {field: found[0] for field, found in specs.items()}


def correctable(instance: ProcessInstance, actor: User | None = None) -> dict[str, Any]:
    """The fields an administrator may correct, with their current values: the version's
    result fields and what the live tasks carry."""
    if instance.status in _FINISHED:
        return {}
    try:
        data = cases.load(instance, actor).data()
    except EngineError:
        data = dict(instance.data or {})
    fields = {key: data.get(key) for key in instance.version.meta.get("result_fields") or []}
    fields.update(data)
    return dict(sorted(fields.items()))


def correct(actor: User, instance_id: int, values: Any, reason: Any) -> ProcessInstance:
    with _locked(actor, instance_id, "correct", reason) as (instance, why):
        if not isinstance(values, dict) or not values:
            raise FormInvalid("请至少填写一个要更正的字段", {"data": ["请至少填写一个要更正的字段"]})
        case = cases.load(instance, actor)
        current = case.data()
        allowed = set(instance.version.meta.get("result_fields") or []) | set(current)
        clean = _typed(instance.version, values, current, allowed)
        if not clean:
            raise FormInvalid("新值与原值相同，没有需要更正的字段", {"data": ["新值与原值相同，没有需要更正的字段"]})
        old = case.correct_data(clean)
        cases.save(instance, case, actor)
        audit.record("data_corrected", actor=actor, instance=instance,
                     details={"reason": why, "fields": sorted(clean), "before": old, "after": clean})
    return instance


def _typed(version: ProcessVersion, values: dict[str, Any], current: dict[str, Any],
           allowed: set[str]) -> dict[str, Any]:
    """The changed values, typed by the form schema (or the current value's type)."""
    specs = field_specs(version)
    problems: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in allowed:
            problems[f"data.{key}"] = ["只能更正结果字段或当前任务数据中的字段"]
            continue
        try:
            value = typed_value(raw, specs.get(key) or {}, current.get(key))
        except ValueError as exc:
            problems[f"data.{key}"] = [str(exc)]
            continue
        if value != current.get(key) or type(value) is not type(current.get(key)):
            clean[key] = value
    if problems:
        raise FormInvalid("更正的数据有误", problems)
    return clean


# -- one entry point for the pages and the API --------------------------------------------------
def run(actor: User, instance_id: int, action: str, payload: dict[str, Any]) -> ProcessInstance:
    """Perform `action` with a request body: {"reason", "task_id" (reset), "data" (correct)}."""
    if action not in ACTIONS:
        raise NotFound("没有这个管理操作")
    reason = payload.get("reason")
    if action == "reset":
        return reset(actor, instance_id, payload.get("task_id"), reason)
    if action == "correct":
        return correct(actor, instance_id, payload.get("data"), reason)
    return {"suspend": suspend, "resume": resume, "terminate": terminate}[action](actor, instance_id, reason)
