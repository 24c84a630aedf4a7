"""Scenario tests of a process model: run a draft (or any set of model files) step by step
against the real services and compare what happened with what the process owner expects.

A scenario lives beside the model as `bpmn/<model>/scenarios/<name>.json` (in a version's or
draft's files: `scenarios/<name>.json`) and travels with it when it is copied for a new year::

    {
      "name": "P09 何俊：大专，助理级，莲都区审核",          # shown in the studio
      "description": "...",                                  # optional
      "setup": {...},                                        # optional, before the start (below)
      "start": {"as": "grad_liandu", "at": "2022-07-15T10:00", "data": {start form fields}},
      "steps": [
        {"task": "用人单位考核", "as": "liandu_co_hr", "data": {"decision": "approve"},
         "at": "2022-07-16", "expect_open": ["用人单位考核"]},      # task: its name or BPMN id
        {"at": "2022-08-10T00:00", "timers": true},                 # move the clock, fire due timers
        {"message": "name", "correlation": {...}, "payload": {...}, "as": "admin"},
        {"setup": {...}, "as": "city_hr"},                          # more preparation
        {"at": "2022-09-01"}                                        # only move the clock
      ],
      "expect": {"path": ["Task_employer_assess", "Task_bureau_review"],   # a subsequence, in order
                 "status": "completed", "data": {"outcome": "approved"}, "open_tasks": []}
    }

Every step may have `at` (the app clock is set there before the step; a date alone means 09:00
Asia/Shanghai that day) and `expect_open` (the open tasks of the case, names or BPMN ids, in any
order, checked before the step). `setup` registers what a case needs before it is started:
`{"ce_hours": {username: {year: [professional, public, general_public]}}}` (through the CE
service, as the step's `as`, default `admin`), `{"archive_audited": {applicant: employer HR}}`
(one achievement, submitted and audited), `{"documents": {ref: {"as": username, "name": "x.pdf"}}}`
(a placeholder upload; `"$doc:ref"` in any later data is replaced by its id) and
`{"plan_year": 2022}` (the current plan year setting) and `{"instances": [{"process": id, "as":
username, "at": optional, "data": {...}}]}` (other cases started on their current versions, e.g. the review
sessions a supervision year looks at). `"$instance_id"` in data, correlations and
payloads is the case's id. Task steps act on the scenario's own case only.

Isolation (run(..., isolated=True), the default): the run happens inside a SAVEPOINT of the
caller's database connection. For the duration, `db.session` is a session joined to that
savepoint in SQLAlchemy's "create_savepoint" mode, so the services' own commits and rollbacks
only release or roll back nested savepoints. The model files are deployed there as a version
(the process's other versions are marked retired inside the savepoint, so new instances start on
it), the clock is moved to the scenario's dates for this run's context only (app.clock.scoped: other
requests and the timer loop keep theirs), and at the end the savepoint is rolled back, the
caller's session put back and the compiled-model cache entries the run added dropped: no
instance, event, version, task or upload row remains. The caller should have no uncommitted work
it minds the scenario seeing. Runs are serialised by a lock.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.engine import ModelInvalid
from app.engine.loader import content_hash
from app.extensions import db
from app.models import Document, Event, HumanTask, ModelDraft, ProcessInstance, ProcessVersion, Setting, User
from app.services import archives, ce, instances, messages, outbox, registry, tasks, timers
from app.services.access import can_act
from app.services.errors import DomainError

PREFIX = "scenarios/"
STEP_KINDS = ("task", "timers", "message", "setup")
SETUP_KEYS = ("ce_hours", "archive_audited", "documents", "plan_year", "instances")
PATH_EVENTS = ("task_completed", "step_completed")
RESULT_KEY = "scenario_run:{draft_id}"
_RUN_LOCK = threading.RLock()


class ScenarioInvalid(Exception):
    """A scenario file is not a valid scenario; `problems` as [{file, element_id, message}]."""

    def __init__(self, problems: list[dict[str, str]]):
        super().__init__("；".join(f"{p['file']}：{p['message']}" for p in problems))
        self.problems = problems


@dataclass
class Scenario:
    file: str
    name: str
    description: str
    start: dict[str, Any]
    steps: list[dict[str, Any]]
    expect: dict[str, Any]
    setup: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScenarioResult:
    file: str
    name: str
    ok: bool = False
    steps_total: int = 0
    steps_done: int = 0
    path: list[str] = field(default_factory=list)
    failed_step: int | None = None  # 0: setup or start; 1..n: steps; n+1: the final expectations
    failed_description: str | None = None
    message: str | None = None
    expected: Any = None
    actual: Any = None
    status: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    open_tasks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def summary(self) -> str:
        if self.ok:
            return f"场景“{self.name}”通过（{self.steps_done} 步）"
        return f"场景“{self.name}”{self.failed_description}未通过：{self.message}"


class _Failed(Exception):
    def __init__(self, message: str, expected: Any = None, actual: Any = None):
        super().__init__(message)
        self.message, self.expected, self.actual = message, expected, actual


# -- the format ------------------------------------------------------------------------------
def scenario_files(files: Mapping[str, str]) -> list[str]:
    return sorted(n for n in files if n.startswith(PREFIX) and n.endswith(".json"))


def problems(files: Mapping[str, str]) -> list[dict[str, str]]:
    """What is wrong with the scenario files' format (empty: nothing)."""
    try:
        load(files)
    except ScenarioInvalid as exc:
        return exc.problems
    return []


