"""The committee catalogue: bundled reference data (app/data/committees.json) and routing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import Committee, CommitteeScope, Organisation
from app.rules.routing import Applicant, Scope, route_application

DATA = Path(__file__).resolve().parents[1] / "data" / "committees.json"


def seed_bundled() -> int:
    """The committee register (app/data/committees.json), then the bundled annual plans, which give
    each committee its yearly scope. Existing rows are left as edited. Returns plans added."""
    from app.services import plans

    for item in json.loads(DATA.read_text(encoding="utf-8"))["committees"]:
        org = db.session.scalar(select(Organisation).where(Organisation.name == item["name"]))
        if org is None:
            org = Organisation(name=item["name"], kind="committee", county=item["location"])
            db.session.add(org)
            db.session.flush()
        if db.session.scalar(select(Committee.id).where(Committee.org_id == org.id)) is None:
            db.session.add(Committee(org_id=org.id, short_name=item["short_name"], level=item["level"],
                                     series=item["series"], location=item["location"], office=item.get("office"),
                                     phone=item.get("phone"), members=item.get("members", 15)))
    db.session.flush()
    added = plans.seed_bundled()
    db.session.flush()
    return added


def _tuple(value: list | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def scopes_for(plan_year: int) -> list[Scope]:
    rows = db.session.execute(
        select(CommitteeScope, Organisation.name)
        .join(Committee, Committee.id == CommitteeScope.committee_id)
        .join(Organisation, Organisation.id == Committee.org_id)
        .where(CommitteeScope.plan_year == plan_year)
        .order_by(Committee.id)
    ).all()
    return [
        Scope(
            committee=name,
            titles_evaluated=tuple(s.titles_evaluated or ()),
            titles_recommended=tuple(s.titles_recommended or ()),
            specialties=_tuple(s.specialties),
            counties=_tuple(s.counties),
            unit_types=_tuple(s.unit_types),
            unit_types_by_title={k: tuple(v) for k, v in (s.unit_types_by_title or {}).items()},
            excluded_counties_by_title={k: tuple(v) for k, v in (s.excluded_counties_by_title or {}).items()},
            exclude_self_managed=s.exclude_self_managed,
            exclusive=s.exclusive,
            recommendation_target=s.recommendation_target,
            note=s.note,
            employers=_tuple(s.employers),
        )
        for s, name in rows
    ]


def route(plan_year: int, committee: str, specialty: str, target_title: str, unit_type: str | None,
          unit_county: str, self_managed: bool, employer: str | None = None) -> dict[str, Any]:
    who = Applicant(specialty=specialty, target_title=target_title, unit_type=unit_type,
                    unit_county=unit_county, self_managed=self_managed, employer=employer)
    return route_application(committee, who, scopes_for(plan_year), plan_year)


def plan_years() -> list[int]:
    """Years routing knows: those with committee scopes (published plans, self-managed units)."""
    return list(db.session.scalars(select(CommitteeScope.plan_year).distinct().order_by(CommitteeScope.plan_year)))


# -- the current plan, as the application form offers it ---------------------------------------
TITLES = Path(__file__).resolve().parents[1] / "data" / "titles.json"
_titles_cache: dict[str, Any] = {}


def current_plan_year() -> int:
    """The plan applications are made under: the `current_plan_year` setting, else the newest
    published plan (else the newest year with committee scopes)."""
    from app.models import AnnualPlan, Setting

    row = db.session.get(Setting, "current_plan_year")
    if row is not None and isinstance(row.value.get("year"), int):
        return row.value["year"]
    newest = db.session.scalar(select(func.max(AnnualPlan.year)).where(AnnualPlan.status == "published"))
    if newest is not None:
        return int(newest)
    years = plan_years()
    if not years:
        raise LookupError("尚未载入任何年度评审计划")
    return years[-1]


def _current_scopes() -> list[CommitteeScope]:
    return list(db.session.scalars(
        select(CommitteeScope).join(Committee, Committee.id == CommitteeScope.committee_id)
        .where(CommitteeScope.plan_year == current_plan_year()).order_by(Committee.id)))


def offered_committees() -> list[str]:
    return [s.committee.name for s in _current_scopes()]


def offered_titles() -> list[str]:
    seen: dict[str, None] = {}
    for scope in _current_scopes():
        for title in [*(scope.titles_evaluated or []), *(scope.titles_recommended or [])]:
            seen.setdefault(title, None)
    return list(seen)


def offered_specialties() -> list[str]:
    seen: dict[str, None] = {}
    for scope in _current_scopes():
        for specialty in scope.specialties or []:
            seen.setdefault(specialty, None)
    return list(seen)


def _titles() -> dict[str, Any]:
    if not _titles_cache:
        _titles_cache.update(json.loads(TITLES.read_text(encoding="utf-8")))
    return _titles_cache


def title_level(title: str) -> str:
    """初级, 中级, 副高级 or 正高级 (unknown titles: 中级, the level most committees evaluate)."""
    return _titles()["titles"].get(title, {}).get("level", "中级")


def required_years(title: str) -> int:
    """Years in the current title the series standard asks for (N of DT-02)."""
    info = _titles()["titles"].get(title, {})
    return int(info.get("required_years") or _titles()["default_years"][title_level(title)])


def committee_named(name: str) -> Committee | None:
    return db.session.scalar(select(Committee).join(Organisation, Organisation.id == Committee.org_id)
                             .where(Organisation.name == name))


def scope_of(committee: Committee, plan_year: int) -> CommitteeScope | None:
    return next((s for s in committee.scopes if s.plan_year == plan_year), None)
