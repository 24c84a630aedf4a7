"""Supervision of a plan year: self-inspection by every committee office that reviewed (including the
self-managed unit's committee), the March–April re-examination checklist, the random inspection whose
draw is reproducible from its recorded seed and list, and the public results page."""

from __future__ import annotations

from test_p07_u2_self_managed import UNIT_COMMITTEE, start_cycle
from title_flow import AUTO, LIANDU_TEACHERS

from app.extensions import db
from app.models import RandomDraw, SupervisionFinding
from app.rules import sampling
from app.services import supervision


def test_the_same_seed_and_list_give_the_same_draw():
    eligible = [f"单位{i:02d}" for i in range(30)]
    first = sampling.draw("lishui-2023", eligible, 5)
    assert sampling.draw("lishui-2023", list(eligible), 5) == first
    assert len(set(first)) == 5 and set(first) <= set(eligible)
    assert sampling.draw("another-seed", eligible, 5) != first  # overwhelmingly likely for 30 choose 5
    assert sampling.draw("lishui-2023", list(reversed(eligible)), 5) != first  # the recorded order matters


def test_a_year_of_supervision(flow):
    flow.at("2022-08-22")
    flow.start_session("edu_office", "2022-09-20")
    flow.start_session("auto_office", "2022-09-27")
    start_cycle(flow, "2022-11-01")
    flow.at("2023-01-05")
    refused = flow.api("liandu_hr").post("/api/v1/process-instances", json={"process_model": "supervision", "data": {}})
    assert refused.status_code == 422 and "丽水市人力资源和社会保障局" in refused.get_json()["error"]["message"]
    started = flow.api("city_hr").post("/api/v1/process-instances", json={
        "process_model": "supervision", "data": {"remarks": "2022年度评审监督"}})
    assert started.status_code == 201, started.get_json()
    sid = started.get_json()["id"]
    subjects = flow.instance(sid)["data"]["subjects"]
    assert set(subjects) == {LIANDU_TEACHERS, AUTO, UNIT_COMMITTEE}
    for office in ("edu_office", "auto_office", "hospital_admin"):
        flow.do(office, sid, "自查自纠", {"result": "compliant", "findings": "对照评审程序逐项自查，未发现问题。"})
    assert db.session.query(SupervisionFinding).filter_by(kind="self_inspection").count() == 3

    flow.at("2023-02-28T23:00:00+08:00")
    flow.timers()  # (the unit's cycle has its own deadlines)
    assert [t["name"] for t in flow.instance(sid)["open_tasks"]] == []
    flow.at("2023-03-01T00:00:00+08:00")
    flow.timers()
    assert [t["name"] for t in flow.instance(sid)["open_tasks"]] == ["集中复审督察"]
    flow.at("2023-03-15")
    rows = [{"evaluation": "compliant", "ce": "compliant", "daily": "compliant"} for _ in subjects]
    incomplete = flow.submit("city_hr", sid, "集中复审督察", {"decision": "approve", "rows": rows[:-1]})
    assert incomplete.status_code == 422
    rows[0] = {"evaluation": "problems", "ce": "compliant", "daily": "compliant", "notes": "评前公示期限不足5个工作日"}
    flow.do("city_hr", sid, "集中复审督察", {"decision": "approve", "rows": rows})
    reexam = {f.subject: f for f in db.session.query(SupervisionFinding).filter_by(kind="reexamination")}
    assert reexam[subjects[0]].result == "problems" and reexam[subjects[1]].result == "compliant"

    flow.do("city_hr", sid, "随机抽取检查单位", {"draw_count": 2, "draw_seed": "lishui-2023"})
    draw = db.session.query(RandomDraw).one()
    assert (draw.seed, draw.eligible, draw.count) == ("lishui-2023", subjects, 2)
    assert draw.selected == sampling.draw("lishui-2023", subjects, 2) and supervision.replay(draw)
    assert flow.instance(sid)["data"]["drawn"] == draw.selected
    flow.do("city_hr", sid, "录入随机抽查结果", {"decision": "approve", "rows": [
        {"result": "compliant", "findings": "抽查评审档案，程序规范"}, {"result": "problems", "findings": "部分材料未及时归档"}]})
    assert flow.instance(sid)["status"] == "completed"

    public = flow.client.get("/supervision/2022")
    html = public.get_data(as_text=True)
    assert public.status_code == 200 and "lishui-2023" in html and "按记录复核一致" in html
    assert "部分材料未及时归档" in html and "评前公示期限不足5个工作日" in html
