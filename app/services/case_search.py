"""The managers' instance list (案件跟踪) as SQL: filters, typed result columns, sort orders, pages.

The page's GET parameters are parsed here, so the list, its Excel export and saved views share
one meaning of every filter. Names are exact (the dashboard links to the list with them); a
parameter given several times means any of its values:

    process, plan_year, committee, series, status, county, employer (organisation id or name),
    applicant (username, or part of the starter's name), step (bpmn id or name of an open task),
    overdue=1, created_from, created_to, completed_from, completed_to (YYYY-MM-DD, Asia/Shanghai,
    inclusive), f.<result field>=<value>; the view: cols (result fields, repeated or comma-separated),
    cols_process, sort (a column key: id, title, ..., due, or f.<field>), dir (asc, desc), page,
    per_page (20, 50, 100).

A page costs three statements whatever its length: the count, the page's rows (process name,
starter and employer joined in) and the open tasks of those rows. Every condition is on
process_instance itself (columns, JSON fields, or an IN over its open tasks), so the count joins
nothing; the indexed columns (plan_year, committee, county, status, process_id) carry the
common filters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.sql.elements import ColumnElement

from app import clock
from app.extensions import db
from app.models import HumanTask, Organisation, ProcessInstance, ProcessVersion, User
from app.services import case_fields, case_filters
from app.services.access import TRACKING_ROLES, visible_instances_clause
from app.services.case_fields import BASE_COLUMNS, Column
from app.services.errors import FormInvalid, NotAllowed
from app.services.instances import Page
from app.services.numbers import INT_MAX

TRACKER_ROLES = TRACKING_ROLES
PER_PAGE_CHOICES = (20, 50, 100)
EXPORT_CAP = 20000
# cols_process: the process the `cols` were chosen for; after switching process they no longer apply.
VIEW_PARAMS = ("cols", "cols_process", "sort", "dir", "per_page")
FIELD_PREFIX = "f."
MAX_VALUE = 200
MAX_VALUES = 50


def may_track(user: User) -> bool:
    return user.has_role(*TRACKER_ROLES)


def require_tracker(user: User) -> None:
    if not may_track(user):
        raise NotAllowed("只有监督管理员、人社部门工作人员和系统管理员可以使用案件跟踪")


def is_known_param(name: str) -> bool:
    return name in case_filters.FILTER_PARAMS or name in VIEW_PARAMS or name == "page" or (
        name.startswith(FIELD_PREFIX) and bool(case_fields.FIELD_NAME.fullmatch(name[len(FIELD_PREFIX):])))


def normalise(args: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The known parameters with their non-empty, trimmed values (repeats kept, duplicates dropped)."""
    out: dict[str, list[str]] = {}
    for name, values in args.items():
        if not is_known_param(name):
            continue
        raw = [values] if isinstance(values, str) else list(values)
        kept = list(dict.fromkeys(str(v).strip()[:MAX_VALUE] for v in raw if str(v).strip()))
        if kept:
            out[name] = kept[:MAX_VALUES]
    return out


@dataclass(frozen=True)
class CaseQuery:
    params: dict[str, list[str]]  # the known parameters as given: links, saved views, export
    conditions: tuple[ColumnElement[bool], ...]
    columns: tuple[Column, ...]
    choosable: tuple[Column, ...]  # the chosen process's result columns (the `cols` choices)
    sort: str
    descending: bool
    page: int
    per_page: int
    process: str | None

    def link_params(self, **changes: Any) -> dict[str, list[str] | str]:
        """The query's parameters with some replaced (None removes one): for sort and page links."""
        out: dict[str, Any] = dict(self.params)
        for name, value in changes.items():
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out


def parse(actor: User, args: Mapping[str, Sequence[str]], labels: Mapping[str, str] | None = None) -> CaseQuery:
    """The list the parameters describe, or FormInvalid naming each bad parameter (in Chinese)."""
    require_tracker(actor)
    params = normalise(args)
    problems: dict[str, list[str]] = {}
    process, conditions = case_filters.conditions(params, problems)
    fields = case_fields.fields_of(process)
    conditions += case_filters.field_conditions(params, fields, process, problems)
    choosable = case_fields.result_columns(process, fields, labels or {})
    columns = _columns(params, process, choosable, problems)
    sort, descending = _sort(params, (*columns, *choosable), problems)
    if sort not in {c.key for c in columns}:  # sorted by a result field not chosen: show it too
        columns = (*columns, next(c for c in choosable if c.key == sort))
    per_page = _per_page(params, problems)
    page = _int_or(params.get("page"), 1, problems, "page", "页码应为正整数")
    if problems:
        raise FormInvalid("筛选条件有误，请按提示修改", problems)
    return CaseQuery(params, (visible_instances_clause(actor), *conditions), columns, choosable, sort,
                     descending, max(page, 1), per_page, process)


