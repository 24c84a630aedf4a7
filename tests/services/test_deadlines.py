"""Where a task's due date comes from: the diagram's dueDate expression, its dueWorkingDays, the
model's due_defaults, the app default; all counted in official working days from the app clock."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app import clock
from app.engine import ReadyTask
from app.extensions import db
from app.models import HumanTask, User
from app.services import deadlines, instances

GRAD = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
        "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}


def _at(text: str) -> None:
    clock.set_override(datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI))


def _grad_case():
    user = db.session.scalar(select(User).where(User.username == "grad_city"))
    return instances.start_instance(user, "graduate_initial_determination", dict(GRAD))


def _ready(**kw) -> ReadyTask:
    base = {"guid": "g", "bpmn_id": "Task_x", "name": "任务", "lane": None, "form": None, "ui": None,
            "due_working_days": None, "data": {}}
    return ReadyTask(**{**base, **kw})


def test_model_due_days_count_working_days_over_the_national_day_holiday(ctx):
    _at("2022-09-29T09:00:00")  # Thu; 10-01..07 off, Sat 10-08 and Sun 10-09 are make-up working days
    case = _grad_case()
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id))
    assert task.name == "用人单位考核"  # dueWorkingDays 5: 09-30, 10-08, 10-09, 10-10, 10-11
    assert task.due_date == date(2022, 10, 11)
    assert task.checkpoint_id is not None


def test_due_expression_wins_and_falls_back_when_it_fails(ctx):
    _at("2022-09-05T09:00:00")
    case = _grad_case()
    data = {"meeting_date": "2022-09-20"}
    on_expr = _ready(due_expression="add_working_days(meeting_date, -5)", due_working_days=3)
    assert deadlines.due_date_for(case, on_expr, data, None) == date(2022, 9, 13)
    broken = _ready(due_expression="add_working_days(missing_name, -5)", due_working_days=3)
    assert deadlines.due_date_for(case, broken, data, None) == date(2022, 9, 8)  # Mon + 3 working days
    as_variable = _ready(due_expression="latest_report_date")
    assert deadlines.due_date_for(case, as_variable, {"latest_report_date": "2022-09-13"}, None) == date(2022, 9, 13)


def test_model_defaults_by_role_then_the_app_default(ctx):
    _at("2022-09-05T09:00:00")
    case = _grad_case()
    task = _ready()
    ctx.config["TASK_DUE_WORKING_DAYS"] = 10
    assert deadlines.due_date_for(case, task, {}, "hr_staff") == date(2022, 9, 20)  # 09-12 is 中秋节
    case.version.meta = {**case.version.meta, "due_defaults": {"hr_staff": 2, "*": 4}}
    assert deadlines.due_date_for(case, task, {}, "hr_staff") == date(2022, 9, 7)
    assert deadlines.due_date_for(case, task, {}, "employer_hr") == date(2022, 9, 9)
    db.session.rollback()


@pytest.mark.parametrize(("today", "state"), [("2022-09-30", None), ("2022-10-08", None), ("2022-10-09", "soon"), ("2022-10-10", "soon"),
                                               ("2022-10-11", "due"), ("2022-10-12", "overdue"),
                                               ("2022-10-03", None)])
def test_due_state_counts_working_days(ctx, today, state):
    """Due Tue 10-11 after the National Day week: Sun 10-09 (a make-up working day) is 2 working days
    before; the holiday itself and Sat 10-08 are further out (4 and 3 working days)."""
    assert deadlines.due_state(date(2022, 10, 11), date.fromisoformat(today), soon=2) == state
