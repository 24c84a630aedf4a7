"""The 5× performance-archive KPI (DT-05, D8): per committee, competent department and employer.

A KPI, never a gate. n = the plan year's title applications (those refused at routing excluded);
m = performance archives of the people in scope, audited by their unit (status audited) and
updated or audited in the plan year (Asia/Shanghai calendar year).

Scope of m: an employer's own staff; a department's = the staff of the employers it supervises
(employers without a competent department report to their county's HR bureau, as the title
application routes them); a committee's = the staff of every employer that had at least one
applicant to it that year.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import and_, func, or_, select

from app import clock
from app.extensions import db
from app.models import Committee, CommitteeScope, Organisation, PerformanceArchive, ProcessInstance, User
from app.rules import title
from app.services import committees
from app.services.errors import NotAllowed

PROCESS_ID = "title_application"
EXCLUDED_OUTCOMES = ("rejected_routing", "rejected_scope")
EMPLOYER_KINDS = ("employer", "self_managed_unit")
DEPARTMENT_KINDS = ("competent_dept", "hr_bureau")
LEVELS = {"committees": "评审委员会", "departments": "主管部门", "employers": "用人单位"}
STATUS_LABELS = {"NON_COMPLIANT": "未达标", "COMPLIANT": "达标", "NOT_APPLICABLE": "不适用"}
_STATUS_ORDER = {"NON_COMPLIANT": 0, "COMPLIANT": 1, "NOT_APPLICABLE": 2}
CITY = "市本级"


@dataclass(frozen=True)
class Row:
    name: str
    county: str | None  # where the subject sits (a committee's location); None: not a known organisation
    applicants: int
    archives: int
    status: str
    ratio: float | None
    shortfall: int

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def _row(name: str, county: str | None, applicants: int, archives: int) -> Row:
    result = title.archive_ratio_kpi(applicants, archives)
    return Row(name=name, county=county, applicants=applicants, archives=archives, status=result["status"],
               ratio=result["ratio"], shortfall=result["shortfall"])


def _sorted(rows: list[Row]) -> list[Row]:
    """The largest shortfalls first, then compliant, then not applicable."""
    return sorted(rows, key=lambda r: (_STATUS_ORDER[r.status], -r.shortfall, r.name))


@dataclass(frozen=True)
class Applications:
    """The year's applications not refused at routing, counted by committee, competent
    department and employer (one row per combination, from one grouped query)."""
    groups: list[tuple[str | None, str | None, int | None, int]]

    def per_committee(self) -> tuple[Counter[str], dict[str, set[int]]]:
        applicants: Counter[str] = Counter()
        employers: dict[str, set[int]] = defaultdict(set)
        for committee, _, employer_id, n in self.groups:
            if committee:
                applicants[committee] += n
                if employer_id is not None:
                    employers[committee].add(employer_id)
        return applicants, employers

    def per_department(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for _, department, _, n in self.groups:
            if department:
                found[department] += n
        return found

    def per_employer(self) -> Counter[int]:
        found: Counter[int] = Counter()
        for _, _, employer_id, n in self.groups:
            if employer_id is not None:
                found[employer_id] += n
        return found


def _applications(plan_year: int) -> Applications:
    """Counted in the database on the typed columns (plan year, committee: copies of the result
    fields) and the dept_org and outcome fields."""
    outcome = ProcessInstance.outcome
    department = ProcessInstance.dept_org
    rows = db.session.execute(
        select(ProcessInstance.committee, department, ProcessInstance.employer_org_id, func.count())
        .where(ProcessInstance.process_id == PROCESS_ID, ProcessInstance.plan_year == plan_year,
               or_(outcome.is_(None), outcome.not_in(EXCLUDED_OUTCOMES)))
        .group_by(ProcessInstance.committee, department, ProcessInstance.employer_org_id))
    return Applications([(c, d, e, int(n)) for c, d, e, n in rows])


def _archives_by_org(plan_year: int) -> dict[int, int]:
    """Qualifying archives per organisation of their holders."""
    start = clock.local_midnight(date(plan_year, 1, 1))
    end = clock.local_midnight(date(plan_year + 1, 1, 1))
    in_year = or_(and_(PerformanceArchive.updated_at >= start, PerformanceArchive.updated_at < end),
                  and_(PerformanceArchive.audited_at >= start, PerformanceArchive.audited_at < end))
    rows = db.session.execute(
        select(User.org_id, func.count(PerformanceArchive.id))
        .join(User, User.id == PerformanceArchive.user_id)
        .where(PerformanceArchive.status == "audited", in_year)
        .group_by(User.org_id))
    return {org_id: count for org_id, count in rows}


def _department_of(org: Organisation, orgs: dict[int, Organisation]) -> str:
    # As app.services.title_review._department: the competent department, else the local HR bureau.
    if org.competent_dept_id is not None and org.competent_dept_id in orgs:
        return orgs[org.competent_dept_id].name
    return title.county_hr(org.county)


def _committee_rows(plan_year: int, apps: Applications, archives: dict[int, int]) -> list[Row]:
    scoped = dict(db.session.execute(
        select(Organisation.name, Committee.location)
        .join(Committee, Committee.org_id == Organisation.id)
        .join(CommitteeScope, CommitteeScope.committee_id == Committee.id)
        .where(CommitteeScope.plan_year == plan_year)).all())
    applicants, employers = apps.per_committee()
    located = dict(scoped)
    for name in set(applicants) - set(scoped):
        committee = committees.committee_named(name)
        located[name] = committee.location if committee is not None else None
    return [_row(name, county, applicants[name], sum(archives.get(e, 0) for e in employers[name]))
            for name, county in located.items()]


def _department_rows(apps: Applications, archives: dict[int, int], orgs: dict[int, Organisation]) -> list[Row]:
    by_name = {o.name: o for o in orgs.values()}
    applicants = apps.per_department()
    counted: Counter[str] = Counter()
    for org in orgs.values():
        if org.kind in EMPLOYER_KINDS and archives.get(org.id):
            counted[_department_of(org, orgs)] += archives[org.id]
    names = set(applicants) | {n for n in counted if n in by_name and by_name[n].kind in DEPARTMENT_KINDS}
    return [_row(n, by_name[n].county if n in by_name else None, applicants[n], counted[n]) for n in names]


def _employer_rows(apps: Applications, archives: dict[int, int], orgs: dict[int, Organisation]) -> list[Row]:
    applicants = apps.per_employer()
    ids = set(applicants) | {i for i, m in archives.items() if m and i in orgs and orgs[i].kind in EMPLOYER_KINDS}
    return [_row(orgs[i].name, orgs[i].county, applicants[i], archives.get(i, 0)) for i in ids if i in orgs]


def kpi(plan_year: int) -> dict[str, list[Row]]:
    """Every row of the year (no visibility filter): {"committees": [...], "departments": [...], "employers": [...]}."""
    apps = _applications(plan_year)
    archives = _archives_by_org(plan_year)
    orgs = {o.id: o for o in db.session.scalars(select(Organisation))}
    return {
        "committees": _sorted(_committee_rows(plan_year, apps, archives)),
        "departments": _sorted(_department_rows(apps, archives, orgs)),
        "employers": _sorted(_employer_rows(apps, archives, orgs)),
    }


# -- who sees what -----------------------------------------------------------------------------
def may_view(actor: User) -> bool:
    return actor.has_role("system_admin", "manager", "hr_staff")


def county_scope(actor: User) -> str | None:
    """None: the whole city; else the only county whose rows the actor sees."""
    if not may_view(actor):
        raise NotAllowed("只有监督管理员、人社部门工作人员和系统管理员可以查看业绩档案5倍要求完成情况")
    if actor.has_role("system_admin") or actor.org.county == CITY:
        return None
    return actor.org.county


def kpi_for(actor: User, plan_year: int) -> dict[str, list[Row]]:
    """`kpi` as the actor may see it: a county's manager or HR bureau sees the rows of that county."""
    county = county_scope(actor)
    rows = kpi(plan_year)
    if county is None:
        return rows
    return {level: [r for r in items if r.county == county] for level, items in rows.items()}


