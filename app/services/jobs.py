"""Background jobs: bulk operations advanced item by item, each item in its own transaction.

A job (``BackgroundJob``) holds its items in ``params["items"]``; a handler registered for its
``kind`` processes one item inside the transaction that also records the item's result, so a
crash never loses or repeats an item. ``advance(job_id)`` processes the next batch; the
in-process sweeper (``flask run-server``) calls ``run_pending()`` so a job progresses while
nobody watches, and the progress page advances it when polled; with a Celery broker,
app/background.py hands ``advance`` to workers instead.

Counters: ``done`` is the number of items processed (succeeded or not), ``failed`` how many of
them failed; ``results`` has one ``{"id", "ok", "message", …}`` per processed item, in order.

A kind registers its handler with a label, and optionally how many items one ``advance`` call
may process (a heavy item, such as a thousand rows of an export, keeps one poll short), who
besides the creator and system administrators may watch the job, and a clean-up run after the
commit that finished the job. A handler may leave a file (``attach_file``: a Document shown as
the job's download) or a result to link to (``set_outcome``), or stop the job (``stop``) when
the remaining items cannot succeed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from app import clock
from app.extensions import db
from app.models import BackgroundJob, Document, User
from app.services.errors import DomainError, NotAllowed, NotFound, is_contention

logger = logging.getLogger(__name__)
# An item whose subject was changed by someone else while the item ran: nothing of it was saved.
CHANGED_MEANWHILE = "处理时该案件正由他人同时修改，本项未执行；可对它重新执行"

STATUS_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
KIND_LABELS: dict[str, str] = {}


@dataclass
class ItemResult:
    ok: bool
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


# handler(job, item, actor) -> ItemResult; runs inside the item's transaction, must not commit.
Handler = Callable[[BackgroundJob, Any, User | None], ItemResult]
Viewers = Callable[[User], bool]
Cleanup = Callable[[BackgroundJob], None]
_HANDLERS: dict[str, Handler] = {}
_BATCH: dict[str, int] = {}
_VIEWERS: dict[str, Viewers] = {}
_CLEANUP: dict[str, Cleanup] = {}
ADMIN_ROLE = "system_admin"


def register(kind: str, handler: Handler, label: str | None = None, *, batch: int | None = None,
             viewers: Viewers | None = None, cleanup: Cleanup | None = None) -> None:
    """``batch``: at most this many items per ``advance``; ``viewers``: who else may watch a job of
    this kind; ``cleanup``: run once after the commit that finished (or stopped) a job."""
    _HANDLERS[kind] = handler
    if label:
        KIND_LABELS[kind] = label
    if batch is not None:
        _BATCH[kind] = max(1, batch)
    if viewers is not None:
        _VIEWERS[kind] = viewers
    if cleanup is not None:
        _CLEANUP[kind] = cleanup


def _load_handlers() -> None:
    """Import the modules that register handlers (they import this one)."""
    from app.services import case_export, migration, plan_import  # noqa: F401

    # Whoever may migrate instances follows any bulk migration, not only its creator.
    _VIEWERS.setdefault(migration.JOB_KIND, migration.may_migrate)


def create(kind: str, items: list[Any], actor: User | None, params: dict[str, Any] | None = None) -> BackgroundJob:
    """A queued job over ``items``; the caller commits."""
    job = BackgroundJob(kind=kind, status="queued", params={**(params or {}), "items": list(items)},
                        total=len(items), done=0, failed=0, results=[], created_at=clock.now(),
                        created_by_id=actor.id if actor is not None else None)
    db.session.add(job)
    db.session.flush()
    return job


def get(job_id: int) -> BackgroundJob:
    job = db.session.get(BackgroundJob, job_id)
    if job is None:
        raise NotFound("后台作业不存在")
    return job


def finished(job: BackgroundJob) -> bool:
    return job.status in ("done", "failed")


# -- who may follow a job -----------------------------------------------------------------------
def may_view(actor: User | None, job: BackgroundJob) -> bool:
    """The job's creator, system administrators, and whoever the job's kind lets watch it."""
    if actor is None or not getattr(actor, "is_authenticated", True):
        return False
    if job.created_by_id is not None and job.created_by_id == actor.id:
        return True
    if actor.has_role(ADMIN_ROLE):
        return True
    _load_handlers()
    extra = _VIEWERS.get(job.kind)
    return bool(extra is not None and extra(actor))


def get_for(actor: User | None, job_id: int) -> BackgroundJob:
    """The job, for someone allowed to follow it (NotFound, NotAllowed otherwise)."""
    job = get(job_id)
    if not may_view(actor, job):
        raise NotAllowed("您无权查看该后台作业（只有发起人和系统管理员可以查看）")
    return job


# -- what a handler may leave on its job --------------------------------------------------------
def attach_file(job: BackgroundJob, document: Document) -> None:
    """The file the job produced (shown for download once the job is finished). In the item's transaction."""
    job.params = {**(job.params or {}), "document_id": document.id}


def document_of(job: BackgroundJob) -> Document | None:
    doc_id = (job.params or {}).get("document_id")
    return db.session.get(Document, doc_id) if doc_id else None


def set_outcome(job: BackgroundJob, kind: str, ident: int | str, label: str) -> None:
    """What the job made, to link to from its page (the web layer knows the address of ``kind``)."""
    job.params = {**(job.params or {}), "outcome": {"kind": kind, "id": ident, "label": label}}


