"""The session window is the plan's: a meeting outside it is a warning, not a block, and an edited
plan row moves the window."""

from __future__ import annotations

from title_flow import TRANSPORT, plan_year

from app.extensions import db
from app.models import User
from app.services import committees, plans


def test_a_meeting_outside_the_plan_window_is_flagged_and_proceeds(flow):
    plan_year(2021)
    flow.at("2021-08-20")
    sid = flow.start_session("transport_office", "2021-09-15", name="2021年度第二次评审会议")["id"]
    data = flow.instance(sid)["data"]
    assert data["window_warning"] == "会议日期不在年度计划的评审时间（2021-06 至 2021-08）内"
    assert data["plan_window"] == "2021-06 至 2021-08"
    assert flow.instance(sid)["status"] in ("running", "waiting")

    # the bureau extends the row in the published plan: the next session is inside it
    city_hr = db.session.query(User).filter_by(username="city_hr").one()
    plan = plans.city_plan(2021)
    entry = next(e for e in plan.entries if e.section == "city_committee" and e.seq == 12)
    row = next(r for r in plans.rows_of(plan) if r.section == "city_committee" and r.seq == 12)
    row.finish_months = ["2021-09"]
    plans.update_entry(city_hr, entry, row)
    db.session.commit()
    assert committees.scope_of(committees.committee_named(TRANSPORT), 2021).finish_month == "2021-09"
    sid2 = flow.start_session("transport_office", "2021-09-22", name="2021年度第三次评审会议")["id"]
    assert flow.instance(sid2)["data"]["window_warning"] is None
