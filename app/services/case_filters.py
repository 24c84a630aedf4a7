"""The instance list's filters: each GET parameter as one SQL condition on process_instance.

Conditions are IN lists or uncorrelated IN subqueries (the list's own query joins user_account and
organisation, so those subqueries correlate to nothing), open tasks' included. A bad
value adds a Chinese message under its parameter's name; nothing here raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.sql.elements import ColumnElement

from app import clock
from app.extensions import db
from app.models import Committee, HumanTask, Organisation, ProcessInstance, ProcessVersion, User
from app.rules.title import CITY_LEVEL, LISHUI_COUNTIES
from app.services.case_fields import BOOLEAN, DATE, INTEGER, LIST, NUMBER, json_value
from app.services.instances import STATUSES
from app.services.numbers import INT_MAX, is_digits

FILTER_PARAMS = ("process", "plan_year", "committee", "series", "status", "county", "employer", "applicant",
                 "step", "overdue", "created_from", "created_to", "completed_from", "completed_to")
DATE_RANGES = (("created_at", "created_from", "created_to"), ("completed_at", "completed_from", "completed_to"))
_TRUE = {"1", "true", "yes", "是"}
_FALSE = {"0", "false", "no", "否"}

Params = dict[str, list[str]]
Problems = dict[str, list[str]]
Condition = ColumnElement[bool]


def _process(values: list[str] | None, problems: Problems) -> str | None:
    if not values:
        return None
    if len(values) > 1:
        problems["process"] = ["一次只能选择一个流程"]
        return None
    if db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_id == values[0]).limit(1)) is None:
        problems["process"] = [f"没有该流程：{values[0]}"]
        return None
    return values[0]


def _plan_year(values: list[str], problems: Problems) -> Condition | None:
    years = [int(v) for v in values if is_digits(v) and 1900 <= int(v) <= 2100]
    if len(years) != len(values):
        problems["plan_year"] = ["计划年度应为四位年份，如 2022"]
        return None
    return ProcessInstance.plan_year.in_(years)


def _series(values: list[str], problems: Problems) -> Condition | None:
    known = set(db.session.scalars(select(Committee.series).distinct()))
    unknown = [v for v in values if v not in known]
    if unknown:
        problems["series"] = [f"没有该评审系列：{'、'.join(unknown)}"]
        return None
    names = (select(Organisation.name).join(Committee, Committee.org_id == Organisation.id)
             .where(Committee.series.in_(values)).correlate(None))
    return ProcessInstance.committee.in_(names)


def _status(values: list[str], problems: Problems) -> Condition | None:
    unknown = [v for v in values if v not in STATUSES]
    if unknown:
        problems["status"] = [f"未知的状态：{'、'.join(unknown)}"]
        return None
    return ProcessInstance.status.in_(values)


def _employer(values: list[str], problems: Problems) -> Condition:
    # An id is an integer column's value in ASCII digits; else a name.
    is_id = [is_digits(v) and int(v) <= INT_MAX for v in values]
    ids = [int(v) for v, yes in zip(values, is_id, strict=True) if yes]
    names = [v for v, yes in zip(values, is_id, strict=True) if not yes]
    orgs = select(Organisation.id).where(or_(Organisation.id.in_(ids), Organisation.name.in_(names))).correlate(None)
    return ProcessInstance.employer_org_id.in_(orgs)


def _applicant(values: list[str], problems: Problems) -> Condition:
    users = select(User.id).where(or_(*(or_(User.username == v, User.display_name.contains(v, autoescape=True))
                                        for v in values))).correlate(None)
    return ProcessInstance.starter_id.in_(users)


def _open_task(*conditions: Condition) -> Condition:
    # An uncorrelated IN: the matching open tasks are found once (state/due-date index), not once
    # per instance; a correlated EXISTS led SQLite to scan the open tasks for every instance.
    return ProcessInstance.id.in_(select(HumanTask.instance_id).where(HumanTask.state == "open", *conditions)
                                  .correlate(None))


def _step(values: list[str], problems: Problems) -> Condition:
    return _open_task(or_(HumanTask.bpmn_id.in_(values), HumanTask.name.in_(values)))


def _overdue(values: list[str], problems: Problems) -> Condition | None:
    flag = values[0].lower()
    if flag in _FALSE:
        return None
    if flag not in _TRUE:
        problems["overdue"] = ["逾期筛选应为 1（只看有逾期待办的案件）"]
        return None
    return _open_task(HumanTask.due_date < clock.today())


def _in(column: Any) -> Callable[[list[str], Problems], Condition]:
    return lambda values, problems: column.in_(values)


BUILDERS: dict[str, Callable[[list[str], Problems], Condition | None]] = {
    "plan_year": _plan_year, "committee": _in(ProcessInstance.committee), "series": _series, "status": _status,
    "county": _in(ProcessInstance.county), "employer": _employer, "applicant": _applicant, "step": _step,
    "overdue": _overdue,
}


def _day(params: Params, name: str, problems: Problems) -> date | None:
    values = params.get(name)
    if not values:
        return None
    try:
        return date.fromisoformat(values[0])
    except ValueError:
        problems[name] = ["日期格式应为 YYYY-MM-DD，如 2022-08-10"]
        return None


def _date_ranges(params: Params, problems: Problems) -> list[Condition]:
    """Whole Asia/Shanghai days, both ends included: [from 00:00, the day after `to` 00:00)."""
    out = []
    for attr, low, high in DATE_RANGES:
        column = getattr(ProcessInstance, attr)
        start, end = _day(params, low, problems), _day(params, high, problems)
        if start and end and start > end:
            problems[high] = ["截止日期不能早于起始日期"]
            continue
        if start:
            out.append(column >= clock.local_midnight(start))
        if end:
            out.append(column < clock.local_midnight(end + timedelta(days=1)))
    return out


def conditions(params: Params, problems: Problems) -> tuple[str | None, list[Condition]]:
    """The chosen process (or None) and the conditions of every filter parameter given."""
    process = _process(params.get("process"), problems)
    out = [ProcessInstance.process_id == process] if process else []
    for name, build in BUILDERS.items():
        if params.get(name):
            condition = build(params[name], problems)
            if condition is not None:
                out.append(condition)
    return process, out + _date_ranges(params, problems)


# -- result fields ---------------------------------------------------------------------------
def field_value(kind: str, raw: str) -> Any:
    """A filter value as its field's type; ValueError with the message for the user."""
    if kind in (INTEGER, NUMBER):
        try:
            return float(raw)
        except ValueError:
            raise ValueError("应为数字") from None
    if kind == BOOLEAN:
        if raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
        raise ValueError("应为 是 或 否")
    if kind == DATE:
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            raise ValueError("日期格式应为 YYYY-MM-DD") from None
    return raw