def stop(job: BackgroundJob, message: str) -> None:
    """End the job now: the remaining items are not processed (in the item's transaction)."""
    job.status = "failed"
    job.error = message
    job.finished_at = clock.now()


def earlier_failures(job: BackgroundJob) -> int:
    """How many of the items processed so far failed (a handler's check before building on them)."""
    return sum(1 for r in job.results or [] if not r.get("ok"))


def _lock(job_id: int) -> BackgroundJob | None:
    """The job row locked for this transaction (as cases.lock does for instances); None if busy."""
    if db.session.get_bind().dialect.name == "sqlite":
        try:
            db.session.execute(text("UPDATE background_job SET done = done WHERE id = :id"), {"id": job_id})
        except OperationalError:
            db.session.rollback()
            return None
    job = db.session.scalar(select(BackgroundJob).where(BackgroundJob.id == job_id)
                            .with_for_update().execution_options(populate_existing=True))
    if job is None:
        db.session.rollback()
        raise NotFound("后台作业不存在")
    return job


def _finish_if_complete(job: BackgroundJob) -> None:
    if job.done >= job.total and not finished(job):
        job.status = "done"
        job.finished_at = clock.now()


def _record(job: BackgroundJob, item: Any, result: ItemResult) -> None:
    entry = {"id": item, "ok": result.ok, "message": result.message, **result.extra}
    job.results = [*(job.results or []), entry]
    job.done = len(job.results)
    job.failed = (job.failed or 0) + (0 if result.ok else 1)
    _finish_if_complete(job)


def _step(job_id: int) -> bool:
    """Process the next item of the job in one transaction; False when nothing was processed."""
    job = _lock(job_id)
    if job is None:
        return False
    if finished(job):
        db.session.rollback()
        return False
    items = list((job.params or {}).get("items") or [])
    index = len(job.results or [])
    if job.status == "queued":
        job.status = "running"
        job.started_at = clock.now()
    if index >= len(items):
        job.total = len(items)
        job.done = index
        _finish_if_complete(job)
        db.session.commit()
        return False
    handler = _HANDLERS.get(job.kind)
    if handler is None:
        job.status = "failed"
        job.error = f"未知的作业类型 {job.kind}"
        job.finished_at = clock.now()
        db.session.commit()
        return False
    item = items[index]
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    try:
        result = handler(job, item, actor)
        _record(job, item, result)
        ended = finished(job)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _record_failure(job_id, index, item, exc.message)
    except Exception as exc:  # noqa: BLE001 - one bad item must not stop the job
        db.session.rollback()
        if is_contention(exc):  # e.g. the case was changed while this item migrated it
            return _record_failure(job_id, index, item, CHANGED_MEANWHILE)
        logger.exception("job %s item %s failed", job_id, item)
        return _record_failure(job_id, index, item, "处理失败（系统内部错误），请联系系统管理员")
    if ended:
        _clean_up(job_id)
    return True


def _clean_up(job_id: int) -> None:
    job = get(job_id)
    cleanup = _CLEANUP.get(job.kind)
    if cleanup is None:
        return
    try:
        cleanup(job)
    except Exception:  # noqa: BLE001 - the job is finished; a leftover file is only logged
        logger.exception("clean-up of job %s failed", job_id)
    db.session.rollback()


def _record_failure(job_id: int, index: int, item: Any, message: str) -> bool:
    job = _lock(job_id)
    if job is None:
        return False
    if len(job.results or []) != index or finished(job):  # another worker recorded it meanwhile
        db.session.rollback()
        return True
    if job.status == "queued":
        job.status = "running"
        job.started_at = clock.now()
    _record(job, item, ItemResult(False, message))
    ended = finished(job)
    db.session.commit()
    if ended:
        _clean_up(job_id)
    return True


def advance(job_id: int, batch: int = 20) -> BackgroundJob:
    """Process up to ``batch`` further items of the job; returns the job as it now stands.

    Each item commits on its own, so call this outside any unit of work of the caller's: it
    starts from a fresh transaction (what the caller has not committed is discarded)."""
    _load_handlers()
    kind = get(job_id).kind
    batch = min(batch, _BATCH.get(kind, batch))
    db.session.rollback()
    for _ in range(max(0, batch)):
        if not _step(job_id):
            break
    return get(job_id)


def pending_ids(limit: int = 10) -> list[int]:
    return list(db.session.scalars(
        select(BackgroundJob.id).where(BackgroundJob.status.in_(("queued", "running")))
        .order_by(BackgroundJob.id).limit(limit)
    ))


def run_pending(limit: int = 10, batch: int = 20) -> int:
    """Advance each unfinished job by one batch (the periodic sweep); returns items processed."""
    processed = 0
    for job_id in pending_ids(limit):
        before = get(job_id).done
        processed += advance(job_id, batch).done - before
    return processed


def progress(job: BackgroundJob) -> dict[str, Any]:
    """The job as the progress page and its polling script show it."""
    doc = document_of(job) if finished(job) else None
    return {
        "id": job.id,
        "kind": job.kind,
        "kind_label": KIND_LABELS.get(job.kind, job.kind),
        "status": job.status,
        "status_label": STATUS_LABELS.get(job.status, job.status),
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "succeeded": job.done - job.failed,
        "percent": int(100 * job.done / job.total) if job.total else 100,
        "finished": finished(job),
        "error": job.error,
        "results": list(job.results or []),
        "file": {"name": doc.name, "size": doc.size} if doc is not None else None,
        "outcome": (job.params or {}).get("outcome") if finished(job) else None,
    }
