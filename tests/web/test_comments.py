"""Comments on a case: readable and writable by those who may see the case, notified to its
participants, validated, escaped, never shown to an unrelated unit."""

from __future__ import annotations

import re

import pytest
from api_client import Api
from page_client import Browser
from sqlalchemy import func, select

from app.extensions import db
from app.models import CaseComment, Event, HumanTask, Notification, Organisation, User

START = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
         "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}
INSTITUTE = "丽水市农林科学研究院"


@pytest.fixture()
def case(ctx):
    """A graduate case of grad_city waiting for the institute's 用人单位考核 (unclaimed)."""
    client = ctx.test_client()
    admin = Api(client, "admin")
    assert admin.put("/api/v1/clock", json={"now": "2022-07-11T09:00:00+08:00"}).status_code == 200
    response = Api(client, "grad_city").post("/api/v1/process-instances",
                                             json={"process_model": "graduate_initial_determination", "data": START})
    assert response.status_code == 201
    instance_id = response.get_json()["id"]
    db.session.rollback()
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
    return {"id": instance_id, "task_id": task.id, "admin": admin}


def post(browser: Browser, instance_id: int, body: str, page: str, **extra):
    return browser.submit(f"/instances/{instance_id}/comments", {"body": body, **extra}, token_from=page)


def user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def last_notice() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.max(Notification.id))) or 0


def comments_in(html: str) -> list[str]:
    return re.findall(r'<div class="comment-body">(.*?)</div>', html, re.S)


def test_participants_comment_and_read_each_other_oldest_first(ctx, case):
    cid, task_url = case["id"], f"/tasks/{case['task_id']}"
    hr, applicant, manager = Browser(ctx, "institute_hr"), Browser(ctx, "grad_city"), Browser(ctx, "manager")
    response = post(hr, cid, "请补充劳动合同复印件。\n社保记录已核对。", task_url, task_id=case["task_id"])
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{task_url}#comments")
    case["admin"].put("/api/v1/clock", json={"now": "2022-07-12T14:30:00+08:00"})
    assert post(applicant, cid, "已上传，<b>请查收</b>", task_url).status_code == 302
    assert post(manager, cid, "请按期办理", task_url).status_code == 302

    for browser in (hr, applicant, manager):
        page = browser.page(task_url)
        bodies = comments_in(page)
        # oldest first, escaped, line breaks kept (the body keeps its newline; CSS pre-wrap shows it)
        assert bodies == ["请补充劳动合同复印件。\n社保记录已核对。", "已上传，&lt;b&gt;请查收&lt;/b&gt;", "请按期办理"]
        assert "农林科学研究院人事 韩梅" in page and INSTITUTE in page and "2022-07-11 09:00" in page
        assert "林若溪" in page and "2022-07-12 14:30" in page and "监督管理员" in page
        assert comments_in(browser.page(f"/instances/{cid}")) == bodies  # the case page shows the same
    listed = Api(ctx.test_client(), "grad_city").get(f"/api/v1/process-instances/{cid}/comments").get_json()
    assert [c["author"]["username"] for c in listed] == ["institute_hr", "grad_city", "manager"]
    assert listed[0]["author"]["organisation"] == INSTITUTE

    db.session.rollback()
    events = db.session.scalars(select(Event).where(Event.type == "comment_added", Event.instance_id == cid)).all()
    assert [e.actor_id for e in events] == [user_id(u) for u in ("institute_hr", "grad_city", "manager")]


def test_an_unrelated_unit_neither_sees_nor_posts(ctx, case):
    cid = case["id"]
    post(Browser(ctx, "institute_hr"), cid, "内部意见：材料齐全", f"/tasks/{case['task_id']}")
    stranger = Browser(ctx, "liandu_co_hr")
    page = stranger.page(f"/instances/{cid}", status=403)
    assert "材料齐全" not in page
    assert "材料齐全" not in stranger.page(f"/tasks/{case['task_id']}", status=403)
    refused = post(stranger, cid, "我也来说两句", "/inbox")
    assert refused.status_code == 403
    api = Api(ctx.test_client(), "liandu_co_hr")
    assert api.get(f"/api/v1/process-instances/{cid}/comments").status_code == 403
    assert api.post(f"/api/v1/process-instances/{cid}/comments", json={"body": "再试"}).status_code == 403
    db.session.rollback()
    assert db.session.scalar(select(func.count(CaseComment.id))) == 1


