"""Moving running instances to another version of their process model, in bulk, and back.

``check`` says whether an instance can move safely — nothing it has already done changes — and,
if not, why (each reason names the element by id and name). ``migrate`` moves one instance in one
transaction: the state is read against the new spec (tasks keep their ids, data and timers; only
the predicted path ahead is rebuilt), the inbox and message subscriptions are refreshed, the move
is kept in ``InstanceMigration`` (with the state before, for ``undo``) and in the instance's
history. ``start_bulk`` / ``advance`` run a selection as a background job (``jobs``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app import background, clock
from app.engine import EngineError
from app.engine import migration as engine_migration
from app.extensions import db
from app.models import (
    BackgroundJob,
    Event,
    HumanTask,
    InstanceMigration,
    ProcessInstance,
    ProcessVersion,
    User,
)
from app.services import audit, cases, drafts, jobs, registry
from app.services.errors import Conflict, FormInvalid, NotAllowed, NotFound

MIGRATABLE = ("running", "waiting", "suspended", "error")
JOB_KIND = "migrate"
MAX_BULK = 1000


@dataclass
class Verdict:
    """Whether one instance may move to ``to_version``; ``reasons`` say why not (in Chinese)."""

    instance_id: int
    from_version: int | None
    to_version: int | None
    reasons: list[str] = field(default_factory=list)
    # old task spec name → new task spec name for every spec the saved tree references
    mapping: dict[str, str] = field(default_factory=dict)
    # what the move changes without blocking it (forms updated, predictions rebuilt, …)
    notes: list[str] = field(default_factory=list)
    live: list[str] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "from_version": self.from_version, "to_version": self.to_version,
                "safe": self.safe, "reasons": list(self.reasons), "mapping": dict(self.mapping),
                "notes": list(self.notes), "live": list(self.live)}


# -- who ----------------------------------------------------------------------------------------
def may_migrate(actor: User | None) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", True)
                and actor.has_role("process_owner", "system_admin"))


def require_migrator(actor: User | None) -> None:
    if not may_migrate(actor):
        raise NotAllowed("只有流程管理员或系统管理员可以迁移流程实例")


# -- reading ------------------------------------------------------------------------------------
def versions(process_id: str) -> list[ProcessVersion]:
    rows = list(db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.process_id == process_id).order_by(ProcessVersion.version)))
    if not rows:
        raise NotFound(f"流程 {process_id} 不存在")
    return rows


version_of = drafts.version_of


def models_overview() -> list[dict[str, Any]]:
    """Per process model: its versions, with the number of instances per version and status group."""
    counts: dict[int, dict[str, int]] = {}
    for version_id, status, n in db.session.execute(
        select(ProcessInstance.version_id, ProcessInstance.status, func.count())
        .group_by(ProcessInstance.version_id, ProcessInstance.status)
    ):
        group = "open" if status in MIGRATABLE else "closed"
        counts.setdefault(version_id, {"open": 0, "closed": 0})[group] += n
    out: dict[str, dict[str, Any]] = {}
    for v in db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.version)):
        entry = out.setdefault(v.process_id, {"process_id": v.process_id, "name": v.name, "versions": []})
        entry["name"] = v.name
        entry["versions"].append({"version": v, **counts.get(v.id, {"open": 0, "closed": 0})})
    return list(out.values())


def candidates(process_id: str, from_versions: list[int] | None, limit: int = 500) -> list[ProcessInstance]:
    """Instances of the process still under way, on the given version numbers (all if None)."""
    query = (select(ProcessInstance).join(ProcessVersion, ProcessInstance.version_id == ProcessVersion.id)
             .where(ProcessInstance.process_id == process_id, ProcessInstance.status.in_(MIGRATABLE)))
    if from_versions is not None:
        query = query.where(ProcessVersion.version.in_(from_versions))
    return list(db.session.scalars(query.order_by(ProcessInstance.id).limit(limit)))


def history(instance_id: int) -> list[InstanceMigration]:
    return list(db.session.scalars(select(InstanceMigration).where(InstanceMigration.instance_id == instance_id)
                                   .order_by(InstanceMigration.id.desc())))


def latest_open(instance_id: int) -> InstanceMigration | None:
    """The latest migration of the instance that is not undone (the only one undo accepts)."""
    return db.session.scalar(select(InstanceMigration).where(InstanceMigration.instance_id == instance_id,
                                                             InstanceMigration.undone_at.is_(None))
                             .order_by(InstanceMigration.id.desc()).limit(1))


def get_migration(migration_id: int) -> InstanceMigration:
    row = db.session.get(InstanceMigration, migration_id)
    if row is None:
        raise NotFound("迁移记录不存在")
    return row


def undo_blocker(migration: InstanceMigration) -> str | None:
    """Why this migration cannot be undone now (None: it can)."""
    if migration.undone_at is not None:
        return "该迁移已撤销"
    latest = latest_open(migration.instance_id)
    if latest is None or latest.id != migration.id:
        return "只能撤销该实例最近一次迁移"
    instance = db.session.get(ProcessInstance, migration.instance_id)
    if instance is None:
        return "流程实例不存在"
    if instance.version_id != migration.to_version_id:
        return "实例当前已不在迁移后的版本上"
    if instance.lock_version != (migration.details or {}).get("lock_version"):
        return "实例在迁移后已继续办理（状态已变化），撤销会丢失之后的办理结果，不能撤销"
    return None


# -- checking -----------------------------------------------------------------------------------
def _label(version: ProcessVersion, bpmn_id: str, name: str | None = None) -> str:
    name = name or (version.meta.get("tasks", {}).get(bpmn_id, {}).get("name")) or bpmn_id
    return f"{bpmn_id}（{name}）"


def _passed(instance: ProcessInstance) -> list[str]:
    return [b for b in db.session.scalars(
        select(Event.bpmn_id).where(Event.instance_id == instance.id,
                                    Event.type.in_(("task_completed", "step_completed")),
                                    Event.bpmn_id.is_not(None)).order_by(Event.id)) if b]


def _schema(files: dict[str, str], name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    text = files.get(f"forms/{name}")
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _choices(prop: dict[str, Any]) -> list[Any] | None:
    if "oneOf" in prop:
        return [o.get("const") for o in prop["oneOf"] if isinstance(o, dict)]
    if "enum" in prop:
        return list(prop["enum"])
    return None


def _fields(props: dict[str, Any], keys: list[str]) -> str:
    return "、".join(f"{k}（{(props.get(k) or {}).get('title', k)}）" for k in keys)


def _form_findings(old: ProcessVersion, new: ProcessVersion, bpmn_id: str, name: str,
                   data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(reasons, notes) for a ready user task whose form may differ between the versions."""
    label = f"{bpmn_id}（{name}）"
    before = old.meta.get("tasks", {}).get(bpmn_id, {})
    after = new.meta.get("tasks", {}).get(bpmn_id, {})
    old_schema = _schema(old.sources["files"], before.get("form"))
    new_schema = _schema(new.sources["files"], after.get("form"))
    if old_schema is None and new_schema is None:
        return [], []
    if new_schema is None:
        return [f"当前环节 {label}的表单在新版本中不存在（{after.get('form') or '未指定'}）"], []
    if old_schema is None:
        return [], [f"当前环节 {label}在新版本中增加了表单"]
    if old_schema == new_schema and before.get("ui") == after.get("ui"):
        return [], []
    reasons: list[str] = []
    notes: list[str] = []
    old_props = old_schema.get("properties") or {}
    new_props = new_schema.get("properties") or {}
    removed = [k for k in old_props if k not in new_props]
    if removed:
        reasons.append(f"当前环节 {label}的表单在新版本中删除了字段 {_fields(old_props, removed)}")
    for key, prop in old_props.items():
        if key not in new_props:
            continue
        newer = new_props[key]
        field_label = f"{key}（{prop.get('title', key)}）"
        if prop.get("type") != newer.get("type"):
            reasons.append(f"当前环节 {label}的表单字段 {field_label}的类型已改变"
                           f"（{prop.get('type')} → {newer.get('type')}）")
            continue
        allowed = _choices(newer)
        value = data.get(key)
        if allowed is not None and value not in (None, "") and not isinstance(value, (list, dict)) \
                and value not in allowed:
            reasons.append(f"当前环节 {label}的表单字段 {field_label}已不再提供已填写的选项“{value}”")
        elif prop != newer:
            notes.append(f"当前环节 {label}的表单字段 {field_label}的说明或校验已更新")
    added = [k for k in new_props if k not in old_props]
    if added:
        notes.append(f"当前环节 {label}的表单新增字段 {_fields(new_props, added)}")
    if not reasons and not notes:
        notes.append(f"当前环节 {label}的表单已更新")
    return reasons, notes


