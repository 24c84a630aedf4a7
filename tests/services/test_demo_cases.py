"""The demo's living 2022 session: what a newcomer finds in each inbox after `make run`."""

from __future__ import annotations

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import ProcessInstance, PublicNotice, SessionEntry
from app.services import demo_cases, instances, registry, tasks, timers


def names(user, username: str) -> list[str]:
    return sorted(t.name for t in tasks.open_tasks_for(user(username)))


def test_demo_session_and_applications(ctx, user):
    demo_cases.load_demo_cases()
    assert clock.override() is None  # the real clock again
    assert timers.due_instance_ids() == []  # nothing fires when the demo starts
    assert names(user, "edu_office") == ["录入评审会议表决结果"]
    assert names(user, "liandu_edu") == ["主管部门审核"]
    assert names(user, "liandu_health") == ["审核评聘方案（主管部门）"]
    assert "审核评聘方案（人社部门）" in names(user, "liandu_hr")
    assert names(user, "school_hr") == ["单位审核"]
    session = db.session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == "review_session"))
    assert session.data["may_convene"] is True and session.data["applicant_count"] == 2
    assert {e.name for e in db.session.scalars(select(SessionEntry))} == {"张明远", "李思琪"}
    assert db.session.scalar(select(PublicNotice)).kind == "pre_review"
    version = registry.latest("title_application")
    assert instances.start_blockers(user("teacher1"), version) == []  # teacher1 may apply at once
    assert instances.start_blockers(user("engineer1"), version)  # an archive not yet audited
