"""Moving a saved instance state onto another version of its model.

The library addresses task specs by name (the BPMN id), so a state saved against one version can
be read against another if every spec it relies on still exists. What the instance has already
done is kept exactly: finished tasks, the live tasks (same ids, data and internal data, so a
running timer keeps its due date and an inbox row keeps its task) and their place in the tree.
Only the predictions below the live tasks (the FUTURE/LIKELY/MAYBE tasks the library builds
ahead of time) are dropped and predicted again from the new spec, so the instance follows the
new version from where it stands.

``plan`` says, element by element, what would block the move; ``rebuild`` performs it on a copy
and round-trips the result through the serializer (the final check).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from app.engine.loader import CompiledModel
from app.engine.runtime import SERIALIZER_VERSION, Case, EngineError, Runtime, _describe

FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
PREDICTED = TaskState.MAYBE | TaskState.LIKELY | TaskState.FUTURE
# Live tasks whose predicted descendants are predicted again from the new spec.
REPREDICT = TaskState.READY | TaskState.WAITING
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR

TYPE_LABELS = {
    "UserTask": "用户任务",
    "ManualTask": "人工任务",
    "ScriptTask": "脚本任务",
    "ServiceTask": "服务任务",
    "BusinessRuleTask": "决策任务",
    "SendTask": "发送任务",
    "ReceiveTask": "接收任务",
    "NoneTask": "任务",
    "ExclusiveGateway": "排他网关",
    "ParallelGateway": "并行网关",
    "InclusiveGateway": "包容网关",
    "EventBasedGateway": "事件网关",
    "StartEvent": "开始事件",
    "EndEvent": "结束事件",
    "IntermediateCatchEvent": "中间捕获事件",
    "IntermediateThrowEvent": "中间抛出事件",
    "BoundaryEvent": "边界事件",
    "SubWorkflowTask": "子流程",
    "CallActivity": "调用活动",
    "TransactionSubprocess": "事务子流程",
}


@dataclass
class MigrationPlan:
    """What moving one saved state onto a new model version would do.

    problems: reasons (in Chinese, each naming the element by id and name) the move is unsafe.
    mapping: old task spec name → new task spec name for every spec the saved tree references
        (by name, so identity where the spec exists).
    repredicted: specs of predicted tasks that are dropped and predicted again from the new spec.
    live: "id（name）" of the live elements the instance keeps.
    """

    problems: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    repredicted: list[str] = field(default_factory=list)
    live: list[str] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return not self.problems


def type_label(typename: str | None) -> str:
    return TYPE_LABELS.get(typename or "", typename or "未知")


def spec_dicts(runtime: Runtime, model: CompiledModel) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's top spec and subprocess specs as the serializer writes them."""
    return runtime._spec_dict(model), runtime._subprocess_dicts(model)


class _Specs:
    """The task specs of one workflow (top level or subprocess) of one version."""

    def __init__(self, spec: Mapping[str, Any] | None):
        self.task_specs: dict[str, Any] = dict((spec or {}).get("task_specs") or {})

    def get(self, name: str) -> dict[str, Any] | None:
        return self.task_specs.get(name)

    def label(self, name: str) -> str:
        spec = self.task_specs.get(name) or {}
        if spec.get("bpmn_id"):
            return f"{spec['bpmn_id']}（{spec.get('bpmn_name') or spec['bpmn_id']}）"
        base, _, _ = name.partition(".")
        if base != name and self.task_specs.get(base, {}).get("bpmn_id"):
            return f"{self.label(base)}的内部节点 {name}"
        return name


def _has(state: int, mask: int) -> bool:
    return bool(state & mask)


def _predicted_below_live(tasks: Mapping[str, Any]) -> set[str]:
    """Ids of the predicted tasks hanging below a READY or WAITING task (they are rebuilt)."""
    out: set[str] = set()
    for task in tasks.values():
        if not _has(task["state"], REPREDICT):
            continue
        stack = list(task.get("children") or [])
        while stack:
            tid = stack.pop()
            child = tasks.get(tid)
            if child is None or not _has(child["state"], PREDICTED) or tid in out:
                continue
            out.add(tid)
            stack.extend(child.get("children") or [])
    return out


