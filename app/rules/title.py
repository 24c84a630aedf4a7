"""Title-review rules (职称评审): DT-01 … DT-06, DT-09 and the vote of DT-10 (analysis §6).

DT-07 (who supervises, files and publishes) is a table and lives as the DMN decision
`authority_resolution` of the review_session model; its inputs are checked here with the others.

Pure functions: no Flask, no database, no SpiffWorkflow. Decisions D1–D8 and D13 are applied
with their defaults; the settings of D2 and D7 are keyword arguments. `evaluate` checks the JSON
inputs of the contract (§4), collects every problem in one `RuleInputError`, and returns the
outputs with dates as YYYY-MM-DD strings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal, TypedDict

from app.rules.dates import add_years, as_date
from app.rules.inputs import MAX_HOURS, REQUIRED, YEAR_MAX, YEAR_MIN, Field, RuleInputError, check_fields
from app.rules.workdays import OfficialCalendar

# --- constants --------------------------------------------------------------------------------

CITY_HR = "丽水市人力资源和社会保障局"
CITY_LEVEL = "市本级"
LISHUI_COUNTIES = (
    "莲都区",
    "龙泉市",
    "青田县",
    "云和县",
    "庆元县",
    "缙云县",
    "遂昌县",
    "松阳县",
    "景宁畲族自治县",
)

# 山区26县 by city (DT-04; the list in analysis §6, to be verified against the provincial document).
MOUNTAIN_26_COUNTIES: dict[str, tuple[str, ...]] = {
    "杭州": ("淳安县",),
    "温州": ("永嘉县", "平阳县", "苍南县", "文成县", "泰顺县"),
    "金华": ("武义县", "磐安县"),
    "衢州": ("柯城区", "衢江区", "江山市", "常山县", "开化县", "龙游县"),
    "台州": ("三门县", "天台县", "仙居县"),
    "丽水": LISHUI_COUNTIES,
}
MOUNTAIN_26: frozenset[str] = frozenset(c for group in MOUNTAIN_26_COUNTIES.values() for c in group)

CE_TOTAL, CE_PROFESSIONAL, CE_PUBLIC, CE_GENERAL_PUBLIC = 90, 60, 18, 12
CE_DEEMED_UNTIL_YEAR = 2018  # D2 (setting ce_deemed_until_year)
BAN_YEARS = 3  # D5
LEAD_DAYS = 5  # DT-06
M26_POINTS_PER_YEAR, M26_CAP = 1, 10  # D7

EVENTS = ("intake_check", "finding")
FRAUD_FINDINGS = (
    "academic_fraud",
    "false_certificate",
    "false_performance",
    "false_experience",
    "plagiarism",
)
FINDING_TYPES = ("none", *FRAUD_FINDINGS, "other_misconduct")
STAGES = (
    "unit_review",
    "dept_review",
    "eligibility",
    "pre_notice",
    "meeting",
    "post_notice",
    "after_publication",
)
WRITTEN_OPINIONS = ("agree", "disagree", "missing", "not_required")
CONSENTING_OPINIONS = ("agree", "not_required")
COMMITTEE_LEVELS = ("初", "中", "高")
COMMITTEE_LOCATIONS = (CITY_LEVEL, *LISHUI_COUNTIES)

# --- outputs ----------------------------------------------------------------------------------


class YearResult(TypedDict):
    compliant: bool
    reasons: list[str]


class ApplicationResult(TypedDict):
    ce_ok: bool
    compliant_years: int
    reasons: list[str]
    years: dict[int, YearResult]


class IntegrityResult(TypedDict):
    action: Literal["pass", "reject_at_intake", "veto", "revoke", "refer"]
    ban_until: str | None
    integrity_record_until: str | None
    reason: str


class Mountain26Result(TypedDict):
    single_list: bool
    m26_score: int | float


class ArchiveRatioResult(TypedDict):
    status: Literal["NOT_APPLICABLE", "COMPLIANT", "NON_COMPLIANT"]
    shortfall: int
    ratio: float | None


class LeadTimeResult(TypedDict):
    may_convene: bool
    latest_action_date: str
    earliest_meeting_date: str
    provisional: bool
    reasons: list[str]


class VoteResult(TypedDict):
    valid: bool
    passed: bool
    quorum: int
    needed: int


class JurisdictionResult(TypedDict):
    result: Literal["accept", "accept_via_social_insurance", "pending"]
    reason: str


# --- DT-01 / DT-02 continuing education -------------------------------------------------------


def _num(value: float) -> str:
    """80 → "80", 89.5 → "89.5"."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def deemed_note(deemed_until_year: int = CE_DEEMED_UNTIL_YEAR) -> str:
    return f"{deemed_until_year + 1}年以前的学时视同合格"


