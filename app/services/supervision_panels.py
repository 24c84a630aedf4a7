"""Panels of the supervision tasks: a committee's self-inspection, the re-examination checklist per
committee and self-managed unit, the results of the random inspection. Their input is stored as
SupervisionFinding rows (the workflow keeps only the counts)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app import clock
from app.extensions import db
from app.models import HumanTask, ProcessInstance, SupervisionFinding, User
from app.services import committees
from app.services.errors import FormInvalid
from app.services.panels import panel

RESULTS = {"compliant": "符合规定", "problems": "存在问题", "serious": "问题严重"}
CHECKS = {"evaluation": "评审工作", "ce": "继续教育", "daily": "日常考核"}


def _finding(kind: str, subject: str, year: int, result: str, findings: str, instance: ProcessInstance,
             actor: User, checklist: dict | None = None, documents: list | None = None) -> None:
    committee = committees.committee_named(subject)
    db.session.add(SupervisionFinding(
        kind=kind, plan_year=year, committee_id=committee.id if committee else None, subject=subject, result=result,
        findings=findings, checklist=checklist or {}, documents=documents or [], org_id=actor.org_id,
        recorded_by_id=actor.id, recorded_at=clock.now(), instance_id=instance.id, published=False))


def findings_of(year: int, subject: str, kinds: tuple[str, ...]) -> list[SupervisionFinding]:
    return list(db.session.scalars(select(SupervisionFinding).where(
        SupervisionFinding.plan_year == year, SupervisionFinding.subject == subject,
        SupervisionFinding.kind.in_(kinds)).order_by(SupervisionFinding.id)))


# -- self-inspection: one task per committee office ------------------------------------------------
@panel("self_inspection", apply=lambda actor, instance, part, clean, task_data: _finding(
    "self_inspection", str(task_data["committee"]), int(task_data["supervision_year"]), str(clean["result"]),
    str(clean["findings"]), instance, actor, documents=list(clean.get("attachments") or [])))
def self_inspection(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    sessions = [s for s in db.session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "review_session"))
                if s.data.get("committee") == data.get("committee") and s.data.get("plan_year") == data.get("supervision_year")]
    return {"sessions": sessions, "committee": data.get("committee")}


# -- a table of subjects with inputs (the re-examination checklist, the random inspection) -----------
_KEY = re.compile(r"([a-z]+)_(\d+)")


def take_rows(raw: Any) -> tuple[dict[str, Any], Any]:
    """<field>_<row> from a page, or "rows": [{...}] in the row order from the API."""
    rows: dict[int, dict[str, Any]] = {}
    if isinstance(raw, MultiDict):
        rest = MultiDict()
        for key, value in raw.items(multi=True):
            match = _KEY.fullmatch(key)
            if match and match[1] in (*CHECKS, "notes", "result", "findings"):
                rows.setdefault(int(match[2]), {})[match[1]] = value
            else:
                rest.add(key, value)
        return {"rows": rows}, rest
    if not isinstance(raw, Mapping):
        return {"rows": {}}, raw
    data = dict(raw)
    given = data.pop("rows", None) or []
    if not isinstance(given, list) or not all(isinstance(r, Mapping) for r in given):
        raise FormInvalid("表格内容格式不正确", {"rows": ["应为数组，每行一个对象"]})
    return {"rows": dict(enumerate(dict(r) for r in given))}, data


def _worst(values: list[str]) -> str:
    order = list(RESULTS)
    return max(values, key=order.index)


def apply_reexamination(actor: User, instance: ProcessInstance, part: dict[str, Any], clean: Mapping[str, Any],
                        task_data: Mapping[str, Any]) -> None:
    rows, errors = part.get("rows") or {}, {}
    subjects = list(task_data.get("subjects") or [])
    for i, subject in enumerate(subjects):
        given = rows.get(i, {})
        bad = [CHECKS[c] for c in CHECKS if given.get(c) not in RESULTS]
        if bad:
            errors[f"evaluation_{i}"] = [f"{subject}：请填写{'、'.join(bad)}的复审结论"]
    if errors:
        raise FormInvalid("复审督察表未填写完整", errors)
    for i, subject in enumerate(subjects):
        given = rows[i]
        checklist = {c: given[c] for c in CHECKS}
        notes = str(given.get("notes") or "").strip() or "；".join(f"{CHECKS[c]}{RESULTS[v]}" for c, v in checklist.items())
        _finding("reexamination", subject, int(task_data["supervision_year"]), _worst(list(checklist.values())),
                 notes[:4000], instance, actor, checklist=checklist)


@panel("reexamination", take=take_rows, apply=apply_reexamination)
def reexamination(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    year = int(data.get("supervision_year") or 0)
    rows = [(i, s, findings_of(year, s, ("self_inspection",)), findings_of(year, s, ("daily_assessment", "patrol")))
            for i, s in enumerate(data.get("subjects") or [])]
    return {"rows": rows, "results": RESULTS, "checks": CHECKS}


def apply_random_results(actor: User, instance: ProcessInstance, part: dict[str, Any], clean: Mapping[str, Any],
                         task_data: Mapping[str, Any]) -> None:
    rows, errors = part.get("rows") or {}, {}
    drawn = list(task_data.get("drawn") or [])
    for i, subject in enumerate(drawn):
        given = rows.get(i, {})
        if given.get("result") not in RESULTS:
            errors[f"result_{i}"] = [f"{subject}：请选择抽查结论"]
        elif len(str(given.get("findings") or "").strip()) < 4:
            errors[f"findings_{i}"] = [f"{subject}：请填写抽查情况（至少4个字）"]
    if errors:
        raise FormInvalid("抽查结果未填写完整", errors)
    for i, subject in enumerate(drawn):
        _finding("random_inspection", subject, int(task_data["supervision_year"]), str(rows[i]["result"]),
                 str(rows[i]["findings"]).strip()[:4000], instance, actor)


@panel("random_results", take=take_rows, apply=apply_random_results)
def random_results(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"drawn": list(enumerate(data.get("drawn") or [])), "results": RESULTS, "seed": data.get("draw_seed")}
