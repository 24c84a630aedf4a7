"""The instance list's columns and the types of the processes' result fields.

A result field's type comes from the JSON schemas of its model's forms (integer, number, boolean,
string with format date, array); the engine computes many fields no form declares, and those
are typed by COMPUTED_KINDS. Anything else is text. Types decide how a column sorts in SQL,
how it is shown and how it is written to Excel: numbers as numbers, dates as dates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import ProcessInstance, ProcessVersion
from app.services import forms
from app.services.privacy import SENSITIVE

INTEGER, NUMBER, BOOLEAN, DATE, DATETIME, STRING, LIST = (
    "integer", "number", "boolean", "date", "datetime", "string", "list")


@dataclass(frozen=True)
class Column:
    key: str  # the sort key and cell name: a base column, or "f.<result field>"
    label: str
    kind: str
    field: str | None = None  # the result field of a data column


BASE_COLUMNS = (
    Column("id", "编号", INTEGER), Column("title", "标题", STRING), Column("process", "流程", STRING),
    Column("plan_year", "计划年度", INTEGER), Column("committee", "评委会", STRING),
    Column("county", "所在地", STRING), Column("employer", "工作单位", STRING),
    Column("applicant", "申请人", STRING), Column("status", "状态", STRING),
    Column("steps", "当前环节", LIST), Column("due", "最早截止日期", DATE),
    Column("created_at", "发起时间", DATETIME), Column("completed_at", "办结时间", DATETIME),
)

_COMPUTED = {
    DATE: ("submitted_on", "unit_notice_end", "checked_on", "meeting_date", "published_on", "ban_until",
           "pre_notice_start", "pre_notice_end", "post_notice_start", "post_notice_end", "report_date",
           "latest_report_date", "plan_due", "summary_due", "plan_submitted_on", "plan_approved_on", "filed_on",
           "summary_submitted_on", "reexam_opens", "reexam_due", "announced_on", "graduation_date",
           "work_start_date"),
    INTEGER: ("months_post_grad", "months_pre_degree", "return_count", "ce_compliant_years", "required_years",
              "session_id", "yes_votes", "members", "attending", "applicant_count", "quorum", "passed_vote",
              "failed_vote", "open_objections", "passed", "provincial_count", "cycle_year", "supervision_year",
              "subject_count", "plan_year", "title_year", "appointed"),
    NUMBER: ("m26_score", "years_in_m26"),
    BOOLEAN: ("eligible", "ce_ok", "single_list", "route_ok", "may_convene", "vote_valid", "session_invalid",
              "self_managed", "plan_approved", "evaluates_senior", "opinion_required"),
    LIST: ("ce_reasons", "eligibility_reasons", "bars", "summary_recipients", "subjects", "drawn", "ce_years",
           "attachments"),
}
# Fields the engine computes (no form declares them), by type.
COMPUTED_KINDS = {name: kind for kind, names in _COMPUTED.items() for name in names}
# Result fields the base columns already show, ones that are no column (document ids, records),
# and personal identifiers (app.services.privacy), which a list or its export never carries.
NOT_COLUMNS = frozenset({"committee", "plan_year", "applicant_name", "employer_org", "unit_county",
                         "attachments", "ce_years", *SENSITIVE})
DEFAULT_COLUMNS = {
    "title_application": ("target_title", "title_level", "outcome", "certificate_no"),
    "graduate_initial_determination": ("education", "requested_level", "batch", "outcome", "approved_level"),
    "review_session": ("meeting_date", "stage", "applicant_count", "passed", "published_doc_no"),
    "self_managed_cycle": ("cycle_year", "plan_status", "filing_status", "summary_status"),
    "supervision": ("supervision_year", "subject_count", "stage"),
}
FALLBACK_DEFAULTS = 4
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,79}")


def _schema_kind(spec: Any) -> str | None:
    if not isinstance(spec, dict):
        return None
    declared = spec.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if declared == "string":
        return DATE if spec.get("format") == "date" else STRING
    return {"integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN, "array": LIST}.get(str(declared))


# A version's files never change (they are content-hashed), so their schema types are kept.
_schema_cache: dict[tuple[int, str], dict[str, str]] = {}


def _schema_kinds(version_id: int, content_hash: str) -> dict[str, str]:
    key = (version_id, content_hash)
    if key not in _schema_cache:
        files = db.session.get(ProcessVersion, version_id).sources.get("files", {})
        kinds: dict[str, str] = {}
        for field, specs in forms.field_schemas(files).items():
            # the first form that gives the field a type we know
            kind = next((k for k in map(_schema_kind, specs) if k is not None), None)
            if kind is not None:
                kinds[field] = kind
        _schema_cache[key] = kinds
    return _schema_cache[key]


def fields_of(process: str | None) -> dict[str, str]:
    """Result field → type of a process (of every process when None), newest version first."""
    query = select(ProcessVersion.id, ProcessVersion.content_hash, ProcessVersion.meta).order_by(
        ProcessVersion.process_id, ProcessVersion.version.desc())
    if process is not None:
        query = query.where(ProcessVersion.process_id == process)
    fields: dict[str, str] = {}
    for version_id, content_hash, meta in db.session.execute(query):
        names = [n for n in (meta or {}).get("result_fields") or []
                 if isinstance(n, str) and FIELD_NAME.fullmatch(n) and n not in fields]
        if not names:
            continue
        declared = _schema_kinds(version_id, content_hash)
        for name in names:
            fields[name] = declared.get(name) or COMPUTED_KINDS.get(name, STRING)
    return fields


def result_columns(process: str | None, fields: Mapping[str, str], labels: Mapping[str, str]) -> tuple[Column, ...]:
    if process is None:
        return ()
    return tuple(Column(f"f.{name}", labels.get(name, name), kind, name)
                 for name, kind in fields.items() if name not in NOT_COLUMNS)


def default_columns(process: str | None) -> tuple[str, ...]:
    if process is None:
        return ()
    if process in DEFAULT_COLUMNS:
        return DEFAULT_COLUMNS[process]
    return tuple(n for n in fields_of(process) if n not in NOT_COLUMNS)[:FALLBACK_DEFAULTS]


# -- values ----------------------------------------------------------------------------------
def typed(kind: str, value: Any) -> Any:
    """A result value as its column's type; a value that is not of that type stays as text."""
    if value is None or value == "" or value == []:
        return None
    if kind == LIST:
        return tuple(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    if kind == BOOLEAN:
        return value if isinstance(value, bool) else str(value)
    if kind in (INTEGER, NUMBER):
        return _number(kind, value)
    if kind == DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _number(kind: str, value: Any) -> Any:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return int(value) if kind == INTEGER and float(value).is_integer() else value
    try:
        number = float(str(value))
    except ValueError:
        return str(value)
    return int(number) if number.is_integer() else number


def _json_type_is(field: str, *types: str) -> ColumnElement[bool]:
    """Whether data[field] holds a JSON value of one of `types` (PostgreSQL's names)."""
    if db.engine.dialect.name == "postgresql":
        return func.json_typeof(ProcessInstance.data[field]).in_(types)
    sqlite = {"number": ("integer", "real"), "boolean": ("true", "false")}
    path = literal('$."') + literal(field) + literal('"')
    return func.json_type(ProcessInstance.data, path).in_(
        [t for name in types for t in sqlite.get(name, (name,))])


def json_value(field: str, kind: str) -> ColumnElement:
    """data[field] as an SQL value of its type. A value of another JSON type reads as NULL, so a
    stray string never breaks a numeric sort or comparison (PostgreSQL would refuse the cast)."""
    element = ProcessInstance.data[field]
    if kind in (INTEGER, NUMBER):
        return case((_json_type_is(field, "number"), element.as_float()))
    if kind == BOOLEAN:
        return case((_json_type_is(field, "boolean"), element.as_boolean()))
    return element.as_string()  # dates are ISO text: they sort as text
