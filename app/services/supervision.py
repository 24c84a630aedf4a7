"""Supervision of the year's reviews (评审监督, `supervision`, one per plan year): its service tasks.

Self-inspection by every committee office (自查自纠), the concentrated re-examination of March–April
(集中复审督察) with a checklist per committee and self-managed unit, and the random inspection
(随机抽查) whose draw is recorded with its seed and list and whose results are published.
Findings are SupervisionFinding rows; decisions on a committee's authority are app.services.authority.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from app import clock
from app.engine import EngineError
from app.extensions import db
from app.models import Committee, Organisation, ProcessInstance, RandomDraw, SupervisionFinding
from app.rules import sampling
from app.rules.title import CITY_HR
from app.services.operations import Call, operation


def subjects(plan_year: int) -> list[str]:
    """The committees that held review sessions under the year's plan, and the self-managed units'
    committees that ran a cycle that year (their own sessions count too), in catalogue order."""
    cases = db.session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_id.in_(("review_session", "self_managed_cycle"))))
    names = set()
    for case in cases:
        if case.process_id == "review_session" and case.data.get("plan_year") == plan_year:
            names.add(case.data.get("committee"))
        elif case.data.get("cycle_year") == plan_year and case.data.get("self_managed_committee"):
            names.add(case.data["self_managed_committee"])
    ordered = db.session.scalars(select(Organisation.name).join(Committee, Committee.org_id == Organisation.id)
                                 .order_by(Committee.id))
    return [name for name in ordered if name in names]


@operation("supervision_scope")
def supervision_scope(call: Call) -> dict[str, Any]:
    year = int(call.data["plan_year"])
    names = subjects(year)
    if not names:
        raise EngineError(f"{year}年度没有评委会组织评审，无须开展评审监督")
    return {"supervision_year": year, "subjects": names, "subject_count": len(names), "city_bureau": CITY_HR,
            "reexam_opens": f"{year + 1}-03-01", "reexam_due": f"{year + 1}-04-30",
            "stage": "各评委会自查自纠；次年3月至4月集中复审督察"}


@operation("random_draw")
def random_draw(call: Call) -> dict[str, Any]:
    """Draw the units to inspect; the seed (given, or a fresh one) and the list are recorded."""
    eligible = list(call.data["subjects"])
    seed = str(call.data.get("draw_seed") or "").strip() or sampling.new_seed()
    try:
        selected = sampling.draw(seed, eligible, int(call.data["draw_count"]))
    except ValueError as exc:
        raise EngineError(str(exc)) from exc
    row = RandomDraw(plan_year=int(call.data["supervision_year"]), instance_id=call.instance.id, seed=seed,
                     eligible=eligible, count=len(selected), selected=selected,
                     drawn_by_id=call.actor.id if call.actor else None, drawn_at=clock.now())
    db.session.add(row)
    db.session.flush()
    return {"draw_id": row.id, "draw_seed": seed, "drawn": selected, "stage": f"已随机抽取 {len(selected)} 个单位"}


def replay(row: RandomDraw) -> bool:
    """Anyone can check a recorded draw: the same seed and list give the same selection."""
    return sampling.draw(row.seed, list(row.eligible), row.count) == list(row.selected)


@operation("publish_supervision")
def publish_supervision(call: Call) -> dict[str, Any]:
    """The re-examination and random-inspection results are announced (适时通报, 公开抽查结果)."""
    db.session.execute(update(SupervisionFinding).where(
        SupervisionFinding.instance_id == call.instance.id,
        SupervisionFinding.kind.in_(("reexamination", "random_inspection"))).values(published=True))
    return {"announced_on": clock.today().isoformat(), "stage": "复审督察和随机抽查结果已公开"}


def published(plan_year: int) -> dict[str, Any]:
    """What the public page shows for a year: published findings and the draws with their records."""
    findings = list(db.session.scalars(select(SupervisionFinding).where(
        SupervisionFinding.plan_year == plan_year, SupervisionFinding.published.is_(True))
        .order_by(SupervisionFinding.kind, SupervisionFinding.id)))
    draws = list(db.session.scalars(select(RandomDraw).where(RandomDraw.plan_year == plan_year)
                                    .order_by(RandomDraw.id)))
    published_draws = [d for d in draws if any(f.kind == "random_inspection" and f.instance_id == d.instance_id
                                               for f in findings)]
    return {"reexamination": [f for f in findings if f.kind == "reexamination"],
            "random_inspection": [f for f in findings if f.kind == "random_inspection"],
            "draws": [(d, replay(d)) for d in published_draws]}
