"""The official working-day calendar: seeded from chinese-calendar, editable per year."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from app.extensions import db
from app.models import CalendarDay, CalendarYear, User
from app.rules.workdays import OfficialCalendar, WorkdayResult, exceptions_from
from app.services import audit
from app.services.errors import NotAllowed

_cache: dict[str, OfficialCalendar] = {}


def official_calendar() -> OfficialCalendar:
    """The calendar as entered, cached per process until it changes."""
    cached = _cache.get("calendar")
    if cached is None:
        days = db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)).all()
        years = db.session.scalars(select(CalendarYear.year)).all()
        cached = OfficialCalendar({d: w for d, w in days}, frozenset(years))
        _cache["calendar"] = cached
    return cached


def invalidate() -> None:
    _cache.pop("calendar", None)


def add_working_days(start: date, days: int) -> WorkdayResult:
    return official_calendar().add_working_days(start, days)


def seed_from_chinese_calendar() -> int:
    """Load every year chinese-calendar covers that has no entered calendar. Returns years added."""
    import chinese_calendar

    holidays = chinese_calendar.constants.holidays
    workdays = chinese_calendar.constants.workdays
    covered = sorted({d.year for d in holidays} | {d.year for d in workdays})
    known = set(db.session.scalars(select(CalendarYear.year)).all())
    added = 0
    for year in covered:
        if year in known:
            continue
        days = [(d, False) for d in holidays if d.year == year] + [(d, True) for d in workdays if d.year == year]
        _store_year(year, exceptions_from(days), "chinese-calendar")
        added += 1
    db.session.commit()
    invalidate()
    return added


def _store_year(year: int, exceptions: dict[date, bool], source: str) -> None:
    db.session.execute(
        delete(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    )
    db.session.merge(CalendarYear(year=year, source=source))
    for day, is_workday in sorted(exceptions.items()):
        db.session.add(CalendarDay(day=day, is_workday=is_workday, note="调休上班" if is_workday else "法定节假日"))


def set_year(actor: User, year: int, holidays: list[date], workdays: list[date]) -> None:
    """Administrators enter a year's official calendar (D15)."""
    if not actor.has_role("system_admin"):
        raise NotAllowed("只有系统管理员可以维护节假日日历")
    days = [(d, False) for d in holidays if d.year == year] + [(d, True) for d in workdays if d.year == year]
    _store_year(year, exceptions_from(days), "admin")
    audit.record("calendar_year_set", actor=actor, details={"year": year, "holidays": len(holidays), "workdays": len(workdays)})
    db.session.commit()
    invalidate()