def test_participants_except_the_author_are_notified(ctx, case):
    cid = case["id"]
    institute = db.session.scalar(select(Organisation.id).where(Organisation.name == INSTITUTE))

    post(Browser(ctx, "grad_city"), cid, "请问审核进度？", "/inbox")
    db.session.rollback()
    notices = db.session.scalars(select(Notification).where(Notification.kind == "comment")).all()
    # the open task's role in its unit; not the applicant who wrote it
    assert [(n.user_id, n.org_id, n.role, n.instance_id) for n in notices] == [(None, institute, "employer_hr", cid)]
    assert "林若溪" in notices[0].message and "请问审核进度" in notices[0].message
    assert "请问审核进度" in Browser(ctx, "institute_hr").page("/inbox")

    seen = last_notice()
    post(Browser(ctx, "institute_hr"), cid, "本周内办理", "/inbox")
    db.session.rollback()
    notices = db.session.scalars(select(Notification).where(Notification.kind == "comment",
                                                             Notification.id > seen)).all()
    # the author holds the open task's role: the applicant only (no other holder in the unit)
    assert [(n.user_id, n.org_id) for n in notices] == [(user_id("grad_city"), None)]

    seen = last_notice()
    post(Browser(ctx, "manager"), cid, "请按期办理", "/inbox")
    db.session.rollback()
    notices = db.session.scalars(select(Notification).where(Notification.kind == "comment",
                                                             Notification.id > seen)).all()
    assert {(n.user_id, n.org_id, n.role) for n in notices} == {
        (None, institute, "employer_hr"), (user_id("grad_city"), None, None)}


@pytest.mark.parametrize("body, message", [("", "意见内容不能为空"), ("  \n\t ", "意见内容不能为空"),
                                           ("长" * 2001, "意见内容不能超过 2000 个字符")])
def test_the_body_is_required_and_limited(ctx, case, body, message):
    hr = Browser(ctx, "institute_hr")
    response = post(hr, case["id"], body, f"/instances/{case['id']}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if body.strip():  # the case page again, with the text as typed
        assert f'name="body" rows="3" maxlength="2000" required>{body}</textarea>' in html
    db.session.rollback()
    assert db.session.scalar(select(func.count(CaseComment.id))) == 0
    assert db.session.scalar(select(func.count(Event.id)).where(Event.type == "comment_added")) == 0


def test_the_longest_body_is_kept_whole_and_trimmed(ctx, case):
    hr = Browser(ctx, "institute_hr")
    assert post(hr, case["id"], "  " + "长" * 2000 + "\n", "/inbox").status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(CaseComment.body)) == "长" * 2000


def test_a_comment_needs_a_csrf_token(ctx, case):
    hr = Browser(ctx, "institute_hr")
    response = hr.client.post(f"/instances/{case['id']}/comments", data={"body": "没有令牌"})
    assert response.status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count(CaseComment.id))) == 0


def test_comments_through_the_api(ctx, case):
    api = Api(ctx.test_client(), "manager")
    url = f"/api/v1/process-instances/{case['id']}/comments"
    created = api.post(url, json={"body": "  请在截止日前办结  "})
    assert created.status_code == 201
    assert created.get_json()["body"] == "请在截止日前办结" and created.get_json()["author"]["username"] == "manager"
    invalid = api.post(url, json={"body": 42})
    assert invalid.status_code == 422 and invalid.get_json()["error"]["fields"]["body"]
    assert [c["body"] for c in api.get(url).get_json()] == ["请在截止日前办结"]
