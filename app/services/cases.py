"""Loading, locking and saving instances; the inbox and message projections.

State, inbox rows, subscriptions and audit events change together in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app import clock
from app.engine import Case, EngineError, ReadyTask
from app.engine.runtime import LIBRARY_VERSION
from app.extensions import db
from app.models import HumanTask, InstanceCheckpoint, MessageSubscription, ProcessInstance, User, UserRole
from app.services import audit, checkpoints, deadlines, outbox, registry
from app.services.access import org_by_name
from app.services.errors import Conflict, DomainError, NotFound
from app.services.numbers import INT_MAX, is_digits


def lock(instance_id: int | None = None, *, task_id: int | None = None) -> ProcessInstance:
    """The instance row (or the instance of the task ``task_id``), locked for this transaction.

    PostgreSQL: SELECT ... FOR NO KEY UPDATE, so a second writer waits and then reads the first
    one's result; rows that merely refer to the instance (events, comments, notifications: their
    foreign-key checks) do not wait for it, which would deadlock with a writer of the instance
    waiting for their audit-chain head or task row. SQLite has no row locks: a no-op write takes
    the database's write lock, and a transaction whose snapshot is older than another writer's
    commit is refused as a conflict.
    """
    if task_id is not None:
        target = select(HumanTask.instance_id).where(HumanTask.id == task_id).scalar_subquery()
    else:
        target = instance_id
    if db.session.get_bind().dialect.name == "sqlite":
        try:
            table = ProcessInstance.__table__
            db.session.execute(update(table).where(table.c.id == target).values(lock_version=table.c.lock_version))
        except OperationalError as exc:
            db.session.rollback()
            raise Conflict("流程正由他人同时办理，请刷新后重试") from exc
    # The version comes with the lock (its files are deferred and cached by registry.files);
    # only the instance row is locked.
    # The audit chain's head comes with the lock as columns of the row read now (an instance
    # loaded earlier in this session keeps its attributes; these are the locked row's).
    found = db.session.execute(
        select(ProcessInstance, ProcessInstance.audit_seq, ProcessInstance.audit_hash)
        .where(ProcessInstance.id == target)
        .options(joinedload(ProcessInstance.version)).with_for_update(of=ProcessInstance, key_share=True)
    ).first()
    if found is None:
        raise NotFound("任务不存在" if task_id is not None else "流程实例不存在")
    instance = found[0]
    audit.held(instance.id, found.audit_seq, found.audit_hash)
    if instance.version is None or instance.version.id != instance.version_id:
        # PostgreSQL, after waiting for a writer that moved the instance to another version (a
        # migration): it re-reads the locked row only, the joined version is not the row's.
        db.session.expire(instance, ["version"])
    return instance


@contextmanager
def changing(instance_id: int | None = None, *, task_id: int | None = None) -> Iterator[ProcessInstance]:
    """One use case's change of an instance (given, or the task's): locked, then committed (and its
    messages delivered) when the body returns; rolled back on a domain error; a concurrent save is
    a Conflict."""
    try:
        instance = lock(instance_id, task_id=task_id)
        yield instance
        commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict("流程已被他人同时修改，请刷新后重试") from exc
    except DomainError:
        db.session.rollback()
        raise


def handler_for(instance: ProcessInstance, actor: User | None):
    from app.services import operations

    def handle(operation: str, params: dict[str, Any], data: dict[str, Any]) -> Any:
        return operations.call(operation, operations.Call(instance, data, params, actor))

    return handle


def commit() -> str | None:
    """Commit the use case, then deliver the messages it sent to other instances, here or (with
    Celery workers) in a worker: returns that task's id. A use case that sent none does not look;
    messages a failed delivery left behind are the sweep's to retry."""
    pending = outbox.take_pending()
    db.session.commit()
    return outbox.dispatch_after_commit() if pending else None


def load(instance: ProcessInstance, actor: User | None) -> Case:
    model = registry.compiled(instance.version)
    return registry.runtime(handler_for(instance, actor)).restore(model, instance.state)


