"""Continuing-education hours (学时登记)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import CeRecord, User
from app.services import audit
from app.services.errors import FormInvalid, NotAllowed

FIELDS = ("professional", "public", "general_public")


def upsert(actor: User, records: Any) -> int:
    if not actor.has_role("hr_staff", "system_admin"):
        raise NotAllowed("只有人力社保部门工作人员或系统管理员可以登记继续教育学时")
    if not isinstance(records, list) or not records:
        raise FormInvalid("应提交学时记录数组", {"records": ["应为非空数组"]})
    errors: dict[str, list[str]] = {}
    users: dict[str, User] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            errors[f"{i}"] = ["应为对象"]
            continue
        user = db.session.scalar(select(User).where(User.username == rec.get("username")))
        if user is None:
            errors[f"{i}.username"] = ["用户不存在"]
        else:
            users[rec["username"]] = user
        year = rec.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
            errors[f"{i}.year"] = ["年份应为 2000–2100 的整数"]
        hours_ok = True
        for name in FIELDS:
            value = rec.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 2000:
                errors[f"{i}.{name}"] = ["学时应为 0–2000 的整数"]
                hours_ok = False
        if hours_ok and rec["general_public"] > rec["public"]:
            errors[f"{i}.general_public"] = ["一般公需科目学时不能超过公需科目学时"]
    if errors:
        raise FormInvalid("学时记录有误", errors)
    for rec in records:
        user = users[rec["username"]]
        row = db.session.scalar(select(CeRecord).where(CeRecord.user_id == user.id, CeRecord.year == rec["year"]))
        if row is None:
            row = CeRecord(user_id=user.id, year=rec["year"])
            db.session.add(row)
        for name in FIELDS:
            setattr(row, name, rec[name])
        row.updated_at = clock.now()
        row.updated_by_id = actor.id
    audit.record("ce_records_upserted", actor=actor, details={"count": len(records)})
    db.session.commit()
    return len(records)


def records_for(user: User) -> list[CeRecord]:
    return list(db.session.scalars(select(CeRecord).where(CeRecord.user_id == user.id).order_by(CeRecord.year)))
