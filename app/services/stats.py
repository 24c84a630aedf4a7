"""The managers' dashboard (统计): who may see it, its filters, and the tables every chart is drawn from.

Each chart is a `Table`: rows × columns of counts, each cell carrying the instance-list filter
(`Link`) that lists the cases it counts. The page draws the chart, the HTML table and the Excel
export from the same `Table`, so the three always agree. Counting is done in SQL (GROUP BY over
the instances the actor may see, `access.visible_instances_clause`); Python only folds the few
grouped rows. The tables themselves are built in stats_cases.py (applications, pass rates,
graduate batches, the archive KPI) and stats_waiting.py (cases waiting per step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select

from app import clock
from app.extensions import db
from app.models import Committee, CommitteeScope, Organisation, ProcessInstance, ProcessVersion, User
from app.rules.title import CITY_LEVEL, LISHUI_COUNTIES
from app.services import access, committees
from app.services.errors import NotAllowed, NotFound

VIEWER_ROLES = access.TRACKING_ROLES
TITLE = "title_application"
GRADUATE = "graduate_initial_determination"

# A link to the instance list: (parameter, value) pairs; a parameter given twice means "either".
Link = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # openpyxl number format of the column's cells in the export.
    number_format: str = "0"
    # What the numbers count: the chart puts a column of another unit on a second axis.
    unit: str = "件"


@dataclass(frozen=True)
class Cell:
    value: int | float | None
    link: Link | None = None
    # Shown on the page instead of the bare number (e.g. "66.7%（2/3）"); the export keeps the number.
    text: str | None = None


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    cells: tuple[Cell, ...]
    link: Link | None = None


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    row_header: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    chart: str = "stacked"  # stacked (parts of a whole) or bar (side by side)
    # The columns the chart draws (a total column is left to the table).
    chart_columns: tuple[int, ...] = ()
    note: str | None = None
    # Shown instead of the chart and the table when the figure does not apply (e.g. no KPI data).
    empty_note: str | None = None


@dataclass(frozen=True)
class Filters:
    year: int
    county: str | None = None
    committee: str | None = None

    def base_link(self, process: str, *, year: bool = True, committee: bool = True) -> Link:
        pairs = [("process", process)]
        if year:
            pairs.append(("plan_year", str(self.year)))
        if self.county:
            pairs.append(("county", self.county))
        if committee and self.committee:
            pairs.append(("committee", self.committee))
        return tuple(pairs)


@dataclass(frozen=True)
class Choices:
    years: list[int]
    counties: list[str]
    committees: list[str]
    # The only county the actor sees (a district manager or bureau), else None.
    own_county: str | None = None


# -- who may see it ----------------------------------------------------------------------------
def may_view(user: User) -> bool:
    return user.has_role(*VIEWER_ROLES)


def require_viewer(user: User) -> None:
    if not may_view(user):
        raise NotAllowed("只有监督管理员、人社部门工作人员和系统管理员可以查看统计")


def own_county(user: User) -> str | None:
    """The county a district manager or district HR bureau is limited to; None for the city."""
    if user.has_role("system_admin"):
        return None
    if user.has_role("manager") and user.org.county == CITY_LEVEL:
        return None
    counties = {r.org.county for r in user.roles if r.role in VIEWER_ROLES and r.org is not None}
    if CITY_LEVEL in counties or not counties:
        return None
    return sorted(c for c in counties if c)[0]


def scoped(user: User, filters: Filters, process: str | None, *, year: bool = True,
           committee: bool = True) -> list[ColumnElement[bool]]:
    """The WHERE conditions of every count: what the actor may see, narrowed by the filters."""
    conditions: list[ColumnElement[bool]] = [access.visible_instances_clause(user)]
    if process is not None:
        conditions.append(ProcessInstance.process_id == process)
    if year:
        conditions.append(ProcessInstance.plan_year == filters.year)
    if filters.county:
        conditions.append(ProcessInstance.county == filters.county)
    if committee and filters.committee:
        conditions.append(ProcessInstance.committee == filters.committee)
    return conditions


# -- filters -----------------------------------------------------------------------------------
def _case_years(user: User) -> list[int]:
    return [int(y) for y in db.session.scalars(
        select(ProcessInstance.plan_year).where(access.visible_instances_clause(user),
                                                ProcessInstance.plan_year.is_not(None)).distinct())]


def default_year(user: User) -> int:
    """The current plan year; without a plan, the newest year with cases; else this year."""
    try:
        return committees.current_plan_year()
    except LookupError:
        years = _case_years(user)
        return max(years) if years else clock.today().year


def choices(user: User, year: int) -> Choices:
    own = own_county(user)
    years = sorted(set(_case_years(user)) | {default_year(user), year}, reverse=True)
    counties = [own] if own else [CITY_LEVEL, *LISHUI_COUNTIES]
    planned = db.session.scalars(
        select(Organisation.name).join(Committee, Committee.org_id == Organisation.id)
        .join(CommitteeScope, CommitteeScope.committee_id == Committee.id)
        .where(CommitteeScope.plan_year == year))
    applied = db.session.scalars(
        select(ProcessInstance.committee).where(access.visible_instances_clause(user), ProcessInstance.plan_year == year,
                                                ProcessInstance.committee.is_not(None)).distinct())
    names = sorted(set(planned) | set(applied))
    return Choices(years=years, counties=counties, committees=names, own_county=own)


def filters_for(user: User, year: int | None, county: str | None, committee: str | None) -> Filters:
    """Validated filters: a district viewer is held to its county whatever the request says."""
    require_viewer(user)
    year = year if year is not None and 2000 <= year <= 2100 else default_year(user)
    own = own_county(user)
    county = (county or "").strip() or None
    if own is not None:
        county = own
    elif county is not None and county not in (CITY_LEVEL, *LISHUI_COUNTIES):
        county = None
    committee = (committee or "").strip()[:200] or None
    return Filters(year=year, county=county, committee=committee)


# -- the dashboard -----------------------------------------------------------------------------
def table(user: User, filters: Filters, key: str, labels: Mapping[str, str]) -> Table:
    """One chart's table (the Excel export's content)."""
    from app.services import stats_cases, stats_waiting

    require_viewer(user)
    builders = {**stats_cases.BUILDERS, **stats_waiting.BUILDERS}
    if key not in builders:
        raise NotFound("没有这项统计")
    return builders[key](user, filters, labels)


def dashboard(user: User, filters: Filters, labels: Mapping[str, str]) -> list[Table]:
    """Every chart's table, in page order. `labels` names the outcomes (the pages' OUTCOME_LABELS)."""
    from app.services import stats_cases, stats_waiting

    require_viewer(user)
    title_groups = stats_cases.title_groups(user, filters)
    tables = stats_cases.title_tables(filters, title_groups, labels)
    tables.append(stats_cases.by_year(user, filters, labels))
    tables.extend(stats_cases.pass_tables(filters, title_groups))
    tables.append(stats_waiting.waiting_table(user, filters))
    tables.extend(stats_cases.graduate_tables(user, filters, labels))
    tables.append(stats_cases.archive_table(user, filters))
    return tables


def process_names() -> dict[str, str]:
    """Process id → name of its newest version."""
    newest = select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("v")) \
        .group_by(ProcessVersion.process_id).subquery()
    rows = db.session.execute(select(ProcessVersion.process_id, ProcessVersion.name).join(
        newest, (newest.c.process_id == ProcessVersion.process_id) & (newest.c.v == ProcessVersion.version)))
    return {pid: name for pid, name in rows}