def ce_year_compliant(
    year: int,
    professional: float,
    public: float,
    general_public: float,
    *,
    deemed_until_year: int = CE_DEEMED_UNTIL_YEAR,
) -> YearResult:
    """DT-01 with D2: 90 hours, of which professional ≥ 60, public ≥ 18 (general public ≥ 12)."""
    if year <= deemed_until_year:
        return {"compliant": True, "reasons": [deemed_note(deemed_until_year)]}
    total = professional + public
    checks = (
        ("总学时", total, CE_TOTAL),
        ("专业科目学时", professional, CE_PROFESSIONAL),
        ("公需科目学时", public, CE_PUBLIC),
        ("一般公需科目学时", general_public, CE_GENERAL_PUBLIC),
    )
    reasons = [
        f"{label} {_num(value)}，低于 {minimum}" for label, value, minimum in checks if value < minimum
    ]
    return {"compliant": not reasons, "reasons": reasons}


def _hours_by_year(hours: Mapping[int | str, Mapping[str, float]]) -> dict[int, Mapping[str, float]]:
    return {int(year): record for year, record in hours.items()}


def ce_application_ok(
    application_year: int,
    title_year: int,
    required_years: int,
    hours: Mapping[int | str, Mapping[str, float]],
    *,
    deemed_until_year: int = CE_DEEMED_UNTIL_YEAR,
) -> ApplicationResult:
    """DT-02 with D3: compliant years after `title_year` up to the application year ≥ N, and the
    application year and the year before both compliant. A later year without hours fails."""
    records = _hours_by_year(hours)
    window = range(title_year + 1, application_year + 1)
    years: dict[int, YearResult] = {}
    for year in sorted({*window, application_year - 1, application_year}):
        record = records.get(year)
        if record is not None:
            years[year] = ce_year_compliant(
                year,
                record["professional"],
                record["public"],
                record["general_public"],
                deemed_until_year=deemed_until_year,
            )
        elif year <= deemed_until_year:
            years[year] = {"compliant": True, "reasons": [deemed_note(deemed_until_year)]}
        else:
            years[year] = {"compliant": False, "reasons": ["未登记继续教育学时"]}
    compliant_years = sum(1 for year in window if years[year]["compliant"])
    reasons: list[str] = []
    last_two = (application_year - 1, application_year)
    failing = [str(y) for y in last_two if not years[y]["compliant"]]
    if failing:
        reasons.append(
            f"申报当年（{application_year}年）及前一年度（{application_year - 1}年）须连续两年达标，"
            f"{'、'.join(failing)}年未达标"
        )
    if compliant_years < required_years:
        span = f"{window.start}—{application_year}年" if len(window) else "取得现职称后"
        reasons.append(f"{span}达标年份数 {compliant_years}，少于申报年限要求 {required_years}")
    return {"ce_ok": not reasons, "compliant_years": compliant_years, "reasons": reasons, "years": years}


# --- DT-03 integrity gate ---------------------------------------------------------------------


def _choice_error(name: str, value: Any, choices: tuple[str, ...]) -> RuleInputError:
    return RuleInputError({name: [f"应为 {'、'.join(choices)} 之一"]}, f"{name} 取值无效：{value}")


