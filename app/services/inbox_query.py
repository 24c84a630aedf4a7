"""The inbox as a query: filters and sort orders over the tasks a user may act on, in SQL.

The page's parameters are parsed here (not in the view) so the HTML inbox and any API list share
one meaning of "overdue", "this week" and "contains".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, exists, func, or_, select, true
from sqlalchemy.orm import defer, selectinload
from sqlalchemy.sql.elements import ColumnElement

from app import clock
from app.extensions import db
from app.models import HumanTask, ProcessInstance, ProcessVersion, User
from app.services import calendar, tasks
from app.services.access import actionable_tasks_clause
from app.services.errors import FormInvalid
from app.services.numbers import is_digits

DUE_FILTERS = {"overdue": "已逾期", "today": "今日到期", "week": "5个工作日内到期", "none": "无截止日期"}
SORTS = {"due": "截止日期", "created": "生成时间", "name": "任务名称"}
DIRECTIONS = {"asc": "升序", "desc": "降序"}
WEEK_WORKING_DAYS = 5
MAX_TEXT = 100
PAGE_SIZE = 50  # tasks per inbox list page


@dataclass(frozen=True)
class InboxFilters:
    process: str | None = None
    task: str | None = None
    due: str | None = None
    q: str | None = None
    sort: str = "due"
    dir: str = "asc"

    def active(self) -> bool:
        return any((self.process, self.task, self.due, self.q))


def _text(args: Mapping[str, str], name: str, label: str, problems: dict[str, list[str]]) -> str | None:
    value = (args.get(name) or "").strip()
    if len(value) > MAX_TEXT:
        problems[name] = [f"{label}不能超过 {MAX_TEXT} 个字符"]
        return None
    return value or None


def parse_filters(args: Mapping[str, str]) -> InboxFilters:
    """The inbox's GET parameters; unknown values raise FormInvalid with Chinese messages."""
    problems: dict[str, list[str]] = {}
    due = (args.get("due") or "").strip() or None
    if due is not None and due not in DUE_FILTERS:
        problems["due"] = ["截止筛选只能是：" + "、".join(DUE_FILTERS.values())]
    sort = (args.get("sort") or "").strip() or "due"
    if sort not in SORTS:
        problems["sort"] = ["排序只能按：" + "、".join(SORTS.values())]
    direction = (args.get("dir") or "").strip() or "asc"
    if direction not in DIRECTIONS:
        problems["dir"] = ["排序方向只能是升序或降序"]
    process = _text(args, "process", "流程", problems)
    task = _text(args, "task", "任务名称", problems)
    q = _text(args, "q", "搜索内容", problems)
    if problems:
        raise FormInvalid("筛选条件有误：" + "；".join(m for ms in problems.values() for m in ms), problems)
    return InboxFilters(process=process, task=task, due=due, q=q, sort=sort, dir=direction)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _due_clause(due: str, today: date) -> ColumnElement[bool]:
    if due == "overdue":
        return HumanTask.due_date < today
    if due == "today":
        return HumanTask.due_date == today
    if due == "week":
        until = calendar.add_working_days(today, WEEK_WORKING_DAYS).date
        return and_(HumanTask.due_date >= today, HumanTask.due_date <= until)
    return HumanTask.due_date.is_(None)


def _conditions(filters: InboxFilters) -> list[ColumnElement[bool]]:
    """The filters' conditions (those on the process or text need ProcessInstance joined)."""
    found: list[ColumnElement[bool]] = []
    if filters.process:
        found.append(ProcessInstance.process_id == filters.process)
    if filters.task:
        found.append(HumanTask.name == filters.task)
    if filters.due:
        found.append(_due_clause(filters.due, clock.today()))
    if filters.q:
        pattern = _like(filters.q)
        applicant = exists(select(User.id).where(
            User.id == ProcessInstance.starter_id, User.display_name.ilike(pattern, escape="\\")))
        found.append(or_(ProcessInstance.title.ilike(pattern, escape="\\"), applicant))
    return found


def _joined(query: Select, filters: InboxFilters) -> Select:
    if filters.process or filters.q:
        return query.join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
    return query


def _filtered(actor: User, filters: InboxFilters, scope: str) -> Select:
    query = _joined(select(HumanTask), filters).where(actionable_tasks_clause(actor), *_conditions(filters))
    scoped = tasks.scope_clause(actor, scope)
    return query.where(scoped) if scoped is not None else query


