"""Annual plans (年度职称评审计划) as data: import, export, publish, district plans, a new year.

A plan is kept as issued (its rows, verbatim). Publishing it derives the committee scopes that
routing reads (CommitteeScope per committee and plan year, pointing at the row): template rows
(“各县（市、区）…”) become one committee per county, the wording of each row gives its geography,
unit types and exclusions, and the committee register (app/data/committees.json, a scope history
per committee) adds what wording cannot say (specialties, exclusive scopes, concrete titles).
A draft plan changes nothing until it is published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from app import clock
from app.extensions import db
from app.models import AnnualPlan, Committee, CommitteeScope, Organisation, PlanEntry, Setting, User
from app.rules import plan_text
from app.rules.title import CITY_LEVEL, LISHUI_COUNTIES
from app.services import audit, committees
from app.services.errors import Conflict, FormInvalid, NotAllowed, NotFound
from app.services.numbers import INT_MAX
from app.services.plan_io import SECTION_LABELS, SECTION_ORDER, PlanRow, read_table, write_csv, write_xlsx

DATA = Path(__file__).resolve().parents[1] / "data" / "plans"
CITY_BUREAU = "丽水市人力资源和社会保障局"
MANAGER_ROLES = ("hr_staff", "system_admin")
# Scope fields the committee register may set for a year (and that carry to later years).
REGISTER_FIELDS = ("titles_evaluated", "titles_recommended", "specialties", "counties", "unit_types",
                   "unit_types_by_title", "excluded_counties_by_title", "exclude_self_managed", "exclusive",
                   "recommendation_target", "employers", "note")


# -- reading ------------------------------------------------------------------------------------
def get(plan_id: int) -> AnnualPlan:
    # An id past the database's integer names no plan (and cannot be bound: a 500)
    plan = db.session.get(AnnualPlan, plan_id) if 0 < plan_id <= INT_MAX else None
    if plan is None:
        raise NotFound("没有这个年度计划")
    return plan


def plans_of_year(year: int, published_only: bool = False) -> list[AnnualPlan]:
    query = select(AnnualPlan).where(AnnualPlan.year == year)
    if published_only:
        query = query.where(AnnualPlan.status == "published")
    return sorted(db.session.scalars(query), key=lambda p: (p.parent_id is not None, p.issuer.name))


def all_plans() -> list[AnnualPlan]:
    return sorted(db.session.scalars(select(AnnualPlan)),
                  key=lambda p: (-p.year, p.parent_id is not None, p.issuer.name))


def city_plan(year: int, published_only: bool = True) -> AnnualPlan | None:
    for plan in plans_of_year(year, published_only):
        if plan.issuer.name == CITY_BUREAU:
            return plan
    return None


def published_years() -> list[int]:
    return sorted(set(db.session.scalars(select(AnnualPlan.year).where(AnnualPlan.status == "published"))))


def rows_of(plan: AnnualPlan) -> list[PlanRow]:
    return [PlanRow(section=e.section, seq=e.seq, name=e.name, titles_evaluated=list(e.titles_evaluated or []),
                    titles_recommended=list(e.titles_recommended or []), start_month=e.start_month,
                    finish_months=list(e.finish_months or []), office=e.office, phone=e.phone, scope=e.scope)
            for e in plan.entries]


def title_of(plan: AnnualPlan) -> str:
    return f"{plan.issuer.name}{plan.year}年度职称评审计划"


def export_csv(plan: AnnualPlan) -> str:
    return write_csv(rows_of(plan))


def export_xlsx(plan: AnnualPlan) -> bytes:
    return write_xlsx(rows_of(plan), f"附件1  {title_of(plan)}")


def as_dict(plan: AnnualPlan) -> dict[str, Any]:
    """The API shape (contract §3: /api/v1/plans/{year})."""
    entry_ids = [e.id for e in plan.entries]
    scoped = db.session.execute(
        select(CommitteeScope, Organisation.name).join(Committee, Committee.id == CommitteeScope.committee_id)
        .join(Organisation, Organisation.id == Committee.org_id)
        .where(CommitteeScope.plan_entry_id.in_(entry_ids)).order_by(CommitteeScope.plan_entry_id, Committee.id)
    ).all() if entry_ids else []
    return {
        "year": plan.year, "id": plan.id, "issuer": plan.issuer.name, "status": plan.status,
        "doc_no": plan.doc_no, "issue_date": plan.issue_date.isoformat() if plan.issue_date else None,
        "basis_doc_nos": list(plan.basis_doc_nos or []),
        "parent": plan.parent.issuer.name if plan.parent else None,
        "entries": [{"section": e.section, "seq": e.seq, "name": e.name,
                     "titles_evaluated": list(e.titles_evaluated or []),
                     "titles_recommended": list(e.titles_recommended or []), "start_month": e.start_month,
                     "finish_months": list(e.finish_months or []), "office": e.office, "phone": e.phone,
                     "scope": e.scope, "per_county": e.per_county} for e in plan.entries],
        "committees": [{"name": name, "plan_seq": next(e.seq for e in plan.entries if e.id == s.plan_entry_id),
                        "titles_evaluated": list(s.titles_evaluated or []),
                        "titles_recommended": list(s.titles_recommended or []),
                        "counties": s.counties, "start_month": s.start_month, "finish_month": s.finish_month}
                       for s, name in scoped],
    }


# -- who may do what ----------------------------------------------------------------------------
def can_manage(actor: User, issuer: Organisation) -> bool:
    """The issuing bureau's HR staff (and administrators) edit and publish its plans."""
    if actor.has_role("system_admin"):
        return True
    return any(r.role == "hr_staff" and r.org_id == issuer.id for r in actor.roles)