def _columns(params: dict[str, list[str]], process: str | None, choosable: tuple[Column, ...],
             problems: dict[str, list[str]]) -> tuple[Column, ...]:
    chosen_for = (params.get("cols_process") or [process])[0]
    wanted = [c.strip() for v in params.get("cols", []) for c in v.split(",") if c.strip()] if (
        chosen_for == process) else []
    if wanted and process is None:
        problems["cols"] = ["请先选择流程，再选择结果字段列"]
        return BASE_COLUMNS
    by_field = {c.field: c for c in choosable}
    unknown = [w for w in wanted if w not in by_field]
    if unknown:
        problems["cols"] = [f"该流程没有结果字段：{'、'.join(unknown)}"]
        return BASE_COLUMNS
    chosen = [by_field[w] for w in dict.fromkeys(wanted)] or [
        by_field[f] for f in case_fields.default_columns(process) if f in by_field]
    return (*BASE_COLUMNS, *chosen)


def _sort(params: dict[str, list[str]], columns: tuple[Column, ...],
          problems: dict[str, list[str]]) -> tuple[str, bool]:
    sort = (params.get("sort") or ["id"])[0]
    if sort not in {c.key for c in columns}:
        problems["sort"] = ["不能按该列排序（按结果字段排序请先选择流程）"]
        sort = "id"
    direction = (params.get("dir") or ["desc" if sort == "id" else "asc"])[0]
    if direction not in ("asc", "desc"):
        problems["dir"] = ["排序方向应为 asc（升序）或 desc（降序）"]
    return sort, direction == "desc"


def _int_or(values: list[str] | None, default: int, problems: dict[str, list[str]], name: str, message: str) -> int:
    if not values:
        return default
    try:
        value = int(values[0])
    except ValueError:
        problems[name] = [message]
        return default
    if abs(value) > INT_MAX:  # a page's offset, (page - 1) × per_page, must bind as a 64-bit integer
        problems[name] = [message]
        return default
    return value


def _per_page(params: dict[str, list[str]], problems: dict[str, list[str]]) -> int:
    per_page = _int_or(params.get("per_page"), PER_PAGE_CHOICES[0], problems, "per_page", "每页条数应为整数")
    if per_page not in PER_PAGE_CHOICES:
        problems.setdefault("per_page", [f"每页条数应为 {'、'.join(map(str, PER_PAGE_CHOICES))} 之一"])
        return PER_PAGE_CHOICES[0]
    return per_page


# -- the statements --------------------------------------------------------------------------
def _open_task_summary() -> Any:
    """Per instance with open tasks: the earliest due date and the first step name (sort keys)."""
    return (select(HumanTask.instance_id.label("instance_id"), func.min(HumanTask.due_date).label("due"),
                   func.min(HumanTask.name).label("steps"))
            .where(HumanTask.state == "open").group_by(HumanTask.instance_id).subquery("open_tasks"))


def sort_expression(column: Column, open_tasks: Any = None) -> ColumnElement:
    if column.field is not None:
        return case_fields.json_value(column.field, column.kind)
    if column.key in ("due", "steps"):
        return open_tasks.c[column.key]
    return {
        "id": ProcessInstance.id, "title": ProcessInstance.title, "process": ProcessVersion.name,
        "plan_year": ProcessInstance.plan_year, "committee": ProcessInstance.committee,
        "county": ProcessInstance.county, "employer": Organisation.name, "applicant": User.display_name,
        "status": ProcessInstance.status, "created_at": ProcessInstance.created_at,
        "completed_at": ProcessInstance.completed_at,
    }[column.key]


def rows_statement(query: CaseQuery) -> Select:
    """The list's rows in the list's order (empty values last, ties by id): the page and the export."""
    column = next(c for c in query.columns if c.key == query.sort)
    # Sorting by the open tasks joins their per-instance summary once (a correlated subquery per
    # row let SQLite pick the state/due-date index and scan every open task for every instance).
    open_tasks = _open_task_summary() if column.key in ("due", "steps") else None
    key = sort_expression(column, open_tasks)
    order = key.desc() if query.descending else key.asc()
    tie = ProcessInstance.id.desc() if query.descending else ProcessInstance.id.asc()
    ordering = (order,) if column.key == "id" else (order.nulls_last(), tie)
    statement = (select(ProcessInstance.id, ProcessInstance.title, ProcessInstance.process_id,
                        ProcessVersion.name.label("process_name"), ProcessInstance.plan_year,
                        ProcessInstance.committee, ProcessInstance.county, Organisation.name.label("employer_name"),
                        User.display_name, User.username, ProcessInstance.status,
                        ProcessInstance.created_at, ProcessInstance.completed_at, ProcessInstance.data)
                 .select_from(ProcessInstance)
                 .join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
                 .join(User, User.id == ProcessInstance.starter_id)
                 .outerjoin(Organisation, Organisation.id == ProcessInstance.employer_org_id))
    if open_tasks is not None:
        statement = statement.outerjoin(open_tasks, open_tasks.c.instance_id == ProcessInstance.id)
    return statement.where(*query.conditions).order_by(*ordering)