def _workflows(state: Mapping[str, Any], old: tuple[dict[str, Any], dict[str, Any]],
               new: tuple[dict[str, Any], dict[str, Any]], problems: list[str]):
    """(saved workflow dict, old specs, new specs) for the top level and each running subprocess."""
    (old_top, old_subs), (new_top, new_subs) = old, new
    yield state, _Specs(old_top), _Specs(new_top)
    top_tasks = state.get("tasks") or {}
    for key, sub in (state.get("subprocesses") or {}).items():
        name = sub.get("spec")
        parent = top_tasks.get(key)
        parent_name = parent.get("task_spec") if parent else None
        new_parent = (new_top.get("task_specs") or {}).get(parent_name or "") or {}
        new_name = new_parent.get("spec")
        if new_name is not None and new_name != name:
            problems.append(f"子流程 {parent_name} 在新版本中改为引用 {new_name}（原为 {name}）")
            continue
        if name not in new_subs:
            problems.append(f"子流程 {name} 在新版本中不存在")
            continue
        yield sub, _Specs(old_subs.get(name)), _Specs(new_subs.get(name))


def plan(runtime: Runtime, old: CompiledModel, new: CompiledModel, state: Mapping[str, Any],
         passed: Iterable[str] = ()) -> MigrationPlan:
    """Check, element by element, whether ``state`` (saved against ``old``) can move to ``new``.

    ``passed``: BPMN ids of elements the instance completed earlier (from its history), checked
    like the finished tasks still in the saved tree (the tree keeps only its recent part).
    """
    result = MigrationPlan()
    old_top, old_subs = spec_dicts(runtime, old)
    new_top, new_subs = spec_dicts(runtime, new)
    checked: set[str] = set()
    seen_problems: set[str] = set()

    def problem(text: str) -> None:
        if text not in seen_problems:
            seen_problems.add(text)
            result.problems.append(text)

    sub_problems: list[str] = []
    for wf, o_specs, n_specs in _workflows(state, (old_top, old_subs), (new_top, new_subs), sub_problems):
        tasks: dict[str, Any] = wf.get("tasks") or {}
        rebuilt = _predicted_below_live(tasks)
        for tid, task in tasks.items():
            name = task["task_spec"]
            st = task["state"]
            label = o_specs.label(name)
            before = o_specs.get(name) or {}
            after = n_specs.get(name)
            checked.add(name)
            if tid in rebuilt:
                if after is None or after.get("typename") != before.get("typename"):
                    result.repredicted.append(label)
                continue
            if after is not None:
                result.mapping[name] = name
            if _has(st, FINISHED):
                if after is None:
                    problem(f"已完成的环节 {label}在新版本中已删除")
                    continue
                if after.get("typename") != before.get("typename"):
                    problem(f"已完成的环节 {label}在新版本中类型已改变（{type_label(before.get('typename'))} → "
                            f"{type_label(after.get('typename'))}）")
                    continue
                outputs = set(after.get("outputs") or [])
                for cid in task.get("children") or []:
                    child = tasks.get(cid)
                    if child is None or child.get("triggered") or _has(child["state"], TaskState.MAYBE | TaskState.LIKELY):
                        continue
                    if child["task_spec"] not in outputs:
                        problem(f"已完成的环节 {label}之后的流转在新版本中已改变（原去向 "
                                f"{o_specs.label(child['task_spec'])}不再与之相连）")
            elif _has(st, LIVE):
                result.live.append(label)
                if after is None:
                    problem(f"当前环节 {label}在新版本中不存在")
                    continue
                if after.get("typename") != before.get("typename"):
                    problem(f"当前环节 {label}在新版本中类型已改变（{type_label(before.get('typename'))} → "
                            f"{type_label(after.get('typename'))}）")
                    continue
                if before.get("manual") and before.get("lane") != after.get("lane"):
                    problem(f"当前环节 {label}的办理泳道在新版本中已改变（{before.get('lane') or '无'} → "
                            f"{after.get('lane') or '无'}）")
                if _has(st, TaskState.WAITING) and before.get("event_definition") != after.get("event_definition"):
                    problem(f"等待中的事件 {label}在新版本中已改变（{_event_text(before)} → {_event_text(after)}）")
                if before.get("spec") != after.get("spec"):
                    problem(f"当前环节 {label}在新版本中引用的子流程已改变")
            else:  # a prediction that cannot be rebuilt from a live task
                if after is None:
                    problem(f"后续环节 {label}在新版本中不存在")
                else:
                    result.mapping[name] = name
    for text in sub_problems:
        problem(text)

    # Elements completed earlier than the saved tree reaches back.
    old_all = [_Specs(old_top), *(_Specs(s) for s in old_subs.values())]
    new_all = [_Specs(new_top), *(_Specs(s) for s in new_subs.values())]
    for bpmn_id in dict.fromkeys(passed):
        if not bpmn_id or bpmn_id in checked:
            continue
        checked.add(bpmn_id)
        where = next((i for i, s in enumerate(old_all) if s.get(bpmn_id)), None)
        if where is None:
            continue
        o_specs = old_all[where]
        n_specs = new_all[0] if where == 0 else next((s for s in new_all[1:] if s.get(bpmn_id)), None)
        before = o_specs.get(bpmn_id) or {}
        after = n_specs.get(bpmn_id) if n_specs is not None else None
        label = o_specs.label(bpmn_id)
        if after is None:
            problem(f"已完成的环节 {label}在新版本中已删除")
        elif after.get("typename") != before.get("typename"):
            problem(f"已完成的环节 {label}在新版本中类型已改变（{type_label(before.get('typename'))} → "
                    f"{type_label(after.get('typename'))}）")
        else:
            missing = [o for o in before.get("outputs") or [] if o not in (after.get("outputs") or [])]
            if missing:
                problem(f"已完成的环节 {label}之后的流转在新版本中已改变（原去向 "
                        f"{'、'.join(o_specs.label(m) for m in missing)}不再与之相连）")
    return result