def require_manage(actor: User, issuer: Organisation) -> None:
    if not can_manage(actor, issuer):
        raise NotAllowed(f"只有{issuer.name}的工作人员可以编制和发布其年度计划")


def can_view(actor: User) -> bool:
    return actor.has_role("hr_staff", "system_admin", "manager", "process_owner", "competent_dept",
                          "committee_office")


def issuer_for(actor: User) -> Organisation:
    """The bureau a plan made by `actor` is issued by: their own HR bureau."""
    for role in actor.roles:
        if role.role == "hr_staff":
            org = db.session.get(Organisation, role.org_id)
            if org is not None:
                return org
    city = db.session.scalar(select(Organisation).where(Organisation.name == CITY_BUREAU))
    if city is None:
        raise NotFound(f"没有{CITY_BUREAU}")
    return city


def _is_city(org: Organisation) -> bool:
    return org.name == CITY_BUREAU


# -- writing ------------------------------------------------------------------------------------
def _entry_rule(row: PlanRow, county: str | None) -> dict[str, Any]:
    if row.section != "city_committee":
        return {}
    rule = plan_text.scope_rule(row.scope, per_county=plan_text.is_per_county(row.name),
                                titles_evaluated=row.titles_evaluated, level_of=committees.title_level)
    if county is not None:
        rule["counties"] = [county]
    return rule


def write_entries(plan: AnnualPlan, rows: list[PlanRow]) -> None:
    """Add the rows to the plan; a row whose section and number the plan has already rewrites that
    entry, so writing the same rows again leaves one entry each. The caller commits."""
    county = None if _is_city(plan.issuer) else plan.issuer.county
    existing = {(e.section, e.seq): e for e in plan.entries}
    for row in sorted(rows, key=lambda r: (SECTION_ORDER[r.section], r.seq)):
        entry = existing.get((row.section, row.seq))
        if entry is None:
            entry = PlanEntry(section=row.section, seq=row.seq)
            plan.entries.append(entry)
            existing[(row.section, row.seq)] = entry
        entry.section_order, entry.name = SECTION_ORDER[row.section], row.name
        entry.titles_evaluated, entry.titles_recommended = row.titles_evaluated, row.titles_recommended
        entry.start_month, entry.finish_months = row.start_month, row.finish_months
        entry.office, entry.phone, entry.scope = row.office, row.phone, row.scope
        entry.per_county = plan_text.is_per_county(row.name) and county is None
        entry.rule = _entry_rule(row, county)


def _fill(plan: AnnualPlan, rows: list[PlanRow]) -> None:
    plan.entries.clear()
    db.session.flush()
    write_entries(plan, rows)


def _new_plan(year: int, issuer: Organisation, actor: User | None, **fields: Any) -> AnnualPlan:
    if db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == year, AnnualPlan.issuer_org_id == issuer.id)):
        raise Conflict(f"{issuer.name}已有{year}年度计划；请在原计划上修改或重新导入草稿")
    plan = AnnualPlan(year=year, issuer_org_id=issuer.id, issuer=issuer, status="draft", created_at=clock.now(),
                      created_by_id=actor.id if actor else None, basis_doc_nos=[], **fields)
    db.session.add(plan)
    return plan


