"""Bulk work as background jobs: the large case-list export and the plan import.

Both are advanced item by item as the progress page (or a worker) does it; an item that ran but
whose transaction never committed (a crash) runs again without repeating its rows.
"""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AnnualPlan, BackgroundJob, Event, HumanTask, Organisation, PlanEntry, User
from app.services import case_export, case_search, documents, instances, jobs, plan_import, plans, tasks
from app.services import clock as clock_service
from app.services.errors import Conflict
from app.services.plan_io import PlanTableInvalid
from app.web.pages import FIELD_LABELS
from app.web.tracking import display

GRAD = "graduate_initial_determination"
APPLICATION = {"education": "硕士", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
               "months_pre_degree": 0, "specialty": "农学", "requested_level": "中级"}
QUERY = {"process": [GRAD], "sort": ["f.months_pre_degree"], "dir": ["desc"],
         "cols": ["months_pre_degree,graduation_date,eligible,outcome"]}
LIANDU_BUREAU = "莲都区人力资源和社会保障局"


def person(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture()
def cases(ctx):
    """11 graduate cases: some moved on by the employer (result fields, open tasks differ)."""
    ids = []
    for k in range(11):
        clock_service.set_clock(person("admin"), datetime.fromisoformat(f"2022-07-{11 + k // 4:02d}T09:{k:02d}:00+08:00"))
        case = instances.start_instance(person("grad_liandu" if k % 2 else "grad_city"), GRAD,
                                        {**APPLICATION, "months_pre_degree": (k % 4) * 10,
                                         "graduation_date": f"2021-0{1 + k % 5}-15"})
        if k % 3 == 1:
            task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id,
                                                             HumanTask.state == "open"))
            who = "liandu_co_hr" if k % 2 else "institute_hr"
            tasks.complete_task(person(who), task.id, {"decision": "approve"})
        ids.append(case.id)
    clock_service.set_clock(person("admin"), datetime.fromisoformat("2022-07-25T09:00:00+08:00"))
    db.session.rollback()
    return ids


def _sheet_rows(content: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(content)).active
    return list(sheet.iter_rows(min_row=1, values_only=True))


def _synchronous(query: case_search.CaseQuery, title: str) -> bytes:
    out = io.BytesIO()
    case_export.write(query, title, display, out)
    return out.getvalue()


def _export_job(monkeypatch, chunk: int = 4) -> tuple[case_search.CaseQuery, BackgroundJob]:
    monkeypatch.setattr(case_export, "CHUNK_ROWS", chunk)
    query = case_search.parse(person("manager"), QUERY, FIELD_LABELS)
    return query, case_export.start_job(person("manager"), query, "案件跟踪（测试导出）")


def test_a_large_export_is_written_chunk_by_chunk_as_the_list_is(ctx, cases, monkeypatch):
    query, job = _export_job(monkeypatch)
    assert (job.kind, job.total, job.done) == ("case_export", 4, 0)  # 11 rows in chunks of 4, then the workbook
    assert job.params["ids"] == [r.id for r in case_search.iter_rows(query)]
    seen = []
    for _ in range(job.total):
        step = jobs.progress(jobs.advance(job.id, batch=20))  # the kind allows one item per call
        seen.append((step["done"], step["total"], step["file"] is None))
    assert seen == [(1, 4, True), (2, 4, True), (3, 4, True), (4, 4, False)]
    done = jobs.get(job.id)
    assert done.status == "done" and done.failed == 0
    assert [r["rows"] for r in done.results] == [4, 4, 3, 11]
    doc = jobs.document_of(done)
    assert (doc.kind, doc.instance_id, doc.uploaded_by_id) == ("case_export", None, None)
    assert doc.name.endswith(".xlsx") and jobs.progress(done)["file"]["name"] == doc.name
    assert not case_export.staging_path(done).exists()  # the staging file went with the job's end

    background = _sheet_rows(documents.content_of(doc))
    expected = _sheet_rows(_synchronous(query, "案件跟踪（测试导出）"))
    assert background == expected and len(background) == case_export.FIRST_ROW - 1 + 11
    # the cells keep their types (dates as dates, numbers as numbers), as in the synchronous file
    sheet = load_workbook(io.BytesIO(documents.content_of(doc))).active
    header = [c.value for c in sheet[case_export.HEADER_ROW]]
    first = [c for c in sheet[case_export.FIRST_ROW]]
    assert isinstance(first[header.index("发起时间")].value, datetime)
    assert first[header.index("编号")].data_type == "n"


