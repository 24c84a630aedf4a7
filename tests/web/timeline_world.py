"""Real review sessions with real dates for the plan-timeline tests, run through the title-review
driver (tests/title/title_flow.py) with the app clock moved step by step.

- 林业工程中评委 (市本级, plan window 2022-08 to 2022-10): one applicant (P10), the session opened on
  2022-10-20 for a meeting on 2022-11-15, published 2022-11-25 — late.
- 莲都区中小学教师中评委 (莲都区, window 2022-07 to 2022-10): two applicants, one passes; the meeting on
  2022-09-20, published 2022-09-30 — on time.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Committee, CommitteeScope, Organisation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "title"))

from title_flow import FORESTRY, LIANDU_TEACHERS, P01, Flow, build_world, hours  # noqa: E402

__all__ = ["AUTO", "FORESTRY", "LIANDU_TEACHERS", "Flow", "build_world", "committee", "late_forestry_session",
           "on_time_teachers_session", "set_window"]
AUTO = "丽水市汽车零部件工程技术人员中级专业技术职务任职资格评审委员会"


def committee(name: str) -> Committee:
    return db.session.scalar(select(Committee).join(Organisation, Organisation.id == Committee.org_id)
                             .where(Organisation.name == name))


def set_window(name: str, year: int, start: str | None, finish: str | None, **fields) -> CommitteeScope:
    """The committee's plan window that year, whatever the bundled plan says (the tests state their own)."""
    found = committee(name)
    scope = next((s for s in found.scopes if s.plan_year == year), None)
    if scope is None:
        scope = CommitteeScope(plan_year=year, titles_evaluated=[], titles_recommended=[])
        found.scopes.append(scope)
    scope.start_month, scope.finish_month = start, finish
    for key, value in fields.items():
        setattr(scope, key, value)
    db.session.commit()
    return scope

P10 = {"target_title": "工程师", "specialty": "林业工程", "current_title": "助理工程师", "title_year": 2017,
       "education": "本科", "application_mode": "正常申报", "years_in_m26": 5,
       "id_number": "332501198907071234", "phone": "13905780010"}


def late_forestry_session(flow: Flow, *, checkpoint=None) -> int:
    """Returns the session id. `checkpoint(stage, sid)` is called once the session is opened
    (clock 2022-10-20) and after the meeting (2022-11-15)."""
    set_window(FORESTRY, 2022, "2022-08", "2022-10")
    hours("p10", {y: (60, 30, 12) for y in range(2019, 2023)})
    flow.at("2022-07-11")
    cid = flow.apply("p10", committee=FORESTRY, **P10)["id"]
    flow.through_unit(cid, "p10_hr", "liandu_forest", "2022-07-12")
    flow.at("2022-08-15")
    flow.do("forestry_office", cid, "受理及资格审查", {"decision": "approve"})
    flow.at("2022-10-20")
    sid = flow.start_session("forestry_office", "2022-11-15")["id"]
    if checkpoint:
        checkpoint("opened", sid)
    flow.to_meeting("forestry_office", sid, pre_notice="2022-10-24", report="2022-11-01", meeting="2022-11-15",
                    opinion_by="city_hr", opinion_on="2022-11-03")
    flow.meeting("forestry_office", sid, {cid: 12})
    if checkpoint:
        checkpoint("met", sid)
    end = flow.post_notice("forestry_office", sid, "2022-11-17")
    flow.at(_next_day(end))
    flow.timers()
    flow.do("forestry_office", sid, "报送公布申请", {"decision": "approve"})
    flow.at("2022-11-25")
    flow.do("city_hr", sid, "审核并发文公布", {"decision": "approve"})
    assert flow.instance(sid)["data"]["published_doc_no"]
    return sid


def on_time_teachers_session(flow: Flow) -> int:
    set_window(LIANDU_TEACHERS, 2022, "2022-07", "2022-10")
    cases = []
    for i, username in enumerate(["teacher1", "t2"]):
        hours(username, {y: (60, 30, 12) for y in range(2019, 2023)})
        flow.at("2022-07-11")
        cid = flow.apply(username, **{**P01, "id_number": f"33250119900101{1230 + i}"})["id"]
        flow.through_unit(cid, "school_hr", "liandu_edu", "2022-07-12")
        flow.at("2022-08-15")
        flow.do("edu_office", cid, "受理及资格审查", {"decision": "approve"})
        cases.append(cid)
    flow.at("2022-08-22")
    sid = flow.start_session("edu_office", "2022-09-20")["id"]
    flow.to_meeting("edu_office", sid, pre_notice="2022-08-29", report="2022-09-08", meeting="2022-09-20",
                    opinion_by="liandu_hr", opinion_on="2022-09-14", filing_by="city_hr")
    flow.meeting("edu_office", sid, {cases[0]: 11, cases[1]: 7}, attending=12)
    end = flow.post_notice("edu_office", sid, "2022-09-22")
    flow.at(_next_day(end))
    flow.timers()
    flow.do("edu_office", sid, "报送公布申请", {"decision": "approve"})
    flow.at("2022-09-30")
    flow.do("liandu_hr", sid, "审核并发文公布", {"decision": "approve"})
    data = flow.instance(sid)["data"]
    assert data["published_on"] == "2022-09-30" and data["passed"] == 1
    return sid


def _next_day(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
