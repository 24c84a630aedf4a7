"""Batch approval (批量同意) of several tasks of one step, where the step's form allows it.

A step allows it when approving needs nothing but the decision: its form has a `decision` field
offering `approve` for every case alike (not narrowed from the case's data, as the office's
eligibility check narrows it to what the rules allow), approving leaves no other required field
without a default, no cross-field rule checks apply, and its panel takes no input of its own.

Each task is completed through tasks.complete_task in its own transaction: one task claimed or
completed meanwhile is reported and the others still go through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessVersion, User
from app.services import forms, panels, registry, tasks
from app.services.access import can_act
from app.services.errors import DomainError, NotFound, RuleViolation

MAX_BATCH = 100
OPINION_MAX = 1000
# By content hash: a version's content fixes its forms and panels (ids may name other content later).
_allowed: dict[tuple[str, str], bool] = {}


def _form_allows(defn: forms.FormDefinition) -> bool:
    schema = defn.schema
    props = schema.get("properties", {})
    decision = props.get("decision")
    if not decision or "approve" not in forms.choice_values(decision):
        return False
    if defn.ui.get("decision", {}).get("ui:options", {}).get("enumFrom"):
        return False  # the choices depend on the case (e.g. approve only when the rules pass)
    if schema.get("x-checks"):
        return False
    needed = forms.required_fields(schema, {"decision": "approve"}) - {"decision"}
    return all("default" in props.get(name, {}) for name in needed)


def step_allows_batch(version: ProcessVersion, bpmn_id: str) -> bool:
    """Whether the tasks of this step (version, BPMN id) may be approved together."""
    key = (version.content_hash, bpmn_id)
    if key not in _allowed:
        _allowed[key] = _compute(version, bpmn_id)
    return _allowed[key]


def _compute(version: ProcessVersion, bpmn_id: str) -> bool:
    meta = (version.meta.get("tasks") or {}).get(bpmn_id) or {}
    if not meta.get("form"):
        return False
    panel = panels.get(meta.get("panel"))
    if panel is not None and (panel.take is not None or panel.apply is not None):
        return False
    try:
        defn = forms.load_definition(registry.files(version), meta.get("form"), meta.get("ui"))
    except NotFound:
        return False
    return _form_allows(defn)


def step_key(task: HumanTask) -> str:
    return f"{task.instance.version_id}:{task.bpmn_id}"


@dataclass
class Step:
    key: str
    name: str
    process: str
    task_ids: list[int] = field(default_factory=list)


def offered_steps(actor: User, rows: Iterable[HumanTask]) -> dict[str, Step]:
    """The steps among these inbox rows whose tasks the actor may approve together, by step key."""
    steps: dict[str, Step] = {}
    for task in rows:
        if task.state != "open" or not can_act(actor, task) or task.claimed_by_id not in (None, actor.id):
            continue
        if not step_allows_batch(task.instance.version, task.bpmn_id):
            continue
        key = step_key(task)
        step = steps.setdefault(key, Step(key, task.name, task.instance.version.name))
        if task.id not in step.task_ids:
            step.task_ids.append(task.id)
    return steps


@dataclass
class BatchResult:
    done: list[HumanTask] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # task id, case title, reason


def _selected(task_ids: list[int]) -> list[HumanTask]:
    if not task_ids:
        raise RuleViolation("请至少选择一项任务")
    if len(task_ids) > MAX_BATCH:
        raise RuleViolation(f"一次最多批量办理 {MAX_BATCH} 项任务，您选择了 {len(task_ids)} 项")
    rows = list(db.session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids))))
    if len(rows) != len(set(task_ids)):
        raise NotFound("所选任务中有不存在的任务，请刷新后重试")
    if len({step_key(t) for t in rows}) > 1:
        raise RuleViolation("一次只能批量同意同一环节的任务，请分别提交")
    if not step_allows_batch(rows[0].instance.version, rows[0].bpmn_id):
        raise RuleViolation(f"“{rows[0].name}”的表单需要逐项填写，不能批量同意")
    return sorted(rows, key=lambda t: task_ids.index(t.id))


def _answer(task: HumanTask, opinion: str) -> dict[str, Any]:
    meta = task.instance.version.meta["tasks"][task.bpmn_id]
    defn = forms.load_definition(registry.files(task.instance.version), meta.get("form"), meta.get("ui"))
    data: dict[str, Any] = {"decision": "approve"}
    if opinion and "opinion" in defn.schema.get("properties", {}):
        data["opinion"] = opinion
    return data


def batch_approve(actor: User, task_ids: list[int], opinion: str = "") -> BatchResult:
    """Approve the selected tasks of one step, each in its own transaction."""
    opinion = (opinion or "").strip()
    if len(opinion) > OPINION_MAX:
        raise RuleViolation(f"审核意见不能超过 {OPINION_MAX} 个字符")
    ids = list(dict.fromkeys(task_ids))
    rows = _selected(ids)
    plan = [(t.id, t.instance.title, _answer(t, opinion)) for t in rows]
    db.session.rollback()  # nothing of the selection is kept open across the completions
    result = BatchResult()
    for task_id, title, data in plan:
        try:
            tasks.complete_task(actor, task_id, data)
        except DomainError as exc:
            db.session.rollback()
            result.failed.append((task_id, title, _reason(exc)))
            continue
        result.done.append(db.session.get(HumanTask, task_id))
    return result


def _reason(exc: DomainError) -> str:
    if exc.fields:
        details = "；".join(f"{m}" for ms in exc.fields.values() for m in ms)
        return f"{exc.message}（{details}）"
    return exc.message
