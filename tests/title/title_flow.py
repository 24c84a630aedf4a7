"""The title review (评审程序) end to end: the people and units of the acceptance cases (analysis §8)
and a driver that acts as each of them through the REST API, with the app clock set to the
dates the cases give. The fixtures are in conftest.py."""

from __future__ import annotations

import functools
import io
from typing import Any

from api_client import Api
from committee_names import (  # noqa: F401
    AGRI,
    AUTO,
    DIRECT,
    FORESTRY,
    HEALTH_SENIOR,
    INDUSTRY,
    LIANDU_TEACHERS,
    NATURAL,
    TRANSPORT,
)
from page_client import Browser
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Organisation, Setting, User, UserRole
from app.services import archives, ce, documents
from app.services.auth import hash_password

CITY_HR = "丽水市人力资源和社会保障局"
LIANDU_HR = "莲都区人力资源和社会保障局"
PASSWORD = "demo-pass-2026"
# P01 周晓岚: 二级教师 since 2017 → 一级教师 at the district committee, 8 years in the 26 counties.
P01 = {"committee": LIANDU_TEACHERS, "target_title": "一级教师", "specialty": "中小学教师", "current_title": "二级教师",
       "title_year": 2017, "education": "本科", "application_mode": "正常申报", "years_in_m26": 8,
       "id_number": "33250119900101123X", "phone": "0578-2123456"}
# A 本科 graduate in related work since July 2021, asking for 助理级.
GRADUATE = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
            "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}
P01_HOURS = {2019: (66, 30, 18), 2020: (60, 30, 12), 2021: (72, 30, 14), 2022: (72, 18, 12)}


def org(name: str, kind: str, county: str, unit_type: str | None = None, dept: str | None = None) -> Organisation:
    found = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if found is None:
        found = Organisation(name=name, kind=kind, county=county, unit_type=unit_type, self_managed=False)
        db.session.add(found)
        db.session.flush()
    if dept:
        found.competent_dept_id = org(dept, "competent_dept", county, "机关").id
    return found


@functools.cache
def _password_hash() -> str:
    """scrypt is slow on purpose; the fixture users share one password, so hash it once."""
    return hash_password(PASSWORD)


