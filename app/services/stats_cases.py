"""Dashboard tables of cases: title applications and outcomes, pass rates, graduate batches, the 5× KPI.

One GROUP BY per chart family over the instances the actor may see (stats.scoped): the title
applications of the year are counted once by (series, level, committee, county, outcome,
status) and folded into the per-dimension tables and the pass rates.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import func, select

from app.extensions import db
from app.models import Committee, Organisation, ProcessInstance, User
from app.services import archive_kpi
from app.services.stats import GRADUATE, TITLE, Cell, Column, Filters, Link, Row, Table, scoped

# Cases without a final outcome yet, and how the instance list finds them.
OPEN_STATUSES = ("running", "waiting", "suspended", "error")
IN_PROGRESS = "in_progress"
CLOSED = "closed"  # ended without an outcome (terminated)
TOTAL = "total"
TITLE_OUTCOMES = ("published", "recommended", "failed", "rejected", "rejected_routing", "rejected_scope",
                  "vetoed", "lapsed", "invalid")
GRADUATE_OUTCOMES = ("approved", "rejected", "lapsed")
PASSED = ("published", "recommended")
# Refused at routing: never reviewed by the committee applied to, so not in its pass rate.
NOT_REVIEWED = ("rejected_routing", "rejected_scope")
DECIDED = tuple(o for o in TITLE_OUTCOMES if o not in NOT_REVIEWED)
LEVEL_ORDER = ("初级", "中级", "副高级", "正高级")
GRADUATE_LEVELS = ("员级", "助理级", "中级")
UNKNOWN = "未确定"


@dataclass(frozen=True)
class Group:
    series: str | None
    level: str | None
    committee: str | None
    county: str | None
    outcome: str  # an outcome, IN_PROGRESS or CLOSED
    count: int


def outcome_key(outcome: str | None, status: str) -> str:
    if outcome:
        return outcome
    return IN_PROGRESS if status in OPEN_STATUSES else CLOSED


def outcome_link(key: str) -> Link:
    if key == IN_PROGRESS:
        return tuple(("status", s) for s in OPEN_STATUSES)
    if key == CLOSED:
        return (("status", "terminated"),)
    if key == TOTAL:
        return ()
    return (("f.outcome", key),)


def join(base: Link, more: Link) -> Link:
    """`base` narrowed by `more`, without repeating a pair the base already has (a filter on the same value)."""
    return (*base, *(p for p in more if p not in base))


def outcome_label(key: str, labels: Mapping[str, str]) -> str:
    return {IN_PROGRESS: "办理中", CLOSED: "已终止", TOTAL: "合计"}.get(key) or labels.get(key, key)


# -- title applications ------------------------------------------------------------------------
def title_groups(user: User, filters: Filters) -> list[Group]:
    outcome = ProcessInstance.outcome
    level = ProcessInstance.title_level
    query = (select(Committee.series, level, ProcessInstance.committee, ProcessInstance.county, outcome,
                    ProcessInstance.status, func.count(ProcessInstance.id))
             .select_from(ProcessInstance)
             .outerjoin(Organisation, Organisation.name == ProcessInstance.committee)
             .outerjoin(Committee, Committee.org_id == Organisation.id)
             .where(*scoped(user, filters, TITLE))
             .group_by(Committee.series, level, ProcessInstance.committee, ProcessInstance.county, outcome,
                       ProcessInstance.status))
    return [Group(series, lvl, committee, county, outcome_key(out, status), count)
            for series, lvl, committee, county, out, status, count in db.session.execute(query)]


def _outcome_columns(found: set[str], known: tuple[str, ...], labels: Mapping[str, str]) -> list[str]:
    """办理中, then the outcomes that occur (in the contract's order), 已终止 if any; the total last."""
    keys = [IN_PROGRESS] + [o for o in known if o in found] + sorted(found - set(known) - {IN_PROGRESS, CLOSED})
    if CLOSED in found:
        keys.append(CLOSED)
    return [*keys, TOTAL]


def outcome_table(key: str, title: str, header: str, counts: Mapping[str, Counter[str]], order: list[str],
                  row_link: Callable[[str], Link | None], base: Link, labels: Mapping[str, str],
                  known: tuple[str, ...] = TITLE_OUTCOMES, row_labels: Mapping[str, str] | None = None) -> Table:
    found = {o for c in counts.values() for o in c}
    keys = _outcome_columns(found, known, labels)
    rows = []
    for name in order:
        counter = counts[name]
        own = row_link(name)  # None: the list cannot select this row's cases (e.g. not yet in a batch)
        link = join(base, own) if own is not None else None
        cells = tuple(Cell(sum(counter.values()) if k == TOTAL else counter.get(k, 0),
                           (*link, *outcome_link(k)) if link is not None else None) for k in keys)
        rows.append(Row(name, (row_labels or {}).get(name, name), cells, link))
    columns = tuple(Column(k, outcome_label(k, labels)) for k in keys)
    return Table(key, title, header, columns, tuple(rows), "stacked", tuple(range(len(keys) - 1)))


def _fold(groups: list[Group], attr: str) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for g in groups:
        counts[getattr(g, attr) or UNKNOWN][g.outcome] += g.count
    return counts


def _by_total(counts: Mapping[str, Counter[str]]) -> list[str]:
    return sorted(counts, key=lambda n: (n == UNKNOWN, -sum(counts[n].values()), n))


def _param(name: str) -> Callable[[str], Link]:
    return lambda value: () if value == UNKNOWN else ((name, value),)


def title_tables(filters: Filters, groups: list[Group], labels: Mapping[str, str]) -> list[Table]:
    base = filters.base_link(TITLE)
    series, levels = _fold(groups, "series"), _fold(groups, "level")
    committees, counties = _fold(groups, "committee"), _fold(groups, "county")
    level_order = [lv for lv in LEVEL_ORDER if lv in levels] + sorted(set(levels) - set(LEVEL_ORDER))
    return [
        outcome_table("series", f"{filters.year}年度职称申报及结果：按系列", "系列", series, _by_total(series),
                      _param("series"), base, labels),
        outcome_table("level", f"{filters.year}年度职称申报及结果：按级别", "级别", levels, level_order,
                      _param("f.title_level"), base, labels),
        outcome_table("committee", f"{filters.year}年度职称申报及结果：按评审委员会", "评审委员会", committees,
                      _by_total(committees), _param("committee"), base, labels),
        outcome_table("county", f"{filters.year}年度职称申报及结果：按地区", "地区", counties, _by_total(counties),
                      _param("county"), base, labels),
    ]


def by_year(user: User, filters: Filters, labels: Mapping[str, str]) -> Table:
    """Applications and outcomes of every plan year (the county and committee filters still apply)."""
    outcome = ProcessInstance.outcome
    query = (select(ProcessInstance.plan_year, outcome, ProcessInstance.status, func.count(ProcessInstance.id))
             .where(*scoped(user, filters, TITLE, year=False))
             .group_by(ProcessInstance.plan_year, outcome, ProcessInstance.status))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for year, out, status, count in db.session.execute(query):
        counts[str(year) if year is not None else UNKNOWN][outcome_key(out, status)] += count
    order = sorted((y for y in counts if y != UNKNOWN), key=int) + ([UNKNOWN] if UNKNOWN in counts else [])
    table = outcome_table("year", "职称申报及结果：按年度", "年度", counts, order, _param("plan_year"),
                          filters.base_link(TITLE, year=False), labels,
                          row_labels={y: f"{y}年度" for y in order if y != UNKNOWN})
    return table


def title_table_builders() -> dict[str, Callable[[User, Filters, Mapping[str, str]], Table]]:
    def one(key: str) -> Callable[[User, Filters, Mapping[str, str]], Table]:
        def build(user: User, filters: Filters, labels: Mapping[str, str]) -> Table:
            return next(t for t in title_tables(filters, title_groups(user, filters), labels) if t.key == key)
        return build
    return {k: one(k) for k in ("series", "level", "committee", "county")}


# -- pass rates --------------------------------------------------------------------------------
def _rate_cell(passed: int, decided: int, link: Link) -> Cell:
    if not decided:
        return Cell(None, link, "—")
    rate = round(passed * 100 / decided, 1)
    return Cell(rate, link, f"{rate:.1f}%（{passed}/{decided}）")


def _pass_table(key: str, title: str, header: str, counts: Mapping[str, Counter[str]], param: str,
                base: Link) -> Table:
    rows = []
    for name in _by_total(counts):
        counter = counts[name]
        passed = sum(counter.get(o, 0) for o in PASSED)
        decided = sum(counter.get(o, 0) for o in DECIDED)
        link = join(base, _param(param)(name))
        passed_link = (*link, *(("f.outcome", o) for o in PASSED))
        rows.append(Row(name, name, (
            Cell(passed, passed_link), Cell(decided, (*link, *(("f.outcome", o) for o in DECIDED))),
            _rate_cell(passed, decided, passed_link)), link))
    columns = (Column("passed", "通过人数"), Column("decided", "已有结果人数"), Column("rate", "通过率（%）", "0.0", "%"))
    return Table(key, title, header, columns, tuple(rows), "bar", (2,),
                 note="通过：评审通过（已公布）或已推荐；分母为已有评审结果的申报，不含未被受理的"
                      "（不属该评委会受理、不在受理范围）和仍在办理中的申报。")


def pass_tables(filters: Filters, groups: list[Group]) -> list[Table]:
    base = filters.base_link(TITLE)
    return [_pass_table("pass_committee", f"{filters.year}年度通过率：按评审委员会", "评审委员会",
                        _fold(groups, "committee"), "committee", base),
            _pass_table("pass_series", f"{filters.year}年度通过率：按系列", "系列", _fold(groups, "series"),
                        "series", base)]


def _pass_builder(key: str) -> Callable[[User, Filters, Mapping[str, str]], Table]:
    def build(user: User, filters: Filters, labels: Mapping[str, str]) -> Table:
        return next(t for t in pass_tables(filters, title_groups(user, filters)) if t.key == key)
    return build


# -- graduate batches --------------------------------------------------------------------------
NO_BATCH = "未分批"
GRADUATE_NOTE = "初定申请不经评审委员会，评审委员会筛选对本项不适用。"


def graduate_tables(user: User, filters: Filters, labels: Mapping[str, str]) -> list[Table]:
    batch = ProcessInstance.data["batch"].as_string()
    outcome = ProcessInstance.outcome
    level = ProcessInstance.data["approved_level"].as_string()
    query = (select(batch, outcome, ProcessInstance.status, level, func.count(ProcessInstance.id))
             .where(*scoped(user, filters, GRADUATE, committee=False))
             .group_by(batch, outcome, ProcessInstance.status, level))
    batches: dict[str, Counter[str]] = defaultdict(Counter)
    approved: Counter[str] = Counter()
    for month, out, status, lvl, count in db.session.execute(query):
        key = outcome_key(out, status)
        batches[month or NO_BATCH][key] += count
        if key == "approved":
            approved[lvl or UNKNOWN] += count
    base = filters.base_link(GRADUATE, committee=False)
    order = sorted(b for b in batches if b != NO_BATCH) + ([NO_BATCH] if NO_BATCH in batches else [])
    note = GRADUATE_NOTE if filters.committee else None
    table = outcome_table("batches", f"{filters.year}年度大中专毕业生初定：按批次", "批次", batches, order,
                          lambda b: None if b == NO_BATCH else (("f.batch", b),), base, labels, known=GRADUATE_OUTCOMES)
    table = replace(table, note=note)
    level_order = [lv for lv in GRADUATE_LEVELS if lv in approved] + sorted(set(approved) - set(GRADUATE_LEVELS))
    level_rows = tuple(
        Row(lv, lv, (Cell(approved[lv], (*base, ("f.outcome", "approved"), *_param("f.approved_level")(lv))),),
            (*base, *_param("f.approved_level")(lv)))
        for lv in level_order)
    levels = Table("grad_levels", f"{filters.year}年度大中专毕业生初定：确认通过的级别", "确认级别",
                   (Column("approved", "通过人数"),), level_rows, "bar", (0,), note=note)
    return [table, levels]


def _graduate_builder(key: str) -> Callable[[User, Filters, Mapping[str, str]], Table]:
    def build(user: User, filters: Filters, labels: Mapping[str, str]) -> Table:
        return next(t for t in graduate_tables(user, filters, labels) if t.key == key)
    return build


# -- the 5× archive KPI (DT-05) ----------------------------------------------------------------
def archive_table(user: User, filters: Filters, labels: Mapping[str, str] | None = None) -> Table:
    """archive_kpi's per-committee figure as the actor may see it (its own county scoping)."""
    rows = archive_kpi.kpi_for(user, filters.year)["committees"]
    if filters.county:
        rows = [r for r in rows if r.county == filters.county]
    if filters.committee:
        rows = [r for r in rows if r.name == filters.committee]
    rows = [r for r in rows if r.applicants or r.archives]
    base = filters.base_link(TITLE, committee=False)
    out = []
    for r in rows:
        link = join(base, (("committee", r.name),))
        out.append(Row(r.name, r.name, (
            Cell(r.applicants, link), Cell(5 * r.applicants), Cell(r.archives),
            Cell(r.ratio, None, f"{r.ratio:.2f}" if r.ratio is not None else "—"), Cell(r.shortfall),
            Cell(None, None, r.status_label)), link))
    columns = (Column("applicants", "申报人数"), Column("required", "应有档案数（5倍）"), Column("archives", "业绩档案数"),
               Column("ratio", "倍数", "0.00", "倍"), Column("shortfall", "缺口"), Column("status", "状态", "@"))
    return Table("archive_kpi", f"{filters.year}年度业绩档案5倍要求：按评审委员会", "评审委员会", columns, tuple(out),
                 "bar", (1, 2), note="申报人数不含未被受理的申报；业绩档案数为经单位审核、当年更新的档案（见“监督”）。",
                 empty_note=None if out else f"{filters.year} 年度暂无业绩档案5倍要求的统计数据。")


BUILDERS: dict[str, Callable[[User, Filters, Mapping[str, str]], Table]] = {
    **title_table_builders(),
    "year": by_year,
    "pass_committee": _pass_builder("pass_committee"),
    "pass_series": _pass_builder("pass_series"),
    "batches": _graduate_builder("batches"),
    "grad_levels": _graduate_builder("grad_levels"),
    "archive_kpi": archive_table,
}
