"""Importing a plan table as a background job (kind ``plan_import``), with progress.

The table is read and checked in the request (``plans.check_import``): a bad cell is shown on the
form at once and nothing is queued. The checked rows, in the plan's order, are kept in the job;
each item writes CHUNK_ROWS of them. The first item creates the draft (or empties the existing
one) with the header of the import; entries are written by section and number
(``plans.write_entries``), so an item run again rewrites its rows instead of adding them twice;
the last item records the import in the audit trail, once, and names the plan as the job's result.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import select

from app import background
from app.extensions import db
from app.models import AnnualPlan, BackgroundJob, Organisation, User
from app.services import jobs, plans
from app.services.errors import Conflict
from app.services.plan_io import SECTION_ORDER, PlanRow

JOB_KIND = "plan_import"
CHUNK_ROWS = 50  # rows per job item


def _running(year: int, issuer: Organisation) -> int | None:
    """An unfinished import of the same plan (its job id), if any."""
    for job in db.session.scalars(select(BackgroundJob).where(BackgroundJob.kind == JOB_KIND,
                                                              BackgroundJob.status.in_(("queued", "running")))):
        params = job.params or {}
        if params.get("year") == year and params.get("issuer_org_id") == issuer.id:
            return job.id
    return None


def start(actor: User, year: int, filename: str, content: bytes, *, issuer: Organisation,
          header: plans.PlanHeader | None = None) -> BackgroundJob:
    """Check the table now (PlanTableInvalid, FormInvalid, Conflict, NotAllowed), then queue the
    writing of its rows. Commits."""
    header = header or plans.PlanHeader()
    rows = plans.check_import(actor, year, filename, content, issuer=issuer)
    busy = _running(year, issuer)
    if busy is not None:
        raise Conflict(f"{issuer.name}{year}年度计划正在导入（后台作业 {busy}），请待其完成后再导入")
    ordered = sorted(rows, key=lambda r: (SECTION_ORDER[r.section], r.seq))
    chunks = max(1, -(-len(ordered) // CHUNK_ROWS))
    params = {"year": year, "issuer_org_id": issuer.id, "filename": filename, "chunk": CHUNK_ROWS,
              "header": {"doc_no": header.doc_no,
                         "issue_date": header.issue_date.isoformat() if header.issue_date else None,
                         "basis_doc_nos": list(header.basis_doc_nos)},
              "rows": [asdict(r) for r in ordered]}
    job = jobs.create(JOB_KIND, list(range(chunks)), actor, params=params)
    db.session.commit()
    background.start_job(job.id)
    return job


def _header(params: dict[str, Any]) -> plans.PlanHeader:
    header = params.get("header") or {}
    issued = header.get("issue_date")
    return plans.PlanHeader(doc_no=header.get("doc_no"), issue_date=date.fromisoformat(issued) if issued else None,
                            basis_doc_nos=tuple(header.get("basis_doc_nos") or ()))


def _plan_for(job: BackgroundJob, index: int, actor: User, issuer: Organisation) -> AnnualPlan:
    params = job.params
    if index == 0:
        plan = plans.prepare_draft(actor, int(params["year"]), issuer, _header(params))
        job.params = {**params, "plan_id": plan.id}
        return plan
    plan = db.session.get(AnnualPlan, params.get("plan_id"))
    if plan is None or plan.status != "draft":
        raise Conflict("导入期间计划已被删除或发布，未写完的行没有导入")
    return plan


def _item(job: BackgroundJob, item: Any, actor: User | None) -> jobs.ItemResult:
    if jobs.earlier_failures(job):
        message = "前面的行未能导入，已停止；请修正后重新导入"
        jobs.stop(job, message)
        return jobs.ItemResult(False, message)
    if actor is None:
        return jobs.ItemResult(False, "导入的发起人不存在")
    issuer = db.session.get(Organisation, job.params["issuer_org_id"])
    if issuer is None:
        return jobs.ItemResult(False, "发文机关不存在")
    plans.require_manage(actor, issuer)
    index = int(item)
    plan = _plan_for(job, index, actor, issuer)
    chunk = int(job.params["chunk"])
    everything = job.params["rows"]
    rows = [PlanRow(**r) for r in everything[index * chunk:(index + 1) * chunk]]
    plans.write_entries(plan, rows)
    db.session.flush()
    if index == len(job.params["items"]) - 1:
        plans.record_import(actor, plan, len(everything), job.params["filename"], job_id=job.id)
        jobs.set_outcome(job, "plan", plan.id, plans.title_of(plan))
    label = f"第 {index * chunk + 1}–{index * chunk + len(rows)} 行" if rows else "创建草稿"
    return jobs.ItemResult(True, f"已写入{label}" if rows else "已创建草稿（计划表没有数据行）", {"label": label})


jobs.register(JOB_KIND, _item, "计划导入", batch=1)