def test_an_item_run_again_after_a_crash_does_not_repeat_rows(ctx, cases, monkeypatch):
    query, job = _export_job(monkeypatch)
    manager = person("manager")
    # item 0 ran (its rows reached the staging file) but its transaction never committed
    case_export._job_item(jobs.get(job.id), 0, manager)
    db.session.rollback()
    staged = case_export.staging_path(job)
    assert staged.read_bytes().count(b"\n") == 4 and jobs.get(job.id).done == 0
    jobs.advance(job.id, batch=1)
    assert staged.read_bytes().count(b"\n") == 4 and jobs.get(job.id).done == 1
    # the same for item 1, after item 0 was recorded
    case_export._job_item(jobs.get(job.id), 1, manager)
    db.session.rollback()
    assert staged.read_bytes().count(b"\n") == 8
    jobs.advance(job.id, batch=1)
    assert staged.read_bytes().count(b"\n") == 8
    jobs.advance(job.id, batch=5)
    jobs.advance(job.id, batch=5)
    done = jobs.get(job.id)
    assert done.status == "done" and done.done == 4
    rows = _sheet_rows(documents.content_of(jobs.document_of(done)))[case_export.FIRST_ROW - 1:]
    assert [r[0] for r in rows] == [r.id for r in case_search.iter_rows(query)]  # each once, in order


def test_the_job_runs_with_the_creators_scope_and_stops_when_it_cannot_go_on(ctx, cases, monkeypatch):
    monkeypatch.setattr(case_export, "CHUNK_ROWS", 4)
    liandu = case_search.parse(person("liandu_hr"), {}, FIELD_LABELS)
    job = case_export.start_job(person("liandu_hr"), liandu, "莲都区")
    everyone = case_search.count(case_search.parse(person("manager"), {}, FIELD_LABELS))
    assert 0 < len(job.params["ids"]) < everyone
    while not jobs.finished(jobs.get(job.id)):
        jobs.advance(job.id)
    rows = _sheet_rows(documents.content_of(jobs.document_of(jobs.get(job.id))))[case_export.FIRST_ROW - 1:]
    assert [r[0] for r in rows] == job.params["ids"]

    # the creator loses the tracker role half-way: the item fails, the rest is not done, no file
    job = case_export.start_job(person("manager"), case_search.parse(person("manager"), {}, FIELD_LABELS), "全部")
    jobs.advance(job.id)
    manager = person("manager")
    for role in list(manager.roles):
        db.session.delete(role)
    db.session.commit()
    jobs.advance(job.id)
    jobs.advance(job.id)
    stopped = jobs.get(job.id)
    assert stopped.status == "failed" and jobs.finished(stopped) and stopped.done == 3 < stopped.total
    assert "只有监督管理员" in stopped.results[1]["message"] and "已停止" in stopped.error
    assert jobs.document_of(stopped) is None and not case_export.staging_path(stopped).exists()
    assert jobs.advance(job.id).done == 3


def test_who_may_follow_a_job(ctx, cases, monkeypatch):
    _, job = _export_job(monkeypatch)
    assert jobs.may_view(person("manager"), job) and jobs.may_view(person("admin"), job)
    for other in ("city_hr", "owner", "teacher1"):
        assert not jobs.may_view(person(other), job), other
    migrating = jobs.create("migrate", [1], person("admin"))
    assert jobs.may_view(person("owner"), migrating) and not jobs.may_view(person("city_hr"), migrating)


# -- the plan import ----------------------------------------------------------------------------
def _entries(plan: AnnualPlan) -> list[tuple]:
    return [(e.section, e.section_order, e.seq, e.name, e.titles_evaluated, e.titles_recommended, e.start_month,
             e.finish_months, e.office, e.phone, e.scope, e.per_county, e.rule) for e in plan.entries]


def _liandu() -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.name == LIANDU_BUREAU))


def _import_events(plan_id: int) -> int:
    return sum(1 for e in db.session.scalars(select(Event).where(Event.type == "plan_imported"))
               if e.details.get("plan_id") == plan_id)