def load(files: Mapping[str, str]) -> list[Scenario]:
    """The scenarios among a model's files, by file name; ScenarioInvalid lists every problem."""
    found, bad = [], []
    for name in scenario_files(files):
        try:
            found.append(_parse(name, files[name]))
        except _Failed as exc:
            bad.append({"file": name, "element_id": "", "message": exc.message})
    if bad:
        raise ScenarioInvalid(bad)
    return found


def _parse(name: str, text: str) -> Scenario:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise _Failed(f"不是有效的 JSON：{getattr(exc, 'msg', exc)}") from None
    if not isinstance(raw, dict):
        raise _Failed("应为 JSON 对象")
    start, steps, expect = raw.get("start"), raw.get("steps", []), raw.get("expect", {})
    if not isinstance(raw.get("name", ""), str):
        raise _Failed("name 应为文字")
    if not isinstance(start, dict) or not isinstance(start.get("as"), str) or not start.get("as"):
        raise _Failed("缺少 start（须含 as：发起人用户名）")
    if not isinstance(start.get("data", {}), dict):
        raise _Failed("start.data 应为对象")
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        raise _Failed("steps 应为对象数组")
    if not isinstance(expect, dict):
        raise _Failed("expect 应为对象")
    setup = raw.get("setup", {})
    _check_setup(setup, "setup")
    _check_at(start.get("at"), "start.at")
    for index, step in enumerate(steps, start=1):
        _check_step(index, step)
    for key in ("path", "open_tasks"):
        if key in expect and not (isinstance(expect[key], list) and all(isinstance(x, str) for x in expect[key])):
            raise _Failed(f"expect.{key} 应为文字数组")
    if "data" in expect and not isinstance(expect["data"], dict):
        raise _Failed("expect.data 应为对象")
    return Scenario(file=name, name=raw.get("name") or name[len(PREFIX):-5], description=raw.get("description", ""),
                    start=start, steps=steps, expect=expect, setup=setup)


def _check_at(value: Any, where: str) -> None:
    if value is None:
        return
    try:
        _instant(value)
    except (TypeError, ValueError):
        raise _Failed(f"{where} 应为日期 YYYY-MM-DD 或时间 YYYY-MM-DDTHH:MM，而不是 {value!r}") from None


