"""Date helpers shared by rules and the script environment."""

from __future__ import annotations

import calendar as _calendar
from datetime import date


def as_date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def whole_months(start: date | str, end: date | str) -> int:
    """Whole months from `start` up to `end` (满N个月). 2019-07-01 → 2022-07-01 is 36.

    A month is complete when the same day-of-month is reached; a start on the 31st
    completes on the last day of a shorter month.
    """
    s, e = as_date(start), as_date(end)
    if e < s:
        return 0
    months = (e.year - s.year) * 12 + (e.month - s.month)
    last_day = _calendar.monthrange(e.year, e.month)[1]
    if e.day < min(s.day, last_day):
        months -= 1
    return max(months, 0)


def add_years(day: date | str, years: int) -> date:
    """Same month and day `years` later; 29 February becomes 28 February (D5)."""
    d = as_date(day)
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)
