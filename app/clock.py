"""The one clock. Every part of the app asks here for "now".

Real time unless an override is set (only allowed when CLOCK_OVERRIDE=1; the web layer
re-reads the persisted override before each request, the timer loop before each sweep).
An override freezes the clock at the given instant, as Camunda's ClockUtil does, so
training scenarios and tests are repeatable.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_override: datetime | None = None


def now() -> datetime:
    """Aware UTC datetime."""
    if _override is not None:
        return _override
    return datetime.now(UTC)


def wall_now() -> datetime:
    """Real time, never overridden: for security (token expiry, login throttling), not deadlines."""
    return datetime.now(UTC)


def today() -> date:
    """The date in Asia/Shanghai."""
    return now().astimezone(SHANGHAI).date()


def set_override(value: datetime | None) -> None:
    global _override
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    _override = value.astimezone(UTC) if value is not None else None


def override() -> datetime | None:
    return _override


def local_midnight(day: date) -> datetime:
    """00:00 Asia/Shanghai of a day, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI)


def parse_instant(text: str) -> datetime:
    """ISO date or datetime; a naive value is read as Asia/Shanghai."""
    text = text.strip()
    if len(text) == 10:
        return local_midnight(date.fromisoformat(text))
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value


ONE_DAY = timedelta(days=1)