@dataclass(frozen=True)
class PlanHeader:
    doc_no: str | None = None
    issue_date: date | None = None
    basis_doc_nos: tuple[str, ...] = ()


def check_import(actor: User | None, year: int, filename: str, content: bytes, *, issuer: Organisation,
                 check_access: bool = True) -> list[PlanRow]:
    """The rows of a plan table that may be imported as the issuer's draft for the year.

    Any bad cell refuses the whole table (PlanTableInvalid, with row and column); a published plan
    is never overwritten (Conflict). Writes nothing."""
    if check_access and actor is not None:
        require_manage(actor, issuer)
    if not 2000 <= year <= 2100:
        raise FormInvalid("年度不正确", {"year": ["年度应为 2000–2100 之间的年份"]})
    rows = read_table(filename, content, year)
    _draft_or_none(year, issuer)
    return rows


def _draft_or_none(year: int, issuer: Organisation) -> AnnualPlan | None:
    plan = db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == year, AnnualPlan.issuer_org_id == issuer.id))
    if plan is not None and plan.status != "draft":
        raise Conflict(f"{issuer.name}{year}年度计划已发布，不能整表覆盖；请逐行修改")
    return plan


def prepare_draft(actor: User | None, year: int, issuer: Organisation, header: PlanHeader) -> AnnualPlan:
    """The issuer's draft for the year, new or emptied, with the header of the import. The caller commits."""
    plan = _draft_or_none(year, issuer) or _new_plan(year, issuer, actor)
    plan.doc_no = header.doc_no or plan.doc_no
    plan.issue_date = header.issue_date or plan.issue_date
    if header.basis_doc_nos:
        plan.basis_doc_nos = list(header.basis_doc_nos)
    plan.entries.clear()
    db.session.flush()
    return plan


def record_import(actor: User | None, plan: AnnualPlan, rows: int, filename: str, **details: Any) -> None:
    audit.record("plan_imported", actor=actor, details={"plan_id": plan.id, "year": plan.year,
                                                       "issuer": plan.issuer.name, "rows": rows, "file": filename,
                                                       **details})


def import_table(actor: User | None, year: int, filename: str, content: bytes, *, issuer: Organisation,
                 header: PlanHeader = PlanHeader(), check_access: bool = True) -> AnnualPlan:
    """A new draft plan from a CSV/Excel table, or the rows of an existing draft replaced, at once
    (the import page runs the same steps as a background job: plan_import). The caller commits."""
    rows = check_import(actor, year, filename, content, issuer=issuer, check_access=check_access)
    plan = prepare_draft(actor, year, issuer, header)
    write_entries(plan, rows)
    db.session.flush()
    record_import(actor, plan, len(rows), filename)
    return plan


def update_entry(actor: User, entry: PlanEntry, row: PlanRow) -> PlanEntry:
    """Edit one row (a draft's, or a published plan's: then its committees are derived again)."""
    plan = entry.plan
    require_manage(actor, plan.issuer)
    clash = db.session.scalar(select(PlanEntry).where(PlanEntry.plan_id == plan.id, PlanEntry.section == row.section,
                                                      PlanEntry.seq == row.seq, PlanEntry.id != entry.id))
    if clash is not None:
        raise FormInvalid("序号重复", {"seq": [f"本部分已有序号 {row.seq}（{clash.name}）"]})
    before = {"name": entry.name, "seq": entry.seq, "titles_evaluated": entry.titles_evaluated,
              "titles_recommended": entry.titles_recommended, "start_month": entry.start_month,
              "finish_months": entry.finish_months, "office": entry.office, "phone": entry.phone, "scope": entry.scope}
    county = None if _is_city(plan.issuer) else plan.issuer.county
    entry.section, entry.section_order, entry.seq, entry.name = row.section, SECTION_ORDER[row.section], row.seq, row.name
    entry.titles_evaluated, entry.titles_recommended = row.titles_evaluated, row.titles_recommended
    entry.start_month, entry.finish_months = row.start_month, row.finish_months
    entry.office, entry.phone, entry.scope = row.office, row.phone, row.scope
    entry.per_county = plan_text.is_per_county(row.name) and county is None
    entry.rule = _entry_rule(row, county)
    db.session.flush()
    audit.record("plan_entry_changed", actor=actor, details={"plan_id": plan.id, "entry_id": entry.id,
                                                            "before": before, "after": row.cells()})
    if plan.status == "published":
        derive_scopes(plan)
    return entry