def field_conditions(params: Params, fields: dict[str, str], process: str | None,
                     problems: Problems) -> list[Condition]:
    """`f.<field>=<value>`: equality on the case's result field, compared as the field's type."""
    out = []
    for key, values in params.items():
        if not key.startswith("f."):
            continue
        name = key[2:]
        kind = fields.get(name)
        if kind is None:
            owner = f"流程“{process}”" if process else "任何流程"
            problems[key] = [f"{owner}没有结果字段 {name}"]
        elif kind == LIST:
            problems[key] = ["该字段是多项内容，不能按值筛选"]
        else:
            try:
                typed = [field_value(kind, v) for v in values]
            except ValueError as exc:
                problems[key] = [str(exc)]
                continue
            out.append(json_value(name, kind).in_(typed))
    return out


# -- the form's choices ----------------------------------------------------------------------
@dataclass(frozen=True)
class Choices:
    processes: list[tuple[str, str]]  # (process id, name of its newest version)
    series: list[str]
    committees: list[str]
    counties: list[str]
    statuses: tuple[str, ...] = STATUSES


def choices() -> Choices:
    names: dict[str, str] = {}
    for pid, name in db.session.execute(select(ProcessVersion.process_id, ProcessVersion.name)
                                        .order_by(ProcessVersion.process_id, ProcessVersion.version.desc())):
        names.setdefault(pid, name)
    committees = db.session.scalars(select(Organisation.name).join(Committee, Committee.org_id == Organisation.id)
                                    .order_by(Organisation.name))
    return Choices(processes=sorted(names.items(), key=lambda item: item[1]),
                   series=sorted(set(db.session.scalars(select(Committee.series).distinct()))),
                   committees=list(committees), counties=[CITY_LEVEL, *LISHUI_COUNTIES])
