"""Typing a corrected field value by its form's JSON Schema (or the current value's type).

Values come as JSON from the API or as text from a form. Text that reads as JSON is parsed with
json.loads, which parses data and runs nothing; nothing here is ever evaluated as code.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

MAX_VALUE = 2000


def kind_of(spec: dict[str, Any], current: Any) -> str:
    declared = spec.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if declared == "string" and spec.get("format") == "date":
        return "date"
    if isinstance(declared, str):
        return declared
    for kind, types in (("boolean", bool), ("integer", int), ("number", float), ("array", list),
                        ("object", dict)):
        if isinstance(current, types):
            return kind
    return "string" if isinstance(current, str) else "json"


_TRUE = {"true", "1", "yes", "y", "是", "同意"}
_FALSE = {"false", "0", "no", "n", "否", "不同意"}
_INTEGER = re.compile(r"[+-]?\d{1,15}")


def typed_value(raw: Any, spec: dict[str, Any], current: Any = None) -> Any:
    """One corrected value: JSON from the API or text from a form; never evaluated as code."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str) and len(raw) > MAX_VALUE:
        raise ValueError(f"不得超过 {MAX_VALUE} 个字符")
    kind = kind_of(spec, current)
    text = raw.strip() if isinstance(raw, str) else None
    value = _PARSERS.get(kind, _parse_json)(raw, text)
    choices = [o.get("const") for o in spec.get("oneOf") or [] if isinstance(o, dict)] or spec.get("enum") or []
    if choices and value not in choices:
        raise ValueError("应为以下之一：" + "、".join(str(c) for c in choices))
    _check_bounds(value, spec)
    return value


def _check_bounds(value: Any, spec: dict[str, Any]) -> None:
    """The schema's minimum/maximum and length limits, as the task forms enforce them."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = spec.get("minimum"), spec.get("maximum")
        if isinstance(low, (int, float)) and value < low:
            raise ValueError(f"不得小于 {low}")
        if isinstance(high, (int, float)) and value > high:
            raise ValueError(f"不得大于 {high}")
    if isinstance(value, str):
        shortest, longest = spec.get("minLength"), spec.get("maxLength")
        if isinstance(shortest, int) and len(value) < shortest:
            raise ValueError(f"至少 {shortest} 个字符")
        if isinstance(longest, int) and len(value) > longest:
            raise ValueError(f"不得超过 {longest} 个字符")


def _parse_integer(raw: Any, text: str | None) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if text is not None and _INTEGER.fullmatch(text):
        return int(text)
    raise ValueError("应为整数")


def _parse_number(raw: Any, text: str | None) -> int | float:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw
    try:
        number = float(text) if text is not None else None
    except ValueError:
        number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise ValueError("应为数字")
    return int(number) if number.is_integer() and _INTEGER.fullmatch(text or "") else number


def _parse_boolean(raw: Any, text: str | None) -> bool:
    if isinstance(raw, bool):
        return raw
    if text is not None and text.lower() in _TRUE:
        return True
    if text is not None and text.lower() in _FALSE:
        return False
    raise ValueError("应为“是”或“否”（true/false）")


def _parse_date(raw: Any, text: str | None) -> str:
    try:
        return date.fromisoformat(text or "").isoformat()
    except ValueError:
        raise ValueError("日期格式应为 YYYY-MM-DD") from None


def _parse_string(raw: Any, text: str | None) -> str:
    if text is None:
        raise ValueError("应为文本")
    return text


def _parse_container(kind: type, label: str):
    def parse(raw: Any, text: str | None) -> Any:
        value = raw if text is None else _parse_json(raw, text)
        if not isinstance(value, kind):
            raise ValueError(f"应为{label}（JSON 格式）")
        return value
    return parse


def _parse_json(raw: Any, text: str | None) -> Any:
    """Text that reads as JSON (a number, true/false, a list...) becomes that value, other text
    stays text: json.loads only, which parses data and runs nothing."""
    if text is None:
        return raw
    if text[:1] in "[{\"" or text in ("true", "false", "null") or _INTEGER.fullmatch(text):
        try:
            return json.loads(text)
        except ValueError:
            if text[:1] in "[{":
                raise ValueError("JSON 格式有误") from None
    return text


_PARSERS = {"integer": _parse_integer, "number": _parse_number, "boolean": _parse_boolean, "date": _parse_date,
            "string": _parse_string, "array": _parse_container(list, "列表"),
            "object": _parse_container(dict, "对象")}
