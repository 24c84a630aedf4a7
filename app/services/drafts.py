"""Process-model drafts for a plan year: copy, edit, validate, compare, publish, discard.

The process owner starts a new year by copying every published model as a draft for that
year (`copy_for_year`), edits its files (BPMN, DMN, forms, model.json), reviews the changes
against the version it was copied from (`compare_draft`) and publishes it (`publish`), which
deploys a new ProcessVersion with that plan year. New instances start on the newest version
for the current plan year (registry.for_new_instances); instances already running keep the
version they were started on.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from sqlalchemy import func, select

from app import clock
from app.engine import ModelInvalid
from app.engine.xmlsafe import UnsafeXml, parse_xml
from app.extensions import db
from app.models import ModelDraft, ProcessInstance, ProcessVersion, User
from app.services import audit, model_checks, model_diff, registry
from app.services.errors import Conflict, FormInvalid, NotAllowed, NotFound

MANAGER_ROLES = ("process_owner", "system_admin")
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_FILE_CHARS = 2 * 1024 * 1024
OPEN = "draft"
STATUS_LABELS = {"draft": "草稿", "published": "已发布", "discarded": "已废弃", "retired": "已停用"}
ACTIVE_INSTANCE_STATUSES = ("running", "waiting", "suspended", "error")

Problem = dict[str, str]


class DraftInvalid(FormInvalid):
    """The draft's model does not validate; `problems` lists [{file, element_id, message}]."""

    def __init__(self, message: str, problems: list[Problem]):
        super().__init__(message, {"files": [_problem_text(p) for p in problems]})
        self.problems = problems


def _problem_text(problem: Problem) -> str:
    where = " ".join(x for x in (problem.get("file"), problem.get("element_id")) if x)
    return f"{where}：{problem.get('message')}" if where else str(problem.get("message"))


# -- access ----------------------------------------------------------------------------------
def may_manage(actor: User | None) -> bool:
    """Process owners and system administrators manage process models."""
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and actor.has_role(*MANAGER_ROLES))


def require_manager(actor: User | None) -> None:
    if not may_manage(actor):
        raise NotAllowed("只有流程管理员（流程负责人、系统管理员）可以管理流程模型")


def check_year(year: Any) -> int:
    """The plan year as an int, or FormInvalid with a Chinese message."""
    try:
        value = int(str(year).strip())
    except (TypeError, ValueError):
        raise FormInvalid("年度应为四位数字，如 2023", {"year": ["年度应为四位数字"]}) from None
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise FormInvalid(f"年度应在 {MIN_YEAR}—{MAX_YEAR} 之间", {"year": [f"年度应在 {MIN_YEAR}—{MAX_YEAR} 之间"]})
    return value


# -- reading ---------------------------------------------------------------------------------
def get(draft_id: int) -> ModelDraft:
    draft = db.session.get(ModelDraft, draft_id)
    if draft is None:
        raise NotFound("草稿不存在")
    return draft


def version_of(process_id: str, number: int) -> ProcessVersion:
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                             ProcessVersion.version == number))
    if version is None:
        raise NotFound(f"流程 {process_id} 没有第 {number} 版")
    return version


def versions(process_id: str) -> list[ProcessVersion]:
    """Every version of a process model, newest first."""
    return list(db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                   .order_by(ProcessVersion.version.desc())))


def instance_counts(process_id: str | None = None) -> dict[int, dict[str, int]]:
    """Per version id: {"total": n, "active": n} (active: not completed or terminated)."""
    query = select(ProcessInstance.version_id, ProcessInstance.status, func.count()).group_by(
        ProcessInstance.version_id, ProcessInstance.status)
    if process_id is not None:
        query = query.where(ProcessInstance.process_id == process_id)
    counts: dict[int, dict[str, int]] = {}
    for version_id, status, n in db.session.execute(query):
        row = counts.setdefault(version_id, {"total": 0, "active": 0})
        row["total"] += n
        if status in ACTIVE_INSTANCE_STATUSES:
            row["active"] += n
    return counts


def drafts(process_id: str | None = None, year: int | None = None, status: str | None = OPEN) -> list[ModelDraft]:
    """Drafts, filtered by process, plan year and status (default: open ones; None: all)."""
    query = select(ModelDraft)
    if process_id is not None:
        query = query.where(ModelDraft.process_id == process_id)
    if year is not None:
        query = query.where(ModelDraft.plan_year == year)
    if status is not None:
        query = query.where(ModelDraft.status == status)
    return list(db.session.scalars(query.order_by(ModelDraft.plan_year.desc(), ModelDraft.process_id,
                                                  ModelDraft.id.desc())))