def years() -> list[int]:
    """The plan years to choose from (newest first)."""
    found = set(committees.plan_years())
    try:
        found.add(committees.current_plan_year())
    except LookupError:
        found.add(clock.today().year)
    return sorted(found, reverse=True)


def default_year() -> int:
    try:
        return committees.current_plan_year()
    except LookupError:
        return clock.today().year


# -- the Excel export --------------------------------------------------------------------------
HEADERS = ["名称", "所在地", "申报人数", "业绩档案数", "倍数", "状态", "缺口"]


def row_values(row: Row) -> list[str | int | float]:
    return [row.name, row.county or "—", row.applicants, row.archives,
            row.ratio if row.ratio is not None else "—", row.status_label, row.shortfall]


def workbook(actor: User, plan_year: int) -> bytes:
    """The rows the actor sees, one sheet per level, as the page shows them."""
    rows = kpi_for(actor, plan_year)
    book = Workbook()
    book.remove(book.active)
    for level, label in LEVELS.items():
        sheet = book.create_sheet(label)
        sheet.append(HEADERS)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E6E6E6")
        for row in rows[level]:
            sheet.append(row_values(row))
            sheet.cell(row=sheet.max_row, column=1).data_type = "s"  # a name is never a formula
            sheet.cell(row=sheet.max_row, column=5).number_format = "0.00"
        sheet.freeze_panes = "A2"
        sheet.column_dimensions["A"].width = 60
        sheet.column_dimensions["B"].width = 12
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