def result_fields(instance: ProcessInstance, data: dict[str, Any]) -> dict[str, Any]:
    fields = instance.version.meta.get("result_fields") or []
    return {k: data[k] for k in fields if k in data}


def open_rows(instance: ProcessInstance) -> list[HumanTask]:
    """The instance's open inbox rows as the database has them now (read after the lock: a row
    another request completed meanwhile shows as such)."""
    return list(db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
        .execution_options(populate_existing=True)))


def save(instance: ProcessInstance, case: Case, actor: User | None, error: EngineError | None = None,
         rows: list[HumanTask] | None = None, subscribed: list[Subscription] | None = None) -> None:
    """Store the case with its inbox rows, subscriptions and audit events. Optional, to save reading
    and rewriting: ``rows``, the open rows the caller read with ``open_rows`` after taking the lock;
    ``subscribed``, ``subscriptions`` of the case as loaded."""
    data = case.data()
    rt = registry.runtime()
    instance.state = rt.dump(case)
    instance.data = result_fields(instance, data)
    _copy_tracked_fields(instance, data)
    instance.updated_at = clock.now()
    instance.next_timer_at = case.next_timer_at()
    instance.library_version = LIBRARY_VERSION
    instance.serializer_version = instance.state["serializer_version"]
    if error is not None:
        instance.status = "error"
        instance.error_message = str(error)
        audit.record("engine_error", actor=actor, instance=instance, bpmn_id=error.bpmn_id,
                     details={"message": str(error)})
    elif instance.status not in ("suspended", "terminated"):
        instance.status = case.status()
        instance.error_message = None
    if instance.status == "completed" and instance.completed_at is None:
        instance.completed_at = clock.now()
        audit.record("instance_completed", actor=actor, instance=instance,
                     details={"outcome": instance.data.get("outcome")})
    for step in case.steps:
        if step.kind not in ("UserTask", "StartEvent") and not step.kind.endswith("Gateway"):
            audit.record("step_completed", actor=None, instance=instance, bpmn_id=step.bpmn_id,
                         details={"name": step.name, "kind": step.kind})
    case.steps.clear()
    for message in case.thrown:
        outbox.enqueue(message.name, message.correlation, message.payload, source=instance)
        audit.record("message_sent", instance=instance,
                     details={"name": message.name, "correlation": message.correlation})
    case.thrown.clear()
    _project_inbox(instance, case, data, rows)
    _project_messages(instance, case, subscribed)


def _copy_tracked_fields(instance: ProcessInstance, data: dict[str, Any]) -> None:
    """The plan year, committee, outcome, title level and department as typed columns (managers
    filter and count by them)."""
    year = data.get("plan_year")
    if isinstance(year, str) and is_digits(year.strip()):
        year = int(year)
    if isinstance(year, int) and not isinstance(year, bool):
        # as the column can hold it: no year past an integer column (the flush would fail, a 500)
        instance.plan_year = year if abs(year) <= INT_MAX else None
    committee = data.get("committee")
    if isinstance(committee, str) and committee.strip():
        instance.committee = committee.strip()[:200]
    instance.outcome, instance.title_level, instance.dept_org = tracked_texts(data)


TRACKED_TEXTS = (("outcome", 40), ("title_level", 40), ("dept_org", 200))


def tracked_texts(data: dict[str, Any]) -> tuple[str | None, ...]:
    """The outcome, title level and department as their columns hold them: the text (cut to the
    column), or None when the field is missing or not text (as the JSON ->> reading gave it)."""
    return tuple(value[:size] if isinstance(value := data.get(name), str) and value else None
                 for name, size in TRACKED_TEXTS)


def _checkpoint(instance: ProcessInstance) -> InstanceCheckpoint:
    return checkpoints.create(instance)