def _event_text(spec: Mapping[str, Any] | None) -> str:
    event = (spec or {}).get("event_definition") or {}
    return str(event.get("expression") or event.get("name") or event.get("typename") or "无")


def _drop(tasks: dict[str, Any], ids: set[str]) -> None:
    for tid in ids:
        tasks.pop(tid, None)
    for task in tasks.values():
        children = task.get("children") or []
        if any(c in ids for c in children):
            task["children"] = [c for c in children if c not in ids]


def rebuild(runtime: Runtime, new: CompiledModel, state: Mapping[str, Any]) -> tuple[Case, dict[str, Any]]:
    """The saved ``state`` read against ``new``, with its predictions rebuilt; and its new dump.

    Works on a copy; raises EngineError (with a Chinese message) when the state cannot be read,
    predicted or written again against the new spec.
    """
    version = state.get("serializer_version")
    if version != SERIALIZER_VERSION:
        raise EngineError(f"实例状态格式 {version} 与当前引擎（{SERIALIZER_VERSION}）不一致，不能迁移")
    dct = copy.deepcopy(dict(state))
    _drop(dct.get("tasks") or {}, _predicted_below_live(dct.get("tasks") or {}))
    for sub in (dct.get("subprocesses") or {}).values():
        _drop(sub.get("tasks") or {}, _predicted_below_live(sub.get("tasks") or {}))
    try:
        case = runtime.restore(new, dct)
        workflow = case.workflow
        for wf in [workflow, *workflow.subprocesses.values()]:
            for task in list(wf.tasks.values()):
                if task.task_spec is None:
                    raise EngineError(f"环节 {task.id} 在新版本中没有定义")
                if task.has_state(REPREDICT) and task.id in wf.tasks:
                    task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE | task.state)
        dumped = runtime.dump(case)
        runtime.restore(new, dumped)  # the final check: what we store must load again
    except EngineError:
        raise
    except SpiffWorkflowException as exc:
        raise EngineError(f"按新版本重建流程状态失败：{_describe(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - any failure of the library means "cannot move"
        raise EngineError(f"按新版本重建流程状态失败：{type(exc).__name__}: {exc}") from exc
    return case, dumped
