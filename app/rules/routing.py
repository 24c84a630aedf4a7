"""Committee routing and scope (DT-08, `route_application`).

Pure: the caller passes the plan year's committee scopes. Order of the checks follows DT-08:
self-managed units first, then the committee applied to, then whichever committee the plan
gives the title to (exclusive scopes such as the 2022 汽车零部件 committee win over broader ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scope:
    committee: str
    titles_evaluated: tuple[str, ...]
    titles_recommended: tuple[str, ...] = ()
    specialties: tuple[str, ...] | None = None
    counties: tuple[str, ...] | None = None
    unit_types: tuple[str, ...] | None = None
    unit_types_by_title: dict[str, tuple[str, ...]] = field(default_factory=dict)
    excluded_counties_by_title: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude_self_managed: bool = True
    exclusive: bool = False
    recommendation_target: str | None = None
    note: str | None = None
    # Only staff of these units (a self-managed unit's own 自主评聘委员会); None: any unit.
    employers: tuple[str, ...] | None = None

    def titles(self) -> tuple[str, ...]:
        return self.titles_evaluated + self.titles_recommended


@dataclass(frozen=True)
class Applicant:
    specialty: str
    target_title: str
    unit_type: str | None
    unit_county: str
    self_managed: bool
    employer: str | None = None


def _field(specialty: str) -> str:
    """Specialties compare without a trailing 工程 (“水利工程” is the 水利 field)."""
    return specialty.removesuffix("工程") or specialty


def takes_specialty(specialties: Sequence[str] | None, specialty: str) -> bool:
    return specialties is None or _field(specialty) in {_field(s) for s in specialties}


def _claimed_elsewhere(scope: Scope, who: Applicant, scopes: Sequence[Scope]) -> Scope | None:
    """An exclusive scope of another committee that takes this specialty and title."""
    for other in scopes:
        if (other is not scope and other.exclusive and other.specialties is not None
                and takes_specialty(other.specialties, who.specialty) and who.target_title in other.titles()):
            return other
    return None


def problems(scope: Scope, who: Applicant, scopes: Sequence[Scope]) -> list[str]:
    """Why this committee does not take the applicant (empty: it does)."""
    out: list[str] = []
    if who.target_title not in scope.titles():
        out.append(f"不评审（推荐）“{who.target_title}”")
    if not takes_specialty(scope.specialties, who.specialty):
        out.append(f"受理专业不含“{who.specialty}”")
    if scope.counties is not None and who.unit_county not in scope.counties:
        out.append(f"受理范围为{'、'.join(scope.counties)}，不含{who.unit_county}")
    if scope.unit_types is not None and who.unit_type not in scope.unit_types:
        out.append(f"只受理{'、'.join(scope.unit_types)}人员")
    limited = scope.unit_types_by_title.get(who.target_title)
    if limited is not None and who.unit_type not in limited:
        out.append(f"申报{who.target_title}限{'、'.join(limited)}人员")
    barred = scope.excluded_counties_by_title.get(who.target_title)
    if barred is not None and who.unit_county in barred:
        out.append(f"{'、'.join(barred)}申报对象不含{who.target_title}")
    if who.self_managed and scope.exclude_self_managed:
        out.append("自主评聘单位人员除外")
    if scope.employers is not None and who.employer not in scope.employers:
        out.append(f"只受理{'、'.join(scope.employers)}人员")
    if not out and _claimed_elsewhere(scope, who, scopes) is not None:
        out.append("该专业该资格已划归其他评委会受理")
    return out


def route_application(applied: str, who: Applicant, scopes: Sequence[Scope], plan_year: int) -> dict:
    """→ accepted, committee, reason, route (accepted | recommended | rejected_routing |
    rejected_scope | self_managed | manual)."""
    own = next((s for s in scopes if s.committee == applied), None)
    if own is not None and not problems(own, who, scopes):
        recommended = who.target_title in own.titles_recommended and who.target_title not in own.titles_evaluated
        return {"accepted": True, "committee": applied, "reason": "",
                "route": "recommended" if recommended else "accepted",
                "recommendation_target": own.recommendation_target if recommended else None}
    if who.self_managed and (own is None or own.exclude_self_managed):
        unit = next((sc.committee for sc in scopes if sc.employers and who.employer in sc.employers
                     and who.target_title in sc.titles()), None)
        by = f"由{unit}评审" if unit else "由本单位按自主评聘程序评审"
        return {"accepted": False, "committee": unit, "route": "self_managed", "recommendation_target": None,
                "reason": f"自主评聘单位人员{by}（{applied}受理范围不含自主评聘单位）"}
    takers = [s for s in scopes if not problems(s, who, scopes)]
    # Exclusive scopes first, then those naming the specialty, then the plan's order.
    takers.sort(key=lambda s: (not s.exclusive, s.specialties is None))
    if takers:
        taker = takers[0]
        reason = taker.note or f"{who.specialty}{who.target_title}由{taker.committee}受理"
        return {"accepted": False, "committee": taker.committee, "route": "rejected_routing",
                "recommendation_target": None, "reason": reason}
    if own is None:
        why = f"“{applied}”不在{plan_year}年度评审计划中"
    else:
        why = f"{applied}：" + "；".join(problems(own, who, scopes))
    return {"accepted": False, "committee": None, "route": "rejected_scope" if own is not None else "manual",
            "recommendation_target": None, "reason": f"{why}。本年度计划中没有受理该资格的评委会，请人工分流"}