def delete_entry(actor: User, entry: PlanEntry) -> None:
    """Remove a row (a published plan's committees from it lose that year's scope)."""
    plan = entry.plan
    require_manage(actor, plan.issuer)
    db.session.execute(delete(CommitteeScope).where(CommitteeScope.plan_entry_id == entry.id))
    plan.entries.remove(entry)
    db.session.flush()
    audit.record("plan_entry_removed", actor=actor, details={"plan_id": plan.id, "section": entry.section,
                                                            "seq": entry.seq, "name": entry.name})


# -- publishing and the committee scopes it gives ------------------------------------------------
def _register() -> dict[str, dict[str, Any]]:
    """Committee register by official name and by the names plans use for it."""
    items = json.loads(committees.DATA.read_text(encoding="utf-8"))["committees"]
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        found[item["name"]] = item
        for alias in item.get("plan_names", []):
            found[plan_text.official_name(alias)] = item
    return found


def _register_scope(item: dict[str, Any] | None, year: int) -> dict[str, Any]:
    if item is None:
        return {}
    for scope in item.get("scopes", []):
        if scope.get("from", 0) <= year <= scope.get("to", 9999):
            return {k: v for k, v in scope.items() if k in REGISTER_FIELDS}
    return {}


def _committees(wanted: list[tuple[str, dict[str, Any] | None, str, str | None, str | None]]) -> dict[str, Committee]:
    """Committees by the names given (name, register item, location, office, phone), made when missing."""
    names = {(item["name"] if item else name) for name, item, *_ in wanted}
    orgs = {o.name: o for o in db.session.scalars(select(Organisation).where(Organisation.name.in_(names)))}
    for name, item, location, _office, _phone in wanted:
        official = item["name"] if item else name
        if official not in orgs:
            orgs[official] = Organisation(name=official, kind="committee", county=location)
            db.session.add(orgs[official])
    db.session.flush()
    by_org = {c.org_id: c for c in db.session.scalars(
        select(Committee).where(Committee.org_id.in_([o.id for o in orgs.values()])))}
    found: dict[str, Committee] = {}
    for name, item, location, office, phone in wanted:
        official = item["name"] if item else name
        org = orgs[official]
        committee = by_org.get(org.id)
        if committee is None:
            info = item or {}
            committee = Committee(
                org_id=org.id, org=org, short_name=info.get("short_name") or plan_text.short_name(official),
                level=info.get("level") or plan_text.committee_level(official),
                series=info.get("series") or plan_text.committee_series(official),
                location=info.get("location") or location, members=info.get("members", 15))
            db.session.add(committee)
            by_org[org.id] = committee
        committee.office = office or committee.office or (item or {}).get("office")
        committee.phone = phone or committee.phone or (item or {}).get("phone")
        found[name] = committee
    db.session.flush()
    return found


def _targets(plan: AnnualPlan, entry: PlanEntry) -> list[tuple[str, str, str | None, str | None]]:
    """(committee name, location, office, scope text) for each committee a row stands for."""
    if entry.per_county:
        return [(plan_text.for_county(entry.name, c) or entry.name, c, plan_text.for_county(entry.office, c),
                 plan_text.for_county(entry.scope, c)) for c in LISHUI_COUNTIES]
    if _is_city(plan.issuer):
        return [(plan_text.official_name(entry.name), CITY_LEVEL, entry.office, entry.scope)]
    return [(entry.name, plan.issuer.county, entry.office, entry.scope)]


