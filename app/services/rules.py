"""Bundled rules evaluable on their own (contract §4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.engine import EngineError
from app.rules import title
from app.rules.inputs import YEAR_MAX, YEAR_MIN, Field, RuleInputError, check_fields
from app.services import registry
from app.services.errors import FormInvalid, NotFound

EDUCATIONS = ("中专", "大专", "本科", "第二学士学位", "研究生班", "硕士", "博士")
INITIAL_DETERMINATION_INPUTS = (
    Field("education", "choice", choices=EDUCATIONS),
    Field("months_pre_degree", "int", minimum=0),
    Field("months_post_grad", "int", minimum=0),
    Field("unit_county", "text"),
    Field("self_managed", "bool"),
    Field("requested_level", "choice", choices=("员级", "助理级", "中级")),
)
ROUTE_APPLICATION_INPUTS = (
    Field("plan_year", "int", minimum=YEAR_MIN, maximum=YEAR_MAX),
    Field("specialty", "text"),
    Field("target_title", "text"),
    Field("unit_type", "text", required=False),
    Field("unit_county", "text"),
    Field("self_managed", "bool", required=False),
    Field("committee", "text"),
    Field("employer", "text", required=False),
)


def _checked(fields: tuple[Field, ...], inputs: dict[str, Any],
             extra: Callable[[dict[str, Any], dict[str, list[str]]], None] | None = None) -> dict[str, Any]:
    """The converted inputs, or FormInvalid naming every bad field (`extra` adds checks)."""
    try:
        values, errors = check_fields(fields, inputs)
    except RuleInputError as exc:
        raise FormInvalid(exc.message, exc.fields) from exc
    if extra is not None:
        extra(values, errors)
    if errors:
        raise FormInvalid("规则输入有误", errors)
    return values


def _initial_determination(inputs: dict[str, Any]) -> dict[str, Any]:
    _checked(INITIAL_DETERMINATION_INPUTS, inputs)
    version = registry.for_new_instances("graduate_initial_determination")
    model = registry.compiled(version)
    data = {**inputs, "employer_org": inputs.get("employer_org") or ""}
    level = registry.runtime().decide(model, "initial_determination_level", data)
    route = registry.runtime().decide(model, "initial_determination_routing", data)
    helpers = registry.helpers()
    max_level = level.get("max_level")
    return {
        "max_level": max_level,
        "eligible": helpers["level_at_most"](inputs["requested_level"], max_level),
        "reviewer_org": route.get("reviewer_org"),
        "reason": level.get("level_reason"),
    }


def _route_application(inputs: dict[str, Any]) -> dict[str, Any]:
    from app.services import committees

    def planned(values: dict[str, Any], errors: dict[str, list[str]]) -> None:
        year = values["plan_year"]
        if year is not None and year not in committees.plan_years():
            errors["plan_year"] = [f"没有 {year} 年度的评审计划"]

    v = _checked(ROUTE_APPLICATION_INPUTS, inputs, planned)
    return committees.route(v["plan_year"], v["committee"], v["specialty"], v["target_title"], v["unit_type"],
                            v["unit_county"], bool(v["self_managed"]), v["employer"])


def _authority_resolution(inputs: dict[str, Any]) -> dict[str, Any]:
    """DT-07 from the decision table of the published review_session model."""
    try:
        values = title.check_inputs("authority_resolution", inputs)
    except RuleInputError as exc:
        raise FormInvalid(exc.message, exc.fields) from exc
    model = registry.compiled(registry.for_new_instances("review_session"))
    outputs = registry.runtime().decide(model, "authority_resolution", {**values, "self_managed": False})
    return {k: outputs.get(k) for k in ("supervising_hr", "filing_hr", "publishing_hr", "letter_issuer")}


RULES = {"initial_determination": _initial_determination, "route_application": _route_application,
         "authority_resolution": _authority_resolution}


def _title_rule(rule_id: str) -> Any:
    def run(inputs: dict[str, Any]) -> dict[str, Any]:
        from app.services import calendar

        try:
            return title.evaluate(rule_id, inputs, calendar.official_calendar())
        except RuleInputError as exc:
            raise FormInvalid(exc.message, exc.fields) from exc

    return run


RULES.update({rule_id: _title_rule(rule_id) for rule_id in title.RULES})


def evaluate(rule_id: str, inputs: Any) -> dict[str, Any]:
    rule = RULES.get(rule_id)
    if rule is None:
        raise NotFound(f"规则 {rule_id} 不存在（已提供：{'、'.join(sorted(RULES))}）")
    if not isinstance(inputs, dict):
        raise FormInvalid("inputs 应为对象", {"inputs": ["应为对象"]})
    try:
        return rule(inputs)
    except EngineError as exc:
        raise FormInvalid(f"规则计算失败：{exc}", {"inputs": [str(exc)]}) from exc
