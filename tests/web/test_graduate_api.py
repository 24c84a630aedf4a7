"""The graduate initial determination end to end through the REST API, as the demo users."""

from __future__ import annotations

import pytest
from api_client import Api

START = {
    "education": "本科",
    "graduation_date": "2021-06-30",
    "work_start_date": "2021-07-01",
    "months_pre_degree": 0,
    "specialty": "农学",
    "requested_level": "助理级",
}


def set_clock(admin: Api, value: str) -> None:
    response = admin.put("/api/v1/clock", json={"now": value})
    assert response.status_code == 200, response.get_json()


def start(api: Api, **changes):
    response = api.post("/api/v1/process-instances",
                        json={"process_model": "graduate_initial_determination", "data": {**START, **changes}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture()
def client(ctx):
    return ctx.test_client()


def test_city_graduate_walks_to_certificate(client):
    admin = Api(client, "admin")
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    grad = Api(client, "grad_city")
    instance = start(grad)
    assert instance["status"] == "running"
    assert [t["name"] for t in instance["open_tasks"]] == ["用人单位考核"]

    employer = Api(client, "institute_hr")
    tasks = employer.tasks(instance_id=instance["id"])
    assert len(tasks) == 1 and tasks[0]["organisation"] == "丽水市农林科学研究院"
    task_id = tasks[0]["id"]
    assert employer.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    done = employer.complete(task_id, {"decision": "approve"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "waiting"
    assert body["data"]["batch"] == "2022-08"
    assert body["data"]["max_level"] == "助理级"
    assert body["data"]["reviewer_org"] == "丽水市人力资源和社会保障局"
    assert body["open_tasks"] == []

    city = Api(client, "city_hr")
    assert city.tasks(instance_id=instance["id"]) == []
    assert admin.post("/api/v1/timers/run").get_json() == {"fired": 0}
    set_clock(admin, "2022-08-10T00:00:00+08:00")
    assert admin.post("/api/v1/timers/run").get_json() == {"fired": 1}

    tasks = city.tasks(instance_id=instance["id"])
    assert [t["name"] for t in tasks] == ["初定审核"]
    detail = city.get(f"/api/v1/tasks/{tasks[0]['id']}").get_json()
    assert detail["case"]["max_level"] == "助理级"
    assert detail["case"]["level_reason"].startswith("本科")
    level_options = detail["form"]["schema"]["properties"]["approved_level"]["enum"]
    assert level_options == ["员级", "助理级"]
    done = city.complete(tasks[0]["id"], {"decision": "approve", "approved_level": "助理级"})
    assert done.status_code == 200, done.get_json()
    result = done.get_json()
    assert result["status"] == "completed"
    assert result["data"]["outcome"] == "approved"
    assert result["data"]["approved_level"] == "助理级"
    number = result["data"]["certificate_no"]
    assert number.startswith("LSCD2022")

    page = client.get("/certificates/verify", query_string={"number": number})
    assert page.status_code == 200
    assert "证书有效" in page.get_data(as_text=True)

    events = grad.get(f"/api/v1/process-instances/{instance['id']}/events").get_json()
    types = [e["type"] for e in events]
    for expected in ("instance_started", "task_created", "task_claimed", "task_completed", "timer_fired",
                     "certificate_issued", "instance_completed"):
        assert expected in types
    claimed = next(e for e in events if e["type"] == "task_claimed")
    assert claimed["actor"] == "institute_hr"


def test_liandu_junior_case_goes_to_the_district_bureau(client):
    admin = Api(client, "admin")
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    grad = Api(client, "grad_liandu")
    instance = start(grad, education="大专", graduation_date="2019-06-30", work_start_date="2019-07-01",
                     specialty="机械设计")
    employer = Api(client, "liandu_co_hr")
    task = employer.tasks(instance_id=instance["id"])[0]
    body = employer.complete(task["id"], {"decision": "approve"}).get_json()
    assert body["data"]["reviewer_org"] == "莲都区人力资源和社会保障局"
    assert body["data"]["max_level"] == "助理级"  # 36 months (P09 b)
    set_clock(admin, "2022-08-10T08:00:00+08:00")
    admin.post("/api/v1/timers/run")
    assert Api(client, "city_hr").tasks(instance_id=instance["id"]) == []
    district = Api(client, "liandu_hr")
    review = district.tasks(instance_id=instance["id"])
    assert [t["name"] for t in review] == ["初定审核"]
    result = district.complete(review[0]["id"], {"decision": "approve", "approved_level": "助理级"}).get_json()
    assert result["data"]["outcome"] == "approved"
    assert result["data"]["certificate_no"]


def test_other_organisation_is_refused(client):
    admin = Api(client, "admin")
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    instance = start(Api(client, "grad_city"))
    task_id = Api(client, "institute_hr").tasks(instance_id=instance["id"])[0]["id"]
    other = Api(client, "liandu_co_hr")
    assert other.tasks(instance_id=instance["id"]) == []
    response = other.complete(task_id, {"decision": "approve"})
    assert response.status_code == 403
    assert response.get_json()["error"]["message"]
    assert other.get(f"/api/v1/process-instances/{instance['id']}").status_code == 403
    assert Api(client, "grad_liandu").get(f"/api/v1/process-instances/{instance['id']}").status_code == 403


def test_bad_form_is_422_with_fields_and_nothing_saved(client):
    admin = Api(client, "admin")
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    grad = Api(client, "grad_city")
    response = grad.post("/api/v1/process-instances", json={
        "process_model": "graduate_initial_determination",
        "data": {"education": "小学", "graduation_date": "2030-01-01", "months_pre_degree": -1}})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields["education"] == ["请选择有效的选项"]
    assert fields["graduation_date"] == ["日期不能晚于今天"]
    assert "specialty" in fields and "months_pre_degree" in fields
    assert grad.get("/api/v1/process-instances").get_json()["total"] == 0

    instance = start(grad)
    employer = Api(client, "institute_hr")
    task_id = employer.tasks(instance_id=instance["id"])[0]["id"]
    response = employer.complete(task_id, {"decision": "return"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"opinion": ["此项为必填项"]}
    assert employer.tasks(instance_id=instance["id"])[0]["id"] == task_id
    events = grad.get(f"/api/v1/process-instances/{instance['id']}/events").get_json()
    assert "task_completed" not in [e["type"] for e in events]


def test_double_completion_is_409(client):
    admin = Api(client, "admin")
    set_clock(admin, "2022-07-15T09:00:00+08:00")
    instance = start(Api(client, "grad_city"))
    employer = Api(client, "institute_hr")
    task_id = employer.tasks(instance_id=instance["id"])[0]["id"]
    assert employer.complete(task_id, {"decision": "approve"}).status_code == 200
    again = employer.complete(task_id, {"decision": "approve"})
    assert again.status_code == 409
    assert "已由" in again.get_json()["error"]["message"]


def test_return_and_resubmit_then_bureau_rejects(client):
    admin = Api(client, "admin")
    set_clock(admin, "2022-04-15T09:00:00+08:00")
    grad = Api(client, "grad_liandu")
    instance = start(grad, education="大专", graduation_date="2019-06-30", work_start_date="2019-07-01")
    employer = Api(client, "liandu_co_hr")
    task = employer.tasks(instance_id=instance["id"])[0]
    employer.complete(task["id"], {"decision": "return", "opinion": "请补充劳动合同"})
    revise = grad.tasks(instance_id=instance["id"])
    assert [t["name"] for t in revise] == ["修改申请"]
    detail = grad.get(f"/api/v1/tasks/{revise[0]['id']}").get_json()
    assert detail["data"]["education"] == "大专"
    body = grad.complete(revise[0]["id"], {**START, "education": "大专", "graduation_date": "2019-06-30",
                                           "work_start_date": "2019-07-01"}).get_json()
    assert [t["name"] for t in body["open_tasks"]] == ["用人单位考核"]
    task = employer.tasks(instance_id=instance["id"])[0]
    body = employer.complete(task["id"], {"decision": "approve"}).get_json()
    assert body["data"]["max_level"] == "员级"  # 33 months (P09 a)
    assert body["data"]["batch"] == "2022-05"
    set_clock(admin, "2022-05-10T00:00:00+08:00")
    admin.post("/api/v1/timers/run")
    district = Api(client, "liandu_hr")
    review = district.tasks(instance_id=instance["id"])[0]
    too_high = district.complete(review["id"], {"decision": "approve", "approved_level": "助理级"})
    assert too_high.status_code == 422
    result = district.complete(review["id"], {"decision": "reject", "opinion": "工作年限不足3年，建议申请员级"})
    assert result.get_json()["data"]["outcome"] == "rejected"


def test_rule_endpoint_and_calendar(client):
    api = Api(client, "city_hr")
    out = api.post("/api/v1/rules/initial_determination/evaluate", json={"inputs": {
        "education": "硕士", "months_pre_degree": 6, "months_post_grad": 30, "unit_county": "市本级",
        "self_managed": False, "requested_level": "中级"}}).get_json()["outputs"]
    assert out["max_level"] == "中级" and out["eligible"] is True
    assert out["reviewer_org"] == "丽水市人力资源和社会保障局"
    bad = api.post("/api/v1/rules/initial_determination/evaluate", json={"inputs": {"education": "x"}})
    assert bad.status_code == 422
    assert api.post("/api/v1/rules/nope/evaluate", json={"inputs": {}}).status_code == 404
    day = api.get("/api/v1/calendar/add-working-days", query_string={"date": "2022-09-29", "days": 5}).get_json()
    assert day == {"date": "2022-10-11", "provisional": False}
    later = api.get("/api/v1/calendar/add-working-days", query_string={"date": "2030-01-04", "days": 1}).get_json()
    assert later == {"date": "2030-01-07", "provisional": True}


def test_clock_only_for_admins(client):
    assert Api(client, "city_hr").put("/api/v1/clock", json={"now": "2022-01-01"}).status_code == 403
    assert Api(client, "admin").put("/api/v1/clock", json={"now": "bad"}).status_code == 422


def test_api_errors_are_json(client):
    assert client.get("/api/v1/me").status_code == 401
    response = client.post("/api/v1/auth/token", data="not json", content_type="application/json")
    assert response.status_code == 400 and "error" in response.get_json()
    api = Api(client, "grad_city")
    assert api.get("/api/v1/process-instances/999999").status_code == 404
    assert api.post("/api/v1/tasks/999999/complete", json={"data": {}}).status_code == 404
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert "paths" in client.get("/api/v1/openapi.json").get_json()


def test_title_rules_through_the_api(client):
    api = Api(client, "edu_office")

    def evaluate(rule_id: str, inputs: dict):
        return api.post(f"/api/v1/rules/{rule_id}/evaluate", json={"inputs": inputs})

    out = evaluate("lead_time_ok", {"meeting_date": "2022-10-10", "action_date": "2022-09-29",
                                    "written_opinion": "agree"}).get_json()["outputs"]
    assert out["may_convene"] is False
    assert (out["latest_action_date"], out["earliest_meeting_date"]) == ("2022-09-28", "2022-10-11")
    p01 = {"application_year": 2022, "title_year": 2017, "required_years": 5, "hours": {
        "2019": {"professional": 66, "public": 30, "general_public": 18},
        "2020": {"professional": 60, "public": 30, "general_public": 12},
        "2021": {"professional": 72, "public": 30, "general_public": 14},
        "2022": {"professional": 72, "public": 18, "general_public": 12}}}
    out = evaluate("ce_application_ok", p01).get_json()["outputs"]
    assert out["ce_ok"] is True and out["compliant_years"] == 5
    out = evaluate("authority_resolution", {"committee_level": "中", "committee_location": "莲都区"}).get_json()["outputs"]
    assert out == {"supervising_hr": "莲都区人力资源和社会保障局", "filing_hr": "丽水市人力资源和社会保障局",
                   "publishing_hr": "莲都区人力资源和社会保障局", "letter_issuer": "丽水市人力资源和社会保障局"}
    assert evaluate("vote_result", {"members": 15, "attending": 12, "yes": 7}).get_json()["outputs"]["passed"] is False
    bad = evaluate("vote_result", {"members": 15, "attending": True, "yes": 20})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) >= {"attending"}