def count(query: CaseQuery) -> int:
    return int(db.session.scalar(select(func.count()).select_from(ProcessInstance).where(*query.conditions)) or 0)


# -- rows ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseRow:
    id: int
    cells: dict[str, Any]  # column key → typed value (int, float, bool, date, datetime, str, tuple)
    overdue: bool
    applicant_username: str


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _open_tasks_of(ids: list[int]) -> dict[int, list[tuple[str, date | None]]]:
    found: dict[int, list[tuple[str, date | None]]] = defaultdict(list)
    if ids:
        for instance_id, name, due in db.session.execute(
                select(HumanTask.instance_id, HumanTask.name, HumanTask.due_date)
                .where(HumanTask.state == "open", HumanTask.instance_id.in_(ids))
                .order_by(HumanTask.instance_id, HumanTask.id)):
            found[instance_id].append((name, due))
    return found


def _row(r: Any, tasks: list[tuple[str, date | None]], columns: tuple[Column, ...], today: date) -> CaseRow:
    dues = [d for _, d in tasks if d is not None]
    due = min(dues) if dues else None
    data = r.data or {}
    cells: dict[str, Any] = {
        "id": r.id, "title": r.title, "process": r.process_name, "plan_year": r.plan_year,
        "committee": r.committee, "county": r.county, "employer": r.employer_name, "applicant": r.display_name,
        "status": r.status,
        "steps": tuple(dict.fromkeys(n for n, _ in tasks)), "due": due,
        "created_at": r.created_at, "completed_at": r.completed_at,
    }
    for column in columns:
        if column.field is not None:
            cells[column.key] = case_fields.typed(column.kind, data.get(column.field))
    return CaseRow(r.id, cells, due is not None and due < today, r.username)


def _rows(result: Sequence[Any], columns: tuple[Column, ...]) -> list[CaseRow]:
    tasks = _open_tasks_of([r.id for r in result])
    today = clock.today()
    return [_row(r, tasks.get(r.id, []), columns, today) for r in result]


def search(query: CaseQuery) -> CasePage:
    """One page of the list; a page past the end shows the last one."""
    total = count(query)
    pages = max(1, -(-total // query.per_page))
    page = min(query.page, pages)
    result = db.session.execute(rows_statement(query).offset((page - 1) * query.per_page).limit(query.per_page)).all()
    return CasePage(_rows(result, query.columns), total, page, query.per_page)


def iter_rows(query: CaseQuery, cap: int = EXPORT_CAP, batch: int = 500) -> Iterator[CaseRow]:
    """Every row of the list in its order (at most `cap`), fetched and completed `batch` rows at a time."""
    result = db.session.execute(rows_statement(query).limit(cap).execution_options(yield_per=batch))
    for chunk in result.partitions():
        yield from _rows(chunk, query.columns)


# -- the API's list --------------------------------------------------------------------------
API_FILTERS = tuple(p for p in case_filters.FILTER_PARAMS if p not in ("process", "status"))


def is_api_filter(name: str) -> bool:
    return name in API_FILTERS or (name.startswith(FIELD_PREFIX) and is_known_param(name))


def api_page(actor: User, process_model: str | None, status: str | None, args: Mapping[str, Sequence[str]],
             page: int = 1, per_page: int = 20) -> Page:
    """GET /api/v1/process-instances with the list's filters besides the contract's parameters:
    what the caller may see (any user, not only managers), newest first, as instances.Page."""
    params = {k: v for k, v in normalise(args).items() if is_api_filter(k)}
    if status:
        params["status"] = [status]
    problems: dict[str, list[str]] = {}
    _, conditions = case_filters.conditions(params, problems)  # no "process": process_model is matched as given
    if process_model:
        conditions.append(ProcessInstance.process_id == process_model)
    conditions += case_filters.field_conditions(params, case_fields.fields_of(process_model or None),
                                                process_model or None, problems)
    if problems:
        raise FormInvalid("参数有误", problems)
    where = (visible_instances_clause(actor), *conditions)
    total = int(db.session.scalar(select(func.count()).select_from(ProcessInstance).where(*where)) or 0)
    page = max(page, 1)
    items = db.session.scalars(select(ProcessInstance).where(*where).order_by(ProcessInstance.id.desc())
                               .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), total, page, per_page)