def _ordered(query: Select, filters: InboxFilters) -> Select:
    desc = filters.dir == "desc"

    def way(column):
        return column.desc() if desc else column.asc()

    # Tasks without a deadline go last in both directions: they are never the most urgent.
    no_due_last = HumanTask.due_date.is_(None)
    if filters.sort == "created":
        return query.order_by(way(HumanTask.created_at), way(HumanTask.id))
    if filters.sort == "name":
        return query.order_by(way(HumanTask.name), no_due_last, HumanTask.due_date, HumanTask.id)
    return query.order_by(no_due_last, way(HumanTask.due_date), way(HumanTask.created_at), way(HumanTask.id))


def _with_rows(query: Select) -> Select:
    # What the inbox shows of each task (the instance's state, a large column, is not read).
    return query.options(
        selectinload(HumanTask.instance).options(defer(ProcessInstance.state), selectinload(ProcessInstance.version)),
        selectinload(HumanTask.org), selectinload(HumanTask.claimed_by), selectinload(HumanTask.assignee),
        selectinload(HumanTask.delegated_by))


@dataclass(frozen=True)
class TaskPage:
    tasks: list[HumanTask]
    total: int
    page: int
    pages: int


def task_page(actor: User, filters: InboxFilters, scope: str, page: int, per_page: int | None = None,
              total: int | None = None) -> TaskPage:
    """One page of the actor's tasks the filters leave, in their order (pages from 1; a page past
    the end gives the last) and their count (``total`` when the caller has it from `counts`).
    scope as in tasks.open_tasks_for: all, mine (assigned to or claimed by me), group (unclaimed)."""
    per_page = per_page or PAGE_SIZE
    query = _filtered(actor, filters, scope)
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.with_only_columns(HumanTask.id).subquery()))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    if not total:
        return TaskPage([], 0, 1, 1)
    rows = db.session.scalars(_with_rows(_ordered(query, filters)).limit(per_page).offset((page - 1) * per_page))
    return TaskPage(list(rows), total, page, pages)


def counts(actor: User, filters: InboxFilters) -> dict[str, int]:
    """In one pass over the actor's actionable tasks: how many the filters leave in "mine" and
    "group", and (whatever the filters) how many are overdue, due today, and in all."""
    today = clock.today()
    narrowed = and_(true(), *_conditions(filters))
    mine, group = tasks.scope_clause(actor, "mine"), tasks.scope_clause(actor, "group")
    row = _joined(select(func.count().filter(and_(narrowed, mine)), func.count().filter(and_(narrowed, group)),
                         func.count().filter(HumanTask.due_date < today), func.count().filter(HumanTask.due_date == today),
                         func.count()).select_from(HumanTask), filters).where(actionable_tasks_clause(actor))
    found = db.session.execute(row).one()
    return {"mine": int(found[0] or 0), "group": int(found[1] or 0), "overdue": int(found[2] or 0),
            "today": int(found[3] or 0), "total": int(found[4] or 0)}


def page_number(args: Mapping[str, str], name: str) -> int:
    """A page parameter: a positive whole number, else 1."""
    raw = (args.get(name) or "").strip()
    return int(raw) if is_digits(raw) and 0 < len(raw) < 7 and int(raw) > 0 else 1


def filter_choices(actor: User) -> dict[str, list[tuple[str, str]]]:
    """The processes and task names the actor's open tasks belong to (the filter selects): one
    grouped pass over those tasks, each task's version looked up by its instance's key."""
    version = select(ProcessInstance.version_id).where(
        ProcessInstance.id == HumanTask.instance_id).scalar_subquery().label("version_id")
    open_tasks = select(HumanTask.name, version).where(actionable_tasks_clause(actor)).subquery()
    found = db.session.execute(
        select(open_tasks.c.name, open_tasks.c.version_id).group_by(open_tasks.c.name, open_tasks.c.version_id)
    ).all()
    versions = {v.id: v for v in db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.id.in_({v for _, v in found})))}
    processes: dict[str, str] = {}
    for _, version_id in found:
        v = versions[version_id]
        processes[v.process_id] = max(processes.get(v.process_id, v.name), v.name)
    names = sorted({name for name, _ in found})
    return {"process": sorted(processes.items()), "task": [(n, n) for n in names]}