def integrity_gate(
    event: str,
    finding_type: str | None,
    stage: str | None,
    finding_date: date | str | None,
    submission_date: date | str | None,
    active_ban_until: date | str | None,
) -> IntegrityResult:
    """DT-03 with D5: intake bar while submission < ban_until; veto/revoke for fraud findings."""
    if event == "intake_check":
        if submission_date is None:
            raise RuleInputError({"submission_date": [REQUIRED]})
        if active_ban_until is not None and as_date(submission_date) < as_date(active_ban_until):
            until = as_date(active_ban_until).isoformat()
            return {
                "action": "reject_at_intake",
                "ban_until": until,
                "integrity_record_until": None,
                "reason": f"职称申报限制期内（{until} 起方可申报）",
            }
        return {
            "action": "pass",
            "ban_until": None,
            "integrity_record_until": None,
            "reason": "不在职称申报限制期内",
        }
    if event != "finding":
        raise _choice_error("event", event, EVENTS)
    if finding_type == "none":
        return {
            "action": "pass",
            "ban_until": None,
            "integrity_record_until": None,
            "reason": "未查实违规行为",
        }
    if finding_type == "other_misconduct":
        return {
            "action": "refer",
            "ban_until": None,
            "integrity_record_until": None,
            "reason": "其他违纪违规行为，提交人工研判（如处分期内不得申报）",
        }
    if finding_type not in FRAUD_FINDINGS:
        raise _choice_error("finding_type", finding_type, FINDING_TYPES)
    if stage not in STAGES:
        raise _choice_error("stage", stage, STAGES)
    if finding_date is None:
        raise RuleInputError({"finding_date": [REQUIRED]})
    record_until = add_years(finding_date, BAN_YEARS)
    # A new finding never shortens a bar that is already running.
    ban = max(record_until, as_date(active_ban_until)) if active_ban_until is not None else record_until
    bar = f"记入职称评审诚信档案库，{BAN_YEARS}年内不得申报职称（{ban.isoformat()} 起方可申报）"
    if stage == "after_publication":
        return {
            "action": "revoke",
            "ban_until": ban.isoformat(),
            "integrity_record_until": record_until.isoformat(),
            "reason": f"撤销已取得的职称并注销电子证书；{bar}",
        }
    return {
        "action": "veto",
        "ban_until": ban.isoformat(),
        "integrity_record_until": record_until.isoformat(),
        "reason": f"一票否决，取消本次评审资格；{bar}",
    }


# --- DT-04 mountain-26 counties ---------------------------------------------------------------


def is_mountain26(unit_county: str) -> bool:
    """A county on the list (also "温州市永嘉县" style), or a Lishui city-level unit (D7)."""
    name = unit_county.strip()
    if name == CITY_LEVEL or name in MOUNTAIN_26:
        return True
    for city, counties in MOUNTAIN_26_COUNTIES.items():
        prefix = f"{city}市"
        if name.startswith(prefix) and name[len(prefix) :] in counties:
            return True
    return False


def mountain26(
    unit_county: str,
    years_in_m26: float,
    *,
    points_per_year: float = M26_POINTS_PER_YEAR,
    cap: float = M26_CAP,
) -> Mountain26Result:
    """DT-04 with D7: single list for 26-county units; score per whole year in the 26 counties."""
    whole_years = math.floor(years_in_m26) if years_in_m26 > 0 else 0
    return {"single_list": is_mountain26(unit_county), "m26_score": min(cap, points_per_year * whole_years)}


# --- DT-05 archive ratio ----------------------------------------------------------------------