def check(instance: ProcessInstance, target_version: ProcessVersion) -> Verdict:
    """Whether ``instance`` can move to ``target_version`` without changing anything already done."""
    current = instance.version
    verdict = Verdict(instance.id, current.version if current else None, target_version.version)
    if instance.process_id != target_version.process_id:
        verdict.reasons.append(f"目标版本属于流程 {target_version.process_id}，与实例的流程 {instance.process_id} 不同")
        return verdict
    if instance.version_id == target_version.id:
        verdict.reasons.append(f"实例已在版本 {target_version.version} 上")
        return verdict
    if target_version.status != "published":
        verdict.reasons.append(f"目标版本 {target_version.version} 已停用")
        return verdict
    if instance.status not in MIGRATABLE:
        labels = {"completed": "已办结", "terminated": "已终止"}
        verdict.reasons.append(f"实例{labels.get(instance.status, '状态为 ' + instance.status)}，不能迁移")
        return verdict
    rt = registry.runtime()
    old_model = registry.compiled(current)
    new_model = registry.compiled(target_version)
    try:
        found = engine_migration.plan(rt, old_model, new_model, instance.state, _passed(instance))
    except (KeyError, TypeError, ValueError) as exc:
        verdict.reasons.append(f"实例状态无法解读，不能迁移（{type(exc).__name__}: {exc}）")
        return verdict
    verdict.reasons.extend(found.problems)
    verdict.mapping = found.mapping
    verdict.live = found.live
    if found.repredicted:
        verdict.notes.append(f"后续环节按新版本重新推算：{'、'.join(dict.fromkeys(found.repredicted))}")
    try:
        case = cases.load(instance, None)
    except EngineError as exc:
        verdict.reasons.append(f"实例状态无法按原版本加载：{exc}")
        return verdict
    for task in case.ready_user_tasks():
        new_meta = target_version.meta.get("tasks", {}).get(task.bpmn_id, {})
        new_name = new_meta.get("name")
        if new_name and new_name != task.name:
            verdict.notes.append(f"当前环节 {task.bpmn_id} 的名称改为“{new_name}”（原“{task.name}”）")
        reasons, notes = _form_findings(current, target_version, task.bpmn_id, task.name, task.data)
        verdict.reasons.extend(r for r in reasons if r not in verdict.reasons)
        verdict.notes.extend(notes)
    if verdict.safe:
        try:
            engine_migration.rebuild(rt, new_model, instance.state)
        except EngineError as exc:
            verdict.reasons.append(str(exc) if str(exc).startswith("按新版本") else f"按新版本重建流程状态失败：{exc}")
    return verdict