def derive_scopes(plan: AnnualPlan) -> dict[str, int]:
    """(Re)write the committee scopes of a published plan's committee rows. The caller commits."""
    register = _register()
    entry_ids = [e.id for e in plan.entries]
    if entry_ids:
        db.session.execute(delete(CommitteeScope).where(CommitteeScope.plan_entry_id.in_(entry_ids)))
    rows = [e for e in plan.entries if e.section == "city_committee"]
    senior_series = {plan_text.committee_series(e.name).removeprefix(plan_text.PER_COUNTY_PREFIX)
                     for e in (city_plan(plan.year) or plan).entries
                     if e.section == "city_committee" and plan_text.committee_level(e.name) == "高"}
    wanted = [(name, register.get(name), location, office, entry.phone, entry, scope_text)
              for entry in rows for name, location, office, scope_text in _targets(plan, entry)]
    known = set(db.session.scalars(select(Organisation.name).where(
        Organisation.name.in_([(item or {}).get("name", name) for name, item, *_ in wanted]))))
    made = _committees([(name, item, location, office, phone) for name, item, location, office, phone, *_ in wanted])
    created = sum(1 for name, item, *_ in wanted if (item or {}).get("name", name) not in known)
    db.session.execute(delete(CommitteeScope).where(
        CommitteeScope.committee_id.in_([c.id for c in made.values()]), CommitteeScope.plan_year == plan.year))
    derived = 0
    new_scopes: list[dict[str, Any]] = []
    for name, item, location, _office, _phone, entry, scope_text in wanted:
        committee = made[name]
        rule = dict(entry.rule or {})
        if entry.per_county:
            rule["counties"] = [location]
        target = None
        if entry.titles_recommended:
            senior = committee.level != "高" and plan_text.committee_series(name) in senior_series
            target = "city_senior" if senior else "provincial_senior"
        values: dict[str, Any] = {
            "titles_evaluated": list(entry.titles_evaluated or []),
            "titles_recommended": list(entry.titles_recommended or []),
            "specialties": rule.get("specialties"), "counties": rule.get("counties"),
            "unit_types": rule.get("unit_types"), "unit_types_by_title": rule.get("unit_types_by_title"),
            "excluded_counties_by_title": rule.get("excluded_counties_by_title"),
            "exclude_self_managed": bool(rule.get("exclude_self_managed")), "exclusive": False,
            "recommendation_target": target, "employers": None, "note": None,
        }
        values.update(_register_scope(item, plan.year))
        new_scopes.append({"committee_id": committee.id, "plan_year": plan.year, "plan_entry_id": entry.id,
                           "start_month": entry.start_month, "finish_month": (entry.finish_months or [None])[-1],
                           "scope_text": scope_text, **values})
        derived += 1
    if new_scopes:  # one executemany: a plan gives a hundred scopes or more
        db.session.execute(insert(CommitteeScope), new_scopes)
    db.session.flush()
    return {"committees_created": created, "scopes": derived}


def publish(actor: User | None, plan: AnnualPlan, *, check_access: bool = True) -> dict[str, int]:
    """Put a draft plan in force: routing and the application form read it from now on."""
    if check_access and actor is not None:
        require_manage(actor, plan.issuer)
    if plan.status == "published":
        raise Conflict(f"{title_of(plan)}已发布")
    if not plan.entries:
        raise FormInvalid("计划没有任何行", {"plan": ["请先导入或填写计划行"]})
    if plan.parent_id is not None and plan.parent.status != "published":
        raise Conflict(f"请先发布{plan.parent.issuer.name}的{plan.year}年度计划（本计划由其派生）")
    counts = derive_scopes(plan)
    _carry_unplanned_scopes(plan.year)
    plan.status = "published"
    plan.published_at = clock.now()
    plan.published_by_id = actor.id if actor else None
    db.session.flush()
    audit.record("plan_published", actor=actor, details={"plan_id": plan.id, "year": plan.year,
                                                        "issuer": plan.issuer.name, **counts})
    return counts


def _carry_unplanned_scopes(year: int) -> None:
    """Scopes that no plan row gives (a self-managed unit's own committee) continue into a new year."""
    have = set(db.session.scalars(select(CommitteeScope.committee_id).where(CommitteeScope.plan_year == year)))
    previous = db.session.scalars(select(CommitteeScope).where(
        CommitteeScope.plan_year == year - 1, CommitteeScope.plan_entry_id.is_(None)))
    for old in previous:
        if old.committee_id in have:
            continue
        db.session.add(CommitteeScope(
            committee_id=old.committee_id, plan_year=year, titles_evaluated=list(old.titles_evaluated or []),
            titles_recommended=list(old.titles_recommended or []), specialties=old.specialties,
            counties=old.counties, unit_types=old.unit_types, unit_types_by_title=old.unit_types_by_title,
            excluded_counties_by_title=old.excluded_counties_by_title, exclude_self_managed=old.exclude_self_managed,
            exclusive=old.exclusive, recommendation_target=old.recommendation_target,
            start_month=old.start_month and plan_text.shift_month(old.start_month, 1),
            finish_month=old.finish_month and plan_text.shift_month(old.finish_month, 1),
            scope_text=old.scope_text, note=old.note, employers=old.employers))