def archive_ratio_kpi(applicants: int, archives_completed: int) -> ArchiveRatioResult:
    """DT-05 with D8: archives ≥ 5 × applicants; a KPI, never a gate. Ratio floored to 2 decimals."""
    if applicants == 0:
        return {"status": "NOT_APPLICABLE", "shortfall": 0, "ratio": None}
    ratio = (archives_completed * 100 // applicants) / 100
    shortfall = max(0, 5 * applicants - archives_completed)
    return {"status": "NON_COMPLIANT" if shortfall else "COMPLIANT", "shortfall": shortfall, "ratio": ratio}


# --- DT-06 working-day lead time --------------------------------------------------------------


def lead_time_ok(
    meeting_date: date | str,
    action_date: date | str,
    written_opinion: str,
    calendar: OfficialCalendar,
    *,
    lead_days: int = LEAD_DAYS,
) -> LeadTimeResult:
    """DT-06: report (or filing) at least `lead_days` working days before the meeting, with consent."""
    if written_opinion not in WRITTEN_OPINIONS:
        raise _choice_error("written_opinion", written_opinion, WRITTEN_OPINIONS)
    meeting, action = as_date(meeting_date), as_date(action_date)
    latest = calendar.add_working_days(meeting, -lead_days)
    earliest = calendar.add_working_days(action, lead_days)
    reasons: list[str] = []
    if action > latest.date:
        reasons.append(
            f"须提前{lead_days}个工作日报告：{action.isoformat()} 晚于最迟日期 {latest.date.isoformat()}，"
            f"最早可于 {earliest.date.isoformat()} 召开"
        )
    if written_opinion not in CONSENTING_OPINIONS:
        reasons.append("须经同意并出具书面意见")
    return {
        "may_convene": not reasons,
        "latest_action_date": latest.date.isoformat(),
        "earliest_meeting_date": earliest.date.isoformat(),
        "provisional": latest.provisional or earliest.provisional,
        "reasons": reasons,
    }


# --- DT-07 authority --------------------------------------------------------------------------


def county_hr(county: str) -> str:
    """The HR bureau of a county-level unit; 市本级 (or no county) goes to the city bureau."""
    if not county or county == CITY_LEVEL:
        return CITY_HR
    return f"{county}人力资源和社会保障局"


# --- DT-10 vote (D13) -------------------------------------------------------------------------


def two_thirds_up(n: int) -> int:
    """⌈2n/3⌉ in integers."""
    return (2 * n + 2) // 3


def vote_result(members: int, attending: int, yes: int) -> VoteResult:
    """D13: valid with attendance ≥ ⌈2/3 members⌉; passed with yes ≥ ⌈2/3 attending⌉."""
    quorum, needed = two_thirds_up(members), two_thirds_up(attending)
    valid = attending >= quorum
    return {"valid": valid, "passed": valid and yes >= needed, "quorum": quorum, "needed": needed}


# --- DT-09 jurisdiction -----------------------------------------------------------------------


def jurisdiction_gate(
    affiliation_consistent: bool | None,
    affiliation_in_city: bool,
    has_incoming_commission_letter: bool | None,
) -> JurisdictionResult:
    """DT-09: apply through the personnel-affiliation unit, else the social-insurance unit;
    from outside the city only with an incoming 委托评审函."""
    if affiliation_in_city:
        if affiliation_consistent:
            return {"result": "accept", "reason": "经人事隶属单位申报"}
        return {
            "result": "accept_via_social_insurance",
            "reason": "社保、人事档案、劳动合同不在同一单位，经社保缴纳单位申报",
        }
    if has_incoming_commission_letter:
        return {"result": "accept", "reason": "人事关系不在本市，已提供委托评审函"}
    return {
        "result": "pending",
        "reason": "人事关系不在本市，须提供所在省直单位或设区市人力社保部门的委托评审函",
    }


# --- input checking and evaluate --------------------------------------------------------------

INPUTS: dict[str, tuple[Field, ...]] = {
    "ce_year_compliant": (
        Field("year", "int", minimum=YEAR_MIN, maximum=YEAR_MAX),
        Field("professional", "int", minimum=0, maximum=MAX_HOURS),
        Field("public", "int", minimum=0, maximum=MAX_HOURS),
        Field("general_public", "int", minimum=0, maximum=MAX_HOURS),
    ),
    "ce_application_ok": (
        Field("application_year", "int", minimum=YEAR_MIN, maximum=YEAR_MAX),
        Field("title_year", "int", minimum=YEAR_MIN, maximum=YEAR_MAX),
        Field("required_years", "int", minimum=1, maximum=50),
        Field("hours", "hours"),
    ),
    "integrity_gate": (
        Field("event", "choice", choices=EVENTS),
        Field("finding_type", "choice", required=False, choices=FINDING_TYPES),
        Field("stage", "choice", required=False, choices=STAGES),
        Field("finding_date", "date", required=False),
        Field("submission_date", "date", required=False),
        Field("active_ban_until", "date", required=False),
    ),
    "mountain26": (
        Field("unit_county", "text"),
        Field("years_in_m26", "number", minimum=0),
    ),
    "archive_ratio_kpi": (
        Field("applicants", "int", minimum=0),
        Field("archives_completed", "int", minimum=0),
    ),
    "lead_time_ok": (
        Field("meeting_date", "date"),
        Field("action_date", "date"),
        Field("written_opinion", "choice", choices=WRITTEN_OPINIONS),
    ),
    "authority_resolution": (
        Field("committee_level", "choice", choices=COMMITTEE_LEVELS),
        Field("committee_location", "choice", choices=COMMITTEE_LOCATIONS),
    ),
    "vote_result": (
        Field("members", "int", minimum=1, maximum=1000),
        Field("attending", "int", minimum=0, maximum=1000),
        Field("yes", "int", minimum=0, maximum=1000),
    ),
    "jurisdiction_gate": (
        Field("affiliation_consistent", "bool", required=False),
        Field("affiliation_in_city", "bool"),
        Field("has_incoming_commission_letter", "bool", required=False),
    ),
}


def _cross_check(rule_id: str, values: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """Rules between inputs, checked only where the inputs involved are themselves valid."""

    def ok(*names: str) -> bool:
        return all(values.get(n) is not None for n in names)

    if rule_id == "ce_year_compliant" and ok("public", "general_public"):
        if values["general_public"] > values["public"]:
            errors["general_public"] = ["一般公需科目学时不能超过公需科目学时"]
    elif rule_id == "ce_application_ok" and ok("application_year", "title_year"):
        if values["title_year"] > values["application_year"]:
            errors["title_year"] = ["取得现职称年份不能晚于申报年份"]
    elif rule_id == "vote_result":
        if ok("members", "attending") and values["attending"] > values["members"]:
            errors["attending"] = ["出席人数不能超过委员总数"]
        if ok("attending", "yes") and values["yes"] > values["attending"]:
            errors["yes"] = ["同意票数不能超过出席人数"]
    elif rule_id == "integrity_gate":
        needed: tuple[str, ...] = ()
        if values.get("event") == "intake_check":
            needed = ("submission_date",)
        elif values.get("event") == "finding":
            needed = ("finding_type",)
            if values.get("finding_type") in FRAUD_FINDINGS:
                needed += ("stage", "finding_date")
        for name in needed:
            if name not in errors and values.get(name) is None:
                errors[name] = [REQUIRED]
    elif (
        rule_id == "jurisdiction_gate"
        and values.get("affiliation_in_city") is True
        and "affiliation_consistent" not in errors
        and values.get("affiliation_consistent") is None
    ):
        errors["affiliation_consistent"] = [REQUIRED]


def check_inputs(rule_id: str, inputs: Any) -> dict[str, Any]:
    """Converted inputs of `rule_id` (dates as `date`), or RuleInputError listing every problem."""
    values, errors = check_fields(INPUTS[rule_id], inputs)
    _cross_check(rule_id, values, errors)
    if errors:
        raise RuleInputError(errors)
    return values


RULES: dict[str, Callable[..., Any]] = {
    "ce_year_compliant": ce_year_compliant,
    "ce_application_ok": ce_application_ok,
    "integrity_gate": integrity_gate,
    "mountain26": mountain26,
    "archive_ratio_kpi": archive_ratio_kpi,
    "lead_time_ok": lead_time_ok,
    "vote_result": vote_result,
    "jurisdiction_gate": jurisdiction_gate,
}

# Settings (D2, D7, DT-06) → keyword arguments of the rules that take them.
SETTING_KWARGS: dict[str, dict[str, str]] = {
    "ce_year_compliant": {"ce_deemed_until_year": "deemed_until_year"},
    "ce_application_ok": {"ce_deemed_until_year": "deemed_until_year"},
    "mountain26": {"m26_points_per_year": "points_per_year", "m26_cap": "cap"},
    "lead_time_ok": {"lead_days": "lead_days"},
}


def evaluate(
    rule_id: str,
    inputs: Mapping[str, Any],
    calendar: OfficialCalendar,
    *,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Check the JSON inputs of `rule_id`, run the rule and return JSON-ready outputs.

    Unknown rule id → KeyError; bad inputs → RuleInputError with every problem at once.
    `settings` may carry ce_deemed_until_year, m26_points_per_year, m26_cap and lead_days.
    """
    if rule_id not in RULES:
        raise KeyError(f"规则 {rule_id} 不存在（已提供：{'、'.join(RULES)}）")
    kwargs = check_inputs(rule_id, inputs)
    if rule_id == "lead_time_ok":
        kwargs["calendar"] = calendar
    for setting, kwarg in SETTING_KWARGS.get(rule_id, {}).items():
        if settings and settings.get(setting) is not None:
            kwargs[kwarg] = settings[setting]
    outputs = dict(RULES[rule_id](**kwargs))
    if rule_id == "ce_application_ok":
        outputs["years"] = {str(year): result for year, result in outputs["years"].items()}
    return outputs
