"""Starting and reading process instances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app import clock
from app.engine import EngineError
from app.engine.runtime import LIBRARY_VERSION
from app.extensions import db
from app.models import Event, HumanTask, ProcessInstance, ProcessVersion, User
from app.services import audit, cases, documents, forms, registry
from app.services.access import can_start, can_view, visible_instances_clause
from app.services.errors import DomainError, FormInvalid, NotAllowed, NotFound, RuleViolation
from app.services.numbers import INT_MAX

STATUSES = ("running", "waiting", "completed", "suspended", "terminated", "error")


def start_form(version: ProcessVersion) -> forms.FormDefinition | None:
    start = version.meta.get("start_form")
    if not start:
        return None
    return forms.load_definition(registry.files(version), start["form"], start.get("ui"))


def startable(actor: User) -> list[ProcessVersion]:
    return [v for v in registry.current() if can_start(actor, v.meta.get("starter_roles", []))]


def _plan_year() -> int | None:
    from app.services import committees

    try:
        return committees.current_plan_year()
    except LookupError:
        return None


def applicant_context(actor: User) -> dict[str, Any]:
    """What the case knows about its applicant without asking: name, employer, county, plan year."""
    org = actor.org
    return {
        "plan_year": _plan_year(),
        "applicant": actor.username,
        "applicant_name": actor.display_name,
        "employer_org": org.name,
        "unit_county": org.county,
        "unit_type": org.unit_type,
        "self_managed": bool(org.self_managed),
        "correction_working_days": cases.correction_days(),
    }


def _archive_audited(actor: User) -> str | None:
    from app.services import archives

    if archives.is_audited(actor):
        return None
    return "业绩档案尚未经用人单位审核，不能申报。请先在“业绩档案”中登记业绩并提交单位审核。"


def _city_bureau(actor: User) -> str | None:
    from app.rules.title import CITY_HR

    if any(r.role == "hr_staff" and r.org.name == CITY_HR for r in actor.roles):
        return None
    return "只有丽水市人力资源和社会保障局可以组织年度评审监督"


# Preconditions a model may require of its starter (model.json "start_checks"): a message when unmet.
START_CHECKS = {"archive_audited": _archive_audited, "city_bureau": _city_bureau}


def start_blockers(actor: User, version: ProcessVersion) -> list[str]:
    """Why the actor may not start the model now (empty: they may)."""
    problems = []
    for name in version.meta.get("start_checks", []):
        check = START_CHECKS.get(name)
        if check is None:
            raise DomainError(f"流程模型要求了未知的发起条件 {name}，请联系流程管理员")
        problem = check(actor)
        if problem:
            problems.append(problem)
    return problems


def check_can_start(actor: User, version: ProcessVersion) -> None:
    if not can_start(actor, version.meta.get("starter_roles", [])):
        raise NotAllowed("您没有发起该流程的权限")
    problems = start_blockers(actor, version)
    if problems:
        raise RuleViolation("；".join(problems))


def start_instance(actor: User, process_id: str, data: Any) -> ProcessInstance:
    version = registry.for_new_instances(process_id)
    check_can_start(actor, version)
    defn = start_form(version)
    if not isinstance(data, dict):
        raise FormInvalid("提交的数据格式不正确", {"data": ["应为对象"]})
    clean = forms.validate(defn, {}, data) if defn else {}
    uploads = [i for name in (forms.document_fields(defn) if defn else []) for i in clean.get(name) or []]
    documents.check_owned(actor, uploads)
    context = applicant_context(actor)
    model = registry.compiled(version)
    now = clock.now()
    instance = ProcessInstance(
        process_id=version.process_id,
        version_id=version.id,
        version=version,
        title=cases.title_for(version.meta, {**clean, **context}),
        status="running",
        state={},
        data={},
        starter_id=actor.id,
        starter=actor,
        employer_org_id=actor.org_id,
        county=actor.org.county,
        created_at=now,
        updated_at=now,
        library_version=LIBRARY_VERSION,
        serializer_version="",
    )
    db.session.add(instance)
    db.session.flush()
    context["instance_id"] = instance.id
    audit.record("instance_started", actor=actor, instance=instance,
                 details={"process_model": version.process_id, "version": version.version, "data": clean})
    error = None
    try:
        case = registry.runtime(cases.handler_for(instance, actor)).start(model, {**context, **clean})
    except EngineError as exc:
        db.session.rollback()
        raise DomainError(f"流程启动失败：{exc}") from exc
    cases.save(instance, case, actor, error)
    documents.attach(instance, uploads)
    cases.commit()
    return instance


def get_instance(actor: User, instance_id: int) -> ProcessInstance:
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("流程实例不存在")
    if not can_view(actor, instance):
        raise NotAllowed("您无权查看该流程实例")
    return instance


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int


def list_instances(
    actor: User, process_model: str | None = None, status: str | None = None, page: int = 1, per_page: int = 20
) -> Page:
    query = select(ProcessInstance).where(visible_instances_clause(actor))
    if process_model:
        query = query.where(ProcessInstance.process_id == process_model)
    if status:
        if status not in STATUSES:
            raise FormInvalid("状态参数无效", {"status": [f"应为 {', '.join(STATUSES)} 之一"]})
        query = query.where(ProcessInstance.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(max(page, 1), INT_MAX)  # the offset, (page - 1) × per_page, must bind as a 64-bit integer
    items = db.session.scalars(
        query.order_by(ProcessInstance.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(list(items), total, page, per_page)


def events(actor: User, instance_id: int) -> list[Event]:
    return events_of(get_instance(actor, instance_id))


def events_of(instance: ProcessInstance) -> list[Event]:
    """The instance's audit trail, for a caller that has checked who may see it."""
    return list(db.session.scalars(select(Event).where(Event.instance_id == instance.id).order_by(Event.id)))


def open_tasks(instance: ProcessInstance) -> list[HumanTask]:
    return list(
        db.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open").order_by(HumanTask.id)
        )
    )
