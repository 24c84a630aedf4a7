"""Graduate initial determination (大中专毕业生初定): batches and level order (DT-11, D10).

The eligibility table itself is a DMN decision under bpmn/; this module holds what a
table cannot express well: the quarterly batch calendar and the order of levels.
"""

from __future__ import annotations

from datetime import date

from app.rules.dates import as_date

BATCH_MONTHS = (2, 5, 8, 11)
LEVELS = ("员级", "助理级", "中级")
JUNIOR_LEVELS = ("员级", "助理级")


def level_rank(level: str | None) -> int:
    """0 for no level, 1 员级, 2 助理级, 3 中级."""
    if not level:
        return 0
    try:
        return LEVELS.index(level) + 1
    except ValueError as exc:
        raise ValueError(f"未知级别：{level}") from exc


def level_at_most(level: str | None, ceiling: str | None) -> bool:
    """True when `level` is granted by a ceiling of `ceiling` (both may be empty)."""
    return bool(level) and level_rank(level) <= level_rank(ceiling)


def levels_up_to(ceiling: str | None) -> list[str]:
    return [lv for lv in LEVELS if level_rank(lv) <= level_rank(ceiling)]


def batch_for(submitted: date | str, cutoff_day: int = 10) -> str:
    """The batch (YYYY-MM) an application submitted on `submitted` joins (D10)."""
    d = as_date(submitted)
    year, month = d.year, d.month
    if month in BATCH_MONTHS and d.day > cutoff_day:
        month += 1
    while month not in BATCH_MONTHS:
        month += 1
        if month > 12:
            month, year = 1, year + 1
    return f"{year:04d}-{month:02d}"


def batch_opening(batch: str, cutoff_day: int = 10) -> date:
    """The batch review opens on the cut-off day of the batch month (D10)."""
    year, month = (int(part) for part in batch.split("-"))
    if month not in BATCH_MONTHS:
        raise ValueError(f"批次月份须为 2、5、8、11 月：{batch}")
    return date(year, month, cutoff_day)
