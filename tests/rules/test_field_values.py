"""Typing an administrator's corrected values by the form schema (never evaluating them)."""

from __future__ import annotations

import pytest

from app.rules.field_values import kind_of, typed_value

INTEGER = {"type": "integer", "minimum": 0, "maximum": 240}
DATE = {"type": "string", "format": "date"}
LEVEL = {"type": "string", "enum": ["员级", "助理级", "中级"]}


@pytest.mark.parametrize(("raw", "spec", "current", "expected"), [
    ("3", INTEGER, 0, 3), (3, INTEGER, 0, 3), (3.0, INTEGER, 0, 3), ("", INTEGER, 0, None), (None, LEVEL, "中级", None),
    (" 2022-07-01 ", DATE, None, "2022-07-01"), ("中级", LEVEL, "助理级", "中级"),
    ("是", {"type": "boolean"}, False, True), ("false", {}, True, False), (True, {}, False, True),
    ("12", {}, "旧文本", "12"), ("12", {}, None, 12), ('["a", "b"]', {}, None, ["a", "b"]),
    ('{"yes": 11}', {"type": "object"}, None, {"yes": 11}), ("2.5", {"type": "number"}, None, 2.5),
    ("普通文本", {}, None, "普通文本"), ("__import__('os')", {}, None, "__import__('os')"),
])
def test_values_are_typed(raw, spec, current, expected):
    value = typed_value(raw, spec, current)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("raw", "spec", "current", "message"), [
    ("abc", INTEGER, 0, "整数"), (True, INTEGER, 0, "整数"), ("241", INTEGER, 0, "不得大于"), ("-1", INTEGER, 0, "不得小于"),
    ("2022-13-01", DATE, None, "YYYY-MM-DD"), ("高级", LEVEL, None, "以下之一"), ("也许", {"type": "boolean"}, None, "是"),
    (5, {"type": "string"}, None, "文本"), ("[1, 2", {}, None, "JSON"), ("x" * 2001, {}, None, "2000"),
    ("nan", {"type": "number"}, None, "数字"), ('"a"', {"type": "array"}, None, "列表"),
    ("a", {"type": "string", "minLength": 2}, None, "至少"),
])
def test_bad_values_are_refused_with_a_reason(raw, spec, current, message):
    with pytest.raises(ValueError, match=message):
        typed_value(raw, spec, current)


def test_the_kind_comes_from_the_schema_then_the_current_value():
    assert kind_of({"type": ["integer", "null"]}, "x") == "integer"
    assert kind_of(DATE, None) == "date"
    assert [kind_of({}, v) for v in (True, 1, 1.5, [], {}, "s", None)] == [
        "boolean", "integer", "number", "array", "object", "string", "json"]
