"""The plan year's timeline (issue 5): committee windows against their sessions' real dates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from timeline_world import (
    AUTO,
    FORESTRY,
    LIANDU_TEACHERS,
    Flow,
    build_world,
    committee,
    late_forestry_session,
    on_time_teachers_session,
    set_window,
)

from app import clock
from app.extensions import db
from app.models import (
    AnnualPlan,
    Committee,
    CommitteeScope,
    Organisation,
    PlanEntry,
    ProcessInstance,
    ProcessVersion,
    User,
)
from app.services import timeline
from app.services.errors import NotAllowed


def row_named(tl: timeline.Timeline, name: str) -> timeline.CommitteeRow:
    return next(r for r in tl.rows if r.name == name)


@pytest.fixture()
def flow(ctx):
    build_world()
    return Flow(ctx.test_client())


def test_late_and_on_time_sessions_with_their_dates_and_counts(flow, user):
    seen: dict[str, timeline.CommitteeRow] = {}

    def checkpoint(stage: str, sid: int) -> None:
        db.session.rollback()
        seen[stage] = row_named(timeline.year_timeline(user("manager"), 2022), FORESTRY)

    set_window(AUTO, 2022, "2022-08", "2022-10")
    late_sid = late_forestry_session(flow, checkpoint=checkpoint)
    on_time_sid = on_time_teachers_session(flow)
    db.session.rollback()

    # opened on 2022-10-20 for a meeting on 2022-11-15: already late, the planned date says so
    opened = seen["opened"]
    assert opened.status == "overdue" and opened.sessions[0].lateness == "late"
    assert opened.sessions[0].reasons == ["拟召开日期 2022-11-15 晚于计划完成月份（2022-10）"]
    assert opened.sessions[0].meeting_held is False and opened.sessions[0].passed is None
    met = seen["met"].sessions[0]
    assert met.meeting_held and met.reasons == ["评审会议于 2022-11-15 召开，晚于计划完成月份（2022-10）"]
    assert met.passed == 1 and met.published_on is None

    flow.at("2022-12-01")
    tl = timeline.year_timeline(user("manager"), 2022)
    forestry = row_named(tl, FORESTRY)
    assert (forestry.start_month, forestry.finish_month) == ("2022-08", "2022-10")
    assert (forestry.window_start, forestry.window_end) == (date(2022, 8, 1), date(2022, 10, 31))
    [late] = forestry.sessions
    assert late.instance_id == late_sid and late.lateness == "late" and late.lateness_label == "逾期"
    assert late.opened_on == date(2022, 10, 20) and late.meeting_date == date(2022, 11, 15)
    assert late.published_on == date(2022, 11, 25) and late.published_doc_no
    assert late.reasons == ["评审会议于 2022-11-15 召开，晚于计划完成月份（2022-10）",
                            "于 2022-11-25 发文公布，晚于计划完成月份（2022-10）"]
    assert late.meeting_late and late.published_late
    assert (late.applicants, late.passed) == (1, 1)
    assert forestry.status == "overdue" and forestry.status_label == "逾期" and forestry.lateness == "late"
    assert forestry.reasons[0].startswith(late.name + "：评审会议于 2022-11-15 召开")

    teachers = row_named(tl, LIANDU_TEACHERS)
    [on_time] = teachers.sessions
    assert on_time.instance_id == on_time_sid and on_time.lateness == "on_time" and on_time.reasons == []
    assert on_time.meeting_date == date(2022, 9, 20) and on_time.published_on == date(2022, 9, 30)
    assert on_time.pre_notice_start == date(2022, 8, 29) and on_time.report_date == date(2022, 9, 8)
    assert (on_time.applicants, on_time.passed) == (2, 1)  # one of the two failed the vote (7 of 12)
    assert teachers.status == "completed" and teachers.status_label == "已完成" and teachers.lateness == "on_time"

    # the counts are the session's own
    data = db.session.get(ProcessInstance, on_time_sid).data
    assert on_time.passed == data["passed"] and on_time.applicants == data["applicant_count"]

    # a committee whose window is over with no session at all is overdue too
    auto = row_named(tl, AUTO)
    assert auto.sessions == [] and auto.status == "overdue"
    assert auto.reasons == ["计划完成月份（2022-10）已过，尚未开启评审会次"]

    as_json = tl.to_dict()
    row = next(r for r in as_json["rows"] if r["name"] == FORESTRY)
    assert row["sessions"][0]["meeting_date"] == "2022-11-15" and row["sessions"][0]["lateness"] == "late"
    assert as_json["months"][0] == "2022-01" and as_json["months"][-1] >= "2022-12"
    assert tl.pos(date(2022, 1, 1)) == 0 and 0 < tl.pos(date(2022, 11, 15)) < 100


def test_a_committee_without_a_session_past_start_plus_one_month_is_not_started(ctx, user, set_clock):
    set_window(AUTO, 2022, "2022-08", "2022-10")
    set_clock("2022-09-30T20:00:00+08:00")  # AUTO starts 2022-08: the grace month runs to 2022-09-30
    auto = row_named(timeline.year_timeline(user("manager"), 2022), AUTO)
    assert (auto.status, auto.lateness, auto.reasons) == ("not_started", "on_time", [])
    set_clock("2022-10-01T09:00:00+08:00")
    auto = row_named(timeline.year_timeline(user("manager"), 2022), AUTO)
    assert auto.status == "not_started" and auto.status_label == "未开始" and auto.lateness == "not_started"
    assert auto.reasons == ["计划 2022-08 开始评审，宽限一个月（至 2022-09-30）后仍未开启评审会次"]
    set_clock("2022-11-01T09:00:00+08:00")
    assert row_named(timeline.year_timeline(user("manager"), 2022), AUTO).status == "overdue"
    set_clock("2022-07-15T09:00:00+08:00")
    assert row_named(timeline.year_timeline(user("manager"), 2022), AUTO).lateness == "on_time"


def test_rows_are_scoped_by_the_actors_county(ctx, user, set_clock):
    set_clock("2022-07-01T09:00:00+08:00")
    every = {r.name for r in timeline.year_timeline(user("manager"), 2022).rows}
    expected = set(db.session.scalars(select(Organisation.name).join(Committee, Committee.org_id == Organisation.id)
                                      .join(CommitteeScope).where(CommitteeScope.plan_year == 2022)))
    assert every == expected and len(every) > 5
    assert {r.name for r in timeline.year_timeline(user("city_hr"), 2022).rows} == every
    assert {r.name for r in timeline.year_timeline(user("admin"), 2022).rows} == every
    liandu = timeline.year_timeline(user("liandu_hr"), 2022)
    assert liandu.county == "莲都区" and liandu.rows
    assert {r.location for r in liandu.rows} == {"莲都区"} and LIANDU_TEACHERS in {r.name for r in liandu.rows}
    assert {r.location for r in timeline.year_timeline(user("longquan_hr"), 2022).rows} <= {"龙泉市"}
    for username in ("teacher1", "edu_office", "school_hr", "liandu_edu"):
        with pytest.raises(NotAllowed):
            timeline.year_timeline(user(username), 2022)


def test_an_unknown_or_invalid_year_is_an_empty_timeline_with_a_message(ctx, user):
    empty = timeline.year_timeline(user("manager"), 2031)
    assert empty.rows == [] and empty.plan_rows == [] and "2031 年度暂无评审计划数据" in empty.message
    assert len(empty.months) == 12
    bad = timeline.year_timeline(user("manager"), 99999)
    assert bad.rows == [] and "无效" in bad.message


def test_plan_rows_order_the_committees_and_the_other_sections_show_their_months(ctx, user, set_clock):
    """A year of its own (2030), so the bundled plans do not interfere."""
    set_clock("2030-07-01T09:00:00+08:00")
    city = db.session.scalar(select(Organisation).where(Organisation.name == "丽水市人力资源和社会保障局"))
    plan = AnnualPlan(year=2030, issuer_org_id=city.id, status="published", doc_no="丽人社〔2030〕50号",
                      created_at=clock.now())
    first = PlanEntry(section="city_committee", section_order=0, seq=1, name=AUTO, start_month="2030-08",
                      finish_months=["2030-10"])
    second = PlanEntry(section="city_committee", section_order=0, seq=2, name=FORESTRY, start_month="2030-08",
                       finish_months=["2030-09", "2030-11"])
    plan.entries += [
        second, first,
        PlanEntry(section="provincial_recommendation", section_order=1, seq=1, name="推荐省高评委", finish_months=["9"]),
        PlanEntry(section="graduate_initial_determination", section_order=2, seq=1, name="全日制高校毕业生初定",
                  finish_months=["2030-05", "2030-08", "2030-11"]),
    ]
    db.session.add(plan)
    db.session.flush()
    set_window(FORESTRY, 2030, "2030-08", "2030-11", plan_entry_id=second.id)
    set_window(AUTO, 2030, "2030-08", "2030-10", plan_entry_id=first.id)
    set_window(LIANDU_TEACHERS, 2030, "2030-07", "2030-10")
    grad = db.session.scalar(select(User).where(User.username == "grad_city"))
    version_id = db.session.scalar(select(ProcessVersion.id).where(
        ProcessVersion.process_id == "graduate_initial_determination"))
    for batch, county in (("2030-08", "市本级"), ("2030-08", "莲都区"), ("2030-11", "市本级"), ("2022-08", "市本级")):
        db.session.add(ProcessInstance(process_id="graduate_initial_determination", version_id=version_id,
                                       title="初定", status="waiting", state={}, data={"batch": batch},
                                       starter_id=grad.id, county=county, created_at=clock.now(),
                                       updated_at=clock.now(), library_version="x", serializer_version="x"))
    db.session.commit()

    tl = timeline.year_timeline(user("manager"), 2030)
    assert [r.name for r in tl.rows] == [AUTO, FORESTRY, LIANDU_TEACHERS]
    assert [r.plan_seq for r in tl.rows] == [1, 2, None]
    assert tl.rows[1].plan_finish_months == ["2030-09", "2030-11"] and tl.rows[1].finish_month == "2030-11"
    assert tl.plan_doc_no == "丽人社〔2030〕50号"
    provincial, graduates = tl.plan_rows
    assert (provincial.section_label, provincial.months, provincial.counts) == ("二、推荐省级评审", ["2030-09"], None)
    assert graduates.months == ["2030-05", "2030-08", "2030-11"]
    assert graduates.counts == {"2030-05": 0, "2030-08": 2, "2030-11": 1}
    liandu = timeline.year_timeline(user("liandu_hr"), 2030)
    assert [r.name for r in liandu.rows] == [LIANDU_TEACHERS]
    assert liandu.plan_rows[1].counts == {"2030-05": 0, "2030-08": 1, "2030-11": 0}
    assert timeline.year_timeline(user("manager"), 2030).to_dict()["plan_rows"][1]["counts"]["2030-08"] == 2
    assert committee(AUTO).id == tl.rows[0].committee_id


def _session(**changes) -> timeline.SessionMark:
    base = dict(instance_id=1, name="第一次评审会议", status="waiting", stage=None, opened_on=date(2022, 8, 1),
                meeting_date=date(2022, 9, 20), meeting_held=False, pre_notice_start=None, report_date=None,
                post_notice_start=None, published_on=None, published_doc_no=None, applicants=3, passed=None,
                cancelled=False)
    return timeline.SessionMark(**{**base, **changes})


def _row(*sessions: timeline.SessionMark, today: date) -> timeline.CommitteeRow:
    row = timeline.CommitteeRow(committee_id=1, name="某评委会", short_name="某评委会", location="市本级", level="中",
                                plan_seq=None, plan_finish_months=[], start_month="2022-08", finish_month="2022-10",
                                sessions=list(sessions))
    timeline._assess(row, today)
    return row


def test_session_states_make_the_row_status():
    in_window = _row(_session(), today=date(2022, 9, 1))
    assert (in_window.status, in_window.lateness, in_window.sessions[0].lateness) == ("in_progress", "on_time", "on_time")
    # still not held once the window is over: late, whatever date was planned
    stalled = _row(_session(), today=date(2022, 11, 2))
    assert stalled.status == "overdue" and stalled.sessions[0].reasons == ["计划完成月份（2022-10）已过，评审会议尚未召开"]
    held = _session(meeting_held=True, passed=2, published_on=date(2022, 10, 31), published_doc_no="丽人社〔2022〕9号")
    done = _row(held, today=date(2022, 12, 1))
    assert (done.status, done.lateness, done.applicants, done.passed) == ("completed", "on_time", 3, 2)
    # a cancelled session (terminated, or invalid results) counts for nothing: the window passed without one
    cancelled = _row(_session(status="terminated", cancelled=True), today=date(2022, 11, 2))
    assert cancelled.sessions[0].lateness == "on_time" and cancelled.sessions[0].status_label == "已终止"
    assert cancelled.status == "overdue" and cancelled.reasons == ["计划完成月份（2022-10）已过，尚未开启评审会次"]
    assert _session(status="completed", cancelled=True).status_label == "评审结果无效"
    # one of two sessions published, the other still running: in progress
    assert _row(held, _session(instance_id=2), today=date(2022, 10, 5)).status == "in_progress"


def test_months_are_read_whichever_way_the_plan_writes_them():
    assert timeline.month_text("2022-8") == "2022-08" and timeline.month_text("10月", 2022) == "2022-10"
    assert timeline.month_text("13", 2022) is None and timeline.month_text("soon", 2022) is None
    assert timeline.month_text(None) is None and timeline.add_months("2022-12", 2) == "2023-02"
    assert timeline.last_day("2024-02") == date(2024, 2, 29)