def _check_setup(setup: Any, where: str) -> None:
    if not isinstance(setup, dict):
        raise _Failed(f"{where} 应为对象")
    unknown = [k for k in setup if k not in SETUP_KEYS]
    if unknown:
        raise _Failed(f"{where} 中有未知的准备项 {'、'.join(unknown)}；可用：{'、'.join(SETUP_KEYS)}")
    for key in ("ce_hours", "archive_audited", "documents"):
        if key in setup and not isinstance(setup[key], dict):
            raise _Failed(f"{where}.{key} 应为对象")
    others = setup.get("instances", [])
    if not isinstance(others, list) or not all(
            isinstance(o, dict) and isinstance(o.get("process"), str) and isinstance(o.get("as"), str) for o in others):
        raise _Failed(f"{where}.instances 应为数组，每项含 process（流程编号）、as（发起人）和 data")


def _check_step(index: int, step: dict[str, Any]) -> None:
    where = f"第 {index} 步"
    kinds = [k for k in STEP_KINDS if k in step]
    if len(kinds) > 1:
        raise _Failed(f"{where}同时含有 {'、'.join(kinds)}，每步只能做一件事")
    if not kinds and "at" not in step:
        raise _Failed(f"{where}应含 task、timers、message、setup 之一，或只有 at（拨动时钟）")
    _check_at(step.get("at"), f"{where}的 at")
    if "task" in step and not (isinstance(step["task"], str) and isinstance(step.get("as"), str)):
        raise _Failed(f"{where}：task（任务名称或编号）和 as（办理人用户名）应为文字")
    if "message" in step and not isinstance(step.get("correlation", {}), dict):
        raise _Failed(f"{where}：correlation 应为对象")
    if "setup" in step:
        _check_setup(step["setup"], f"{where}的 setup")
    if not isinstance(step.get("data", {}), dict):
        raise _Failed(f"{where}：data 应为对象")
    expect_open = step.get("expect_open")
    if expect_open is not None and not (isinstance(expect_open, list) and all(isinstance(x, str) for x in expect_open)):
        raise _Failed(f"{where}：expect_open 应为任务名称数组")


def _instant(value: str) -> datetime:
    value = value.strip()
    if len(value) == 10:  # a date alone: 09:00 that day, office hours
        day = datetime.fromisoformat(value).date()
        return datetime.combine(day, time(9, 0), tzinfo=clock.SHANGHAI)
    return clock.parse_instant(value)


# -- running ---------------------------------------------------------------------------------
def run(files: Mapping[str, str], scenario: Scenario, *, isolated: bool = True) -> ScenarioResult:
    """Run one scenario on `files` (a draft's or version's files). See the module docstring for
    the isolation; isolated=False runs in the caller's session and the services commit for real
    (e.g. to leave a training case behind)."""
    with _RUN_LOCK:
        if not isolated:
            with clock.scoped():
                return _Runner(dict(files), scenario).run()
        with _isolation():
            return _Runner(dict(files), scenario).run()


def run_all(files: Mapping[str, str]) -> list[ScenarioResult]:
    """Every scenario of the files, each in its own isolation; a format problem is a failed result."""
    try:
        found = load(files)
    except ScenarioInvalid as exc:
        return [ScenarioResult(file=p["file"], name=p["file"], failed_step=0, failed_description="（格式）",
                               message=p["message"]) for p in exc.problems]
    return [run(files, s) for s in found]


def failures(files: Mapping[str, str]) -> list[dict[str, str]]:
    """The scenarios that fail, as problems [{file, element_id, message}] (empty: all pass)."""
    return [{"file": r.file, "element_id": "", "message": r.summary} for r in run_all(files) if not r.ok]


@contextmanager
def _isolation() -> Iterator[None]:
    outer = db.session()
    outer.flush()
    connection = outer.connection()
    savepoint = connection.begin_nested()
    inner = Session(bind=connection, join_transaction_mode="create_savepoint", autoflush=True,
                    expire_on_commit=False)
    cached = registry.cached_ids()
    db.session.registry.set(inner)
    try:
        with clock.scoped():  # the scenario's dates are this run's only, not other requests'
            yield
    finally:
        db.session.registry.set(outer)
        inner.close()
        if savepoint.is_active:
            savepoint.rollback()
        registry.forget(registry.cached_ids() - cached)


