"""The managers' instance list as a service: every filter, typed sorting, bad input, the statements.

The cases are real: graduate applications started and moved on through the services with the app
clock set, and review sessions opened by two committee offices (they carry a committee, so the
committee and series filters have something to tell apart). Nothing is written to the tables
directly.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import event, select

from app import clock
from app.extensions import db
from app.models import HumanTask, Organisation, ProcessInstance, Setting, User
from app.services import case_fields, case_search, instances, tasks, timers
from app.services.errors import FormInvalid, NotAllowed

GRAD = "graduate_initial_determination"
LIANDU_TEACHERS = "莲都区中小学教师中级专业技术职务任职资格评审委员会"
AUTO = "丽水市汽车零部件工程技术人员中级专业技术职务任职资格评审委员会"
APPLICATION = {"education": "硕士", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
               "months_pre_degree": 0, "specialty": "农学", "requested_level": "中级"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def at(text: str) -> None:
    clock.set_override(datetime.fromisoformat(text))


def person(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def start(username: str, when: str, process: str = GRAD, **data) -> int:
    at(when)
    payload = {**APPLICATION, **data} if process == GRAD else data
    return instances.start_instance(person(username), process, payload).id


def act(username: str, instance_id: int, data: dict) -> None:
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open"))
    tasks.complete_task(person(username), task.id, data)


def plan_year(year: int) -> None:
    db.session.merge(Setting(key="current_plan_year", value={"year": year}))
    db.session.commit()


@pytest.fixture()
def cases(ctx):
    """Nine cases; the names say what sets each apart."""
    ids = {
        "city_open": start("grad_city", "2022-07-11T09:00:00+08:00", education="本科", months_pre_degree=0,
                           requested_level="助理级", graduation_date="2020-06-30"),
        "liandu_waiting": start("grad_liandu", "2022-07-12T09:00:00+08:00", months_pre_degree=100),
        "liandu_rejected": start("grad_liandu", "2022-07-13T09:00:00+08:00", months_pre_degree=12,
                                 graduation_date="2019-06-30"),
        "late_evening": start("grad_city", "2022-07-15T23:30:00+08:00", months_pre_degree=6,
                              graduation_date="2021-01-15"),
    }
    act("liandu_co_hr", ids["liandu_waiting"], {"decision": "approve"})
    at("2022-07-14T10:00:00+08:00")
    act("liandu_co_hr", ids["liandu_rejected"], {"decision": "reject", "opinion": "非本专业工作"})
    plan_year(2021)
    ids["next_morning"] = start("grad_city", "2022-07-16T00:30:00+08:00", months_pre_degree=24)
    plan_year(2022)
    ids["teachers_session"] = start("edu_office", "2022-07-18T09:00:00+08:00", "review_session",
                                    session_name="2022年度评审会议", meeting_date="2022-09-20", members=15)
    ids["auto_session"] = start("auto_office", "2022-07-18T10:00:00+08:00", "review_session",
                                session_name="2022年度汽车零部件评审会议", meeting_date="2022-10-20", members=15)
    at("2022-08-10T09:00:00+08:00")
    assert timers.run_due_timers() >= 1  # the waiting case's batch opens: 初定审核
    act("city_hr", ids["liandu_waiting"], {"decision": "approve", "approved_level": "中级"})  # 中级: the city bureau
    at("2022-08-12T09:00:00+08:00")
    db.session.rollback()
    return ids


def found(username: str, **args) -> list[int]:
    query = case_search.parse(person(username), {k: v if isinstance(v, list) else [str(v)] for k, v in args.items()})
    return [r.id for r in case_search.search(query).rows]


def names(cases: dict[str, int], ids: list[int]) -> set[str]:
    back = {v: k for k, v in cases.items()}
    return {back[i] for i in ids}


GRADUATES = {"city_open", "liandu_waiting", "liandu_rejected", "late_evening", "next_morning"}
SESSIONS = {"teachers_session", "auto_session"}


def test_the_cases_are_what_the_filters_expect(cases):
    rows = {i.id: i for i in db.session.scalars(select(ProcessInstance))}
    assert rows[cases["liandu_waiting"]].data["outcome"] == "approved"
    assert rows[cases["liandu_waiting"]].data["batch"] == "2022-08"
    assert rows[cases["liandu_rejected"]].data["outcome"] == "rejected"
    assert rows[cases["next_morning"]].plan_year == 2021
    assert rows[cases["teachers_session"]].committee == LIANDU_TEACHERS
    assert rows[cases["auto_session"]].committee == AUTO


@pytest.mark.parametrize(("args", "expected"), [
    ({}, GRADUATES | SESSIONS),
    ({"process": GRAD}, GRADUATES),
    ({"process": "review_session"}, SESSIONS),
    ({"plan_year": 2021}, {"next_morning"}),
    ({"plan_year": ["2021", "2022"], "process": GRAD}, GRADUATES),
    ({"committee": LIANDU_TEACHERS}, {"teachers_session"}),
    ({"series": "工程"}, {"auto_session"}),
    ({"series": ["工程", "中小学教师"]}, SESSIONS),
    ({"status": "completed"}, {"liandu_waiting", "liandu_rejected"}),
    ({"status": ["running", "waiting"], "process": GRAD}, {"city_open", "late_evening", "next_morning"}),
    ({"county": "莲都区", "process": GRAD}, {"liandu_waiting", "liandu_rejected"}),
    ({"employer": "丽水市莲都区云峰科技有限公司"}, {"liandu_waiting", "liandu_rejected"}),
    ({"applicant": "grad_city"}, {"city_open", "late_evening", "next_morning"}),
    ({"step": "用人单位考核"}, {"city_open", "late_evening", "next_morning"}),
    ({"step": "Task_employer_assess", "plan_year": 2022}, {"city_open", "late_evening"}),
    ({"overdue": 1, "process": GRAD}, {"city_open", "late_evening", "next_morning"}),
    ({"created_from": "2022-07-12", "created_to": "2022-07-13"}, {"liandu_waiting", "liandu_rejected"}),
    ({"completed_from": "2022-07-14", "completed_to": "2022-07-14"}, {"liandu_rejected"}),
    ({"completed_from": "2022-08-10"}, {"liandu_waiting"}),
    ({"f.outcome": "rejected"}, {"liandu_rejected"}),
    ({"f.outcome": ["rejected", "approved"], "process": GRAD}, {"liandu_rejected", "liandu_waiting"}),
    ({"f.batch": "2022-08", "process": GRAD}, {"liandu_waiting"}),
    ({"f.months_pre_degree": "12", "process": GRAD}, {"liandu_rejected"}),
    ({"f.graduation_date": "2021-01-15", "process": GRAD}, {"late_evening"}),
    ({"f.requested_level": "助理级"}, {"city_open"}),
    ({"f.members": 15}, SESSIONS),
    ({"f.opinion_required": "是"}, SESSIONS),
    ({"f.committee": AUTO}, {"auto_session"}),
])
def test_each_filter_narrows_the_list(cases, args, expected):
    assert names(cases, found("manager", **args)) == expected


def test_the_applicant_filter_takes_part_of_a_name(cases):
    name = person("grad_liandu").display_name
    assert names(cases, found("manager", applicant=name[1:])) == {"liandu_waiting", "liandu_rejected"}
    assert found("manager", applicant="%") == []  # a wildcard is a character, not a pattern


def test_the_employer_filter_takes_an_organisation_id(cases):
    org = db.session.scalar(select(Organisation).where(Organisation.name == "丽水市农林科学研究院"))
    assert names(cases, found("manager", employer=org.id)) == {"city_open", "late_evening", "next_morning"}


def test_dates_are_whole_days_in_shanghai(cases):
    # 23:30 and 00:30 Shanghai are the same UTC day (15:30 and 16:30): the filter goes by local days.
    assert names(cases, found("manager", created_to="2022-07-15", process=GRAD)) == GRADUATES - {"next_morning"}
    assert names(cases, found("manager", created_from="2022-07-16", process=GRAD)) == {"next_morning"}
    assert names(cases, found("manager", created_from="2022-07-15", created_to="2022-07-15")) == {"late_evening"}


def test_overdue_follows_the_clock(cases):
    at("2022-07-15T09:00:00+08:00")  # the first case's employer review is due 2022-07-18
    assert names(cases, found("manager", overdue=1)) == set()
    at("2022-07-19T09:00:00+08:00")
    assert names(cases, found("manager", overdue=1)) == {"city_open"}
    assert found("manager", overdue=0) == found("manager")


def test_sorting_by_a_typed_result_field_is_numeric_and_by_dates_chronological(cases):
    by_months = found("manager", process=GRAD, sort="f.months_pre_degree")
    # as text, "100" < "12" < "24" < "6"; as numbers 0 < 6 < 12 < 24 < 100
    assert [names(cases, [i]).pop() for i in by_months] == [
        "city_open", "late_evening", "liandu_rejected", "next_morning", "liandu_waiting"]
    assert found("manager", process=GRAD, sort="f.months_pre_degree", dir="desc") == by_months[::-1]
    by_graduation = found("manager", process=GRAD, sort="f.graduation_date")
    assert [names(cases, [i]).pop() for i in by_graduation][:3] == ["liandu_rejected", "city_open", "late_evening"]
    newest = found("manager", sort="created_at", dir="desc")
    assert names(cases, newest[:1]) == {"auto_session"} and names(cases, newest[-1:]) == {"city_open"}


def test_rows_carry_typed_values_and_empty_sorts_last(cases):
    query = case_search.parse(person("manager"), {"process": [GRAD], "cols": ["months_pre_degree,outcome"],
                                                 "sort": ["f.outcome"]})
    rows = case_search.search(query).rows
    assert [c.key for c in query.columns][-2:] == ["f.months_pre_degree", "f.outcome"]
    assert [r.cells["f.outcome"] for r in rows] == ["approved", "rejected", None, None, None]
    assert all(isinstance(r.cells["f.months_pre_degree"], int) for r in rows)
    waiting = next(r for r in rows if r.id == cases["city_open"])
    assert waiting.cells["steps"] == ("用人单位考核",) and waiting.cells["due"] == date(2022, 7, 18)
    assert waiting.overdue and isinstance(waiting.cells["created_at"], datetime)
    ties = case_search.parse(person("manager"), {"process": [GRAD], "sort": ["plan_year"], "dir": ["desc"]})
    same_year = sorted((cases[n] for n in GRADUATES - {"next_morning"}), reverse=True)
    assert [r.id for r in case_search.search(ties).rows] == [*same_year, cases["next_morning"]]


def test_result_field_types_come_from_the_forms_or_the_computed_map(ctx):
    title = case_fields.fields_of("title_application")
    assert (title["title_year"], title["years_in_m26"], title["ce_ok"], title["target_title"]) == (
        "integer", "number", "boolean", "string")
    assert (title["submitted_on"], title["m26_score"], title["ce_reasons"]) == ("date", "number", "list")
    grad = case_fields.fields_of(GRAD)
    assert (grad["graduation_date"], grad["months_pre_degree"], grad["eligible"], grad["batch"]) == (
        "date", "integer", "boolean", "string")
    assert case_fields.typed("date", "2022-08-10") == date(2022, 8, 10)
    assert case_fields.typed("integer", "12") == 12 and case_fields.typed("number", 7.5) == 7.5
    assert case_fields.typed("integer", "n/a") == "n/a"  # kept as text, never guessed


@pytest.mark.parametrize(("args", "field"), [
    ({"plan_year": "二〇二二"}, "plan_year"),
    ({"created_from": "2022-13-01"}, "created_from"),
    ({"completed_from": "2022-08-10", "completed_to": "2022-08-01"}, "completed_to"),
    ({"status": "stuck"}, "status"),
    ({"process": "no_such_process"}, "process"),
    ({"process": [GRAD, "review_session"]}, "process"),
    ({"series": "没有的系列"}, "series"),
    ({"process": GRAD, "f.target_title": "一级教师"}, "f.target_title"),
    ({"f.no_such_field": "x"}, "f.no_such_field"),
    ({"process": GRAD, "f.months_pre_degree": "twelve"}, "f.months_pre_degree"),
    ({"process": GRAD, "f.graduation_date": "30/06/2021"}, "f.graduation_date"),
    ({"process": GRAD, "f.eligible": "maybe"}, "f.eligible"),
    ({"process": GRAD, "f.attachments": "1"}, "f.attachments"),
    ({"process": GRAD, "cols": "target_title"}, "cols"),
    ({"cols": "outcome"}, "cols"),
    ({"sort": "f.outcome"}, "sort"),
    ({"sort": "nothing"}, "sort"),
    ({"dir": "up"}, "dir"),
    ({"per_page": "30"}, "per_page"),
    ({"page": "last"}, "page"),
    ({"overdue": "sometimes"}, "overdue"),
])
def test_bad_values_are_named_in_chinese(ctx, args, field):
    with pytest.raises(FormInvalid) as caught:
        case_search.parse(person("manager"), {k: v if isinstance(v, list) else [v] for k, v in args.items()})
    assert field in caught.value.fields
    assert all(CJK.search(m) for m in caught.value.fields[field])


def test_only_trackers_may_search(ctx):
    for username in ("teacher1", "school_hr", "liandu_edu", "edu_office"):
        with pytest.raises(NotAllowed):
            case_search.parse(person(username), {})
    for username in ("manager", "city_hr", "liandu_hr", "admin"):
        case_search.parse(person(username), {})


def test_a_page_costs_three_statements_whatever_its_length(cases):
    query = case_search.parse(person("manager"), {"process": [GRAD], "sort": ["due"], "cols": ["outcome,batch"]})
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = case_search.search(query)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(page.rows) == 5
    assert len(statements) == 3, statements  # the count, the rows, the rows' open tasks


def test_the_export_iterator_keeps_the_list_order_across_batches(cases):
    query = case_search.parse(person("manager"), {"sort": ["f.months_pre_degree"], "process": [GRAD]})
    listed = [r.id for r in case_search.search(query).rows]
    assert [r.id for r in case_search.iter_rows(query, batch=2)] == listed
    assert [r.id for r in case_search.iter_rows(query, cap=3, batch=2)] == listed[:3]


def test_columns_chosen_for_another_process_give_way_to_the_defaults(ctx):
    manager = person("manager")
    switched = case_search.parse(manager, {"process": ["title_application"], "cols": ["batch,approved_level"],
                                           "cols_process": [GRAD]})
    assert [c.field for c in switched.columns if c.field] == ["target_title", "title_level", "outcome",
                                                               "certificate_no"]
    chosen = case_search.parse(manager, {"process": [GRAD], "cols": ["batch", "approved_level"], "cols_process": [GRAD]})
    assert [c.field for c in chosen.columns if c.field] == ["batch", "approved_level"]
