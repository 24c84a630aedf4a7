"""Working-day arithmetic on the official calendar (holidays and make-up working days).

The calendar is data: a set of exception days per year (weekday holidays, weekend
working days). A year without entered data is provisional (decision D15): it falls back
to weekends-only and every result that touches it says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class WorkdayResult:
    date: date
    provisional: bool


@dataclass
class OfficialCalendar:
    # date -> True (working day) / False (day off), only where it differs from Mon–Fri.
    exceptions: Mapping[date, bool] = field(default_factory=dict)
    # Years whose official calendar is entered.
    known_years: frozenset[int] = frozenset()

    def is_workday(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def is_known(self, day: date) -> bool:
        return day.year in self.known_years

    def add_working_days(self, start: date, days: int) -> WorkdayResult:
        """Step from `start` counting only working days; `days` may be negative.

        `start` itself is never counted: start + 1 is the next working day after start.
        Zero returns `start` unchanged.
        """
        step = 1 if days >= 0 else -1
        remaining = abs(days)
        current = start
        provisional = False
        guard = 0
        while remaining:
            current += timedelta(days=step)
            provisional = provisional or not self.is_known(current)
            if self.is_workday(current):
                remaining -= 1
            guard += 1
            if guard > 20000:
                raise ValueError("工作日跨度过大")
        return WorkdayResult(current, provisional)

    def notice_end(self, start: date, days: int) -> WorkdayResult:
        """The last day of a notice of `days` working days opening on `start` (公示期).

        `start` is the first day when it is a working day (a notice from Thu 2022-09-22 for 5
        working days ends Wed 09-28); otherwise the next working day is.
        """
        if days < 1:
            raise ValueError("公示期至少 1 个工作日")
        return self.add_working_days(start - timedelta(days=1), days)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count


def weekend_only() -> OfficialCalendar:
    return OfficialCalendar({}, frozenset())


def exceptions_from(days: Iterable[tuple[date, bool]]) -> dict[date, bool]:
    return {d: w for d, w in days if w != (d.weekday() < 5)}
