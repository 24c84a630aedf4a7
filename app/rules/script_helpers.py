"""Functions that diagram scripts, conditions, decision cells and timers may call.

They are the only callables in the restricted environment besides safe builtins.
Dates go in and come out as YYYY-MM-DD strings so that task data stays flat JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from app import clock
from app.rules import graduate
from app.rules.dates import as_date, whole_months
from app.rules.title import county_hr
from app.rules.workdays import OfficialCalendar


def build_helpers(calendar: OfficialCalendar, batch_cutoff_day: int = 10,
                  policies: Mapping[str, int] | None = None) -> dict[str, Callable[..., Any]]:
    known = dict(policies or {})

    def today() -> str:
        return clock.today().isoformat()

    def add_working_days(day: str, days: int) -> str:
        return calendar.add_working_days(as_date(day), int(days)).date.isoformat()

    def start_of_day(day: str) -> str:
        return clock.local_midnight(as_date(day)).isoformat()

    def end_of_day(day: str) -> str:
        """The instant a deadline day is over: 00:00 of the next day, Asia/Shanghai."""
        return clock.local_midnight(as_date(day) + timedelta(days=1)).isoformat()

    def notice_end(start: str, days: int) -> str:
        """The last day of a notice of `days` working days that opens on `start` (start counts when it is one)."""
        return calendar.notice_end(as_date(start), int(days)).date.isoformat()

    def policy(name: str) -> int:
        """A configured period of the procedures (D11), e.g. policy("unit_notice_working_days")."""
        if name not in known:
            raise ValueError(f"未知的配置项 {name}；可用：{'、'.join(sorted(known))}")
        return known[name]

    def graduate_batch(day: str) -> str:
        return graduate.batch_for(day, batch_cutoff_day)

    def batch_opens_at(batch: str) -> str:
        return clock.local_midnight(graduate.batch_opening(batch, batch_cutoff_day)).isoformat()

    return {
        "today": today,
        "add_working_days": add_working_days,
        "start_of_day": start_of_day,
        "end_of_day": end_of_day,
        "notice_end": notice_end,
        "policy": policy,
        "whole_months": lambda start, end: whole_months(start, end),
        "graduate_batch": graduate_batch,
        "batch_opens_at": batch_opens_at,
        "level_rank": graduate.level_rank,
        "level_at_most": graduate.level_at_most,
        "levels_up_to": graduate.levels_up_to,
        "county_hr": county_hr,
    }
