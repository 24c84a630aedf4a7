"""Benchmark 3: the title review. Prints figures; asserts nothing.

N applicants of 丽水市莲都区示范中学 apply to the 莲都区中小学教师中评委 and pass unit, department and
office; one session then takes them all. Measured: one completion in an applicant's case, its
stored state size, and the session steps whose cost grows with the number of applicants (the
评前公示 that assigns everyone and notifies each case; the meeting record with N votes; the
评后公示's end, which produces 附件4-2, 附件4-3 (PDF and Excel) and the recommendation list).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Organisation, ProcessInstance, User, UserRole
from app.services import archives, ce, instances, tasks, timers
from app.services.auth import hash_password

SCHOOL = "丽水市莲都区示范中学"
COMMITTEE = "莲都区中小学教师中级专业技术职务任职资格评审委员会"


def _at(value: str) -> None:
    clock.set_override(datetime.fromisoformat(f"{value}T09:00:00+08:00" if "T" not in value else value))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _do(username: str, instance_id: int, name: str, data: dict) -> float:
    actor = _user(username)
    task = next(t for t in tasks.open_tasks_for(actor, instance_id) if t.name == name)
    if task.assignee_id is None:
        tasks.claim(actor, task.id)
    began = time.perf_counter()
    tasks.complete_task(actor, task.id, data)
    return (time.perf_counter() - began) * 1000


def _fire_all() -> None:
    """Every due timer (run_due_timers takes 500 at a time)."""
    while timers.run_due_timers():
        pass


def _applicants(count: int, prefix: str = "bench_teacher") -> list[User]:
    school = db.session.scalar(select(Organisation).where(Organisation.name == SCHOOL))
    password = hash_password("bench")
    users = []
    for i in range(count):
        user = User(username=f"{prefix}{i}", display_name=f"测试教师{i:04d}", password_hash=password,
                    org_id=school.id)
        user.roles.append(UserRole(role="applicant", org_id=school.id))
        db.session.add(user)
        users.append(user)
    db.session.commit()
    ce.upsert(_user("liandu_hr"), [{"username": u.username, "year": y, "professional": 60, "public": 30,
                                    "general_public": 12} for u in users for y in range(2019, 2023)])
    for user in users:
        archives.add_achievement(user, {"kind": "论文", "title": "教学论文", "achieved_on": "2021-05-01",
                                        "description": "", "attachments": []})
        archives.submit_for_audit(user)
        archives.audit(_user("school_hr"), user.id, "approve", "属实")
    return users


APPLICATION = {"committee": COMMITTEE, "target_title": "一级教师", "specialty": "中小学教师", "current_title": "二级教师",
               "title_year": 2017, "education": "本科", "application_mode": "正常申报", "years_in_m26": 5,
               "id_number": "33250119900101123X", "phone": "0578-2123456"}


def _accepted(users: list[User], office: bool = True) -> tuple[list[int], list[float]]:
    """The users' applications through unit, notice and department, and (``office``) the office's
    eligibility check: then they wait for a session."""
    _at("2023-07-10")
    cases = [instances.start_instance(u, "title_application", dict(APPLICATION)).id for u in users]
    reviews = [_do("school_hr", c, "单位审核", {"decision": "approve"}) for c in cases]
    for case in cases:
        _do("school_hr", case, "单位内公示", {"notice_start": "2023-07-10", "notice_place": "学校公告栏"})
    _at("2023-07-15T00:00:00+08:00")
    _fire_all()
    for case in cases:
        _do("school_hr", case, "公示结果及推荐意见", {"notice_result": "no_objection", "decision": "approve",
                                                  "opinion": "同意报送"})
        _do("liandu_edu", case, "主管部门审核", {"decision": "approve"})
        if office:
            _do("edu_office", case, "受理及资格审查", {"decision": "approve"})
    return cases, reviews


def session(cases: list[int], at: Callable[[str], None] = _at, fire: Callable[[], object] = _fire_all,
            settle: Callable[[], float] = lambda: 0.0,
            end: Callable[[int], None] | None = None) -> dict[str, float | int]:
    """One session takes the accepted cases to the end of its 评后公示; returns its id and timings (ms).

    ``at`` sets the clock, ``fire`` fires the due timers, ``settle`` waits for the messages a step
    sent (this process by default; bench/scale.py's B6 passes Celery workers' versions) and
    returns its seconds; ``end(session_id)``, when given, replaces the last ``fire``: the end of
    the 评后公示, when 附件4-2/4-3 are written (what ``documents`` times).
    """
    at("2023-07-17")
    sid = instances.start_instance(_user("edu_office"), "review_session", {
        "session_name": "基准会次", "meeting_date": "2023-08-30", "members": 15}).id
    assign = _do("edu_office", sid, "发布评前公示", {"notice_start": "2023-07-17"})
    assigned = settle()
    at("2023-07-22T00:00:00+08:00")
    fire()
    at("2023-07-24")
    _do("edu_office", sid, "报告评审准备情况", {"meeting_date": "2023-08-30", "composition": "评委会委员15人",
                                            "summary": "资格审查及评前公示情况"})
    _do("city_hr", sid, "评审准备情况备案", {"decision": "approve"})
    _do("liandu_hr", sid, "审核评审准备情况并出具书面意见", {"decision": "approve"})
    at("2023-08-30T00:00:00+08:00")
    fire()
    votes = _do("edu_office", sid, "录入评审会议表决结果", {
        "members": 15, "attending": 13, "on_platform": "yes", "votes": {str(c): {"yes": 10} for c in cases}})
    at("2023-08-31")
    _do("edu_office", sid, "发布评后公示", {"notice_start": "2023-08-31"})
    settle()
    at("2023-09-07T00:00:00+08:00")
    began = time.perf_counter()
    if end is not None:
        end(sid)
    else:
        fire()
    documents = (time.perf_counter() - began) * 1000
    return {"id": sid, "assign": assign, "assigned": assigned, "votes": votes, "documents": documents}


def finish(sid: int, cases: list[int]) -> None:
    """Publication, certificates and the return of materials: every case and the session complete."""
    _at("2023-09-08")
    _do("edu_office", sid, "报送公布申请", {"decision": "approve"})
    _do("liandu_hr", sid, "审核并发文公布", {"decision": "approve"})
    _at("2023-09-20")
    _do("edu_office", sid, "退回评审材料", {"returned_on": "2023-09-20", "decision": "approve"})
    for case in cases:
        _do("school_hr", case, "接收退回材料并归档", {"received_on": "2023-09-20", "decision": "approve"})


def run(app, count: int = 100) -> None:
    with app.app_context():
        try:
            cases, reviews = _accepted(_applicants(count))
            state = db.session.get(ProcessInstance, cases[0]).state
            steps = session(cases)
            assign, votes, documents = steps["assign"], steps["votes"], steps["documents"]
            outcome = db.session.get(ProcessInstance, steps["id"]).data
        finally:
            clock.set_override(None)
    print(f"\n3. 职称评审（{count} 名申报人的评审会次） / the title review, a session of {count} applicants")
    print(f"   单位审核 completion: median {statistics.median(reviews):.1f} ms, max {max(reviews):.1f} ms; "
          f"case state {len(json.dumps(state, ensure_ascii=False).encode())} bytes")
    print(f"   发布评前公示 (assign {count} and notify each case): {assign:.0f} ms")
    print(f"   录入表决结果 ({count} votes, {outcome.get('passed_vote')} passed): {votes:.0f} ms")
    print(f"   评后公示期满 → 附件4-2、附件4-3 PDF+Excel、推荐名单 ({outcome.get('letter_doc_no')}): {documents:.0f} ms")
