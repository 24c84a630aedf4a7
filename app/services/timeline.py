"""Plan against progress (计划执行进度): a timeline of one plan year.

One row per committee with a scope (CommitteeScope) that year: the window the plan gives it
(first day of the start month to the last day of the finish month) and its review sessions
(`review_session` instances of that committee and plan year) with their real dates and counts.
A session is late when its meeting, or today while the meeting has not been held, falls after
the window, or when its results were published after the finish month; a committee with no
session one month after its start month is flagged as not started. The published plan's
§二 (provincial recommendations) and §三 (graduate batches) rows are shown as their own rows.

Read-only: the plan months are a soft rule (the session only warns, see review_sessions), and so
is this page. Who sees what is as the archive KPI: the city sees every committee, a county's
bureau the committees located in its county.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import AnnualPlan, Committee, CommitteeScope, PlanEntry, ProcessInstance, SessionEntry, User
from app.services import archive_kpi
from app.services.errors import NotAllowed

CITY = "市本级"
SESSION_PROCESS = "review_session"
GRADUATE_PROCESS = "graduate_initial_determination"
VIEW_ROLES = ("manager", "hr_staff", "system_admin")
MIN_YEAR, MAX_YEAR = 2000, 2100

ON_TIME, LATE, NOT_STARTED = "on_time", "late", "not_started"
LATENESS_LABELS = {ON_TIME: "按期", LATE: "逾期", NOT_STARTED: "未按期开始"}
ROW_STATUS_LABELS = {"not_started": "未开始", "in_progress": "进行中", "completed": "已完成", "overdue": "逾期"}
SESSION_STATUS_LABELS = {"running": "办理中", "waiting": "等待中", "completed": "已办结", "suspended": "已挂起",
                         "terminated": "已终止", "error": "出错"}
SECTION_LABELS = {"provincial_recommendation": "二、推荐省级评审", "graduate_initial_determination": "三、初定批次"}
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


# -- months and dates --------------------------------------------------------------------------
def _month_tuple(value: Any, year: int | None = None) -> tuple[int, int] | None:
    """(year, month) of "YYYY-MM" (or, with a plan year, of a bare month number such as "10" or "10月")."""
    text = str(value or "").strip()
    match = _MONTH.match(text)
    if match:
        y, m = int(match.group(1)), int(match.group(2))
    else:
        digits = re.fullmatch(r"(\d{1,2})\s*月?", text)
        if not digits or year is None:
            return None
        y, m = year, int(digits.group(1))
    return (y, m) if 1 <= m <= 12 and MIN_YEAR - 1 <= y <= MAX_YEAR + 1 else None


def month_text(value: Any, year: int | None = None) -> str | None:
    found = _month_tuple(value, year)
    return f"{found[0]:04d}-{found[1]:02d}" if found else None


def first_day(month: str) -> date:
    y, m = _month_tuple(month)  # type: ignore[misc]
    return date(y, m, 1)


def last_day(month: str) -> date:
    y, m = _month_tuple(month)  # type: ignore[misc]
    return date(y, m, _calendar.monthrange(y, m)[1])


def add_months(month: str, n: int) -> str:
    y, m = _month_tuple(month)  # type: ignore[misc]
    index = y * 12 + (m - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- the result --------------------------------------------------------------------------------
@dataclass
class SessionMark:
    instance_id: int
    name: str
    status: str
    stage: str | None
    opened_on: date
    meeting_date: date | None
    meeting_held: bool
    pre_notice_start: date | None
    report_date: date | None
    post_notice_start: date | None
    published_on: date | None
    published_doc_no: str | None
    applicants: int
    passed: int | None
    cancelled: bool  # terminated, or results invalid (线下评审): does not count towards the plan
    lateness: str = ON_TIME
    reasons: list[str] = field(default_factory=list)
    meeting_late: bool = False  # the meeting (held, planned, or still not held past the window) is late
    published_late: bool = False

    @property
    def status_label(self) -> str:
        if self.cancelled and self.status != "terminated":
            return "评审结果无效"
        return SESSION_STATUS_LABELS.get(self.status, self.status)

    @property
    def lateness_label(self) -> str:
        return LATENESS_LABELS[self.lateness]

    @property
    def published(self) -> bool:
        return bool(self.published_doc_no)

    def to_dict(self) -> dict[str, Any]:
        iso = _iso
        return {"instance_id": self.instance_id, "name": self.name, "status": self.status,
                "status_label": self.status_label, "stage": self.stage, "opened_on": iso(self.opened_on),
                "meeting_date": iso(self.meeting_date), "meeting_held": self.meeting_held,
                "pre_notice_start": iso(self.pre_notice_start), "report_date": iso(self.report_date),
                "post_notice_start": iso(self.post_notice_start), "published_on": iso(self.published_on),
                "published_doc_no": self.published_doc_no, "applicants": self.applicants, "passed": self.passed,
                "cancelled": self.cancelled, "lateness": self.lateness, "lateness_label": self.lateness_label,
                "reasons": list(self.reasons), "meeting_late": self.meeting_late,
                "published_late": self.published_late}


@dataclass
class CommitteeRow:
    committee_id: int
    name: str
    short_name: str
    location: str
    level: str
    plan_seq: int | None
    plan_finish_months: list[str]
    start_month: str | None
    finish_month: str | None
    sessions: list[SessionMark]
    status: str = "not_started"
    lateness: str = ON_TIME
    reasons: list[str] = field(default_factory=list)

    @property
    def window_start(self) -> date | None:
        return first_day(self.start_month) if self.start_month else None

    @property
    def window_end(self) -> date | None:
        return last_day(self.finish_month) if self.finish_month else None

    @property
    def status_label(self) -> str:
        return ROW_STATUS_LABELS[self.status]

    @property
    def lateness_label(self) -> str:
        return LATENESS_LABELS[self.lateness]

    @property
    def window_text(self) -> str:
        if not (self.start_month or self.finish_month):
            return "计划未载明"
        return f"{self.start_month or '—'} 至 {self.finish_month or '—'}"

    @property
    def applicants(self) -> int:
        return sum(s.applicants for s in self.sessions if not s.cancelled)

    @property
    def passed(self) -> int:
        return sum(s.passed or 0 for s in self.sessions if not s.cancelled)

    def to_dict(self) -> dict[str, Any]:
        return {"committee_id": self.committee_id, "name": self.name, "short_name": self.short_name,
                "location": self.location, "level": self.level, "plan_seq": self.plan_seq,
                "plan_finish_months": list(self.plan_finish_months), "start_month": self.start_month,
                "finish_month": self.finish_month, "window_start": _iso(self.window_start),
                "window_end": _iso(self.window_end), "status": self.status, "status_label": self.status_label,
                "lateness": self.lateness, "lateness_label": self.lateness_label, "reasons": list(self.reasons),
                "applicants": self.applicants, "passed": self.passed,
                "sessions": [s.to_dict() for s in self.sessions]}


@dataclass
class PlanRow:
    """A §二 or §三 row of the published plan: months only (finish months, or graduate batches)."""

    section: str
    seq: int
    name: str
    months: list[str]
    counts: dict[str, int] | None  # graduate determinations per batch month

    @property
    def section_label(self) -> str:
        return SECTION_LABELS.get(self.section, self.section)

    def to_dict(self) -> dict[str, Any]:
        return {"section": self.section, "section_label": self.section_label, "seq": self.seq, "name": self.name,
                "months": list(self.months), "counts": dict(self.counts) if self.counts is not None else None}


@dataclass
class Timeline:
    year: int
    today: date
    county: str | None  # None: the whole city
    months: list[str]  # the columns, "YYYY-MM"
    rows: list[CommitteeRow]
    plan_rows: list[PlanRow]
    plan_doc_no: str | None
    message: str | None

    @property
    def start(self) -> date:
        return first_day(self.months[0])

    @property
    def end(self) -> date:
        return last_day(self.months[-1])

    def pos(self, day: date | None, *, end_of_day: bool = False) -> float:
        """Where a day sits on the axis, in percent (clamped to the shown months)."""
        if day is None:
            return 0.0
        total = (self.end - self.start).days + 1
        offset = (day - self.start).days + (1 if end_of_day else 0)
        return round(min(max(offset, 0), total) * 100 / total, 3)

    def span(self, first: date | None, last: date | None) -> tuple[float, float]:
        """(left, width) in percent of a bar from `first` to `last`, both days included."""
        left = self.pos(first)
        return left, round(max(self.pos(last, end_of_day=True) - left, 0.4), 3)

    def outside(self, day: date | None) -> bool:
        return day is not None and not self.start <= day <= self.end

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(r.status for r in self.rows)
        return {status: found.get(status, 0) for status in ROW_STATUS_LABELS}

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "today": self.today.isoformat(), "county": self.county,
                "months": list(self.months), "message": self.message, "plan_doc_no": self.plan_doc_no,
                "counts": self.counts, "rows": [r.to_dict() for r in self.rows],
                "plan_rows": [p.to_dict() for p in self.plan_rows]}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# -- access ------------------------------------------------------------------------------------
def may_view(actor: User) -> bool:
    return actor.has_role(*VIEW_ROLES)


def county_scope(actor: User) -> str | None:
    """None: the whole city; else the county whose committees alone the actor sees."""
    if not may_view(actor):
        raise NotAllowed("只有监督管理员、人社部门工作人员和系统管理员可以查看年度计划执行进度")
    if actor.has_role("system_admin") or actor.org.county == CITY:
        return None
    return actor.org.county


def years() -> list[int]:
    """Plan years to choose from, newest first: those of the oversight pages and every published plan."""
    found = set(archive_kpi.years())
    found.update(db.session.scalars(select(AnnualPlan.year).where(AnnualPlan.status == "published")))
    return sorted(found, reverse=True)


default_year = archive_kpi.default_year


def valid_year(year: Any) -> bool:
    return isinstance(year, int) and MIN_YEAR <= year <= MAX_YEAR


# -- the timeline ------------------------------------------------------------------------------
def year_timeline(actor: User, year: int) -> Timeline:
    county = county_scope(actor)
    today = clock.today()
    if not valid_year(year):
        return Timeline(year=year, today=today, county=county, months=_months_of(default_year(), []),
                        rows=[], plan_rows=[], plan_doc_no=None,
                        message=f"年度“{year}”无效：请选择 {MIN_YEAR}–{MAX_YEAR} 之间的评审计划年度")
    rows = _committee_rows(year, county, today)
    plan = _published_plan(year, county)
    plan_rows = _plan_rows(plan, year, county) if plan is not None else []
    message = None
    if not rows and not plan_rows:
        message = (f"{year} 年度暂无评审计划数据" if county is None
                   else f"{year} 年度暂无{county}的评审委员会评审计划数据")
    dates: list[date] = []
    for row in rows:
        dates += [d for d in (row.window_start, row.window_end) if d]
        for s in row.sessions:
            dates += [d for d in (s.opened_on, s.meeting_date, s.published_on) if d]
    for p in plan_rows:
        dates += [last_day(m) for m in p.months]
    return Timeline(year=year, today=today, county=county, months=_months_of(year, dates), rows=rows,
                    plan_rows=plan_rows, plan_doc_no=plan.doc_no if plan is not None else None, message=message)


def _months_of(year: int, dates: list[date]) -> list[str]:
    """January to December of the plan year, widened to the dates shown (at most a year either side)."""
    first, last = f"{year:04d}-01", f"{year:04d}-12"
    floor, ceiling = f"{year - 1:04d}-01", f"{year + 1:04d}-12"
    for d in dates:
        month = f"{d.year:04d}-{d.month:02d}"
        first, last = min(first, max(month, floor)), max(last, min(month, ceiling))
    months = [first]
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
    return months


def _committee_rows(year: int, county: str | None, today: date) -> list[CommitteeRow]:
    query = (select(CommitteeScope, Committee).join(Committee, Committee.id == CommitteeScope.committee_id)
             .where(CommitteeScope.plan_year == year))
    if county is not None:
        query = query.where(Committee.location == county)
    pairs = list(db.session.execute(query))
    entry_ids = {scope.plan_entry_id for scope, _ in pairs if scope.plan_entry_id}
    entries = ({e.id: e for e in db.session.scalars(select(PlanEntry).where(PlanEntry.id.in_(entry_ids)))}
               if entry_ids else {})
    sessions = _sessions_by_committee(year, {c.name for _, c in pairs})
    rows = []
    for scope, committee in pairs:
        entry = entries.get(scope.plan_entry_id) if scope.plan_entry_id else None
        row = CommitteeRow(
            committee_id=committee.id, name=committee.name, short_name=committee.short_name,
            location=committee.location, level=committee.level, plan_seq=entry.seq if entry else None,
            plan_finish_months=[m for m in (month_text(v, year) for v in (entry.finish_months or [])) if m]
            if entry else [],
            start_month=month_text(scope.start_month, year), finish_month=month_text(scope.finish_month, year),
            sessions=sessions.get(committee.name, []))
        _assess(row, today)
        rows.append(row)
    return sorted(rows, key=lambda r: (r.plan_seq is None, r.plan_seq or 0, r.committee_id))


def _sessions_by_committee(year: int, names: set[str]) -> dict[str, list[SessionMark]]:
    if not names:
        return {}
    # Only the columns the timeline shows (not the engine state).
    found: dict[str, list[Any]] = defaultdict(list)
    for row in db.session.execute(
            select(ProcessInstance.id, ProcessInstance.status, ProcessInstance.title, ProcessInstance.data,
                   ProcessInstance.created_at)
            .where(ProcessInstance.process_id == SESSION_PROCESS)
            .order_by(ProcessInstance.created_at, ProcessInstance.id)):
        data = row.data or {}
        if data.get("committee") in names and _int(data.get("plan_year")) == year:
            found[data["committee"]].append(row)
    ids = [r.id for group in found.values() for r in group]
    applicants: dict[int, int] = {}
    if ids:
        applicants = dict(db.session.execute(
            select(SessionEntry.session_instance_id, func.count(SessionEntry.id))
            .where(SessionEntry.session_instance_id.in_(ids)).group_by(SessionEntry.session_instance_id)).all())
    return {name: [_mark(r, applicants.get(r.id, 0)) for r in group] for name, group in found.items()}


def _mark(row: Any, applicants: int) -> SessionMark:
    d = row.data or {}
    published = bool(d.get("published_doc_no"))
    passed = _int(d.get("passed")) if published else _int(d.get("passed_vote"))
    return SessionMark(
        instance_id=row.id, name=str(d.get("session_name") or row.title or f"评审会次 {row.id}"),
        status=row.status, stage=d.get("stage"), opened_on=clock.to_local(row.created_at).date(),
        meeting_date=_as_date(d.get("meeting_date")), meeting_held=d.get("vote_valid") is True,
        pre_notice_start=_as_date(d.get("pre_notice_start")), report_date=_as_date(d.get("report_date")),
        post_notice_start=_as_date(d.get("post_notice_start")),
        published_on=_as_date(d.get("published_on")) if published else None,
        published_doc_no=d.get("published_doc_no") or None, applicants=applicants, passed=passed,
        cancelled=row.status == "terminated" or bool(d.get("session_invalid")))


def _assess(row: CommitteeRow, today: date) -> None:
    """Each session's lateness, then the row's status and its own warning."""
    end, finish = row.window_end, row.finish_month
    for s in row.sessions:
        if s.cancelled or end is None:
            continue
        if s.meeting_held and s.meeting_date and s.meeting_date > end:
            s.reasons.append(f"评审会议于 {s.meeting_date.isoformat()} 召开，晚于计划完成月份（{finish}）")
            s.meeting_late = True
        elif not s.meeting_held:
            if today > end:
                s.reasons.append(f"计划完成月份（{finish}）已过，评审会议尚未召开")
                s.meeting_late = True
            elif s.meeting_date and s.meeting_date > end:
                s.reasons.append(f"拟召开日期 {s.meeting_date.isoformat()} 晚于计划完成月份（{finish}）")
                s.meeting_late = True
        if s.published_on and s.published_on > end:
            s.reasons.append(f"于 {s.published_on.isoformat()} 发文公布，晚于计划完成月份（{finish}）")
            s.published_late = True
        s.lateness = LATE if s.reasons else ON_TIME

    active = [s for s in row.sessions if not s.cancelled]
    if any(s.lateness == LATE for s in active):
        row.lateness = LATE
        row.reasons = [f"{s.name}：{r}" for s in active for r in s.reasons]
    elif not active and end is not None and today > end:
        row.lateness = LATE
        row.reasons = [f"计划完成月份（{finish}）已过，尚未开启评审会次"]
    elif not active and row.start_month and today > last_day(add_months(row.start_month, 1)):
        grace = last_day(add_months(row.start_month, 1))
        row.lateness = NOT_STARTED
        row.reasons = [f"计划 {row.start_month} 开始评审，宽限一个月（至 {grace.isoformat()}）后仍未开启评审会次"]

    if row.lateness == LATE:
        row.status = "overdue"
    elif active and all(s.published or s.status == "completed" for s in active):
        row.status = "completed"
    elif active:
        row.status = "in_progress"
    else:
        row.status = "not_started"


# -- §二 and §三 of the published plan ----------------------------------------------------------
def _published_plan(year: int, county: str | None) -> AnnualPlan | None:
    """The published plan of the year: a county's own (district) plan for that county's bureau, else the
    city plan (the plan without a parent)."""
    plans = list(db.session.scalars(select(AnnualPlan).where(AnnualPlan.year == year,
                                                             AnnualPlan.status == "published")))
    plans.sort(key=lambda p: (not (county is not None and p.issuer.county == county), p.parent_id is not None, p.id))
    return plans[0] if plans else None


def _plan_rows(plan: AnnualPlan, year: int, county: str | None) -> list[PlanRow]:
    entries = [e for e in plan.entries if e.section in SECTION_LABELS]
    batches = _graduate_batches(county) if any(e.section == GRADUATE_PROCESS for e in entries) else {}
    rows = []
    for entry in sorted(entries, key=lambda e: (list(SECTION_LABELS).index(e.section), e.seq)):
        months = sorted({m for m in (month_text(v, year) for v in (entry.finish_months or [])) if m})
        counts = {m: batches.get(m, 0) for m in months} if entry.section == GRADUATE_PROCESS else None
        rows.append(PlanRow(section=entry.section, seq=entry.seq, name=entry.name, months=months, counts=counts))
    return rows


def _graduate_batches(county: str | None) -> dict[str, int]:
    query = select(ProcessInstance.data).where(ProcessInstance.process_id == GRADUATE_PROCESS)
    if county is not None:
        query = query.where(ProcessInstance.county == county)
    found: Counter[str] = Counter()
    for data in db.session.scalars(query):
        month = month_text((data or {}).get("batch"))
        if month:
            found[month] += 1
    return dict(found)