# -- moving -------------------------------------------------------------------------------------
def _refresh_open_rows(instance: ProcessInstance) -> None:
    """Open inbox rows keep their task (same id); take name and form from the instance's version."""
    tasks_meta = instance.version.meta.get("tasks", {})
    for row in db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.state == "open")):
        meta = tasks_meta.get(row.bpmn_id, {})
        if meta.get("name"):
            row.name = meta["name"][:200]
        row.form_key = meta.get("form")


def _versions_text(a: int | None, b: int | None) -> str:
    return f"版本 {a} → 版本 {b}"


def _apply(instance_id: int, target_version: ProcessVersion, actor: User | None,
           job: BackgroundJob | None = None) -> InstanceMigration:
    """Move one instance inside the caller's transaction (locks it; does not commit)."""
    instance = cases.lock(instance_id)
    verdict = check(instance, target_version)
    if not verdict.safe:
        raise Conflict("不能迁移：" + "；".join(verdict.reasons), {"instance": verdict.reasons})
    source = instance.version
    before = copy.deepcopy(instance.state)
    lock_before = instance.lock_version
    rt = registry.runtime(cases.handler_for(instance, actor))
    try:
        case, _ = engine_migration.rebuild(rt, registry.compiled(target_version), instance.state)
    except EngineError as exc:
        raise Conflict(f"不能迁移：{exc}") from exc
    instance.version = target_version
    instance.version_id = target_version.id
    cases.save(instance, case, actor)
    _refresh_open_rows(instance)
    migration = InstanceMigration(
        instance_id=instance.id, from_version_id=source.id, to_version_id=target_version.id,
        job_id=job.id if job is not None else None, state_before=before,
        details={"from_version": source.version, "to_version": target_version.version,
                 "mapping": verdict.mapping, "notes": verdict.notes, "live": verdict.live},
        migrated_at=clock.now(), migrated_by_id=actor.id if actor is not None else None,
    )
    db.session.add(migration)
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict("流程实例已被他人同时修改，请稍后重试") from exc
    # the instance's row version after the move: undo is refused once the instance moves on
    migration.details = {**migration.details, "lock_version_before": lock_before,
                         "lock_version": instance.lock_version}
    audit.record("instance_migrated", actor=actor, instance=instance,
                 details={"name": _versions_text(source.version, target_version.version),
                          "from_version": source.version, "to_version": target_version.version,
                          "from_version_id": source.id, "to_version_id": target_version.id,
                          "migration_id": migration.id, "job_id": migration.job_id, "notes": verdict.notes})
    return migration