def drafts_for_year(year: int) -> list[ModelDraft]:
    """Every draft for a plan year (open, published, discarded), by process."""
    return list(db.session.scalars(select(ModelDraft).where(ModelDraft.plan_year == year)
                                   .order_by(ModelDraft.process_id, ModelDraft.id.desc())))


def open_draft(process_id: str, year: int) -> ModelDraft | None:
    return db.session.scalar(select(ModelDraft).where(ModelDraft.process_id == process_id,
                                                      ModelDraft.plan_year == year, ModelDraft.status == OPEN)
                             .order_by(ModelDraft.id.desc()).limit(1))


def base_for_year(process_id: str, year: int) -> ProcessVersion:
    """What a draft for `year` starts from: the newest published version for an earlier year
    (or without a year), else the newest published version."""
    version = db.session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id, ProcessVersion.status == "published",
               ProcessVersion.plan_year.is_(None) | (ProcessVersion.plan_year <= year - 1))
        .order_by(ProcessVersion.version.desc()).limit(1))
    return version if version is not None else registry.latest(process_id)


def users_by_id(ids: set[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}


# -- model.json ------------------------------------------------------------------------------
_PLAN_YEAR = re.compile(r'("plan_year"\s*:\s*)(null|-?\d+)')


def with_plan_year(text: str, year: int) -> str:
    """model.json with its plan_year set to `year`, keys kept in order.

    Only the value is replaced when the key occurs once (the author's layout stays); otherwise
    the JSON is written again with json.dumps(ensure_ascii=False, indent=2)."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise FormInvalid("model.json 应为 JSON 对象", {"model.json": ["应为 JSON 对象"]})
    if len(_PLAN_YEAR.findall(text)) == 1:
        edited = _PLAN_YEAR.sub(lambda m: f"{m.group(1)}{year}", text)
        try:
            if json.loads(edited) == {**data, "plan_year": year}:
                return edited
        except ValueError:
            pass
    data["plan_year"] = year
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _model_json(files: dict[str, str]) -> dict[str, Any]:
    try:
        data = json.loads(files.get("model.json") or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# -- copying ---------------------------------------------------------------------------------
def copy_for_year(year: int, actor: User) -> list[ModelDraft]:
    """Copy every published process model as a draft for `year`; returns the drafts created.

    Processes that already have an open draft for the year are skipped. Each draft starts from
    base_for_year (newest published version for an earlier year, else the newest), with
    model.json's plan_year set to `year`. Commits."""
    require_manager(actor)
    year = check_year(year)
    now = clock.now()
    created = []
    for newest in registry.published():
        if open_draft(newest.process_id, year) is not None:
            continue
        base = base_for_year(newest.process_id, year)
        files = dict(base.sources["files"])
        if "model.json" in files:
            # A broken model.json stays as it is; validation will say so.
            with contextlib.suppress(ValueError, FormInvalid):
                files["model.json"] = with_plan_year(files["model.json"], year)
        draft = ModelDraft(process_id=base.process_id, plan_year=year, base_version_id=base.id, files=files,
                           status=OPEN, created_at=now, created_by_id=actor.id, updated_at=now,
                           updated_by_id=actor.id)
        db.session.add(draft)
        db.session.flush()
        audit.record("model_draft_created", actor=actor,
                     details={"draft_id": draft.id, "process_model": draft.process_id, "plan_year": year,
                              "base_version": base.version, "base_plan_year": base.plan_year})
        created.append(draft)
    db.session.commit()
    return created


# -- editing ---------------------------------------------------------------------------------
def _require_open(draft: ModelDraft) -> None:
    if draft.status != OPEN:
        raise Conflict(f"草稿{STATUS_LABELS.get(draft.status, draft.status)}，不能再修改或发布")


def check_file(name: str, text: str) -> str:
    """The text as it will be stored (line ends normalised), or FormInvalid saying what is wrong."""
    if not isinstance(text, str):
        raise FormInvalid("文件内容应为文本", {name: ["文件内容应为文本"]})
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise FormInvalid(f"{name} 的内容不能为空", {name: ["内容不能为空"]})
    if len(text) > MAX_FILE_CHARS:
        raise FormInvalid(f"{name} 过大（上限 {MAX_FILE_CHARS} 字符）", {name: ["文件过大"]})
    if name.endswith((".bpmn", ".dmn")):
        try:
            parse_xml(text)
        except UnsafeXml as exc:
            raise FormInvalid(f"{name} 不是有效的 XML：{exc}", {name: [str(exc)]}) from exc
    elif name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            where = f"（第 {exc.lineno} 行第 {exc.colno} 列）" if isinstance(exc, json.JSONDecodeError) else ""
            message = f"JSON 格式错误{where}：{getattr(exc, 'msg', exc)}"
            raise FormInvalid(f"{name} 不是有效的 JSON：{message}", {name: [message]}) from exc
        if not isinstance(data, dict):
            raise FormInvalid(f"{name} 应为 JSON 对象（以 {{ 开头）", {name: ["应为 JSON 对象"]})
    return text


def update_file(draft: ModelDraft, name: str, text: str, actor: User) -> ModelDraft:
    """Replace one existing file of an open draft. The text must be well-formed XML (BPMN, DMN)
    or a JSON object (forms, model.json); the model as a whole need not validate yet. Commits."""
    require_manager(actor)
    _require_open(draft)
    if name not in (draft.files or {}):
        raise FormInvalid(f"草稿中没有文件 {name}", {"name": ["文件不存在"]})
    clean = check_file(name, text)
    if clean != draft.files[name]:
        draft.files = {**draft.files, name: clean}
        draft.updated_at = clock.now()
        draft.updated_by_id = actor.id
        audit.record("model_draft_updated", actor=actor,
                     details={"draft_id": draft.id, "process_model": draft.process_id, "file": name})
    db.session.commit()
    return draft


def validate(draft: ModelDraft) -> list[Problem]:
    """The draft's problems: [{file, element_id, message, severity}] (empty: none).

    Errors (severity "error") stop publishing; warnings (elements of the published version the
    draft lost, see model_checks.changed_ids) are only shown."""
    files = dict(draft.files or {})
    warnings = [p.as_dict() for p in model_checks.changed_ids(files, _published_files(draft.process_id))]
    try:
        model = registry.compile_files(files)
    except ModelInvalid as exc:
        return [p.as_dict() for p in exc.problems] + warnings
    except Exception as exc:  # noqa: BLE001 - a broken draft must give a list, not a 500
        return [{"file": "", "element_id": "", "message": f"模型无法编译：{exc}", "severity": "error"}] + warnings
    problems = []
    if model.process_id != draft.process_id:
        problems.append({"file": "model.json", "element_id": "id", "severity": "error",
                         "message": f"流程编号应为 {draft.process_id}，不能改为 {model.process_id}"})
    if model.meta.get("plan_year") != draft.plan_year:
        problems.append({"file": "model.json", "element_id": "plan_year", "severity": "error",
                         "message": f"计划年度应为 {draft.plan_year}（草稿所属年度），当前为 {model.meta.get('plan_year')}"})
    return problems + warnings


def errors_of(problems: list[Problem]) -> list[Problem]:
    """The problems that stop publishing (all but warnings)."""
    return [p for p in problems if p.get("severity", "error") != "warning"]


def _published_files(process_id: str) -> dict[str, str]:
    try:
        return dict(registry.latest(process_id).sources.get("files") or {})
    except NotFound:
        return {}


# -- comparing -------------------------------------------------------------------------------
def compare(old_files: dict[str, str] | None, new_files: dict[str, str] | None) -> dict[str, Any]:
    """Structured differences between two sets of files; see model_diff.compare."""
    return model_diff.compare(old_files, new_files)


def compare_versions(a: ProcessVersion, b: ProcessVersion) -> dict[str, Any]:
    """What changed from version `a` to version `b`."""
    return compare(a.sources.get("files"), b.sources.get("files"))


def compare_draft(draft: ModelDraft) -> dict[str, Any]:
    """What the draft changes against the version it was copied from."""
    base = draft.base_version
    return compare(base.sources.get("files") if base is not None else {}, draft.files)


# -- publishing ------------------------------------------------------------------------------
def publish(draft: ModelDraft, actor: User) -> ProcessVersion:
    """Deploy an open, valid draft as a new version for its plan year. Commits.

    Raises DraftInvalid (a FormInvalid with .problems) when the model does not validate or one
    of its scenario tests (scenarios/*.json, app/services/scenarios.py) fails, and Conflict when
    the draft is no longer open."""
    require_manager(actor)
    _require_open(draft)
    problems = validate(draft)
    if errors_of(problems):
        raise DraftInvalid(f"草稿有 {len(errors_of(problems))} 处问题，修改后才能发布", problems)
    from app.services import scenarios  # the scenario tests kept beside the model must pass (issue 6)

    failed = scenarios.failures(dict(draft.files or {}))
    if failed:
        raise DraftInvalid(f"{len(failed)} 个场景测试未通过，修改后才能发布", failed)
    changes = model_diff.summary(compare_draft(draft))
    try:
        version = registry.deploy(dict(draft.files), actor)
    except ModelInvalid as exc:  # validated above; kept for safety
        raise DraftInvalid("模型校验未通过", [p.as_dict() for p in exc.problems]) from exc
    now = clock.now()
    draft.status = "published"
    draft.published_version_id = version.id
    draft.published_at = now
    draft.published_by_id = actor.id
    draft.updated_at = now
    draft.updated_by_id = actor.id
    audit.record("model_published", actor=actor,
                 details={"draft_id": draft.id, "process_model": version.process_id, "version": version.version,
                          "plan_year": version.plan_year,
                          "base_version": draft.base_version.version if draft.base_version else None,
                          "changes": changes[:200]})
    db.session.commit()
    return version


def discard(draft: ModelDraft, actor: User) -> ModelDraft:
    """Give up an open draft (kept, marked discarded). Commits."""
    require_manager(actor)
    _require_open(draft)
    draft.status = "discarded"
    draft.updated_at = clock.now()
    draft.updated_by_id = actor.id
    audit.record("model_draft_discarded", actor=actor,
                 details={"draft_id": draft.id, "process_model": draft.process_id, "plan_year": draft.plan_year})
    db.session.commit()
    return draft


# -- a new draft, retiring versions (issue 6) ------------------------------------------------
class DraftExists(Conflict):
    """An open draft for that process and plan year exists already; `draft` is it."""

    def __init__(self, draft: ModelDraft):
        super().__init__(f"{draft.process_id} 已有 {draft.plan_year} 年度的草稿（编号 {draft.id}），"
                         "请在该草稿中修改，或先废弃它")
        self.draft = draft


def new_draft(process_id: str, actor: User, year: int | None = None) -> ModelDraft:
    """A draft of one process for `year` (default: the current plan year), copied from the
    version new instances use, with model.json's plan_year set. Commits.

    Raises DraftExists (a Conflict with .draft) when an open draft for that process and year
    exists, NotFound when the process has no published version."""
    from app.services import committees

    require_manager(actor)
    if year is None:
        try:
            year = committees.current_plan_year()
        except LookupError:
            raise FormInvalid("尚未设定当前计划年度，请指定草稿的年度", {"year": ["请填写年度"]}) from None
    year = check_year(year)
    existing = open_draft(process_id, year)
    if existing is not None:
        raise DraftExists(existing)
    base = registry.for_new_instances(process_id)
    files = dict(base.sources["files"])
    if "model.json" in files:
        with contextlib.suppress(ValueError, FormInvalid):
            files["model.json"] = with_plan_year(files["model.json"], year)
    now = clock.now()
    draft = ModelDraft(process_id=process_id, plan_year=year, base_version_id=base.id, files=files, status=OPEN,
                       created_at=now, created_by_id=actor.id, updated_at=now, updated_by_id=actor.id)
    db.session.add(draft)
    db.session.flush()
    audit.record("model_draft_created", actor=actor,
                 details={"draft_id": draft.id, "process_model": process_id, "plan_year": year,
                          "base_version": base.version, "base_plan_year": base.plan_year})
    db.session.commit()
    return draft


def retire(version: ProcessVersion, actor: User) -> ProcessVersion:
    """Stop using a published version for new instances (running ones keep it). Commits.

    The only published version of a process cannot be retired."""
    require_manager(actor)
    if version.status != "published":
        raise Conflict(f"第 {version.version} 版{STATUS_LABELS.get(version.status, version.status)}，不能停用")
    published = db.session.scalar(select(func.count()).select_from(ProcessVersion).where(
        ProcessVersion.process_id == version.process_id, ProcessVersion.status == "published"))
    if (published or 0) <= 1:
        raise Conflict(f"第 {version.version} 版是 {version.process_id} 唯一已发布的版本，不能停用")
    version.status = "retired"
    audit.record("model_version_retired", actor=actor,
                 details={"process_model": version.process_id, "version": version.version,
                          "plan_year": version.plan_year})
    db.session.commit()
    return version


def reinstate(version: ProcessVersion, actor: User) -> ProcessVersion:
    """Make a retired version published again. Commits."""
    require_manager(actor)
    if version.status != "retired":
        raise Conflict(f"第 {version.version} 版未停用，无需恢复")
    version.status = "published"
    audit.record("model_version_reinstated", actor=actor,
                 details={"process_model": version.process_id, "version": version.version,
                          "plan_year": version.plan_year})
    db.session.commit()
    return version
