"""Bundled rules evaluable on their own (contract §4)."""

from __future__ import annotations

from typing import Any

from app.engine import EngineError
from app.rules import title
from app.services import registry
from app.services.errors import FormInvalid, NotFound

INITIAL_DETERMINATION_INPUTS = ("education", "months_pre_degree", "months_post_grad", "unit_county",
                                "self_managed", "requested_level")
EDUCATIONS = ("中专", "大专", "本科", "第二学士学位", "研究生班", "硕士", "博士")


def _initial_determination(inputs: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in INITIAL_DETERMINATION_INPUTS:
        if name not in inputs:
            errors[name] = ["此项为必填项"]
    if inputs.get("education") not in EDUCATIONS and "education" not in errors:
        errors["education"] = [f"应为 {'、'.join(EDUCATIONS)} 之一"]
    for name in ("months_pre_degree", "months_post_grad"):
        value = inputs.get(name)
        if name not in errors and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            errors[name] = ["应为非负整数"]
    if inputs.get("requested_level") not in ("员级", "助理级", "中级") and "requested_level" not in errors:
        errors["requested_level"] = ["应为 员级、助理级、中级 之一"]
    if errors:
        raise FormInvalid("规则输入有误", errors)
    version = registry.latest("graduate_initial_determination")
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

    errors: dict[str, list[str]] = {}
    for name in ("plan_year", "specialty", "target_title", "unit_county", "committee"):
        if inputs.get(name) in (None, ""):
            errors[name] = ["此项为必填项"]
    year = inputs.get("plan_year")
    if "plan_year" not in errors and (not isinstance(year, int) or isinstance(year, bool)):
        errors["plan_year"] = ["应为年份整数"]
    elif "plan_year" not in errors and year not in committees.plan_years():
        errors["plan_year"] = [f"没有 {year} 年度的评审计划"]
    for name in ("specialty", "target_title", "unit_county", "committee"):
        if name not in errors and not isinstance(inputs.get(name), str):
            errors[name] = ["应为文本"]
    unit_type = inputs.get("unit_type")
    if unit_type is not None and not isinstance(unit_type, str):
        errors["unit_type"] = ["应为文本，如 事业单位、企业"]
    self_managed = inputs.get("self_managed", False)
    if not isinstance(self_managed, bool):
        errors["self_managed"] = ["应为 true 或 false"]
    if errors:
        raise FormInvalid("规则输入有误", errors)
    return committees.route(year, inputs["committee"], inputs["specialty"], inputs["target_title"], unit_type,
                            inputs["unit_county"], self_managed)


RULES = {"initial_determination": _initial_determination, "route_application": _route_application}


def _title_rule(rule_id: str) -> Any:
    def run(inputs: dict[str, Any]) -> dict[str, Any]:
        from app.services import calendar

        try:
            return title.evaluate(rule_id, inputs, calendar.official_calendar())
        except title.RuleInputError as exc:
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
