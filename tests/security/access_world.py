"""The world the access matrix runs in: demo users plus one resource of each kind, each with a
known owner and known organisation relations, built once through the services and the API.

Resources (the names the matrix uses for URL parameters):

- ``case``: teacher1's title application (丽水市莲都区示范中学, 莲都区), through the unit
  (school_hr), the competent department (liandu_edu) and the committee office's eligibility
  check (edu_office); it waits for its session.
- ``grad_case``: grad_liandu's graduate determination (云峰科技, 莲都区) at the employer's review;
  ``task`` is that review, a group task of the employer_hr role there (liandu_co_hr).
- ``document``: grad_liandu's upload attached to ``grad_case``.
- ``achievement``: one of teacher1's performance-archive entries; ``applicant_user`` is teacher1.
- ``draft``: owner's draft of the graduate model; ``view``: manager's saved case-list view;
  ``job``: manager's case-list export job; ``notification``: one of teacher1's notifications.
- ``notice``: the 评前公示 of edu_office's review session (public).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from api_client import Api
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Achievement,
    AnnualPlan,
    Committee,
    HumanTask,
    PlanEntry,
    PublicNotice,
    User,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "title"))
from title_flow import GRADUATE, Flow, build_world  # noqa: E402


def _id(model: Any, *where: Any) -> int:
    value = db.session.scalar(select(model.id).where(*where).order_by(model.id))
    assert value is not None, f"world lacks a {model.__name__}"
    return value


def build(app) -> dict[str, Any]:
    build_world()
    client = app.test_client()
    flow = Flow(client)
    case = flow.p01_accepted()

    applicant = Api(client, "grad_liandu")
    proof = applicant.upload("证明.pdf", b"%PDF-1.4\n% proof\n")
    assert proof.status_code == 201, proof.get_json()
    grad = applicant.post("/api/v1/process-instances", json={
        "process_model": "graduate_initial_determination",
        "data": {**GRADUATE, "attachments": [proof.get_json()["id"]]}})
    assert grad.status_code == 201, grad.get_json()
    grad_case = grad.get_json()["id"]

    session = flow.start_session("edu_office", "2022-09-20")["id"]
    flow.at("2022-08-22")
    flow.do("edu_office", session, "发布评前公示", {"notice_start": "2022-08-22"})

    manager = Api(client, "manager")
    db.session.rollback()
    from app.services import case_export, case_search, drafts, notifications, saved_views

    manager_user = db.session.scalar(select(User).where(User.username == "manager"))
    owner = db.session.scalar(select(User).where(User.username == "owner"))
    view = saved_views.save_view(manager_user, "莲都区在办案件", {"county": ["莲都区"]})
    draft = drafts.new_draft("graduate_initial_determination", owner)
    db.session.commit()
    job = case_export.start_job(manager_user, case_search.parse(manager_user, {}), "全部案件")
    assert manager.get("/api/v1/me").status_code == 200
    teacher1 = db.session.scalar(select(User).where(User.username == "teacher1"))
    notification = notifications.notify("reminder", "请在截止日期前补正材料", user_id=teacher1.id)
    db.session.commit()
    liandu_plan = _id(AnnualPlan, AnnualPlan.year == 2022, AnnualPlan.issuer.has(name="莲都区人力资源和社会保障局"))
    world = {
        "case": case,
        "grad_case": grad_case,
        "session": session,
        "task": _id(HumanTask, HumanTask.instance_id == grad_case, HumanTask.state == "open"),
        "done_task": _id(HumanTask, HumanTask.instance_id == case, HumanTask.state == "completed"),
        "document": proof.get_json()["id"],
        "achievement": _id(Achievement, Achievement.user_id == teacher1.id),
        "applicant_user": teacher1.id,
        "committee": _id(Committee, Committee.org.has(name="莲都区中小学教师中级专业技术职务任职资格评审委员会")),
        "plan": liandu_plan,
        "entry": _id(PlanEntry, PlanEntry.plan_id == liandu_plan),
        "draft": draft.id,
        "view": view.id,
        "job": job.id,
        "notice": _id(PublicNotice),
        "notification": notification.id,
    }
    db.session.commit()
    return world
