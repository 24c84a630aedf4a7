"""Continuing-education hours (学时登记)."""

from __future__ import annotations

import io
from typing import IO, Any
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import or_, select

from app import clock
from app.extensions import db
from app.models import CeRecord, Organisation, User
from app.rules.title import CE_DEEMED_UNTIL_YEAR, ce_year_compliant
from app.services import audit
from app.services.errors import FormInvalid, NotAllowed, NotFound
from app.services.numbers import is_digits

FIELDS = ("professional", "public", "general_public")
CITY_LEVEL = "市本级"
SEARCH_LIMIT = 50


# -- scope: a county bureau registers hours for its own county only ---------------------------
def _require_hr(actor: User) -> None:
    if not actor.has_role("hr_staff", "system_admin"):
        raise NotAllowed("只有人力社保部门工作人员或系统管理员可以登记继续教育学时")


def scope_counties(actor: User) -> set[str] | None:
    """None: everyone (system_admin, city HR staff); else the counties of the actor's hr_staff roles."""
    if actor.has_role("system_admin"):
        return None
    counties = {r.org.county for r in actor.roles if r.role == "hr_staff"}
    return None if CITY_LEVEL in counties else counties


def in_scope(actor: User, person: User) -> bool:
    counties = scope_counties(actor)
    return counties is None or person.org.county in counties


def _out_of_scope(person: User) -> str:
    return f"无权登记 {person.username}（{person.display_name}，{person.org.county}）的学时：不属于本县（市、区）"


def upsert(actor: User, records: Any) -> int:
    """Insert or update hours by (username, year): every record, or none.

    A county bureau's staff may register only persons of organisations in their county.
    """
    _require_hr(actor)
    if not isinstance(records, list) or not records:
        raise FormInvalid("应提交学时记录数组", {"records": ["应为非空数组"]})
    errors: dict[str, list[str]] = {}
    refused: dict[str, list[str]] = {}
    users: dict[str, User] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            errors[f"{i}"] = ["应为对象"]
            continue
        username = rec.get("username")
        user = db.session.scalar(select(User).where(User.username == username)) if isinstance(username, str) else None
        if user is None:
            errors[f"{i}.username"] = ["用户不存在"]
        elif not in_scope(actor, user):
            refused[f"{i}.username"] = [_out_of_scope(user)]
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
    if refused:
        names = "、".join(dict.fromkeys(m for ms in refused.values() for m in ms))
        raise NotAllowed(f"您只能登记本县（市、区）人员的继续教育学时：{names}", refused)
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


HEADERS = {"用户名": "username", "年度": "year", "专业科目": "professional", "公需科目": "public",
           "一般公需科目": "general_public"}
MAX_IMPORT_ROWS = 5000


def read_excel(stream: IO[bytes]) -> list[dict[str, Any]]:
    """Rows of the first sheet of an .xlsx whose first row holds the headers
    用户名、年度、专业科目、公需科目、一般公需科目 (any order; other columns are ignored)."""
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FormInvalid("不是有效的 Excel 文件（.xlsx）", {"file": ["请上传 .xlsx 格式的学时登记表"]}) from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
        missing = [h for h in HEADERS if h not in header]
        if missing:
            raise FormInvalid("表头不完整", {"file": [f"第 1 行缺少列：{'、'.join(missing)}"]})
        index = {HEADERS[h]: header.index(h) for h in HEADERS}
        records: list[dict[str, Any]] = []
        for row in rows:
            if row is None or all(c in (None, "") for c in row):
                continue
            if len(records) >= MAX_IMPORT_ROWS:
                raise FormInvalid("行数过多", {"file": [f"一次最多导入 {MAX_IMPORT_ROWS} 行"]})
            record = {key: (row[i] if i < len(row) else None) for key, i in index.items()}
            record["username"] = str(record["username"] or "").strip()
            for key in ("year", *FIELDS):
                value = record[key]
                if isinstance(value, float) and value.is_integer():
                    record[key] = int(value)
                elif isinstance(value, str) and is_digits(value.strip()):
                    record[key] = int(value.strip())
            records.append(record)
    finally:
        book.close()
    if not records:
        raise FormInvalid("表中没有数据", {"file": ["第 2 行起应为学时记录"]})
    return records


def import_template(actor: User) -> bytes:
    """An empty .xlsx with the header row read_excel expects."""
    _require_hr(actor)
    book = Workbook()
    sheet = book.active
    sheet.title = "学时登记"
    sheet.append(list(HEADERS))
    for column, width in zip("ABCDE", (16, 8, 12, 12, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_excel(actor: User, stream: IO[bytes]) -> int:
    """Upsert every row, or nothing: errors name the Excel row (第 N 行)."""
    _require_hr(actor)
    records = read_excel(stream)
    try:
        return upsert(actor, records)
    except (FormInvalid, NotAllowed) as exc:
        fields: dict[str, list[str]] = {}
        for key, messages in exc.fields.items():
            index, _, name = key.partition(".")
            column = next((h for h, k in HEADERS.items() if k == name), name)
            label = f"第 {int(index) + 2} 行" + (f" {column}" if column else "") if index.isdigit() else key
            fields[label] = messages
        raise type(exc)(exc.message, fields) from exc


def records_for(user: User) -> list[CeRecord]:
    return list(db.session.scalars(select(CeRecord).where(CeRecord.user_id == user.id).order_by(CeRecord.year)))


def search_persons(actor: User, query: str) -> list[User]:
    """Persons in the actor's scope whose username or display name contains the query."""
    _require_hr(actor)
    text = (query or "").strip()[:80]
    if not text:
        return []
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = (select(User).join(Organisation, User.org_id == Organisation.id)
            .where(or_(User.username.ilike(like, escape="\\"), User.display_name.ilike(like, escape="\\"))))
    counties = scope_counties(actor)
    if counties is not None:
        stmt = stmt.where(Organisation.county.in_(counties))
    return list(db.session.scalars(stmt.order_by(User.username).limit(SEARCH_LIMIT)))


def person_records(actor: User, username: str) -> tuple[User, list[CeRecord]]:
    """One person's hours as HR staff see them (within scope)."""
    _require_hr(actor)
    person = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if person is None:
        raise NotFound("用户不存在")
    if not in_scope(actor, person):
        raise NotAllowed(f"您只能查看本县（市、区）人员的继续教育学时：{_out_of_scope(person)}")
    return person, records_for(person)


def yearly_results(records: list[CeRecord]) -> list[dict[str, Any]]:
    """Each year's hours with the DT-01 verdict (years ≤ CE_DEEMED_UNTIL_YEAR count as met, D2)."""
    rows = []
    for r in records:
        verdict = ce_year_compliant(r.year, r.professional, r.public, r.general_public)
        rows.append({"year": r.year, "professional": r.professional, "public": r.public,
                     "general_public": r.general_public, "total": r.professional + r.public,
                     "deemed": r.year <= CE_DEEMED_UNTIL_YEAR, **verdict})
    return rows