def test_a_plan_import_job_gives_the_entries_of_the_synchronous_import(ctx, monkeypatch):
    content = (plans.DATA / "2021-city.csv").read_bytes()
    header = plans.PlanHeader(doc_no="莲人社〔2021〕3号")
    at_once = plans.import_table(person("liandu_hr"), 2021, "2021.csv", content, issuer=_liandu(), header=header)
    expected = _entries(at_once)
    db.session.rollback()  # not kept: the job writes the same plan
    assert db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == 2021,
                                                      AnnualPlan.issuer_org_id == _liandu().id)) is None

    monkeypatch.setattr(plan_import, "CHUNK_ROWS", 20)
    job = plan_import.start(person("liandu_hr"), 2021, "2021.csv", content, issuer=_liandu(), header=header)
    assert job.total == -(-len(expected) // 20) and job.total >= 3
    done = [jobs.advance(job.id, batch=20).done for _ in range(job.total)]
    assert done == list(range(1, job.total + 1))  # one chunk per call
    finished = jobs.get(job.id)
    assert finished.status == "done" and finished.failed == 0
    plan = db.session.get(AnnualPlan, finished.params["plan_id"])
    assert plan.status == "draft" and plan.doc_no == "莲人社〔2021〕3号"
    assert _entries(plan) == expected
    assert _import_events(plan.id) == 1
    assert jobs.progress(finished)["outcome"] == {"kind": "plan", "id": plan.id, "label": plans.title_of(plan)}


def test_a_plan_import_item_run_again_does_not_duplicate_entries(ctx, monkeypatch):
    content = (plans.DATA / "2021-city.csv").read_bytes()
    monkeypatch.setattr(plan_import, "CHUNK_ROWS", 20)
    job = plan_import.start(person("liandu_hr"), 2021, "2021.csv", content, issuer=_liandu())
    jobs.advance(job.id, batch=1)
    plan_id = jobs.get(job.id).params["plan_id"]

    def count() -> int:
        return db.session.scalar(select(func.count()).select_from(PlanEntry).where(PlanEntry.plan_id == plan_id))

    assert count() == 20
    # item 1 written twice in one transaction, then again for real after a crash
    plan_import._item(jobs.get(job.id), 1, person("liandu_hr"))
    plan_import._item(jobs.get(job.id), 1, person("liandu_hr"))
    db.session.flush()
    assert count() == 40
    db.session.rollback()
    assert count() == 20
    while not jobs.finished(jobs.get(job.id)):
        jobs.advance(job.id)
    plan = db.session.get(AnnualPlan, plan_id)
    assert [(e.section, e.seq) for e in plan.entries] == sorted({(e.section, e.seq) for e in plan.entries},
                                                               key=lambda k: (plans.SECTION_ORDER[k[0]], k[1]))
    assert count() == len(jobs.get(job.id).params["rows"]) and _import_events(plan_id) == 1


def test_a_plan_import_checks_the_table_before_queueing(ctx, user):
    with pytest.raises(PlanTableInvalid):
        plan_import.start(person("city_hr"), 2023, "p.csv", b"section,seq\n1,city_committee\n",
                          issuer=plans.issuer_for(person("city_hr")))
    db.session.rollback()
    assert db.session.scalar(select(BackgroundJob.id)) is None
    content = (plans.DATA / "2021-city.csv").read_bytes()
    plan_import.start(person("liandu_hr"), 2021, "2021.csv", content, issuer=_liandu())
    with pytest.raises(Conflict, match="正在导入"):
        plan_import.start(person("liandu_hr"), 2021, "2021.csv", content, issuer=_liandu())


def test_an_item_whose_case_changed_meanwhile_is_a_conflict_and_the_job_goes_on(ctx, user, monkeypatch):
    """A stale row version or a database-level collision while an item runs: the item is
    recorded as not done, saying so (not as an internal error), its writes are undone, and the
    next item runs."""
    import sqlite3

    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    from app.models import Setting

    def handler(job, item, actor):
        db.session.add(Setting(key=f"probe-{item}", value={}))
        if item == "stale":
            raise StaleDataError("UPDATE statement on table 'process_instance' expected to update 1 row(s)")
        if item == "locked":
            raise OperationalError("UPDATE ...", {}, sqlite3.OperationalError("database is locked"))
        if item == "bug":
            raise KeyError("bug")
        return jobs.ItemResult(True, "完成")

    monkeypatch.setitem(jobs._HANDLERS, "probe", handler)
    job = jobs.create("probe", ["stale", "locked", "bug", "fine"], user("admin"))
    db.session.commit()
    job = jobs.advance(job.id, 10)
    messages = [r["message"] for r in job.results]
    assert messages == [jobs.CHANGED_MEANWHILE, jobs.CHANGED_MEANWHILE,
                        "处理失败（系统内部错误），请联系系统管理员", "完成"]
    assert (job.done, job.failed, job.status) == (4, 3, "done")
    keys = set(db.session.scalars(select(Setting.key).where(Setting.key.like("probe-%"))))
    assert keys == {"probe-fine"}
