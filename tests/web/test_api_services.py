"""The API around the procedures: claiming, model validation, CE hours, messages, concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from api_client import PASSWORD, Api
from sqlalchemy import func, select

from app.engine import read_model_folder
from app.extensions import db
from app.models import CeRecord, Event, User, UserRole
from app.services import auth, registry

ROOT = Path(__file__).resolve().parents[2]
GRADUATE = ROOT / "bpmn" / "graduate_initial_determination"
START = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
         "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}


@pytest.fixture()
def client(ctx):
    client = ctx.test_client()
    Api(client, "admin").put("/api/v1/clock", json={"now": "2022-07-15T09:00:00+08:00"})
    return client


def second_employer_user(username: str = "institute_hr2") -> str:
    """A colleague of institute_hr in the same organisation and role."""
    first = db.session.scalar(select(User).where(User.username == "institute_hr"))
    user = User(username=username, display_name="农林科学研究院人事 李雷", org_id=first.org_id,
                password_hash=auth.hash_password(PASSWORD))
    db.session.add(user)
    db.session.flush()
    db.session.add(UserRole(user_id=user.id, role="employer_hr", org_id=first.org_id))
    db.session.commit()
    return username


def employer_task(client) -> tuple[int, int]:
    grad = Api(client, "grad_city")
    response = grad.post("/api/v1/process-instances",
                         json={"process_model": "graduate_initial_determination", "data": START})
    assert response.status_code == 201
    instance_id = response.get_json()["id"]
    [task] = Api(client, "institute_hr").tasks(instance_id=instance_id)
    return instance_id, task["id"]


# -- claim and release ----------------------------------------------------------------------
def test_claim_release_and_conflicts_between_colleagues(client):
    instance_id, task_id = employer_task(client)
    me = Api(client, "institute_hr")
    colleague = Api(client, second_employer_user())
    assert [t["id"] for t in colleague.tasks(instance_id=instance_id)] == [task_id]

    claimed = me.post(f"/api/v1/tasks/{task_id}/claim")
    assert claimed.status_code == 200
    assert claimed.get_json()["assignee"] == "institute_hr"
    assert me.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200  # claiming again is harmless

    taken = colleague.post(f"/api/v1/tasks/{task_id}/claim")
    assert taken.status_code == 409
    assert "农林科学研究院人事 韩梅" in taken.get_json()["error"]["message"]
    blocked = colleague.complete(task_id, {"decision": "approve"})
    assert blocked.status_code == 409
    assert "不能由您办理" in blocked.get_json()["error"]["message"]
    not_mine = colleague.post(f"/api/v1/tasks/{task_id}/release")
    assert not_mine.status_code == 409

    assert me.post(f"/api/v1/tasks/{task_id}/release").get_json()["assignee"] is None
    assert colleague.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    done = colleague.complete(task_id, {"decision": "approve"})
    assert done.status_code == 200
    late = me.post(f"/api/v1/tasks/{task_id}/claim")
    assert late.status_code == 409

    events = Api(client, "grad_city").get(f"/api/v1/process-instances/{instance_id}/events").get_json()
    trail = [(e["type"], e["actor"]) for e in events if e["type"].startswith("task_") and e["type"] != "task_created"]
    assert trail == [("task_claimed", "institute_hr"), ("task_claimed", "institute_hr"),
                     ("task_released", "institute_hr"), ("task_claimed", "institute_hr2"),
                     ("task_completed", "institute_hr2")]


def test_claim_is_refused_outside_the_organisation(client):
    _, task_id = employer_task(client)
    for username in ("liandu_co_hr", "grad_city", "city_hr"):
        assert Api(client, username).post(f"/api/v1/tasks/{task_id}/claim").status_code == 403


def test_simultaneous_completions_give_one_success_and_one_conflict(ctx, client):
    instance_id, task_id = employer_task(client)
    apis = [Api(ctx.test_client(), "institute_hr"), Api(ctx.test_client(), second_employer_user())]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def complete(api: Api) -> None:
        barrier.wait()
        results.append(api.complete(task_id, {"decision": "approve"}).status_code)

    threads = [threading.Thread(target=complete, args=(api,)) for api in apis]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    db.session.rollback()  # end this test's own read transaction: see what the two requests committed
    completed = db.session.scalar(select(func.count()).select_from(Event).where(
        Event.instance_id == instance_id, Event.type == "task_completed"))
    assert completed == 1


# -- model validation -----------------------------------------------------------------------
def upload(api: Api, files: dict[str, bytes]):
    import io

    data = {"files": [(io.BytesIO(content), name) for name, content in files.items()]}
    return api.client.post("/api/v1/process-models/validate", data=data, headers=api.headers,
                           content_type="multipart/form-data")


def graduate_files() -> dict[str, bytes]:
    return {Path(name).name: text.encode() for name, text in read_model_folder(GRADUATE, ROOT / "forms").items()}


def test_validate_accepts_the_bundled_model_for_owners_only(client):
    files = graduate_files()
    response = upload(Api(client, "owner"), files)
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "problems": []}
    assert upload(Api(client, "city_hr"), files).status_code == 403
    assert upload(Api(client, "grad_city"), files).status_code == 403


def test_validate_refuses_a_doctype_and_names_the_file(client):
    files = graduate_files()
    name = next(n for n in files if n.endswith(".bpmn"))
    files[name] = files[name].replace(
        b"?>", b'?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1)
    body = upload(Api(client, "owner"), files).get_json()
    assert body["ok"] is False
    [problem] = body["problems"]
    assert problem["file"] == name and "DOCTYPE" in problem["message"]
    assert "root:" not in str(body)


def test_validate_names_the_broken_element(client):
    files = graduate_files()
    name = next(n for n in files if n.endswith(".bpmn"))
    files[name] = files[name].replace(b'decision == &quot;approve&quot;', b"decision ==", 1)
    body = upload(Api(client, "owner"), files).get_json()
    assert body["ok"] is False
    assert [p["element_id"] for p in body["problems"]] == ["Flow_approve"]
    assert "条件表达式" in body["problems"][0]["message"]


def test_validate_refuses_bad_uploads_with_422(client):
    owner = Api(client, "owner")
    deployed = db.session.scalar(select(func.count()).select_from(registry.ProcessVersion))
    assert upload(owner, {"notes.exe": b"MZ"}).status_code == 422
    assert upload(owner, {"a.bpmn": "中文".encode("gbk")}).status_code == 422
    empty = owner.client.post("/api/v1/process-models/validate", headers=owner.headers)
    assert empty.status_code == 422
    assert "files" in empty.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(registry.ProcessVersion)) == deployed == 5


# -- continuing education -------------------------------------------------------------------
def test_ce_records_upsert_for_hr_staff(client):
    hr = Api(client, "city_hr")
    rows = [{"username": "teacher1", "year": 2021, "professional": 60, "public": 30, "general_public": 10},
            {"username": "teacher1", "year": 2022, "professional": 40, "public": 20, "general_public": 0}]
    response = hr.put("/api/v1/ce-records", json=rows)
    assert response.status_code == 200 and response.get_json() == {"upserted": 2}
    rows[0]["professional"] = 72
    assert hr.put("/api/v1/ce-records", json=rows[:1]).status_code == 200
    teacher = db.session.scalar(select(User).where(User.username == "teacher1"))
    db.session.expire_all()
    saved = {r.year: r.professional for r in db.session.scalars(select(CeRecord).where(CeRecord.user_id == teacher.id))}
    assert saved == {2021: 72, 2022: 40}


def test_ce_records_refused_for_applicants_and_checked(client):
    row = {"username": "teacher1", "year": 2021, "professional": 60, "public": 30, "general_public": 10}
    assert Api(client, "teacher1").put("/api/v1/ce-records", json=[row]).status_code == 403
    assert Api(client, "school_hr").put("/api/v1/ce-records", json=[row]).status_code == 403
    hr = Api(client, "city_hr")
    bad = hr.put("/api/v1/ce-records", json=[
        row,
        {"username": "nobody", "year": 1900, "professional": -1, "public": 30, "general_public": 10},
        {"username": "teacher1", "year": 2021, "professional": 1, "public": 5, "general_public": 9},
    ])
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert set(fields) == {"1.username", "1.year", "1.professional", "2.general_public"}
    assert hr.put("/api/v1/ce-records", json={"username": "teacher1"}).status_code == 422
    assert hr.client.put("/api/v1/ce-records", data="x", headers=hr.headers, content_type="application/json").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(CeRecord)) == 0  # nothing of a bad batch saved


# -- messages -------------------------------------------------------------------------------
@pytest.fixture()
def probe(ctx):
    files = read_model_folder(Path(__file__).parent / "models" / "message_probe", ROOT / "forms")
    registry.deploy(files)
    db.session.commit()


def start_probe(client, username: str) -> int:
    response = Api(client, username).post("/api/v1/process-instances", json={"process_model": "message_probe"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "waiting"
    return response.get_json()["id"]


def test_message_reaches_only_the_correlated_instance(client, probe):
    first = start_probe(client, "grad_city")
    second = start_probe(client, "grad_liandu")
    admin = Api(client, "admin")
    response = admin.post("/api/v1/messages", json={
        "name": "probe_reply", "correlation": {"applicant": "grad_liandu"},
        "payload": {"decision": "accepted", "note": "材料齐全"}})
    assert response.status_code == 202
    assert response.get_json() == {"delivered_to": [second]}
    done = admin.get(f"/api/v1/process-instances/{second}").get_json()
    assert done["status"] == "completed"
    assert done["data"]["outcome"] == "accepted" and done["data"]["reply_note"] == "材料齐全"
    assert admin.get(f"/api/v1/process-instances/{first}").get_json()["status"] == "waiting"
    again = admin.post("/api/v1/messages", json={"name": "probe_reply", "correlation": {"applicant": "grad_liandu"},
                                                   "payload": {"decision": "x"}})
    assert again.status_code == 404
    events = admin.get(f"/api/v1/process-instances/{second}/events").get_json()
    assert "message_delivered" in [e["type"] for e in events]


def test_message_is_404_when_nothing_waits_and_scoped_by_access(client, probe):
    start_probe(client, "grad_city")
    nobody = Api(client, "admin").post("/api/v1/messages", json={"name": "no_such_message", "correlation": {}})
    assert nobody.status_code == 404
    assert "no_such_message" in nobody.get_json()["error"]["message"]
    # an outsider cannot reach an instance it may not see: as if nothing waits
    outsider = Api(client, "liandu_co_hr").post("/api/v1/messages", json={
        "name": "probe_reply", "correlation": {"applicant": "grad_city"}, "payload": {"decision": "x"}})
    assert outsider.status_code == 404
    bad = Api(client, "admin").post("/api/v1/messages", json={"name": "", "correlation": []})
    assert bad.status_code == 422
