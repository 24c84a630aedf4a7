"""Demo cases of the title review (loaded with the demo data into an empty database, never in production).

A 2022 session of the 莲都区中小学教师中评委 with applicants in different states, produced by
running the real procedures through the services with the clock set to 2022 dates, so a
newcomer sees a living system: the session waits for its meeting record, one application waits
for the competent department, one for the unit, and teacher1 (whose archive is audited and
whose hours are registered) may apply at once. The self-managed 丽水市莲都区人民医院 has sent its
2022 plan, which waits for its competent department and HR bureau. No timer is left pending.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Organisation, User, UserRole
from app.services import archives, ce, documents, instances, tasks, timers
from app.services.auth import hash_password
from app.services.demo import PASSWORD

SCHOOL = "丽水市莲都区示范中学"
COMMITTEE = "莲都区中小学教师中级专业技术职务任职资格评审委员会"
EXTRA_TEACHERS = [("teacher2", "张明远"), ("teacher3", "李思琪"), ("teacher4", "王浩然"), ("teacher5", "陈雨桐")]
HOURS = {2019: (66, 30, 18), 2020: (60, 30, 12), 2021: (72, 30, 14), 2022: (72, 18, 12)}


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _at(day: str, hour: int = 9) -> None:
    clock.set_override(datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00"))


def _do(username: str, instance_id: int, name: str, data: dict[str, Any]) -> None:
    actor = _user(username)
    task = next(t for t in tasks.open_tasks_for(actor, instance_id) if t.name == name)
    if task.assignee_id is None:
        tasks.claim(actor, task.id)
    tasks.complete_task(actor, task.id, data)


def _teachers() -> None:
    school = db.session.scalar(select(Organisation).where(Organisation.name == SCHOOL))
    password = hash_password(PASSWORD)
    for username, name in EXTRA_TEACHERS:
        user = User(username=username, display_name=name, password_hash=password, org_id=school.id)
        user.roles.append(UserRole(role="applicant", org_id=school.id))
        db.session.add(user)
    db.session.commit()
    rows = [{"username": u, "year": y, "professional": p, "public": pub, "general_public": g}
            for u in ["teacher1", *(u for u, _ in EXTRA_TEACHERS)] for y, (p, pub, g) in HOURS.items()]
    ce.upsert(_user("liandu_hr"), rows)
    for username in ["teacher1", *(u for u, _ in EXTRA_TEACHERS)]:
        applicant = _user(username)
        archives.add_achievement(applicant, {"kind": "教学成果", "title": "区级优质课一等奖", "achieved_on": "2021-11-20",
                                             "description": "莲都区初中数学优质课评比一等奖", "attachments": []})
        archives.submit_for_audit(applicant)
        archives.audit(_user("school_hr"), applicant.id, "approve", "经核实，业绩属实")


def _apply(username: str, day: str, index: int) -> int:
    _at(day)
    data = {"committee": COMMITTEE, "target_title": "一级教师", "specialty": "中小学教师", "current_title": "二级教师",
            "title_year": 2017, "education": "本科", "application_mode": "正常申报", "years_in_m26": 6 + index,
            "id_number": f"3325011990010{index}123X", "phone": f"0578-212345{index}"}
    return instances.start_instance(_user(username), "title_application", data).id


def _through_unit(instance_id: int, notice_start: str, fired_on: str) -> None:
    _do("school_hr", instance_id, "单位审核", {"decision": "approve"})
    _do("school_hr", instance_id, "单位内公示", {"notice_start": notice_start, "notice_place": "学校公告栏及校园网"})
    _at(fired_on, 0)
    timers.run_due_timers()
    _at(fired_on)
    _do("school_hr", instance_id, "公示结果及推荐意见", {"notice_result": "no_objection", "decision": "approve",
                                                     "opinion": "经审核，该同志符合申报条件，公示无异议，同意报送。"})


def _session(cases: list[int]) -> None:
    _at("2022-08-22")
    session = instances.start_instance(_user("edu_office"), "review_session",
                                       {"session_name": "2022年度评审会议", "meeting_date": "2022-09-20", "members": 15})
    _at("2022-08-29")
    _do("edu_office", session.id, "发布评前公示", {"notice_start": "2022-08-29"})
    _at("2022-09-03", 0)
    timers.run_due_timers()
    _at("2022-09-08")
    _do("edu_office", session.id, "报告评审准备情况", {
        "meeting_date": "2022-09-20", "composition": "评委会委员15人，其中正高级教师3人、高级教师12人",
        "summary": f"资格审查通过{len(cases)}人，2022年8月29日至9月2日评前公示，无异议。"})
    _do("city_hr", session.id, "评审准备情况备案", {"decision": "approve"})
    _at("2022-09-14")
    _do("liandu_hr", session.id, "审核评审准备情况并出具书面意见", {"decision": "approve", "opinion": "同意按期召开评审会议。"})
    _at("2022-09-20", 0)
    timers.run_due_timers()


def _hospital_cycle() -> None:
    _at("2022-11-01")
    unit = _user("hospital_admin")
    cycle = instances.start_instance(unit, "self_managed_cycle", {"plan_period": "2022—2024年"})
    _at("2022-11-25")
    plan = documents.upload(unit, "2022年度卫生技术人员自主评聘方案.pdf", io.BytesIO(b"%PDF-1.4\n% demo plan\n"))
    _do("hospital_admin", cycle.id, "报送评聘规划和当年评聘方案", {
        "three_year_plan": [plan.id], "annual_plan": [plan.id], "planned_meeting": "2022-12-20",
        "plan_summary": "2022—2024年卫生技术中级、副高级自主评聘，2022年度计划于12月下旬召开评聘会议"})


def load_demo_cases() -> None:
    """Run the demo applications and session; the app clock is left as it was."""
    before = clock.override()
    try:
        _at("2022-06-20")
        _teachers()
        in_session = []
        for index, username in enumerate(("teacher2", "teacher3"), start=1):
            case = _apply(username, "2022-07-11", index)
            _through_unit(case, "2022-07-12", "2022-07-19")
            _do("liandu_edu", case, "主管部门审核", {"decision": "approve"})
            in_session.append(case)
        _at("2022-08-15")
        for case in in_session:
            _do("edu_office", case, "受理及资格审查", {"decision": "approve"})
        _session(in_session)
        at_department = _apply("teacher4", "2022-09-01", 3)
        _through_unit(at_department, "2022-09-02", (date(2022, 9, 8) + timedelta(days=1)).isoformat())
        _apply("teacher5", "2022-09-13", 4)
        _hospital_cycle()
    finally:
        clock.set_override(before)
