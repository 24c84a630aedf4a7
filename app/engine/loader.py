"""Load, validate and compile process models from their source files.

A model is a folder under bpmn/ with a `model.json` (id, name, plan year, lanes, who may
start it, result fields), one BPMN file and any DMN files; user-task forms live under
forms/ and are referenced by the SpiffArena properties `formJsonSchemaFilename` and
`formUiSchemaFilename`. A deployed version keeps copies of every file it uses.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from app.engine import bpmn_checks, dmn_checks
from app.engine.sandbox import ScriptRejected, compile_expression, compile_script
from app.engine.xmlsafe import UnsafeXml, parse_xml

FORM_SCHEMA_PROP = "formJsonSchemaFilename"
FORM_UI_PROP = "formUiSchemaFilename"
DUE_PROP = "dueWorkingDays"
# A Python expression over the task data returning the due date (a date or YYYY-MM-DD), e.g.
# add_working_days(meeting_date, -5); it wins over dueWorkingDays.
DUE_DATE_PROP = "dueDate"
# A task page may show a domain panel (e.g. the eligibility results, the vote table) beside its form.
PANEL_PROP = "panel"
SERVICES = frozenset({"issue_certificate"})
# SpiffWorkflow runs UNIQUE as "first match" and COLLECT; FIRST is run as UNIQUE (see _run_first_as_unique).
HIT_POLICIES = {"UNIQUE": "至多一条规则命中", "FIRST": "按顺序取第一条命中的规则", "COLLECT": "收集所有命中的规则"}
# An ISO 8601 duration, date or repetition written bare: Python reads it as a name or as arithmetic.
_BARE_ISO = re.compile(r"(R\d*/)?(P(\d|T)[0-9YMWDTHS.]*|\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?([+-]\d{2}:?\d{2}|Z)?)")


@dataclass(frozen=True)
class Problem:
    file: str
    element_id: str
    message: str
    severity: str = "error"  # or "warning": shown, but does not stop a model from being published

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "element_id": self.element_id, "message": self.message,
                "severity": self.severity}


class ModelInvalid(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("；".join(f"{p.file} {p.element_id}: {p.message}" for p in problems))
        self.problems = problems


@dataclass
class CompiledModel:
    process_id: str
    name: str
    content_hash: str
    spec: Any
    subprocess_specs: dict[str, Any]
    meta: dict[str, Any]
    files: dict[str, str] = field(repr=False, default_factory=dict)
    decisions: dict[str, Any] = field(repr=False, default_factory=dict)


def content_hash(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].encode())
        digest.update(b"\0")
    return digest.hexdigest()


def read_model_folder(folder: Path, forms_dir: Path) -> dict[str, str]:
    """Collect the files of one model folder (with its scenarios/*.json) plus the forms its user tasks reference."""
    files: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix in {".bpmn", ".dmn", ".json"}:
            files[path.name] = path.read_text(encoding="utf-8")
    # Scenario tests (app/services/scenarios.py) travel with the model; compile_model ignores them.
    scenarios = folder / "scenarios"
    if scenarios.is_dir():
        for path in sorted(scenarios.glob("*.json")):
            files[f"scenarios/{path.name}"] = path.read_text(encoding="utf-8")
    for form_name in _referenced_forms(files):
        form_path = forms_dir / form_name
        if form_path.is_file():
            files[f"forms/{form_name}"] = form_path.read_text(encoding="utf-8")
    return files


def _referenced_forms(files: Mapping[str, str]) -> list[str]:
    names: set[str] = set()
    for name, text in files.items():
        if not name.endswith(".bpmn"):
            continue
        try:
            tree = parse_xml(text)
        except UnsafeXml:
            continue
        for prop in tree.iter("{http://spiffworkflow.org/bpmn/schema/1.0/core}property"):
            if prop.get("name") in {FORM_SCHEMA_PROP, FORM_UI_PROP} and prop.get("value"):
                names.add(prop.get("value"))
    return sorted(names)


def _dry_run_names(expression: str) -> set[str]:
    tree = ast.parse(expression.strip(), mode="eval")
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _rejected(exc: ScriptRejected) -> str:
    """RestrictedPython reports syntax errors and refusals alike; tell the owner which it is."""
    return "语法错误" if "SyntaxError" in str(exc) else "不符合受限环境要求"


RESERVED_IDS = frozenset({"Start", "End", "Root"})


class _Validator:
    def __init__(self, files: Mapping[str, str], trees: Mapping[str, Any], helpers: Mapping[str, Any], evaluate,
                 services: frozenset[str] = SERVICES, panels: frozenset[str] = frozenset()):
        self.files = files
        self.helpers = helpers
        self.evaluate = evaluate
        self.services = services
        self.panels = panels
        self.problems: list[Problem] = []
        self.bpmn_file = next((n for n in files if n.endswith(".bpmn")), "")
        # Which file holds each element, and the id of each sequence flow by (source, target):
        # the parsed specs know neither, and a problem should point at what the owner edits.
        self.element_files: dict[str, str] = {}
        self.flows: dict[tuple[str, str], str] = {}
        for name in sorted(trees):
            for element in trees[name].getroot().iter():
                ident = element.get("id")
                if not ident:
                    continue
                self.element_files.setdefault(ident, name)
                if isinstance(element.tag, str) and element.tag.endswith("}sequenceFlow"):
                    self.flows[(element.get("sourceRef") or "", element.get("targetRef") or "")] = ident

    def add(self, element_id: str, message: str, file: str | None = None) -> None:
        where = file if file is not None else self.element_files.get(element_id, self.bpmn_file)
        self.problems.append(Problem(where, element_id, message))

    def check_expression(self, element_id: str, source: str | None, what: str, file: str | None = None) -> None:
        if not source or not source.strip():
            return
        try:
            compile_expression(source)
        except ScriptRejected as exc:
            self.add(element_id, f"{what}{_rejected(exc)}：{exc}", file)
        except SyntaxError as exc:
            self.add(element_id, f"{what}语法错误：{exc.msg}", file)

    def check_script(self, element_id: str, source: str | None, what: str = "脚本") -> None:
        if not source or not source.strip():
            return
        try:
            compile_script(source)
        except ScriptRejected as exc:
            self.add(element_id, f"{what}{_rejected(exc)}：{exc}")
        except SyntaxError as exc:
            self.add(element_id, f"{what}语法错误：{exc.msg}（第 {exc.lineno} 行）")

    def check_timer(self, element_id: str, expression: str, samples: Mapping[str, Any]) -> None:
        if _BARE_ISO.fullmatch((expression or "").strip()):
            text = expression.strip()
            self.add(element_id, f"定时器表达式是 Python 表达式，ISO 8601 的时长或时间须加引号：应写作 \"{text}\"，而不是 {text}")
            return
        before = len(self.problems)
        self.check_expression(element_id, expression, "定时器表达式")
        if len(self.problems) > before:
            return
        names = _dry_run_names(expression) - set(self.helpers)
        missing = sorted(n for n in names if n not in samples)
        if missing:
            self.add(element_id, f"定时器表达式无法试算：model.json 的 timer_samples 缺少 {', '.join(missing)}")
            return
        try:
            value = self.evaluate(expression, {n: samples[n] for n in names})
            TimerEventDefinition.parse_time_or_duration(str(value))
        except Exception as exc:  # noqa: BLE001 - every failure is a problem to report
            self.add(element_id, f"定时器表达式试算失败：{exc}")

    def check_payload(self, element_id: str, message: str, expression: str | None) -> None:
        """A thrown message's payload is a dict display with a ``correlate`` entry naming its receivers."""
        if not expression or not expression.strip():
            self.add(element_id, f"发送的消息“{message}”缺少消息内容（messagePayload），须包含 correlate")
            return
        before = len(self.problems)
        self.check_expression(element_id, expression, "消息内容")
        if len(self.problems) > before:
            return
        tree = ast.parse(expression.strip(), mode="eval").body
        keys = {k.value for k in getattr(tree, "keys", []) if isinstance(k, ast.Constant)}
        if not isinstance(tree, ast.Dict) or "correlate" not in keys:
            self.add(element_id, f"发送的消息“{message}”的内容应为字典，并包含 correlate（接收方的关联条件）")


def _load_meta(files: Mapping[str, str]) -> dict[str, Any]:
    if "model.json" not in files:
        raise ModelInvalid([Problem("model.json", "", "缺少 model.json（流程编号、名称、泳道映射）")])
    try:
        meta = json.loads(files["model.json"])
    except json.JSONDecodeError as exc:
        raise ModelInvalid([Problem("model.json", "", f"JSON 格式错误：{exc.msg}（第 {exc.lineno} 行）")]) from exc
    for key in ("id", "name", "lanes", "starter_roles"):
        if key not in meta:
            raise ModelInvalid([Problem("model.json", "", f"缺少字段 {key}")])
    keys = meta.get("correlation_keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        raise ModelInvalid([Problem("model.json", "correlation_keys", "correlation_keys 应为变量名列表")])
    return meta


def _parse(files: Mapping[str, str], meta: Mapping[str, Any]) -> tuple[SpiffBpmnParser, dict[str, Any]]:
    """The parser holding every file, and the parsed tree of each BPMN file."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    trees: dict[str, Any] = {}
    problems: list[Problem] = []
    for name in sorted(files):
        if not (name.endswith(".dmn") or name.endswith(".bpmn")):
            continue
        try:
            tree = parse_xml(files[name])
            if name.endswith(".dmn"):
                parser.add_dmn_xml(tree.getroot(), filename=name)
                continue
            # Checked before the parser sees the file: it would fail on these in English, or not at all.
            structure = bpmn_checks.structure_problems(tree.getroot())
            problems += [Problem(name, ident, message) for ident, message in structure]
            if not structure:
                parser.add_bpmn_xml(tree, filename=name)
                trees[name] = tree
        except UnsafeXml as exc:
            problems.append(Problem(name, "", str(exc)))
        except ValidationException as exc:
            problems.append(Problem(name, exc.id or "", f"模型校验失败：{exc}"))
        except SpiffWorkflowException as exc:
            problems.append(Problem(name, "", f"模型解析失败：{exc}"))
    if problems:
        raise ModelInvalid(problems)
    if not any(n.endswith(".bpmn") for n in files):
        raise ModelInvalid([Problem("", "", "缺少 BPMN 文件")])
    if meta["id"] not in parser.get_process_ids():
        raise ModelInvalid([Problem("model.json", meta["id"], "BPMN 中没有与 model.json 的 id 相同的可执行流程")])
    return parser, trees


def _form_problems(v: _Validator, element_id: str, props: Mapping[str, str]) -> None:
    for prop in (FORM_SCHEMA_PROP, FORM_UI_PROP):
        value = props.get(prop)
        if prop == FORM_SCHEMA_PROP and not value:
            v.add(element_id, "用户任务缺少表单（formJsonSchemaFilename）")
            continue
        if value and f"forms/{value}" not in v.files:
            v.add(element_id, f"找不到表单文件 forms/{value}")
            continue
        if value:
            try:
                json.loads(v.files[f"forms/{value}"])
            except json.JSONDecodeError as exc:
                v.add(element_id, f"表单 {value} 不是合法 JSON：{exc.msg}")


def _check_specs(v: _Validator, specs: Iterable[Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    lanes: Mapping[str, Any] = meta["lanes"]
    samples = meta.get("timer_samples", {})
    tasks: dict[str, Any] = {}
    for spec in specs:
        for ts in spec.task_specs.values():
            bpmn_id = getattr(ts, "bpmn_id", None)
            if not bpmn_id:
                continue
            ext = getattr(ts, "extensions", {}) or {}
            props = ext.get("properties", {}) if isinstance(ext, dict) else {}
            lane = getattr(ts, "lane", None)
            panel = props.get(PANEL_PROP)
            if panel and panel not in v.panels:
                v.add(bpmn_id, f"未知的任务面板 {panel}；可用：{'、'.join(sorted(v.panels)) or '无'}")
            if lane is not None and lane not in lanes:
                v.add(bpmn_id, f"泳道“{lane}”没有在 model.json 的 lanes 中映射到角色")
            kind = type(ts).__name__
            if kind == "UserTask" or (kind == "StartEvent" and props.get(FORM_SCHEMA_PROP)):
                _form_problems(v, bpmn_id, props)
                tasks[bpmn_id] = {
                    "name": ts.bpmn_name or bpmn_id,
                    "lane": lane,
                    "form": props.get(FORM_SCHEMA_PROP),
                    "ui": props.get(FORM_UI_PROP),
                    "due_working_days": props.get(DUE_PROP),
                    "due_expression": props.get(DUE_DATE_PROP) or None,
                    "panel": panel,
                    "kind": kind,
                }
                due = props.get(DUE_PROP)
                if due not in (None, "") and not str(due).strip().lstrip("-").isdigit():
                    v.add(bpmn_id, f"办理期限（dueWorkingDays）应为工作日数（整数），而不是“{due}”")
                v.check_expression(bpmn_id, props.get(DUE_DATE_PROP), "截止日期表达式（dueDate）")
                if kind == "UserTask" and lane is None:
                    v.add(bpmn_id, "用户任务必须位于某个泳道中，以确定办理人")
            v.check_script(bpmn_id, getattr(ts, "script", None))
            v.check_script(bpmn_id, getattr(ts, "prescript", None), "前置脚本")
            v.check_script(bpmn_id, getattr(ts, "postscript", None), "后置脚本")
            for condition, target in getattr(ts, "cond_task_specs", []) or []:
                source = condition.args[0] if hasattr(condition, "args") else condition
                flow_id = v.flows.get((bpmn_id, str(target)), bpmn_id)
                v.check_expression(flow_id, source, "条件表达式")
            event = getattr(ts, "event_definition", None)
            for ev in getattr(event, "event_definitions", None) or ([event] if event else []):
                if isinstance(ev, TimerEventDefinition):
                    v.check_timer(bpmn_id, ev.expression, samples)
                if isinstance(ev, MessageEventDefinition) and isinstance(ts, ThrowingEvent):
                    v.check_payload(bpmn_id, ev.name, ev.expression)
            if kind == "ServiceTask":
                if ts.operation_name not in v.services:
                    v.add(bpmn_id, f"未知的服务 {ts.operation_name}；可用：{', '.join(sorted(v.services))}")
                for name, param in ts.operation_params.items():
                    v.check_expression(bpmn_id, param.get("value"), f"服务参数 {name} ")
            engine = getattr(ts, "dmnEngine", None)
            if engine is not None:
                _check_decision(v, engine.decision_table)
    return tasks


def _check_decision(v: _Validator, table: Any) -> None:
    dmn_files = [n for n in v.files if n.endswith(".dmn")]
    file = next((n for n in dmn_files if f'id="{table.id}"' in v.files[n]), dmn_files[0] if dmn_files else "")
    _check_hit_policy(v, table, file)
    for inp in table.inputs:
        v.check_expression(table.id, inp.expression, f"决策输入 {inp.label or inp.name} ", file)
    for rule in table.rules:
        for entry in rule.inputEntries:
            for lhs in entry.lhs:
                if lhs and lhs.strip() and lhs.strip() != "-":
                    _check_cell(v, rule, lhs, file)
        for entry in rule.outputEntries:
            if entry.text and entry.text.strip():
                try:
                    compile_expression(entry.text)
                except (ScriptRejected, SyntaxError) as exc:
                    v.add(rule.id, f"第 {rule.row_number} 行输出不合法：{exc}", file)


def _check_hit_policy(v: _Validator, table: Any, file: str) -> None:
    policy = (table.hit_policy or "UNIQUE").upper()
    if policy not in HIT_POLICIES:
        known = "、".join(f"{k}（{text}）" for k, text in HIT_POLICIES.items())
        v.add(table.id, f"不支持的命中策略 {policy}；可用：{known}", file)
        return
    if policy != "UNIQUE":
        return
    for rule, earlier in dmn_checks.overlaps(table):
        ids = "、".join(r.id for r in earlier)
        v.add(rule.id, f"第 {rule.row_number} 行与规则 {ids} 的条件重叠（UNIQUE 命中策略要求至多一条规则命中）；"
              "若应按顺序取第一条命中的规则，请把命中策略（hitPolicy）改为 FIRST", file)


def _run_first_as_unique(tables: Iterable[Any]) -> None:
    """SpiffWorkflow stops at the first matching rule only for UNIQUE; for FIRST it would evaluate
    every rule and still return the first. Run FIRST tables on the UNIQUE path: same result, and
    a later row's cell cannot fail a decision already made."""
    for table in tables:
        if (table.hit_policy or "").upper() == "FIRST":
            table.hit_policy = "UNIQUE"


def _decision_tables(specs: Iterable[Any]) -> Iterator[Any]:
    for spec in specs:
        for ts in spec.task_specs.values():
            engine = getattr(ts, "dmnEngine", None)
            if engine is not None:
                yield engine.decision_table


def _check_cell(v: _Validator, rule: Any, text: str, file: str) -> None:
    source = text.replace("?", "dmninputexpr")
    for candidate in (source, f"dmninputexpr {source}"):
        try:
            compile_expression(candidate)
            return
        except (ScriptRejected, SyntaxError) as exc:
            error = exc
    v.add(rule.id, f"第 {rule.row_number} 行条件不合法：{error}", file)


def _wire_event_subprocesses(spec: Any) -> None:
    """Give message-triggered event subprocesses the connections the library adds when one triggers.

    SpiffWorkflow connects such a subprocess to the start and end specs only at its first trigger,
    on the live spec; an instance restored from the stored spec has lost that wiring and fails
    when the subprocess completes ("No input task connected"). Wiring it at compile time, but not
    as an output of the start (that would start it with the process), keeps it working.
    """
    for name in spec.start.trigger_specs:
        subprocess = spec.task_specs[name]
        if spec.start not in subprocess.inputs:
            subprocess._connect_notify(spec.start)  # what start.connect(subprocess) does to its target
            subprocess.connect(spec.end)


def compile_model(files: Mapping[str, str], helpers: Mapping[str, Any], evaluate,
                  services: Iterable[str] = SERVICES, panels: Iterable[str] = ()) -> CompiledModel:
    """Validate every file and build the executable spec; raise ModelInvalid listing all problems.

    `services` and `panels` are the names the app provides (service-task operators, task panels).
    """
    meta = _load_meta(files)
    parser, trees = _parse(files, meta)
    v = _Validator(files, trees, helpers, evaluate, frozenset(services), frozenset(panels))
    reserved = [i for i in v.element_files if i in RESERVED_IDS or i.endswith(".EndJoin")]
    if reserved:
        # SpiffWorkflow names its own start and end specs so; an element with such an id
        # silently replaces them and the process can never start.
        raise ModelInvalid([Problem(v.element_files[i], i, f"元素编号“{i}”是引擎保留名，请改用其他编号（如 {i}Event_1）")
                            for i in reserved])
    try:
        spec = parser.get_spec(meta["id"])
        subprocess_specs = parser.get_subprocess_specs(meta["id"])
    except ValidationException as exc:
        raise ModelInvalid([Problem(exc.file_name or v.bpmn_file, exc.id or "", f"模型校验失败：{exc}")]) from exc
    _wire_event_subprocesses(spec)
    for name, tree in sorted(trees.items()):
        for ident, message in bpmn_checks.lint_problems(tree.getroot()):
            v.add(ident, message, name)
    tasks = _check_specs(v, [spec, *subprocess_specs.values()], meta)
    for lane, mapping in meta["lanes"].items():
        if not isinstance(mapping, dict) or "role" not in mapping:
            v.add(lane, "泳道映射须包含 role", "model.json")
    if v.problems:
        raise ModelInvalid(v.problems)
    decisions = {d: parser.get_engine(d, None) for d in parser.dmn_parsers}
    _run_first_as_unique([*_decision_tables([spec, *subprocess_specs.values()]),
                          *(e.decision_table for e in decisions.values())])
    start_form = next((t for t in tasks.values() if t["kind"] == "StartEvent"), None)
    derived = dict(meta)
    derived["tasks"] = tasks
    derived["start_form"] = start_form and {"form": start_form["form"], "ui": start_form["ui"]}
    return CompiledModel(
        process_id=meta["id"],
        name=meta["name"],
        content_hash=content_hash(files),
        spec=spec,
        subprocess_specs=subprocess_specs,
        meta=derived,
        files=dict(files),
        decisions=decisions,
    )
