"""Functions that diagram scripts, conditions, decision cells and timers may call.

They are the only callables in the restricted environment besides safe builtins.
Dates go in and come out as YYYY-MM-DD strings so that task data stays flat JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from app import clock
from app.rules import graduate
from app.rules.dates import as_date, whole_months
from app.rules.title import county_hr
from app.rules.workdays import OfficialCalendar


def build_helpers(calendar: OfficialCalendar, batch_cutoff_day: int = 10) -> dict[str, Callable[..., Any]]:
    def today() -> str:
        return clock.today().isoformat()

    def add_working_days(day: str, days: int) -> str:
        return calendar.add_working_days(as_date(day), int(days)).date.isoformat()

    def start_of_day(day: str) -> str:
        return clock.local_midnight(as_date(day)).isoformat()

    def end_of_day(day: str) -> str:
        """The instant a deadline day is over: 00:00 of the next day, Asia/Shanghai."""
        return clock.local_midnight(as_date(day) + timedelta(days=1)).isoformat()

    def graduate_batch(day: str) -> str:
        return graduate.batch_for(day, batch_cutoff_day)

    def batch_opens_at(batch: str) -> str:
        return clock.local_midnight(graduate.batch_opening(batch, batch_cutoff_day)).isoformat()

    return {
        "today": today,
        "add_working_days": add_working_days,
        "start_of_day": start_of_day,
        "end_of_day": end_of_day,
        "whole_months": lambda start, end: whole_months(start, end),
        "graduate_batch": graduate_batch,
        "batch_opens_at": batch_opens_at,
        "level_rank": graduate.level_rank,
        "level_at_most": graduate.level_at_most,
        "levels_up_to": graduate.levels_up_to,
        "county_hr": county_hr,
    }