def _project_inbox(instance: ProcessInstance, case: Case, data: dict[str, Any],
                   rows: list[HumanTask] | None = None) -> None:
    ready = {t.guid: t for t in case.ready_user_tasks()}
    if rows is None:
        open_rows = db.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
        ).all()
    else:  # those read after the lock, as they now stand, and any added since in this session
        added = [r for r in db.session.new if isinstance(r, HumanTask) and r.instance_id == instance.id]
        open_rows = [r for r in {id(r): r for r in [*rows, *added]}.values() if r.state == "open"]
    for row in open_rows:
        if row.task_guid not in ready:
            row.state = "cancelled"
            row.completed_at = clock.now()
            audit.record("task_cancelled", instance=instance, task=row)
    known = {row.task_guid for row in open_rows}
    point = None
    for guid, task in ready.items():
        if guid not in known:
            point = point or _checkpoint(instance)
            row = _new_task_row(instance, task, data)
            row.checkpoint_id = point.id
            db.session.add(row)
            db.session.flush()
            audit.record("task_created", instance=instance, task=row,
                         details={"name": row.name, "lane": row.lane, "org_id": row.org_id,
                                  "assignee_id": row.assignee_id})


def _new_task_row(instance: ProcessInstance, task: ReadyTask, data: dict[str, Any]) -> HumanTask:
    lanes = instance.version.meta.get("lanes", {})
    mapping = lanes.get(task.lane or "", {})
    row = HumanTask(
        instance_id=instance.id,
        task_guid=task.guid,
        bpmn_id=task.bpmn_id,
        name=task.name,
        lane=task.lane,
        form_key=task.form,
        state="open",
        created_at=clock.now(),
    )
    if mapping.get("assign") == "starter":
        row.assignee_id = instance.starter_id
        row.role = mapping.get("role")
        row.org_id = instance.starter.org_id
    else:
        # the task's own data first: a multi-instance task names its organisation per instance
        var = mapping.get("org_var", "")
        org = org_by_name(task.data.get(var) if task.data.get(var) is not None else data.get(var))
        row.org_id = org.id if org else None
        row.role = _role_in(org.id if org else None, [mapping.get("role"), *mapping.get("alt_roles", [])])
    row.due_date = deadlines.due_date_for(instance, task, data, row.role)
    return row


def _role_in(org_id: int | None, roles: list[str | None]) -> str | None:
    candidates = [r for r in roles if r]
    if org_id is None or not candidates:
        return candidates[0] if candidates else None
    held = set(
        db.session.scalars(select(UserRole.role).where(UserRole.org_id == org_id, UserRole.role.in_(candidates)))
    )
    return next((r for r in candidates if r in held), candidates[0])


DEFAULT_CORRELATION_KEYS = ("applicant",)


Subscription = tuple[str, str, dict[str, Any]]


def subscriptions(instance: ProcessInstance, case: Case) -> list[Subscription]:
    """(message name, catching element, correlation) for each message the case waits for."""
    keys = instance.version.meta.get("correlation_keys") or DEFAULT_CORRELATION_KEYS
    found = []
    for name, bpmn_id, data in case.waiting_messages():
        correlation = {"instance_id": instance.id}
        correlation.update({k: data[k] for k in keys if k in data and _scalar(data[k])})
        found.append((name, bpmn_id, correlation))
    return found


def _project_messages(instance: ProcessInstance, case: Case, before: list[Subscription] | None = None) -> None:
    """The subscription rows as the case now waits; ``before``: the case's subscriptions as loaded
    (the rows its last save wrote), so an unchanged set is left as it is."""
    wanted = subscriptions(instance, case)
    if before is not None and before == wanted:
        return
    db.session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
    for name, bpmn_id, correlation in wanted:
        db.session.add(MessageSubscription(instance_id=instance.id, name=name, bpmn_id=bpmn_id,
                                           correlation=correlation))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def title_for(meta: dict[str, Any], data: dict[str, Any]) -> str:
    template = meta.get("title") or meta.get("name", "")
    try:
        return template.format_map(defaultdict(str, data))[:200]
    except (ValueError, KeyError):
        return meta.get("name", "")[:200]


def correction_days() -> int:
    return int(current_app.config["CORRECTION_WORKING_DAYS"])