def derive_district(actor: User | None, city: AnnualPlan, district: Organisation, *,
                    check_access: bool = True) -> AnnualPlan:
    """A district plan from the city plan: the template rows (“各县（市、区）…”) for that district."""
    if check_access and actor is not None:
        require_manage(actor, district)
    if district.county == CITY_LEVEL or _is_city(district):
        raise FormInvalid("只有县（市、区）可以派生本级计划", {"issuer": ["请以县（市、区）人力社保局身份派生"]})
    if not _is_city(city.issuer):
        raise FormInvalid("只能由市计划派生", {"plan": ["请选择市人力社保局的年度计划"]})
    county = district.county
    rows = [PlanRow(section=e.section, seq=i, name=plan_text.for_county(e.name, county) or e.name,
                    titles_evaluated=list(e.titles_evaluated), titles_recommended=list(e.titles_recommended),
                    start_month=e.start_month, finish_months=list(e.finish_months),
                    office=plan_text.for_county(e.office, county), phone=e.phone,
                    scope=plan_text.for_county(e.scope, county))
            for i, e in enumerate((e for e in city.entries if e.per_county), start=1)]
    if not rows:
        raise FormInvalid("市计划没有各县（市、区）评委会", {"plan": ["市计划中没有“各县（市、区）…”行"]})
    plan = _new_plan(city.year, district, actor, parent_id=city.id)
    plan.basis_doc_nos = [n for n in [city.doc_no] if n]
    _fill(plan, rows)
    db.session.flush()
    audit.record("plan_derived", actor=actor, details={"plan_id": plan.id, "from_plan_id": city.id,
                                                      "year": city.year, "issuer": district.name, "rows": len(rows)})
    return plan


# -- a new year ----------------------------------------------------------------------------------
def copy_year(actor: User | None, from_year: int, to_year: int) -> list[AnnualPlan]:
    """Every plan of `from_year` as a draft of `to_year`, months moved on by the years between."""
    sources = plans_of_year(from_year)
    if not sources:
        raise NotFound(f"没有{from_year}年度计划可复制")
    shift = to_year - from_year
    copies: dict[int, AnnualPlan] = {}
    for source in sources:  # city plans first: district copies point at the city copy
        existing = db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == to_year,
                                                              AnnualPlan.issuer_org_id == source.issuer_org_id))
        if existing is not None:
            copies[source.id] = existing
            continue
        plan = _new_plan(to_year, source.issuer, actor, copied_from_id=source.id,
                         parent_id=copies[source.parent_id].id if source.parent_id in copies else None)
        plan.basis_doc_nos = []
        rows = [PlanRow(section=r.section, seq=r.seq, name=r.name, titles_evaluated=r.titles_evaluated,
                        titles_recommended=r.titles_recommended,
                        start_month=r.start_month and plan_text.shift_month(r.start_month, shift),
                        finish_months=[plan_text.shift_month(m, shift) for m in r.finish_months],
                        office=r.office, phone=r.phone, scope=r.scope) for r in rows_of(source)]
        _fill(plan, rows)
        copies[source.id] = plan
        db.session.flush()
        audit.record("plan_copied", actor=actor, details={"plan_id": plan.id, "from_plan_id": source.id,
                                                         "year": to_year, "issuer": source.issuer.name})
    return [copies[s.id] for s in sources]


FIELD_LABELS = {"name": "名称", "titles_evaluated": "所评资格", "titles_recommended": "推荐资格",
                "start_month": "启动时间", "finish_months": "完成时间", "office": "办公室", "phone": "电话",
                "scope": "申报对象", "seq": "序号"}


