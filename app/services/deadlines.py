"""Due dates of human tasks, counted in official working days from the app clock.

Where a task's deadline comes from, first match wins:
1. the task's ``dueDate`` expression in the diagram (e.g. ``add_working_days(meeting_date, -5)``),
   evaluated in the restricted script sandbox over the task's data;
2. its ``dueWorkingDays`` property (working days from the day the task is created);
3. the model's ``due_defaults`` in model.json, by the lane's role or ``"*"``;
4. the app's ``TASK_DUE_WORKING_DAYS`` (default 10).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app

from app import clock
from app.engine import ReadyTask
from app.models import ProcessInstance
from app.services import calendar, registry


def default_working_days(instance: ProcessInstance, role: str | None) -> int:
    defaults = instance.version.meta.get("due_defaults") or {}
    for key in (role, "*"):
        if key and isinstance(defaults.get(key), int):
            return int(defaults[key])
    return int(current_app.config["TASK_DUE_WORKING_DAYS"])


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return clock.to_local(value).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def due_date_for(instance: ProcessInstance, task: ReadyTask, data: dict[str, Any], role: str | None) -> date:
    if task.due_expression:
        try:
            value = registry.runtime().evaluate(task.due_expression, {**data, **task.data})
        except Exception:  # noqa: BLE001 - a failing expression falls back to the day count
            value = None
        due = _as_date(value)
        if due is not None:
            return due
    days = task.due_working_days if task.due_working_days else default_working_days(instance, role)
    return calendar.add_working_days(clock.today(), days).date


def working_days_left(due: date, today: date | None = None) -> int:
    """Working days from today to the due date: 0 on the due day, negative once overdue."""
    today = today or clock.today()
    return calendar.official_calendar().working_days_between(today, due)


def _window(window: int | None) -> int:
    """The reminder window in working days (REMIND_BEFORE_WORKING_DAYS unless given)."""
    return window if window is not None else int(current_app.config["REMIND_BEFORE_WORKING_DAYS"])


def due_state(due: date | None, today: date | None = None, soon: int | None = None) -> str | None:
    """How a due date stands today: overdue, due (today), soon (within the reminder window), or None."""
    if due is None:
        return None
    today = today or clock.today()
    if due < today:
        return "overdue"
    if due == today:
        return "due"
    return "soon" if working_days_left(due, today) <= _window(soon) else None


DUE_STATE_LABELS = {"overdue": "已逾期", "due": "今日到期", "soon": "即将到期"}


def standing(due: date, today: date | None = None) -> dict[str, Any]:
    """A due date as the inbox and the instance page show it: state, its label, working days left."""
    today = today or clock.today()
    state = due_state(due, today)
    return {"state": state, "label": DUE_STATE_LABELS.get(state or "", ""),
            "days_left": working_days_left(due, today)}


# Reminder stages, in the order they are reached (reminders.py sends each at most once, and only
# the latest when several are reached at once).
REMINDER_STAGES = ("before", "due", "overdue")
REMINDER_STAGE_LABELS = {"before": "到期前提醒", "due": "到期当日提醒", "overdue": "逾期提醒"}


def reminder_stage(due: date, today: date | None = None, window: int | None = None) -> str | None:
    """The reminder a task due on ``due`` calls for today: overdue, due, before, or None.

    "before" when 0 < working days left <= the window; days off are not counted, so a task due
    on the Monday is 1 working day away on the Friday before.
    """
    today = today or clock.today()
    if today > due:
        return "overdue"
    if today == due:
        return "due"
    left = working_days_left(due, today)
    return "before" if 0 < left <= _window(window) else None


def reminder_horizon(today: date, window: int | None = None) -> date:
    """The latest due date that may need a reminder today: the day before the working day just
    beyond the window (a due date on the days off after the window is still within it)."""
    beyond = calendar.add_working_days(today, _window(window) + 1).date
    return date.fromordinal(beyond.toordinal() - 1)


def late_due_date(instance: ProcessInstance, role: str | None, created_at: datetime) -> date:
    """A due date for a task created without one: its creation day plus the default working days."""
    start = clock.to_local(created_at).date()
    return calendar.add_working_days(start, default_working_days(instance, role)).date
