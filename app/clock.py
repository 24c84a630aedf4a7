"""The one clock. Every part of the app asks here for "now".

Real time unless an override is set (only allowed when CLOCK_OVERRIDE=1; the web layer
re-reads the persisted override before each request, the timer loop before each sweep).
An override freezes the clock at the given instant, as Camunda's ClockUtil does, so
training scenarios and tests are repeatable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_override: datetime | None = None
# A clock of one piece of work only (a scenario run inside one request): other requests and the
# timer loop, in other contexts, keep the process clock.
_UNSET = object()
_scoped: ContextVar[object] = ContextVar("clock_scoped", default=_UNSET)


def now() -> datetime:
    """Aware UTC datetime."""
    scoped = _scoped.get()
    if scoped is not _UNSET:
        return scoped if isinstance(scoped, datetime) else datetime.now(UTC)
    if _override is not None:
        return _override
    return datetime.now(UTC)


@contextmanager
def scoped() -> Iterator[None]:
    """Within the block, set_scoped() moves this context's clock only (starting from the current one)."""
    token = _scoped.set(now() if _override is not None or _scoped.get() is not _UNSET else None)
    try:
        yield
    finally:
        _scoped.reset(token)


def set_scoped(value: datetime) -> None:
    if _scoped.get() is _UNSET:
        raise RuntimeError("set_scoped() outside clock.scoped()")
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    _scoped.set(value.astimezone(UTC))


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