def compare(old: AnnualPlan | None, new: AnnualPlan) -> dict[str, Any]:
    """What changed between two plans, row by row (rows matched by section and name, else by seq).

    Months are compared relative to each plan's year, so a row carried forward unchanged is unchanged."""
    shift = new.year - old.year if old is not None else 0
    old_rows = rows_of(old) if old is not None else []
    new_rows = rows_of(new)

    def key(row: PlanRow) -> tuple[str, str]:
        return row.section, row.name

    unmatched_old = {key(r): r for r in old_rows}
    pairs: list[tuple[PlanRow | None, PlanRow | None]] = []
    for row in new_rows:
        pairs.append((unmatched_old.pop(key(row), None), row))
    # Renamed rows: same section and seq, both unmatched.
    by_seq = {(r.section, r.seq): r for r in unmatched_old.values()}
    for i, (before, after) in enumerate(pairs):
        if before is None and after is not None and (after.section, after.seq) in by_seq:
            before = by_seq.pop((after.section, after.seq))
            unmatched_old.pop(key(before), None)
            pairs[i] = (before, after)
    pairs += [(r, None) for r in old_rows if key(r) in unmatched_old]

    changes: list[dict[str, Any]] = []
    for before, after in pairs:
        if before is None and after is not None:
            changes.append({"kind": "added", "section": after.section, "seq": after.seq, "name": after.name,
                            "fields": []})
            continue
        if after is None and before is not None:
            changes.append({"kind": "removed", "section": before.section, "seq": before.seq, "name": before.name,
                            "fields": []})
            continue
        assert before is not None and after is not None
        moved = PlanRow(**{**before.__dict__,
                           "start_month": before.start_month and plan_text.shift_month(before.start_month, shift),
                           "finish_months": [plan_text.shift_month(m, shift) for m in before.finish_months]})
        fields = []
        for name, label in FIELD_LABELS.items():
            was, now = getattr(moved, name), getattr(after, name)
            if was != now:
                fields.append({"field": name, "label": label, "old": _shown(getattr(before, name)),
                               "new": _shown(now)})
        if fields:
            changes.append({"kind": "changed", "section": after.section, "seq": after.seq, "name": after.name,
                            "fields": fields})
    order = {"removed": 0, "changed": 1, "added": 2}
    changes.sort(key=lambda c: (SECTION_ORDER[c["section"]], c["seq"], order[c["kind"]]))
    return {"old": {"id": old.id, "year": old.year, "title": title_of(old)} if old is not None else None,
            "new": {"id": new.id, "year": new.year, "title": title_of(new)},
            "changes": changes, "section_labels": SECTION_LABELS,
            "counts": {k: sum(1 for c in changes if c["kind"] == k) for k in order}}


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(value) if value and "-" not in value[0] else ";".join(value)
    return "" if value is None else str(value)


# -- the year in force ---------------------------------------------------------------------------
def set_current_year(actor: User, year: int) -> None:
    if not actor.has_role("system_admin", "process_owner") and not (
            actor.has_role("hr_staff") and _is_city(issuer_for(actor))):
        raise NotAllowed("只有市人力社保局、流程管理员或系统管理员可以切换当前计划年度")
    if year not in published_years():
        raise FormInvalid("该年度计划尚未发布", {"year": [f"{year}年度计划尚未发布，不能设为当前年度"]})
    row = db.session.get(Setting, "current_plan_year")
    if row is None:
        db.session.add(Setting(key="current_plan_year", value={"year": year}))
    else:
        row.value = {"year": year}
    audit.record("current_plan_year_set", actor=actor, details={"year": year})


# -- bundled plans -------------------------------------------------------------------------------
def seed_bundled() -> int:
    """Import and publish the bundled plans that the database does not have. Returns how many."""
    manifest = json.loads((DATA / "plans.json").read_text(encoding="utf-8"))["plans"]
    added = 0
    for item in manifest:
        issuer = db.session.scalar(select(Organisation).where(Organisation.name == item["issuer"]))
        if issuer is None:
            issuer = Organisation(name=item["issuer"], kind="hr_bureau", county=item.get("county", CITY_LEVEL))
            db.session.add(issuer)
            db.session.flush()
        if db.session.scalar(select(AnnualPlan.id).where(AnnualPlan.year == item["year"],
                                                        AnnualPlan.issuer_org_id == issuer.id)):
            continue
        header = PlanHeader(doc_no=item.get("doc_no"),
                            issue_date=date.fromisoformat(item["issue_date"]) if item.get("issue_date") else None,
                            basis_doc_nos=tuple(item.get("basis_doc_nos", [])))
        if "file" in item:
            plan = import_table(None, item["year"], item["file"], (DATA / item["file"]).read_bytes(),
                                issuer=issuer, header=header, check_access=False)
        else:
            city = city_plan(item["derive_from"], published_only=False)
            if city is None:
                continue
            plan = derive_district(None, city, issuer, check_access=False)
            plan.doc_no, plan.basis_doc_nos = header.doc_no, list(header.basis_doc_nos)
        publish(None, plan, check_access=False)
        added += 1
    return added
