"""Deployed process models: bundled models are deployed at start-up, each version once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.engine import CompiledModel, Runtime, compile_model, read_model_folder
from app.extensions import db
from app.models import ProcessVersion, User
from app.rules.script_helpers import build_helpers
from app.services import calendar
from app.services.errors import NotFound

_compiled: dict[int, CompiledModel] = {}
_files: dict[int, tuple[str, dict[str, str]]] = {}

ServiceHandler = Callable[[str, dict[str, Any], dict[str, Any]], Any]


POLICIES = ("unit_notice_working_days", "pre_notice_working_days", "post_notice_working_days",
            "objection_working_days", "correction_working_days")


def helpers() -> dict[str, Callable[..., Any]]:
    config = current_app.config
    policies = {name: int(config[name.upper()]) for name in POLICIES}
    return build_helpers(calendar.official_calendar(), config["GRADUATE_BATCH_CUTOFF_DAY"], policies)


def runtime(service_handler: ServiceHandler | None = None) -> Runtime:
    return Runtime(helpers(), service_handler)


def compile_files(files: dict[str, str]) -> CompiledModel:
    from app.services import operations, panels

    rt = runtime()
    return compile_model(files, rt.helpers, rt.evaluate, operations.names(), panels.names())


def files(version: ProcessVersion) -> dict[str, str]:
    """A version's source files, read from the database once per process (versions never change;
    the content hash guards against a reused id). Callers must not modify the mapping."""
    cached = _files.get(version.id)
    if cached is None or cached[0] != version.content_hash:
        cached = (version.content_hash, dict(version.sources["files"]))
        _files[version.id] = cached
    return cached[1]


def cached_ids() -> set[int]:
    return set(_compiled) | set(_files)


def forget(ids: set[int] | None = None) -> None:
    """Drop cached models and files (of these version ids; all when None)."""
    for cache in (_compiled, _files):
        for key in list(cache) if ids is None else ids:
            cache.pop(key, None)


def compiled(version: ProcessVersion) -> CompiledModel:
    model = _compiled.get(version.id)
    if model is None or model.content_hash != version.content_hash:
        model = compile_files(dict(files(version)))
        _compiled[version.id] = model
    return model


def deploy(files: dict[str, str], actor: User | None = None) -> ProcessVersion:
    """Store a model version once per content hash; the caller commits."""
    model = compile_files(files)
    existing = db.session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_id == model.process_id, ProcessVersion.content_hash == model.content_hash
        )
    )
    if existing is not None:
        if existing.status == "retired":  # published again: the same content comes back into use
            existing.status = "published"
        return existing
    latest = db.session.scalar(
        select(func.max(ProcessVersion.version)).where(ProcessVersion.process_id == model.process_id)
    )
    version = ProcessVersion(
        process_id=model.process_id,
        name=model.name,
        version=(latest or 0) + 1,
        plan_year=model.meta.get("plan_year"),
        content_hash=model.content_hash,
        sources={"files": files},
        meta=model.meta,
        status="published",
        deployed_at=clock.now(),
        deployed_by_id=actor.id if actor else None,
    )
    db.session.add(version)
    db.session.flush()
    _compiled[version.id] = model
    return version


def deploy_bundled() -> list[ProcessVersion]:
    """Deploy every model folder under bpmn/ whose content is new. Commits."""
    root = Path(current_app.config["BPMN_DIR"])
    forms_dir = Path(current_app.config["FORMS_DIR"])
    versions = [
        deploy(read_model_folder(folder, forms_dir))
        for folder in sorted(p for p in root.iterdir() if (p / "model.json").is_file())
    ]
    db.session.commit()
    return versions


def latest(process_id: str) -> ProcessVersion:
    """The newest published version, whatever its plan year (see for_new_instances)."""
    version = db.session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id, ProcessVersion.status == "published")
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(f"流程 {process_id} 不存在或未发布")
    return version


def _year_for_new_instances() -> int | None:
    from app.services import committees

    try:
        return committees.current_plan_year()
    except LookupError:
        return None


def for_new_instances(process_id: str) -> ProcessVersion:
    """The version a new instance starts on: the newest published one for the current plan year.

    That is the newest published version whose plan_year is unset or not after
    committees.current_plan_year(); with no plan (or only versions for later years) the newest.
    Running instances stay on their own version_id whatever is published later.
    """
    year = _year_for_new_instances()
    if year is not None:
        version = db.session.scalar(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id, ProcessVersion.status == "published",
                   (ProcessVersion.plan_year.is_(None)) | (ProcessVersion.plan_year <= year))
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        )
        if version is not None:
            return version
    return latest(process_id)


def current() -> list[ProcessVersion]:
    """Per process model, the version new instances start on (see for_new_instances)."""
    return [for_new_instances(v.process_id) for v in published()]


def published() -> list[ProcessVersion]:
    newest = (
        select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("v"))
        .where(ProcessVersion.status == "published")
        .group_by(ProcessVersion.process_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(ProcessVersion)
            .join(newest, (ProcessVersion.process_id == newest.c.process_id) & (ProcessVersion.version == newest.c.v))
            .order_by(ProcessVersion.process_id)
        )
    )
