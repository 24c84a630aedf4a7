"""The inbox as a query: filters and sort orders over the tasks a user may act on, in SQL.

The page's parameters are parsed here (not in the view) so the HTML inbox and any API list share
one meaning of "overdue", "this week" and "contains".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from app import clock
from app.extensions import db
from app.models import HumanTask, ProcessInstance, ProcessVersion, User
from app.services import calendar, tasks
from app.services.access import actionable_tasks_clause
from app.services.errors import FormInvalid

DUE_FILTERS = {"overdue": "已逾期", "today": "今日到期", "week": "5个工作日内到期", "none": "无截止日期"}
SORTS = {"due": "截止日期", "created": "生成时间", "name": "任务名称"}
DIRECTIONS = {"asc": "升序", "desc": "降序"}
WEEK_WORKING_DAYS = 5
MAX_TEXT = 100


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


def _filtered(actor: User, filters: InboxFilters, scope: str) -> Select:
    query = select(HumanTask).join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id).where(
        actionable_tasks_clause(actor))
    scoped = tasks.scope_clause(actor, scope)
    if scoped is not None:
        query = query.where(scoped)
    if filters.process:
        query = query.where(ProcessInstance.process_id == filters.process)
    if filters.task:
        query = query.where(HumanTask.name == filters.task)
    if filters.due:
        query = query.where(_due_clause(filters.due, clock.today()))
    if filters.q:
        pattern = _like(filters.q)
        applicant = exists(select(User.id).where(
            User.id == ProcessInstance.starter_id, User.display_name.ilike(pattern, escape="\\")))
        query = query.where(or_(ProcessInstance.title.ilike(pattern, escape="\\"), applicant))
    return query


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


def inbox_tasks(actor: User, filters: InboxFilters, scope: str = "all") -> list[HumanTask]:
    """scope as in tasks.open_tasks_for: all, mine (assigned to or claimed by me), group (unclaimed)."""
    query = _ordered(_filtered(actor, filters, scope), filters).options(
        selectinload(HumanTask.instance).selectinload(ProcessInstance.version),
        selectinload(HumanTask.org), selectinload(HumanTask.claimed_by), selectinload(HumanTask.assignee),
        selectinload(HumanTask.delegated_by))
    return list(db.session.scalars(query))


def due_counts(actor: User) -> dict[str, int]:
    """Over all the actor's actionable tasks (whatever the filters): overdue and due today."""
    today = clock.today()
    row = db.session.execute(
        select(func.count().filter(HumanTask.due_date < today), func.count().filter(HumanTask.due_date == today),
               func.count())
        .select_from(HumanTask).where(actionable_tasks_clause(actor))
    ).one()
    return {"overdue": int(row[0] or 0), "today": int(row[1] or 0), "total": int(row[2] or 0)}


def filter_choices(actor: User) -> dict[str, list[tuple[str, str]]]:
    """The processes and task names the actor's open tasks belong to (the filter selects)."""
    base = select(HumanTask).join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id).where(
        actionable_tasks_clause(actor)).subquery()
    processes = db.session.execute(
        select(ProcessInstance.process_id, func.max(ProcessVersion.name))
        .join(ProcessVersion, ProcessInstance.version_id == ProcessVersion.id)
        .where(ProcessInstance.id.in_(select(base.c.instance_id)))
        .group_by(ProcessInstance.process_id).order_by(ProcessInstance.process_id)
    ).all()
    names = db.session.scalars(select(base.c.name).distinct().order_by(base.c.name)).all()
    return {"process": [(p, n) for p, n in processes], "task": [(n, n) for n in names]}