class _Runner:
    def __init__(self, files: dict[str, str], scenario: Scenario):
        self.files = files
        self.scenario = scenario
        self.result = ScenarioResult(file=scenario.file, name=scenario.name, steps_total=len(scenario.steps))
        self.instance_id: int | None = None
        self.version: ProcessVersion | None = None
        self.docs: dict[str, str] = {}

    def run(self) -> ScenarioResult:
        sc = self.scenario
        try:
            self._step(0, "部署模型", self._deploy)
            if sc.setup:
                self._clock(sc.start.get("at"))  # setup happens at the start's time unless it says otherwise
                self._step(0, "准备数据（setup）", lambda: self._setup(sc.setup, "admin"))
            start_as = sc.start["as"]
            self._step(0, f"{start_as} 发起流程", self._start)
            for index, step in enumerate(sc.steps, start=1):
                self._step(index, f"第 {index} 步：{_describe(step)}", lambda s=step: self._do(s))
                self.result.steps_done = index
            self._step(len(sc.steps) + 1, "结果核对（expect）", self._final)
            self.result.ok = True
        except _StepOver:
            pass
        self._collect()
        return self.result

    def _step(self, index: int, description: str, action: Callable[[], None]) -> None:
        try:
            action()
        except _Failed as exc:
            self._fail(index, description, exc.message, exc.expected, exc.actual)
        except DomainError as exc:
            self._fail(index, description, _domain_text(exc))
        except Exception as exc:  # noqa: BLE001 - a broken model must give a failed result, not a 500
            self._fail(index, description, f"运行出错：{type(exc).__name__}: {exc}")

    def _fail(self, index: int, description: str, message: str, expected: Any = None, actual: Any = None) -> None:
        r = self.result
        r.failed_step, r.failed_description, r.message = index, description, message
        r.expected, r.actual = expected, actual
        raise _StepOver

    # -- the steps ---------------------------------------------------------------------------
    def _deploy(self) -> None:
        try:
            version = registry.deploy(self.files)
        except ModelInvalid as exc:
            raise _Failed("模型校验未通过：" + "；".join(
                f"{p.file} {p.element_id}：{p.message}" for p in exc.problems[:5])) from None
        # New instances start on the newest published version of the plan year: inside the
        # savepoint, this one is the only published version of its process.
        db.session.execute(update(ProcessVersion).where(
            ProcessVersion.process_id == version.process_id, ProcessVersion.id != version.id,
            ProcessVersion.status == "published").values(status="retired"), execution_options={"synchronize_session": False})
        version.status = "published"
        db.session.flush()
        self.version = version

    def _start(self) -> None:
        start = self.scenario.start
        self._clock(start.get("at"))
        actor = _user(start["as"])
        instance = instances.start_instance(actor, self.version.process_id, self._fill(start.get("data", {})))
        self.instance_id = instance.id

    def _do(self, step: dict[str, Any]) -> None:
        if "expect_open" in step:
            self._check_open(step["expect_open"], "办理前的待办任务")
        self._clock(step.get("at"))
        if "task" in step:
            self._task(step["task"], _user(step["as"]), self._fill(step.get("data", {})))
        elif step.get("timers"):
            # A timer's path may reach another timer that is already due: fire until none is.
            for _ in range(20):
                if not timers.fire_one(self.instance_id):
                    break
            outbox.dispatch()
        elif "message" in step:
            messages.deliver(_user(step.get("as", "admin")), step["message"],
                             self._fill(step.get("correlation", {})), self._fill(step.get("payload", {})))
        elif "setup" in step:
            self._setup(step["setup"], step.get("as", "admin"))

    def _task(self, name: str, actor: User, data: dict[str, Any]) -> None:
        open_rows = self._open_rows()
        matching = [t for t in open_rows if name in (t.name, t.bpmn_id)]
        if not matching:
            raise _Failed(f"没有待办任务“{name}”；当前待办：{_names(open_rows)}", name, [t.name for t in open_rows])
        mine = [t for t in matching if can_act(actor, t)]
        if not mine:
            raise _Failed(f"{actor.username} 不能办理“{name}”（办理人或机构不符）")
        tasks.complete_task(actor, mine[0].id, data)

    def _setup(self, setup: dict[str, Any], actor_name: str) -> None:
        actor = _user(actor_name)
        if "plan_year" in setup:
            db.session.merge(Setting(key="current_plan_year", value={"year": int(setup["plan_year"])}))
            db.session.commit()
        rows = [{"username": who, "year": int(year), "professional": h[0], "public": h[1], "general_public": h[2]}
                for who, years in (setup.get("ce_hours") or {}).items() for year, h in years.items()]
        if rows:
            ce.upsert(actor, rows)
        for applicant, employer in (setup.get("archive_audited") or {}).items():
            person = _user(applicant)
            if not archives.is_audited(person):
                archives.add_achievement(person, {"kind": "论文", "title": "场景测试业绩", "achieved_on": "2020-05-01",
                                                  "description": "场景测试用", "attachments": []})
                archives.submit_for_audit(person)
                archives.audit(_user(employer), person.id, "approve", "场景测试：业绩属实")
        for other in setup.get("instances") or []:
            self._clock(other.get("at"))
            instances.start_instance(_user(other["as"]), other["process"], self._fill(other.get("data") or {}))
        for ref, spec in (setup.get("documents") or {}).items():
            self.docs[ref] = _placeholder_document(_user(spec.get("as", actor_name)), spec.get("name") or f"{ref}.pdf")

    def _final(self) -> None:
        expect = self.scenario.expect
        instance = db.session.get(ProcessInstance, self.instance_id)
        db.session.refresh(instance)
        if "path" in expect:
            missing = _not_subsequence(expect["path"], self._path())
            if missing is not None:
                raise _Failed(f"路径中缺少（或顺序不符）“{missing}”；实际路径：{' → '.join(self._path()) or '（空）'}",
                              expect["path"], self._path())
        if "status" in expect and instance.status != expect["status"]:
            raise _Failed(f"流程状态：期望 {expect['status']}，实际 {instance.status}", expect["status"], instance.status)
        for key, wanted in (expect.get("data") or {}).items():
            actual = (instance.data or {}).get(key, "（无此字段）")
            if actual != wanted:
                raise _Failed(f"结果字段 {key}：期望 {_show(wanted)}，实际 {_show(actual)}", wanted, actual)
        if "open_tasks" in expect:
            self._check_open(expect["open_tasks"], "结束时的待办任务")

    # -- helpers -----------------------------------------------------------------------------
    def _clock(self, at: str | None) -> None:
        if at:
            clock.set_scoped(_instant(at))

    def _open_rows(self) -> list[HumanTask]:
        return list(db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == self.instance_id, HumanTask.state == "open").order_by(HumanTask.id)))

    def _check_open(self, wanted: list[str], what: str) -> None:
        rows = self._open_rows()
        left = list(rows)
        for name in wanted:
            hit = next((t for t in left if name in (t.name, t.bpmn_id)), None)
            if hit is None:
                raise _Failed(f"{what}：期望 {_names_of(wanted)}，实际 {_names(rows)}", wanted, [t.name for t in rows])
            left.remove(hit)
        if left:
            raise _Failed(f"{what}：期望 {_names_of(wanted)}，实际 {_names(rows)}", wanted, [t.name for t in rows])

    def _path(self) -> list[str]:
        if self.instance_id is None:
            return []
        rows = db.session.execute(select(Event.bpmn_id).where(
            Event.instance_id == self.instance_id, Event.type.in_(PATH_EVENTS), Event.bpmn_id.is_not(None))
            .order_by(Event.id)).scalars()
        starts = [k for k, t in (self.version.meta.get("tasks") or {}).items() if t.get("kind") == "StartEvent"]
        return starts[:1] + list(rows)

    def _fill(self, value: Any) -> Any:
        if isinstance(value, str):
            if value == "$instance_id":
                return self.instance_id
            if value.startswith("$doc:"):
                ref = value[5:]
                if ref not in self.docs:
                    raise _Failed(f"未在 setup.documents 中准备附件 {ref}")
                return self.docs[ref]
            return value
        if isinstance(value, list):
            return [self._fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self._fill(v) for k, v in value.items()}
        return value

    def _collect(self) -> None:
        r = self.result
        if self.instance_id is None:
            return
        try:
            instance = db.session.get(ProcessInstance, self.instance_id)
            if instance is not None:
                db.session.refresh(instance)
                r.status, r.data = instance.status, dict(instance.data or {})
            r.open_tasks = [t.name for t in self._open_rows()]
            r.path = self._path()
        except Exception:  # noqa: BLE001 - the session may be unusable after a failed step
            db.session.rollback()


