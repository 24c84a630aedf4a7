"""Rows for the 5× archive KPI (DT-05, analysis §8 O1–O3), inserted directly: no process is run."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Committee,
    CommitteeScope,
    Organisation,
    PerformanceArchive,
    ProcessInstance,
    SupervisionFlag,
    User,
    UserRole,
)
from app.services import registry

YEAR = 2022
COMMITTEE_A = "测试甲工程技术人员中级评审委员会"  # 莲都区
COMMITTEE_B = "测试乙建设工程技术人员中级评审委员会"  # 市本级
DEPT_D = "莲都区测试工业局"
EMPLOYER_A = "丽水市莲都区测试甲机械有限公司"  # 莲都区, competent department D
EMPLOYER_B = "丽水市测试乙建设有限公司"  # 市本级, no competent department: the city HR bureau
EMPLOYER_C = "丽水市莲都区测试丙科技有限公司"  # 莲都区, no competent department, no applicant
EMPLOYER_X = "丽水市莲都区测试丁公司"  # its only applicant to A was refused at routing
CITY_HR = "丽水市人力资源和社会保障局"
LIANDU_HR = "莲都区人力资源和社会保障局"

_serial = itertools.count(1)


def at(text: str) -> datetime:
    """An instant given in Asia/Shanghai (+08:00), as stored: aware UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


def org(name: str, kind: str, county: str, dept: Organisation | None = None) -> Organisation:
    found = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if found is None:
        found = Organisation(name=name, kind=kind, county=county, unit_type="企业" if kind == "employer" else None,
                             self_managed=False, competent_dept_id=dept.id if dept is not None else None)
        db.session.add(found)
        db.session.flush()
    return found


def committee(name: str, county: str, year: int = YEAR) -> Committee:
    owner = org(name, "committee", county)
    item = Committee(org_id=owner.id, short_name=name[:20], level="中", series="测试", location=county)
    item.scopes.append(CommitteeScope(plan_year=year, titles_evaluated=["工程师"]))
    db.session.add(item)
    db.session.flush()
    return item


def staff(employer: Organisation, role: str = "applicant") -> User:
    n = next(_serial)
    person = User(username=f"kpi{n}", display_name=f"测试人员{n}", password_hash="x", org_id=employer.id)
    person.roles.append(UserRole(role=role, org_id=employer.id))
    db.session.add(person)
    db.session.flush()
    return person


def archive(employer: Organisation, *, status: str = "audited", updated: str = "2022-05-10T09:00:00+08:00",
            audited: str | None = "2022-05-11T09:00:00+08:00") -> PerformanceArchive:
    item = PerformanceArchive(user_id=staff(employer).id, status=status, updated_at=at(updated),
                              submitted_at=at(updated), audited_at=at(audited) if audited else None)
    db.session.add(item)
    return item


def archives(employer: Organisation, count: int, **kw) -> None:
    for _ in range(count):
        archive(employer, **kw)


def application(committee_name: str, employer: Organisation, dept: str, *, year: int = YEAR,
                outcome: str | None = None) -> ProcessInstance:
    now = at(f"{year}-06-01T09:00:00+08:00")
    data = {"committee": committee_name, "plan_year": year, "dept_org": dept, "employer_org": employer.name,
            "applicant_name": "测试申报人", "target_title": "工程师"}
    if outcome:
        data["outcome"] = outcome
    instance = ProcessInstance(process_id="title_application", version_id=registry.latest("title_application").id,
                               title="测试申报人申报工程师", status="completed", state={}, data=data,
                               starter_id=staff(employer).id, employer_org_id=employer.id, county=employer.county,
                               plan_year=year, committee=committee_name, outcome=outcome,  # as cases.save
                               dept_org=dept,                                              # copies them
                               created_at=now, updated_at=now, library_version="3.2", serializer_version="1")
    db.session.add(instance)
    db.session.flush()
    return instance


def applications(count: int, *args, **kw) -> None:
    for _ in range(count):
        application(*args, **kw)


def build() -> dict[str, Organisation]:
    """O1 committee A: 12 applicants, 58 qualifying archives; O2 committee B: 10 and 50; O3 employer C: 0 and 3.

    Around them, what must not count: applications refused at routing or of another year, archives
    not audited, or updated and audited only in another year (the year is Asia/Shanghai's).
    """
    dept = org(DEPT_D, "competent_dept", "莲都区")
    emp_a = org(EMPLOYER_A, "employer", "莲都区", dept)
    emp_b = org(EMPLOYER_B, "employer", "市本级")
    emp_c = org(EMPLOYER_C, "employer", "莲都区")
    emp_x = org(EMPLOYER_X, "employer", "莲都区", dept)
    committee(COMMITTEE_A, "莲都区")
    committee(COMMITTEE_B, "市本级")

    applications(12, COMMITTEE_A, emp_a, DEPT_D)
    applications(2, COMMITTEE_A, emp_a, DEPT_D, outcome="rejected_routing")
    application(COMMITTEE_A, emp_x, DEPT_D, outcome="rejected_scope")
    application(COMMITTEE_A, emp_a, DEPT_D, year=YEAR - 1)
    applications(10, COMMITTEE_B, emp_b, CITY_HR)

    archives(emp_a, 56)
    archive(emp_a, updated="2021-11-02T09:00:00+08:00", audited="2022-01-01T00:30:00+08:00")  # audited in 2022
    archive(emp_a, updated="2022-03-01T09:00:00+08:00", audited="2021-12-20T09:00:00+08:00")  # updated in 2022
    archive(emp_a, updated="2021-12-01T09:00:00+08:00", audited="2021-12-31T23:30:00+08:00")  # 2021 in Shanghai
    archives(emp_a, 2, updated="2023-02-01T09:00:00+08:00", audited="2023-02-02T09:00:00+08:00")
    archives(emp_a, 2, status="submitted", audited=None)
    archives(emp_a, 1, status="draft", audited="2022-04-01T09:00:00+08:00")  # changed after its audit
    archives(emp_x, 4)  # X's only applicant was refused: not in committee A's scope
    archives(emp_b, 50)
    archives(emp_c, 3)
    db.session.commit()
    return {"dept": dept, "a": emp_a, "b": emp_b, "c": emp_c, "x": emp_x}


def county_manager() -> User:
    bureau = db.session.scalar(select(Organisation).where(Organisation.name == LIANDU_HR))
    person = User(username="liandu_manager", display_name="莲都区监督管理员", password_hash="x", org_id=bureau.id)
    person.roles.append(UserRole(role="manager", org_id=bureau.id))
    db.session.add(person)
    db.session.commit()
    return person


def flag(instance: ProcessInstance | None, subject: str, kind: str = "off_platform",
         reason: str = "线下评审线上登记，评审结果无效") -> SupervisionFlag:
    item = SupervisionFlag(kind=kind, subject=subject, instance_id=instance.id if instance else None, reason=reason,
                           status="open", created_at=at("2022-09-01T10:00:00+08:00"))
    db.session.add(item)
    db.session.commit()
    return item