def person(username: str, display: str, role: str, organisation: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    if found is not None:
        return found
    owner = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
    user = User(username=username, display_name=display, password_hash=_password_hash(), org_id=owner.id)
    user.roles.append(UserRole(role=role, org_id=owner.id))
    db.session.add(user)
    db.session.flush()
    return user


# name, employer (name, kind, county, unit type, competent department), employer HR, applicant
UNITS = {
    "p02": (("丽水市莲都区精工机械有限公司", "employer", "莲都区", "企业", None), "p02_hr", ("p02", "陈建锋")),
    "p03": (("丽水市交通规划设计研究院", "employer", "市本级", "事业单位", "丽水市交通运输局"), "p03_hr", ("p03", "吴国平")),
    "p04": (("丽水市莲都区绿能科技有限公司", "employer", "莲都区", "企业", None), "p04_hr", ("p04", "郑敏")),
    "p05": (("莲都区农业技术推广中心", "employer", "莲都区", "事业单位", "莲都区农业农村局"), "p05_hr", ("p05", "徐志强")),
    "p10": (("莲都区林业技术推广站", "employer", "莲都区", "事业单位", "莲都区林业局"), "p10_hr", ("p10", "邱林")),
    "x1": (("浙江省林业科学研究院", "employer", "杭州市西湖区", "事业单位", None), "x1_hr", ("x1", "钱多多")),
    "t2": (("丽水市莲都区示范中学", "employer", "莲都区", "事业单位", "莲都区教育局"), "school_hr", ("t2", "王老师")),
    "t3": (("丽水市莲都区示范中学", "employer", "莲都区", "事业单位", "莲都区教育局"), "school_hr", ("t3", "李老师")),
}
OFFICES = {"direct_office": DIRECT, "transport_office": TRANSPORT, "industry_office": INDUSTRY,
           "agri_office": AGRI, "forestry_office": FORESTRY, "natural_office": NATURAL}
DEPARTMENTS = {"transport_dept": "丽水市交通运输局", "liandu_agri": "莲都区农业农村局", "liandu_forest": "莲都区林业局"}


def audited_archive(applicant: User, employer_hr: User) -> None:
    archives.add_achievement(applicant, {"kind": "论文", "title": "教学研究论文一篇", "achieved_on": "2020-05-01",
                                         "description": "发表于省级期刊", "attachments": []})
    archives.submit_for_audit(applicant)
    archives.audit(employer_hr, applicant.id, "approve", "经核实，业绩属实")


def hours(username: str, rows: dict[int, tuple[int, int, int]]) -> None:
    ce.upsert(db.session.scalar(select(User).where(User.username == "city_hr")),
              [{"username": username, "year": y, "professional": p, "public": pub, "general_public": g}
               for y, (p, pub, g) in rows.items()])


def plan_year(year: int) -> None:
    db.session.merge(Setting(key="current_plan_year", value={"year": year}))
    db.session.commit()


class Flow:
    """Acts as the demo and fixture users through the REST API."""

    def __init__(self, client):
        self.client = client
        self._apis: dict[str, Api] = {}
        self._browsers: dict[str, Browser] = {}

    def api(self, username: str) -> Api:
        # The requests commit in their own sessions; the test's session must not keep reading the
        # snapshot of its last transaction (SQLite WAL, PostgreSQL repeatable reads alike).
        db.session.rollback()
        if username not in self._apis:
            self._apis[username] = Api(self.client, username)
        return self._apis[username]

    def at(self, when: str) -> None:
        value = when if "T" in when else f"{when}T09:00:00+08:00"
        response = self.api("admin").put("/api/v1/clock", json={"now": value})
        assert response.status_code == 200, response.get_json()

    def timers(self) -> int:
        return self.api("admin").post("/api/v1/timers/run").get_json()["fired"]

    def apply(self, username: str, **data: Any) -> dict:
        response = self.api(username).post("/api/v1/process-instances",
                                           json={"process_model": "title_application", "data": data})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def graduate(self, username: str, **data: Any) -> int:
        """A graduate initial determination started by `username` (GRADUATE, changed by `data`)."""
        response = self.api(username).post("/api/v1/process-instances", json={
            "process_model": "graduate_initial_determination", "data": {**GRADUATE, **data}})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def p01_accepted(self) -> int:
        """P01 (test_p01_district_happy_path) until the office's eligibility check has passed."""
        hours("teacher1", P01_HOURS)
        self.at("2022-07-11")
        cid = self.apply("teacher1", **P01)["id"]
        self.through_unit(cid, "school_hr", "liandu_edu", "2022-07-12")
        self.at("2022-08-15")
        self.do("edu_office", cid, "受理及资格审查", {"decision": "approve"})
        return cid

    def refused_in_longquan(self) -> dict:
        """engineer1 (龙泉市) applies to the industry committee and is refused at routing (P06 in 2022)."""
        hours("engineer1", {y: (64, 26, 13) for y in range(2019, 2023)})
        refused = self.apply("engineer1", committee=INDUSTRY, target_title="工程师", specialty="汽车零部件工程",
                             current_title="助理工程师", title_year=2016, education="大专", application_mode="正常申报",
                             years_in_m26=9, id_number="332502198601011234", phone="13905780006")
        assert refused["data"]["outcome"] == "rejected_routing"
        return refused

    def city_application(self) -> dict:
        """p03 (市本级) applies to the transport committee: in progress at the unit."""
        return self.apply("p03", committee=TRANSPORT, target_title="工程师", specialty="交通工程",
                          current_title="助理工程师", title_year=2015, education="本科", application_mode="正常申报",
                          years_in_m26=10, id_number="332501197806061234", phone="13905780003")

    def instance(self, instance_id: int, username: str = "admin") -> dict:
        response = self.api(username).get(f"/api/v1/process-instances/{instance_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def task(self, username: str, instance_id: int, name: str) -> dict:
        tasks = [t for t in self.api(username).tasks(instance_id=instance_id) if t["name"] == name]
        names = [t["name"] for t in self.api(username).tasks(instance_id=instance_id)]
        open_names = [t["name"] for t in self.instance(instance_id)["open_tasks"]]
        assert len(tasks) == 1, f"{username} has no “{name}” on {instance_id}: own {names}, open {open_names}"
        return tasks[0]

    def page_of(self, username: str, task_id: int) -> str:
        """The task's page as the person acting sees it (every scenario renders every page it passes)."""
        if username not in self._browsers:
            self._browsers[username] = Browser(self.client.application, username)
        return self._browsers[username].page(f"/tasks/{task_id}")

    def submit(self, username: str, instance_id: int, name: str, data: dict[str, Any]):
        task = self.task(username, instance_id, name)
        self.page_of(username, task["id"])
        if task["assignee"] is None:
            claimed = self.api(username).post(f"/api/v1/tasks/{task['id']}/claim")
            assert claimed.status_code == 200, claimed.get_json()
        return self.api(username).complete(task["id"], data)

    def do(self, username: str, instance_id: int, name: str, data: dict[str, Any] | None = None) -> dict:
        response = self.submit(username, instance_id, name, data or {})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    # -- the applicant's side -------------------------------------------------------------------
    def through_unit(self, cid: int, employer: str, department: str, notice_start: str) -> None:
        """The unit approves, runs its 5-working-day notice, forwards; the department approves."""
        self.do(employer, cid, "单位审核", {"decision": "approve"})
        self.do(employer, cid, "单位内公示", {"notice_start": notice_start, "notice_place": "单位公告栏"})
        end = self.instance(cid)["data"]["unit_notice_end"]
        self.at(_next_day(end))
        assert self.timers() >= 1
        self.do(employer, cid, "公示结果及推荐意见", {"notice_result": "no_objection", "decision": "approve",
                                                 "opinion": "同意报送"})
        self.do(department, cid, "主管部门审核", {"decision": "approve"})

    def eligibility(self, office: str, cid: int) -> dict:
        """The rule results the committee office sees on its task, and the decisions its form offers."""
        task = self.task(office, cid, "受理及资格审查")
        detail = self.api(office).get(f"/api/v1/tasks/{task['id']}").get_json()
        decisions = [o["const"] for o in detail["form"]["schema"]["properties"]["decision"]["oneOf"]]
        return {**detail["case"], "office_choices": decisions}

    # -- the session's side ----------------------------------------------------------------------
    def to_meeting(self, office: str, sid: int, *, pre_notice: str, report: str, meeting: str, opinion_by: str,
                   opinion_on: str, filing_by: str | None = None) -> None:
        """评前公示, the readiness report (and its filing), the written opinion; stops at the meeting day."""
        self.at(pre_notice)
        self.do(office, sid, "发布评前公示", {"notice_start": pre_notice})
        self.at(_next_day(self.instance(sid)["data"]["pre_notice_end"]))
        self.timers()
        self.at(report)
        self.do(office, sid, "报告评审准备情况", {"meeting_date": meeting, "composition": "评委会委员15人",
                                               "summary": "资格审查及评前公示情况"})
        if filing_by:
            self.do(filing_by, sid, "评审准备情况备案", {"decision": "approve"})
        self.at(opinion_on)
        self.do(opinion_by, sid, "审核评审准备情况并出具书面意见", {"decision": "approve", "opinion": "同意召开"})
        self.at(f"{meeting}T08:00:00+08:00")
        self.timers()

    def meeting(self, office: str, sid: int, votes: dict[int, int], *, members: int = 15, attending: int = 13,
                on_platform: str = "yes") -> dict:
        return self.do(office, sid, "录入评审会议表决结果", {
            "members": members, "attending": attending, "on_platform": on_platform,
            "votes": {str(k): {"yes": v} for k, v in votes.items()}})

    def post_notice(self, office: str, sid: int, start: str) -> str:
        self.at(start)
        self.do(office, sid, "发布评后公示", {"notice_start": start})
        return self.instance(sid)["data"]["post_notice_end"]

    def start_session(self, office: str, meeting_date: str, members: int = 15, name: str = "2022年度评审会议") -> dict:
        response = self.api(office).post("/api/v1/process-instances", json={
            "process_model": "review_session",
            "data": {"session_name": name, "meeting_date": meeting_date, "members": members}})
        assert response.status_code == 201, response.get_json()
        return response.get_json()


def _next_day(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def build_world() -> None:
    """The acceptance cases' units, offices and applicants, with audited archives."""
    for (unit, hr, (username, display)) in UNITS.values():
        org(*unit)
        hr_user = person(hr, f"{unit[0]}人事", "employer_hr", unit[0])
        applicant = person(username, display, "applicant", unit[0])
        db.session.commit()
        audited_archive(applicant, hr_user)
    for username, committee in OFFICES.items():
        person(username, f"{committee}办公室", "committee_office", committee)
    for username, dept in DEPARTMENTS.items():
        person(username, f"{dept}审核员", "competent_dept", dept)
    db.session.commit()
    for username in ("teacher1", "engineer1", "doctor1"):
        applicant = db.session.scalar(select(User).where(User.username == username))
        employer_hr = db.session.scalar(select(User).join(UserRole).where(
            UserRole.org_id == applicant.org_id, UserRole.role.in_(("employer_hr", "self_managed_admin"))))
        audited_archive(applicant, employer_hr)


def pdf_text(doc) -> str:
    """The text of a generated PDF, read back as a user entitled to it would download it."""
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    _, content = documents.get(admin, doc.id)
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
