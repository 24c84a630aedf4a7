"""Running instances: start, restore, complete, fire timers, deliver messages, save.

Instance state is stored without the spec (the spec comes from the deployed version,
compiled once per process and content hash) and with the library and serializer versions.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import SpiffWorkflow
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import EventSubprocess
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask as _SpiffServiceTask
from SpiffWorkflow.util.task import TaskState

from app import clock
from app.engine.loader import CompiledModel
from app.engine.sandbox import RestrictedEnvironment, RestrictedScriptEngine, ScriptRejected
from app.engine.state_ids import renew_task_ids

LIBRARY_VERSION = SpiffWorkflow.__version__ if hasattr(SpiffWorkflow, "__version__") else "3.2.0"


# The library fires a timer only when its instant is strictly before "now"; reading the
# clock one microsecond late makes a timer due at T fire at T (e.g. a frozen clock set to
# 00:00 of a batch opening or to the end of a deadline day).
_TIMER_TICK = timedelta(microseconds=1)


class _ClockDatetime(datetime):
    """The library reads datetime.now(timezone.utc) for timers; route it to the app clock."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        current = clock.now() + _TIMER_TICK
        return current.astimezone(tz) if tz else current.astimezone(UTC).replace(tzinfo=None)


_timer_module.datetime = _ClockDatetime


def _execute_service(self, task) -> bool:
    """A service task without a resultVariable merges the service's outputs into the task data.

    The library stores every result under one variable (``spiff__<id>_result`` by default), so a
    diagram would need a post-script to unpack each service's outputs; our services return flat
    dicts of result fields, and a named resultVariable keeps the library's behaviour.
    """
    result = json.loads(task.workflow.script_engine.call_service(
        task, operation_name=self.operation_name, operation_params=self.evaluate_params(task)))
    if self.result_variable.startswith("spiff__") and isinstance(result, dict):
        task.data.update(result)
    else:
        task.data[self.result_variable] = result
    return True


_SpiffServiceTask._execute = _execute_service
_spiff_message_update = MessageEventDefinition.update_task_data


def _message_update_task_data(self, my_task) -> None:
    """A message catch without a messageVariable merges a dict payload into the task data,
    as a service task without a resultVariable does; with a variable, the library's way."""
    if self.message_var is None and isinstance(my_task.internal_data.get(self.name), dict):
        my_task.data.update(copy.deepcopy(my_task.internal_data.pop(self.name)))
        return
    _spiff_message_update(self, my_task)


MessageEventDefinition.update_task_data = _message_update_task_data


class EngineError(Exception):
    """A script, condition, decision or timer failed while the engine ran."""

    def __init__(self, message: str, bpmn_id: str | None = None):
        super().__init__(message)
        self.bpmn_id = bpmn_id


@dataclass
class ReadyTask:
    guid: str
    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    ui: str | None
    due_working_days: int | None
    data: dict[str, Any]
    due_expression: str | None = None


@dataclass
class StepRecord:
    bpmn_id: str
    name: str
    kind: str


@dataclass
class ThrownMessage:
    """A message thrown by the diagram that no task of this instance caught: the app routes it.

    The payload expression of a throw event returns a dict; its ``correlate`` entry says which
    waiting instances receive it (matched against their subscriptions), the rest is the payload.
    """

    name: str
    correlation: dict[str, Any]
    payload: dict[str, Any]


