"""Working-day arithmetic on the official calendar (holidays and make-up working days).

The calendar is data: a set of exception days per year (weekday holidays, weekend
working days). A year without entered data is provisional (decision D15): it falls back
to weekends-only and every result that touches it says so.
"""

from __future__ import annotations

from bisect import bisect_right
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
        """Working days in (start, end]; negative when end < start.

        Mon–Fri counted arithmetically, then each exception in the span (found by bisection in
        the sorted exception days) adds a make-up working day or takes off a holiday: the cost
        does not grow with the span (a dashboard counts waits of years across thousands of tasks).
        """
        if end < start:
            return -self.working_days_between(end, start)
        days, shifts = self._exception_index()
        return _weekdays_between(start, end) + shifts[bisect_right(days, end)] - shifts[bisect_right(days, start)]

    def _exception_index(self) -> tuple[list[date], list[int]]:
        """The exception days sorted, and the running sum of their effect (+1 a make-up working
        day, -1 a weekday off, 0 an entry that repeats the Mon–Fri rule)."""
        cached = self.__dict__.get("_index")
        if cached is not None and cached[0] == len(self.exceptions):
            return cached[1], cached[2]
        days = sorted(self.exceptions)
        shifts = [0]
        for day in days:
            shifts.append(shifts[-1] + int(self.exceptions[day]) - int(day.weekday() < 5))
        self.__dict__["_index"] = (len(self.exceptions), days, shifts)
        return days, shifts


def _weekdays_between(start: date, end: date) -> int:
    """Mondays to Fridays in (start, end], start <= end."""
    span = (end - start).days
    weeks, rest = divmod(span, 7)
    count = weeks * 5
    first = start.weekday()  # the days start+1 .. start+rest
    count += sum(1 for i in range(1, rest + 1) if (first + i) % 7 < 5)
    return count


def weekend_only() -> OfficialCalendar:
    return OfficialCalendar({}, frozenset())


def exceptions_from(days: Iterable[tuple[date, bool]]) -> dict[date, bool]:
    return {d: w for d, w in days if w != (d.weekday() < 5)}