class _StepOver(Exception):
    """The run stopped at a failed step (recorded in the result)."""


def _user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    if found is None:
        raise _Failed(f"用户 {username} 不存在（场景使用演示用户）")
    return found


def _placeholder_document(owner: User, name: str) -> str:
    doc = Document(id=str(uuid.uuid4()), name=name[:255], size=0, content_type="application/pdf",
                   sha256="0" * 64, uploaded_by_id=owner.id, created_at=clock.now(), kind="upload")
    db.session.add(doc)
    db.session.commit()
    return doc.id


def _not_subsequence(wanted: list[str], actual: list[str]) -> str | None:
    """The first expected id not found in order, or None."""
    position = 0
    for item in wanted:
        try:
            position = actual.index(item, position) + 1
        except ValueError:
            return item
    return None


def _describe(step: Mapping[str, Any]) -> str:
    at = f"（{step['at']}）" if step.get("at") else ""
    if "task" in step:
        return f"{step.get('as')} 办理“{step['task']}”{at}"
    if step.get("timers"):
        return f"时钟拨到 {step.get('at', '当前时间')}，触发到期定时器"
    if "message" in step:
        return f"发送消息“{step['message']}”{at}"
    if "setup" in step:
        return f"准备数据{at}"
    return f"时钟拨到 {step.get('at')}"


