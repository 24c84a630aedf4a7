"""Reading the rows of an annual plan (附件1) as issued: title lists, months, scope wording.

Pure functions. A row is kept verbatim (so an imported plan exports back unchanged); what routing
needs is read from its wording here:

- titles are listed with 、 between them, but 、 also appears inside brackets
  (“主任（中）医（药、护、技）师”), so only top-level separators split;
- “各县（市、区）…” rows are templates: one committee per county (§7.1);
- “市本级…” limits a row to city-level units, “全市…” is the whole city;
- “自主评聘单位除外” excludes self-managed units (DT-08 row 1);
- “申报中初级职务限事业单位人员” limits intermediate and junior titles to public institutions (#17);
- “…企业单位…” / “企业工程技术人员” takes enterprise staff only (#18, #19);
- “龙泉、青田中级申报对象，市直及其他县（区）中、初级申报对象” limits the junior titles by county (#20).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from app.rules.title import CITY_LEVEL, LISHUI_COUNTIES

PER_COUNTY_PREFIX = "各县（市、区）"
SEPARATOR = "、"
_OPEN, _CLOSE = "（(", "）)"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Short county names used in plan wording → the county's full name.
SHORT_COUNTY = {name[:2]: name for name in LISHUI_COUNTIES}


def split_titles(text: str | None) -> list[str]:
    """Split at top-level 、 only; surrounding spaces dropped. Empty text → []."""
    if not text or not text.strip():
        return []
    items: list[str] = []
    depth = 0
    current = ""
    for char in text.strip():
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(0, depth - 1)
        if char == SEPARATOR and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    return items


def join_titles(items: Sequence[str]) -> str:
    return SEPARATOR.join(items)


def month_problem(value: str) -> str | None:
    """Why `value` is not a YYYY-MM month (None when it is one)."""
    match = _MONTH.match(value)
    if match is None:
        return f"“{value}”不是年月（格式 YYYY-MM，如 2021-08）"
    if not 1 <= int(match.group(2)) <= 12:
        return f"“{value}”的月份应在 01–12 之间"
    return None


def split_months(text: str | None) -> list[str]:
    """“2021-02;2021-05” (also ；, 、 or , between) → ["2021-02", "2021-05"]."""
    if not text or not text.strip():
        return []
    return [part.strip() for part in re.split(r"[;；,，、]", text.strip()) if part.strip()]


def join_months(months: Sequence[str]) -> str:
    return ";".join(months)


def shift_month(month: str, years: int) -> str:
    year, mon = month.split("-")
    return f"{int(year) + years}-{mon}"


def is_per_county(name: str) -> bool:
    return name.startswith(PER_COUNTY_PREFIX)


def for_county(text: str | None, county: str) -> str | None:
    """A template row's wording for one county (“各县（市、区）教育局” → “莲都区教育局”)."""
    if text is None:
        return None
    return text.replace(f"{PER_COUNTY_PREFIX}范围内", county).replace(PER_COUNTY_PREFIX, county)


def scope_rule(scope: str | None, *, per_county: bool, titles_evaluated: Sequence[str],
               level_of: Callable[[str], str]) -> dict[str, Any]:
    """The routing scope read from a row's wording. Keys are those of a committee scope.

    `level_of` gives a title's level (初级, 中级, 副高级, 正高级)."""
    text = scope or ""
    rule: dict[str, Any] = {"exclude_self_managed": "自主评聘单位除外" in text}
    if per_county:
        rule["counties"] = None  # set per county when the template is expanded
    elif text.startswith("市本级"):
        rule["counties"] = [CITY_LEVEL]
    else:
        rule["counties"] = None
    if re.search(r"企业单位|企业工程技术人员", text):
        rule["unit_types"] = ["企业"]
    limited = re.search(r"申报(中初级|中级|初级)职务限(事业单位|企业)人员", text)
    if limited:
        levels = {"中初级": ("中级", "初级"), "中级": ("中级",), "初级": ("初级",)}[limited.group(1)]
        rule["unit_types_by_title"] = {t: [limited.group(2)] for t in titles_evaluated if level_of(t) in levels}
    specialties = _specialties(text, titles_evaluated)
    if specialties:
        rule["specialties"] = specialties
    by_county = re.search(r"中([^中，,]+?)中级申报对象[，,]市直及其他县（区）中、初级申报对象", text)
    if by_county:
        names = [SHORT_COUNTY.get(part.strip()[:2], part.strip()) for part in by_county.group(1).split("、")]
        rule["excluded_counties_by_title"] = {
            t: names for t in titles_evaluated if level_of(t) == "初级"}
    return rule


ENGINEERING_TITLES = frozenset({"助理工程师", "工程师", "高级工程师", "正高级工程师"})


def _specialties(text: str, titles_evaluated: Sequence[str]) -> list[str] | None:
    """The fields an engineering committee takes, from “全市农业、渔业工程技术人员” → [农业, 渔业].

    Only for rows evaluating engineering titles, which many committees share: the field decides."""
    if not ENGINEERING_TITLES.intersection(titles_evaluated):
        return None
    core = re.sub(r"[（(][^）)]*除外[）)]", "", text.split("，")[0].split(",")[0])
    match = re.match(r"^(?:全市|市本级|各县（市、区）范围内|各县（市、区）)?(?:企业单位|企业)?(.*?)(?:工程)?(?:行业)?技术人员$",
                     core)
    if match is None or not match.group(1):
        return None
    found: list[str] = []
    for item in split_titles(match.group(1)):
        inner = re.match(r"^(.*?)[（(]含(.+?)[）)]$", item)
        if inner:
            found += [inner.group(1), *inner.group(2).split("、")]
        else:
            found.append(item)
    return [f for f in found if f] or None


def committee_level(name: str) -> str:
    """初, 中 or 高 from a committee's name."""
    if "高级" in name or "高评委" in name:
        return "高"
    if "初级" in name or "初评委" in name:
        return "初"
    return "中"


def committee_series(name: str) -> str:
    """The series part of a committee's name (“市交通工程技术人员中级…” → “交通工程技术人员”)."""
    core = name.removeprefix(PER_COUNTY_PREFIX).removeprefix("丽水市").removeprefix("市本级").removeprefix("市")
    for county in LISHUI_COUNTIES:
        core = core.removeprefix(county)
    return re.split(r"(中级|高级|初级|直报)", core, maxsplit=1)[0] or core


def official_name(name: str) -> str:
    """The name a city committee is registered under: 附件1 writes “市…”, the register “丽水市…”."""
    if name.startswith("市") and not name.startswith("市本级"):
        return "丽水" + name
    return name


def short_name(name: str) -> str:
    """“…中级专业技术职务任职资格评审委员会” → “…中评委”."""
    for long, short in (("中级专业技术职务任职资格评审委员会", "中评委"),
                        ("高级专业技术职务任职资格评审委员会", "高评委"),
                        ("初级专业技术职务任职资格评审委员会", "初评委"),
                        ("评审委员会", "评委会")):
        if name.endswith(long):
            return name[: -len(long)] + short
    return name