@dataclass
class Case:
    """One instance's workflow, with what happened since it was loaded."""

    model: CompiledModel
    workflow: BpmnWorkflow
    steps: list[StepRecord] = field(default_factory=list)
    thrown: list[ThrownMessage] = field(default_factory=list)

    # -- reading -------------------------------------------------------------------------
    def status(self) -> str:
        if self.workflow.is_completed():
            return "completed"
        if self.workflow.get_tasks(state=TaskState.ERROR):
            return "error"
        if self.workflow.get_tasks(state=TaskState.READY, manual=True):
            return "running"
        return "waiting"

    def ready_user_tasks(self) -> list[ReadyTask]:
        return [self._ready(task) for task in self.workflow.get_tasks(state=TaskState.READY, manual=True)]

    def _ready(self, task) -> ReadyTask:
        spec = task.task_spec
        meta = self.model.meta["tasks"].get(spec.bpmn_id, {})
        due = meta.get("due_working_days")
        return ReadyTask(
            guid=str(task.id),
            bpmn_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane,
            form=meta.get("form"),
            ui=meta.get("ui"),
            due_working_days=int(due) if due not in (None, "") else None,
            data=copy.deepcopy(task.data),
            due_expression=meta.get("due_expression"),
        )

    def _in_event_subprocess(self, task) -> bool:
        """Event subprocesses start from a copy of old data: they and their tasks never speak for the case."""
        if self._is_event_subprocess(task.task_spec):
            return True
        workflow = task.workflow
        while workflow is not self.workflow and workflow is not None:
            parent = self.workflow.get_task_from_id(workflow.parent_task_id)
            if parent is None or self._is_event_subprocess(parent.task_spec):
                return True
            workflow = parent.workflow
        return False

    def _is_event_subprocess(self, spec) -> bool:
        # The Spiff parser builds triggered subprocesses as plain SubWorkflowTasks; the start task
        # knows them as the specs it triggers.
        return isinstance(spec, EventSubprocess) or spec.name in self.workflow.spec.start.trigger_specs

    def data(self) -> dict[str, Any]:
        """The case data as of the latest step of the main flow (the library's own bookkeeping tasks,
        such as a re-armed boundary event's split, have no BPMN id and carry no data)."""
        if self.workflow.is_completed():
            return dict(self.workflow.data)
        live = [t for t in self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)
                if getattr(t.task_spec, "bpmn_id", None) and not self._in_event_subprocess(t)]
        if live:
            latest = max(live, key=lambda t: t.last_state_change)
            return dict(latest.data)
        last = self.workflow.last_task
        return dict(last.data) if last else dict(self.workflow.data)

    def next_timer_at(self) -> datetime | None:
        due: list[datetime] = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            event = getattr(task.task_spec, "event_definition", None)
            if isinstance(event, TimerEventDefinition):
                value = task._get_internal_data("event_value")
                if isinstance(value, str):
                    try:
                        due.append(TimerEventDefinition.get_datetime(value))
                    except ValueError:
                        continue
                elif isinstance(value, dict) and value.get("next"):
                    due.append(datetime.fromisoformat(value["next"]))
        return min(due) if due else None

    def waiting_messages(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(message name, catching element id, the data at the waiting point) for each wait.

        Event subprocesses with a message start listen for as long as the instance runs (each
        message starts one more subprocess); they wait with the case's current data.
        """
        found = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            event = getattr(task.task_spec, "event_definition", None)
            if isinstance(event, MessageEventDefinition) and isinstance(task.task_spec, CatchingEvent):
                found.append((event.name, task.task_spec.bpmn_id, task.data))
        if not self.workflow.is_completed():
            current = None
            for name in self.workflow.spec.start.trigger_specs:
                for start in self.workflow.subprocess_specs[name].bpmn_start_events:
                    event = start.event_definition
                    if isinstance(event, MessageEventDefinition):
                        current = self.data() if current is None else current
                        found.append((event.name, start.bpmn_id, current))
        return found

    def live_elements(self) -> dict[str, list[str]]:
        """BPMN ids where the case stands now: "active" (ready, waiting or running) and "error".

        A boundary event armed on its activity is not a place of its own (the activity is), and
        the library's bookkeeping tasks have no BPMN id.
        """
        active: set[str] = set()
        failed: set[str] = set()
        for task in self.workflow.get_tasks(state=_LIVE | TaskState.ERROR):
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            if task.state == TaskState.ERROR:
                failed.add(bpmn_id)
            elif not (task.state == TaskState.WAITING and isinstance(task.task_spec, BoundaryEvent)):
                active.add(bpmn_id)
        return {"active": sorted(active - failed), "error": sorted(failed)}

    # -- acting --------------------------------------------------------------------------
    def correct_data(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """An administrator's correction: set case fields on every live task, where later steps
        read and carry the data on (finished tasks keep what they saw). Returns the old values."""
        if self.workflow.is_completed():
            raise LookupError("workflow completed")
        current = self.data()
        old = {key: copy.deepcopy(current.get(key)) for key in values}
        for task in self.workflow.get_tasks(state=_LIVE | TaskState.ERROR):
            # each task its own copy: the library shares nested values between tasks
            task.data.update(copy.deepcopy(dict(values)))
        return old

    def run(self) -> None:
        try:
            self.workflow.do_engine_steps(did_complete_task=self._record)
        except SpiffWorkflowException as exc:
            self._collect_thrown()  # throws that ran before the failure did happen
            raise EngineError(_describe(exc), _element(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - scripts may raise anything
            self._collect_thrown()
            raise EngineError(f"{type(exc).__name__}: {exc}") from exc
        bad = self._collect_thrown()
        if bad:
            raise EngineError(f"消息“{bad}”的内容缺少 correlate（接收方的关联条件）", bad)

    def _collect_thrown(self) -> str | None:
        """Queue the uncaught message throws; returns the name of one without a correlation."""
        bad = None
        for event in self.workflow.get_events():
            definition = event.event_definition
            if not isinstance(definition, MessageEventDefinition):
                continue
            payload = dict(event.payload) if isinstance(event.payload, Mapping) else {"value": event.payload}
            correlation = payload.pop("correlate", None)
            if not isinstance(correlation, Mapping) or not correlation:
                bad = definition.name
                continue
            self.thrown.append(ThrownMessage(definition.name, dict(correlation), payload))
        return bad

    def complete(self, guid: str, data: Mapping[str, Any]) -> ReadyTask:
        task = self.workflow.get_task_from_id(UUID(guid))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise LookupError(guid)
        done = self._ready(task)
        task.data.update(copy.deepcopy(dict(data)))
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise EngineError(_describe(exc), _element(exc)) from exc
        self.run()
        return done

    def fire_timers(self) -> None:
        try:
            self.workflow.refresh_timers()
        except SpiffWorkflowException as exc:
            raise EngineError(_describe(exc), _element(exc)) from exc
        self.run()

    def deliver(self, name: str, payload: Any) -> None:
        event = BpmnEvent(MessageEventDefinition(name), payload)
        self.workflow.catch(event)
        self.run()

    def _record(self, task) -> None:
        spec = task.task_spec
        if getattr(spec, "bpmn_id", None):
            self.steps.append(StepRecord(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, type(spec).__name__))


_FINISHED = (TaskState.COMPLETED, TaskState.CANCELLED)
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def prune_history(dct: dict[str, Any]) -> dict[str, Any]:
    """Drop the finished part of the task tree that no live task can reach back to.

    SpiffWorkflow keeps every finished task, each with a copy of the data, so a case sent back
    and resubmitted ten times stores and reloads ten rounds. History lives in our event log;
    the engine only needs the deepest common ancestor of the unfinished tasks and what lies
    below it (joins find their split there, boundary events their parent). That task becomes
    the new root, so the cost of a step stays independent of how long the case has run.
    Finished workflows, and trees whose dropped part holds a running subprocess, are left whole.
    """
    tasks: dict[str, dict[str, Any]] = dct.get("tasks") or {}
    root = dct.get("root")
    live = [tid for tid, task in tasks.items() if task.get("state") not in _FINISHED]
    if not live or root not in tasks:
        return dct

    def path(tid: str | None) -> list[str]:
        out = []
        while tid is not None:
            out.append(tid)
            tid = tasks[tid].get("parent")
        return out[::-1]

    common = path(live[0])
    for tid in live[1:]:
        other = path(tid)
        n = 0
        while n < min(len(common), len(other)) and common[n] == other[n]:
            n += 1
        common = common[:n]
    # The new root must itself be finished: a live task reads its parent's data when it runs.
    while common and tasks[common[-1]].get("state") not in _FINISHED:
        common.pop()
    if not common or common[-1] == root:
        return dct
    new_root = common[-1]
    keep: set[str] = set()
    stack = [new_root]
    while stack:
        tid = stack.pop()
        keep.add(tid)
        stack.extend(tasks[tid].get("children") or [])
    subprocesses = dct.get("subprocesses") or {}
    if any(key not in keep and not sub.get("completed") for key, sub in subprocesses.items()):
        return dct
    # Tasks store their data as a delta from the parent's; the new root needs it whole.
    data = copy.deepcopy(tasks[root].get("data") or {})
    for tid in common[1:]:
        delta = tasks[tid].get("delta") or {}
        data.update(copy.deepcopy(delta.get("updates") or {}))
        for key in delta.get("deletions") or []:
            data.pop(key, None)
    dct["tasks"] = {tid: task for tid, task in tasks.items() if tid in keep}
    dct["tasks"][new_root].update(parent=None, data=data, delta={})
    dct["root"] = new_root
    if dct.get("last_task") not in keep:
        dct["last_task"] = new_root
    if subprocesses:
        dct["subprocesses"] = {key: sub for key, sub in subprocesses.items() if key in keep}
    return dct


def _describe(exc: SpiffWorkflowException) -> str:
    notes = "；".join(getattr(exc, "notes", []) or [])
    cause = exc.__cause__ or exc.__context__  # the library raises its wrapper inside the except block
    # The sandbox's own refusals are already in Chinese; the library would prefix the class name.
    base = str(cause) if isinstance(cause, ScriptRejected) else str(exc)
    return f"{base}（{notes}）" if notes else base


def _element(exc: SpiffWorkflowException) -> str | None:
    task = getattr(exc, "task", None)
    return getattr(getattr(task, "task_spec", None), "bpmn_id", None) if task is not None else None


_SERIALIZER: list[BpmnWorkflowSerializer] = []


def _serializer() -> BpmnWorkflowSerializer:
    if not _SERIALIZER:
        _SERIALIZER.append(BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG)))
    return _SERIALIZER[0]


class Runtime:
    """Creates script engines and (de)serializes instances for compiled models."""

    def __init__(
        self,
        helpers: Mapping[str, Callable[..., Any]],
        service_handler: Callable[[str, dict[str, Any], dict[str, Any]], Any] | None = None,
    ):
        self.helpers = dict(helpers)
        self.service_handler = service_handler
        self._serializer = _serializer()
        self._converter = self._serializer.registry

    def script_engine(self) -> RestrictedScriptEngine:
        return RestrictedScriptEngine(RestrictedEnvironment(self.helpers, self.service_handler))

    def decide(self, model: CompiledModel, decision_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Evaluate one decision table of a model on its own, outside any workflow."""
        engine = model.decisions.get(decision_id)
        if engine is None:
            raise EngineError(f"决策表 {decision_id} 不存在", decision_id)
        task = SimpleNamespace(data=dict(data), workflow=SimpleNamespace(script_engine=self.script_engine()))
        try:
            return dict(engine.result(task))
        except Exception as exc:  # noqa: BLE001 - decision cells may raise anything
            raise EngineError(f"决策表 {decision_id} 计算失败：{exc}", decision_id) from exc

    def evaluate(self, expression: str, data: Mapping[str, Any]) -> Any:
        return RestrictedEnvironment(self.helpers).evaluate(expression, dict(data))

    def start(self, model: CompiledModel, data: Mapping[str, Any]) -> Case:
        try:
            workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=self.script_engine())
        except SpiffWorkflowException as exc:
            raise EngineError(_describe(exc), _element(exc)) from exc
        start = workflow.get_tasks(state=TaskState.READY)
        for task in start:
            task.data.update(copy.deepcopy(dict(data)))
        case = Case(model, workflow)
        case.run()
        return case

    def restore(self, model: CompiledModel, state: Mapping[str, Any]) -> Case:
        version = state.get("serializer_version")
        if version != SERIALIZER_VERSION:
            raise EngineError(f"实例状态格式 {version} 与当前引擎（{SERIALIZER_VERSION}）不一致，拒绝加载")
        dct = copy.deepcopy(dict(state))
        dct.pop("serializer_version", None)
        workflow = self._workflow_from_dict(model, dct)
        workflow.script_engine = self.script_engine()
        return Case(model, workflow)

    def _workflow_from_dict(self, model: CompiledModel, dct: dict[str, Any]) -> BpmnWorkflow:
        """The library's BpmnWorkflowConverter.from_dict, but on the compiled model's own spec objects.

        The library would rebuild the whole spec from its dict on every load (and the dict had to
        be deep-copied first): about a third of a task completion. Specs are shared by every
        workflow of a model, as in `start`; only the task tree comes from the saved state.
        """
        converter = self._converter.convert_from_dict["BpmnWorkflow"].args[0].__self__
        workflow = converter.target_class(model.spec, model.subprocess_specs, deserializing=True)
        workflow.tasks = converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        converter.set_default_attributes(workflow, dct)
        converter.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self._converter.restore(dct.pop("bpmn_events", []))
        return workflow

    def restore_renewed(self, model: CompiledModel, state: Mapping[str, Any]) -> tuple[Case, dict[str, str]]:
        """Restore a saved state with fresh ids for its ready user tasks (see renew_task_ids)."""
        ready = {task.guid for task in self.restore(model, state).ready_user_tasks()}
        dct = copy.deepcopy(dict(state))
        mapping = renew_task_ids(dct, ready)
        return self.restore(model, dct), mapping

    def dump(self, case: Case) -> dict[str, Any]:
        self._converter._encoder_mode = False
        dct = self._serializer.to_dict(case.workflow)
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        dct["serializer_version"] = SERIALIZER_VERSION
        return prune_history(dct)

    # Spec dicts are derived once per compiled model and reused for every restore.
    def _spec_dict(self, model: CompiledModel) -> dict[str, Any]:
        cached = getattr(model, "_spec_dict", None)
        if cached is None:
            cached = self._converter.convert(model.spec)
            model._spec_dict = cached  # type: ignore[attr-defined]
        return copy.deepcopy(cached)

    def _subprocess_dicts(self, model: CompiledModel) -> dict[str, Any]:
        cached = getattr(model, "_sub_dicts", None)
        if cached is None:
            cached = {k: self._converter.convert(v) for k, v in model.subprocess_specs.items()}
            model._sub_dicts = cached  # type: ignore[attr-defined]
        return copy.deepcopy(cached)

