"""Chinese wording shared by several documents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.paperwork.model import Objections


def format_date_cn(d: date) -> str:
    """2022-09-20 → "2022年9月20日" (official documents write months and days without a leading zero)."""
    return f"{d.year}年{d.month}月{d.day}日"


def objection_summary(obj: Objections) -> str:
    if obj.received == 0:
        return "公示期间无异议"
    findings = []
    if obj.unfounded:
        findings.append(f"{obj.unfounded} 件不属实")
    if obj.founded:
        outcome = f"（{obj.outcome}）" if obj.outcome else ""
        findings.append(f"{obj.founded} 件属实{outcome}")
    return f"公示期间收到异议 {obj.received} 件，经调查核实，{'，'.join(findings)}"


def join_distinct(values: Iterable[str], fallback: str) -> str:
    """Distinct non-blank values in first-seen order, joined with the enumeration comma."""
    seen = dict.fromkeys(v.strip() for v in values if v and v.strip())
    return "、".join(seen) or fallback


_DIGITS = "〇一二三四五六七八九"


def cn_numeral(n: int) -> str:
    """1..99 as written in enumerations such as "（三）"; official documents do not number further."""
    if not 0 < n < 100:
        raise ValueError(f"不支持的序号：{n}")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return f"{_DIGITS[tens] if tens > 1 else ''}十{_DIGITS[ones] if ones else ''}"
