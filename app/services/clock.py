"""Setting and reading the app clock (contract: only administrators, only with CLOCK_OVERRIDE=1)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app import clock
from app.extensions import db
from app.models import Setting, User
from app.services import audit
from app.services.errors import NotAllowed

KEY = "clock_override"


def override_enabled() -> bool:
    return bool(current_app.config.get("CLOCK_OVERRIDE"))


def sync() -> None:
    """Apply the persisted override to this process (no-op unless overrides are enabled)."""
    if not override_enabled():
        clock.set_override(None)
        return
    row = db.session.get(Setting, KEY)
    value = row.value.get("now") if row is not None else None
    clock.set_override(clock.parse_instant(value) if value else None)


def set_clock(actor: User, value: datetime | None) -> datetime:
    if not override_enabled():
        raise NotAllowed("本环境未开启 CLOCK_OVERRIDE，不能设置系统时钟")
    if not actor.has_role("system_admin"):
        raise NotAllowed("只有系统管理员可以设置系统时钟")
    row = db.session.get(Setting, KEY) or Setting(key=KEY, value={})
    row.value = {"now": value.isoformat() if value else None}
    db.session.add(row)
    clock.set_override(value)
    audit.record("clock_set", actor=actor, details={"now": value.isoformat() if value else None})
    db.session.commit()
    return clock.now()
