"""Self-managed evaluation (自主评聘, analysis §3): deadlines and where the summary is filed.

Pure functions. Deadlines per the notices: the plan by 30 November of the year (B-TM1), the summary
by 28 February of the next year (B-TM3); the filing before the meeting is DT-06's date test (B-TM2).
"""

from __future__ import annotations

from datetime import date

from app.rules.title import CITY_HR, CITY_LEVEL, county_hr

PROVINCE_HR = "浙江省人力资源和社会保障厅"
SENIOR_LEVELS = ("副高级", "正高级")


def plan_due(year: int) -> date:
    return date(year, 11, 30)


def summary_due(year: int) -> date:
    return date(year + 1, 2, 28)


def status(done_on: date, due: date) -> str:
    """on_time up to and including the due date, else overdue."""
    return "on_time" if done_on <= due else "overdue"


def summary_recipients(unit_county: str, district_dept: str | None, city_dept: str | None,
                       evaluates_senior: bool) -> list[str]:
    """B-T05: the district-level department and HR bureau, the city-level ones, and the province
    when the unit evaluates senior titles ("各高评委同时报省级备案"). A city-level unit has no district level."""
    recipients: list[str] = []
    if unit_county and unit_county != CITY_LEVEL:
        recipients += [d for d in (district_dept, county_hr(unit_county)) if d]
    recipients += [d for d in (city_dept, CITY_HR) if d]
    if evaluates_senior:
        recipients.append(PROVINCE_HR)
    return list(dict.fromkeys(recipients))