def _domain_text(exc: DomainError) -> str:
    fields = "；".join(f"{k}：{'、'.join(v)}" for k, v in (exc.fields or {}).items())
    return f"{exc.message}（{fields}）" if fields else exc.message


def _names(rows: list[HumanTask]) -> str:
    return _names_of([t.name for t in rows])


def _names_of(names: list[str]) -> str:
    return "、".join(f"“{n}”" for n in names) if names else "无"


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


# -- drafts in the studio --------------------------------------------------------------------
def _key(draft: ModelDraft) -> str:
    return RESULT_KEY.format(draft_id=draft.id)


def run_draft(draft: ModelDraft, actor: User) -> dict[str, Any]:
    """Run every scenario of a draft and keep the results as its last run. Commits."""
    from app.services import drafts

    drafts.require_manager(actor)
    files = dict(draft.files or {})
    results = run_all(files)
    record = {"hash": content_hash(files), "ran_at": clock.wall_now().isoformat(),
              "by": actor.username, "results": [r.as_dict() for r in results]}
    db.session.merge(Setting(key=_key(draft), value=record))
    db.session.commit()
    return _view(record, files)


def last_run(draft: ModelDraft) -> dict[str, Any] | None:
    """The draft's last run: {ran_at, by, fresh (the files have not changed since), ok, results}."""
    row = db.session.get(Setting, _key(draft))
    if row is None or not isinstance(row.value, dict):
        return None
    return _view(row.value, dict(draft.files or {}))


def _view(record: Mapping[str, Any], files: Mapping[str, str]) -> dict[str, Any]:
    results = list(record.get("results") or [])
    return {"ran_at": record.get("ran_at"), "by": record.get("by"),
            "fresh": record.get("hash") == content_hash(files),
            "ok": all(r.get("ok") for r in results), "results": results,
            "paths": {r["file"]: r.get("path") or [] for r in results}}
