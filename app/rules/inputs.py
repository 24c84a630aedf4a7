"""Declarative checks of rule inputs given as JSON: every problem at once, in Chinese.

Used by the title-review rules (app.rules.title) and by the rules service for the rules that
live elsewhere (initial_determination, route_application).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

REQUIRED = "此项为必填项"


class RuleInputError(ValueError):
    """Bad rule inputs; `fields` maps each bad input to its Chinese messages."""

    def __init__(self, fields: dict[str, list[str]], message: str = "规则输入有误") -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


Kind = Literal["int", "number", "bool", "date", "text", "choice", "hours"]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR_KEY = re.compile(r"\d{4}")
HOUR_FIELDS = ("professional", "public", "general_public")
MAX_HOURS = 2000
YEAR_MIN, YEAR_MAX = 1950, 2100


@dataclass(frozen=True)
class Field:
    """One contract input. Optional inputs may be absent or null; required ones may not."""

    name: str
    kind: Kind
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _range_text(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" {minimum}–{maximum} 的"
    if minimum == 0:
        return "非负"
    if minimum is not None:
        return f"不小于 {minimum} 的"
    return ""


def _check_hours(value: Any, errors: dict[str, list[str]]) -> dict[int, dict[str, int]] | None:
    if not isinstance(value, Mapping):
        errors["hours"] = ["应为对象：年份 → {professional, public, general_public}"]
        return None
    result: dict[int, dict[str, int]] = {}
    seen: set[int] = set()
    for key, record in value.items():
        ok_key = (_is_int(key) and YEAR_MIN <= key <= YEAR_MAX) or (
            isinstance(key, str) and _YEAR_KEY.fullmatch(key) and YEAR_MIN <= int(key) <= YEAR_MAX
        )
        if not ok_key:
            errors[f"hours.{key}"] = [f"年份应为 {YEAR_MIN}–{YEAR_MAX} 的整数"]
            continue
        year = int(key)
        where = f"hours.{year}"
        if year in seen:
            errors[where] = ["年份重复"]
            continue
        seen.add(year)
        if not isinstance(record, Mapping):
            errors[where] = ["应为对象：{professional, public, general_public}"]
            continue
        clean: dict[str, int] = {}
        for name in HOUR_FIELDS:
            hours = record.get(name)
            if hours is None:
                errors[f"{where}.{name}"] = [REQUIRED]
            elif not _is_int(hours) or not 0 <= hours <= MAX_HOURS:
                errors[f"{where}.{name}"] = [f"学时应为 0–{MAX_HOURS} 的整数"]
            else:
                clean[name] = hours
        if len(clean) == len(HOUR_FIELDS):
            if clean["general_public"] > clean["public"]:
                errors[f"{where}.general_public"] = ["一般公需科目学时不能超过公需科目学时"]
            result[year] = clean
    return result


def _check_field(field: Field, value: Any, errors: dict[str, list[str]]) -> Any:
    """The converted value, or None after recording an error."""
    name = field.name
    if field.kind == "int":
        if (
            not _is_int(value)
            or (field.minimum is not None and value < field.minimum)
            or (field.maximum is not None and value > field.maximum)
        ):
            errors[name] = [f"应为{_range_text(field.minimum, field.maximum)}整数"]
            return None
        return value
    if field.kind == "number":
        if not _is_number(value) or (field.minimum is not None and value < field.minimum):
            errors[name] = [f"应为{_range_text(field.minimum, field.maximum)}数"]
            return None
        return value
    if field.kind == "bool":
        if not isinstance(value, bool):
            errors[name] = ["应为布尔值（true 或 false）"]
            return None
        return value
    if field.kind == "date":
        if isinstance(value, str) and _DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        errors[name] = ["应为 YYYY-MM-DD 格式的有效日期"]
        return None
    if field.kind == "text":
        if not isinstance(value, str) or not value.strip():
            errors[name] = ["应为非空文本"]
            return None
        return value.strip()
    if field.kind == "choice":
        if not isinstance(value, str) or value not in field.choices:
            errors[name] = [f"应为 {'、'.join(field.choices)} 之一"]
            return None
        return value
    return _check_hours(value, errors)


def check_fields(fields: Sequence[Field], inputs: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(converted values, errors per field); a value is None when absent or bad."""
    if not isinstance(inputs, Mapping):
        raise RuleInputError({"inputs": ["应为对象"]})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field in fields:
        raw = inputs.get(field.name)
        if raw is None:
            if field.required:
                errors[field.name] = [REQUIRED]
            values[field.name] = None
            continue
        values[field.name] = _check_field(field, raw, errors)
    return values, errors