def migrate(instance: ProcessInstance, target_version: ProcessVersion, actor: User | None,
            job: BackgroundJob | None = None) -> InstanceMigration:
    """Move one instance to ``target_version`` in its own transaction; Conflict with the reasons if unsafe."""
    require_migrator(actor)
    instance_id = instance.id
    try:
        migration = _apply(instance_id, target_version, actor, job)
        cases.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict("流程实例已被他人同时修改，请稍后重试") from exc
    except Exception:
        db.session.rollback()
        raise
    return migration


def undo(migration: InstanceMigration, actor: User | None, reason: str = "") -> InstanceMigration:
    """Put the instance back on the version and state it had before ``migration``.

    Only the latest migration of the instance that is not undone, and only while the instance
    has not moved on since (its row version is still the one the migration left)."""
    require_migrator(actor)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise FormInvalid("请填写撤销原因", {"reason": ["请填写撤销原因（至少 2 个字）"]})
    if len(reason) > 500:
        raise FormInvalid("撤销原因过长", {"reason": ["不超过 500 字"]})
    migration_id = migration.id
    try:
        instance = cases.lock(migration.instance_id)
        migration = db.session.get(InstanceMigration, migration_id, populate_existing=True)
        blocker = undo_blocker(migration)
        if blocker:
            raise Conflict(f"不能撤销迁移：{blocker}")
        source = db.session.get(ProcessVersion, migration.from_version_id)
        target = instance.version
        instance.version = source
        instance.version_id = source.id
        instance.state = copy.deepcopy(migration.state_before)
        case = cases.load(instance, actor)
        cases.save(instance, case, actor)
        _refresh_open_rows(instance)
        migration.undone_at = clock.now()
        migration.undone_by_id = actor.id if actor is not None else None
        migration.details = {**(migration.details or {}), "undo_reason": reason}
        db.session.flush()
        # An earlier migration that nothing followed but this one may be undone in turn.
        earlier = latest_open(instance.id)
        if earlier is not None and (earlier.details or {}).get("lock_version") == \
                migration.details.get("lock_version_before"):
            earlier.details = {**earlier.details, "lock_version": instance.lock_version}
        audit.record("instance_migration_undone", actor=actor, instance=instance,
                     details={"name": _versions_text(target.version, source.version),
                              "from_version": target.version, "to_version": source.version,
                              "migration_id": migration.id, "reason": reason})
        cases.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict("流程实例已被他人同时修改，请稍后重试") from exc
    except Exception:
        db.session.rollback()
        raise
    return migration


# -- in bulk ------------------------------------------------------------------------------------
def start_bulk(actor: User | None, instance_ids: list[int], target_version: ProcessVersion) -> BackgroundJob:
    """A queued job moving the chosen instances to ``target_version``. Commits."""
    require_migrator(actor)
    ids = list(dict.fromkeys(int(i) for i in instance_ids))
    if not ids:
        raise FormInvalid("请至少选择一个流程实例", {"instance_ids": ["请至少选择一个流程实例"]})
    if len(ids) > MAX_BULK:
        raise FormInvalid(f"一次最多迁移 {MAX_BULK} 个实例", {"instance_ids": [f"一次最多迁移 {MAX_BULK} 个实例"]})
    if target_version.status != "published":
        raise FormInvalid("目标版本已停用", {"to": ["请选择已发布的版本"]})
    job = jobs.create(JOB_KIND, ids, actor, params={"target_version_id": target_version.id,
                                                    "process_id": target_version.process_id,
                                                    "to_version": target_version.version})
    db.session.commit()
    background.start_job(job.id)
    return job


def advance(job: BackgroundJob, batch: int = 20) -> BackgroundJob:
    """Process the next ``batch`` instances of a bulk migration (each in its own transaction)."""
    return jobs.advance(job.id, batch)


def _job_item(job: BackgroundJob, item: Any, actor: User | None) -> jobs.ItemResult:
    target = db.session.get(ProcessVersion, (job.params or {}).get("target_version_id"))
    if target is None:
        return jobs.ItemResult(False, "目标版本不存在")
    if not may_migrate(actor):
        return jobs.ItemResult(False, "发起人已无迁移权限")
    instance = db.session.get(ProcessInstance, int(item))
    if instance is None:
        return jobs.ItemResult(False, "流程实例不存在")
    verdict = check(instance, target)
    if not verdict.safe:
        return jobs.ItemResult(False, "；".join(verdict.reasons), {"title": instance.title,
                                                                   "reasons": verdict.reasons})
    migration = _apply(instance.id, target, actor, job)
    return jobs.ItemResult(True, f"已迁移（{_versions_text(migration.details['from_version'], target.version)}）",
                           {"title": instance.title, "migration_id": migration.id})


jobs.register(JOB_KIND, _job_item, "版本迁移")
