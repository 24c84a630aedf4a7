"""Cases waiting per step and for how long (open human tasks), and the heat map on the diagram.

Waiting time is counted in official working days from the day a task was created (Asia/Shanghai)
to today. SQL groups the open tasks by process, step and creation day; Python turns each
distinct creation day into working days once (the calendar is not in the database's reach) and
weighs it by the number of tasks created that day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app import clock
from app.extensions import db
from app.models import HumanTask, ProcessInstance, ProcessVersion, User
from app.services import calendar, case_marks, registry
from app.services.stats import Cell, Column, Filters, Row, Table, process_names, require_viewer, scoped


@dataclass(frozen=True)
class Step:
    process_id: str
    bpmn_id: str
    name: str
    count: int
    average: float  # working days, one decimal
    longest: int
    overdue: int

    @property
    def key(self) -> str:
        return f"{self.process_id}:{self.bpmn_id}"


@dataclass(frozen=True)
class Heatmap:
    process_id: str
    name: str
    version: ProcessVersion
    xml: str | None
    steps: list[Step]
    # Steps with waiting cases that the current version's diagram no longer has (older versions).
    missing: list[str]
    table: Table


def _local_day(column: ColumnElement) -> ColumnElement:
    """The Asia/Shanghai calendar day of a stored UTC timestamp."""
    if db.engine.dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")  # China has kept UTC+8 without daylight saving since 1991


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def waiting_steps(user: User, filters: Filters, process_id: str | None = None) -> list[Step]:
    """Open tasks of the cases the actor sees, per process and step, the most waiting first."""
    today = clock.today()
    # An alias: the visibility clause has its own subquery over human_task, which must not
    # correlate with the tasks counted here.
    task = aliased(HumanTask)
    day = _local_day(task.created_at)
    query = (select(ProcessInstance.process_id, task.bpmn_id, func.max(task.name), day,
                    func.count(task.id), func.sum(case((task.due_date < today, 1), else_=0)))
             .select_from(task)
             .join(ProcessInstance, ProcessInstance.id == task.instance_id)
             .where(task.state == "open", *scoped(user, filters, process_id))
             .group_by(ProcessInstance.process_id, task.bpmn_id, day))
    official = calendar.official_calendar()
    waits: dict[date, int] = {}
    totals: dict[tuple[str, str], list] = defaultdict(lambda: ["", 0, 0, 0, 0])  # name, count, days, longest, overdue
    for pid, bpmn_id, name, created, count, overdue in db.session.execute(query):
        created_on = _as_date(created)
        if created_on not in waits:
            waits[created_on] = max(0, official.working_days_between(created_on, today))
        entry = totals[(pid, bpmn_id)]
        entry[0] = max(entry[0], name or "")
        entry[1] += count
        entry[2] += count * waits[created_on]
        entry[3] = max(entry[3], waits[created_on])
        entry[4] += int(overdue or 0)
    steps = [Step(pid, bpmn_id, name or bpmn_id, count, round(days / count, 1), longest, overdue)
             for (pid, bpmn_id), (name, count, days, longest, overdue) in totals.items()]
    return sorted(steps, key=lambda s: (-s.count, -s.average, s.process_id, s.bpmn_id))


def steps_table(filters: Filters, steps: list[Step], *, key: str = "waiting", names: Mapping[str, str] | None = None,
                title: str | None = None) -> Table:
    names = process_names() if names is None else names
    rows = []
    for s in steps:
        link = (*filters.base_link(s.process_id), ("step", s.bpmn_id))
        label = f"{names.get(s.process_id, s.process_id)} · {s.name}"
        rows.append(Row(s.key, label, (Cell(s.count, link), Cell(s.average, link), Cell(s.longest, link),
                                        Cell(s.overdue, (*link, ("overdue", "1")))), link))
    columns = (Column("count", "等待件数"), Column("average", "平均等待（工作日）", "0.0", "工作日"),
               Column("longest", "最长等待（工作日）", "0", "工作日"), Column("overdue", "逾期件数"))
    return Table(key, title or f"{filters.year}年度各环节待办件数及等待时间", "流程 · 环节", columns, tuple(rows),
                 "bar", (0, 3, 1),
                 note="等待时间：自任务生成之日起至今天的工作日数（按官方节假日日历）；逾期：已过办理期限仍未办理。")


def waiting_table(user: User, filters: Filters, labels: Mapping[str, str] | None = None) -> Table:
    return steps_table(filters, waiting_steps(user, filters))


def heatmap(user: User, filters: Filters, process_id: str) -> Heatmap:
    """The process's current version diagram with the same per-step figures as the waiting table."""
    require_viewer(user)
    version = registry.for_new_instances(process_id)  # NotFound for an unknown process
    steps = waiting_steps(user, filters, process_id)
    found = case_marks.bpmn_file(version)
    xml = found[1] if found else None
    missing = [s.bpmn_id for s in steps if xml is None or f'id="{s.bpmn_id}"' not in xml]
    names = {process_id: version.name}
    table = steps_table(filters, steps, key=f"waiting_{process_id}", names=names,
                        title=f"{filters.year}年度{version.name}：各环节待办件数及等待时间")
    return Heatmap(process_id, version.name, version, xml, steps, missing, table)


BUILDERS: dict[str, Callable[[User, Filters, Mapping[str, str]], Table]] = {"waiting": waiting_table}
