"""The notifications page: each user's own notices only, the unread badge in the nav, marking read
(one and all) by POST with CSRF, paging with unread first."""

from __future__ import annotations

import re

import pytest
from api_client import Api
from page_client import Browser
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, Notification, User
from app.services import instances, notifications

GRAD = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
        "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}
NOTICE = re.compile(r'data-notification-id="(\d+)" data-read="(yes|no)"')


@pytest.fixture()
def admin(ctx):
    return Api(ctx.test_client(), "admin")


def set_clock(admin: Api, value: str) -> None:
    assert admin.put("/api/v1/clock", json={"now": value}).status_code == 200
    db.session.rollback()  # a fresh snapshot after the request's commit (SQLite)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def start_case(username: str) -> HumanTask:
    case = instances.start_instance(user(username), "graduate_initial_determination", dict(GRAD))
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id))


def listed(html: str) -> list[tuple[int, str]]:
    return [(int(i), read) for i, read in NOTICE.findall(html)]


@pytest.fixture()
def reminded(ctx, admin):
    """Two graduate cases at two employers, swept on their due day (10-08, after the National Day)."""
    set_clock(admin, "2022-09-26T09:00:00+08:00")
    city, liandu = start_case("grad_city"), start_case("grad_liandu")
    ids = {"city_task": city.id, "liandu_task": liandu.id, "city_title": city.instance.title,
           "liandu_title": liandu.instance.title}
    set_clock(admin, "2022-10-08T09:00:00+08:00")
    assert admin.post("/api/v1/reminders/run").get_json()["reminders"] == 2
    db.session.rollback()
    return ids


def test_each_employer_sees_only_its_own_reminders(ctx, reminded):
    hr = Browser(ctx, "institute_hr")
    page = hr.page("/notifications")
    assert reminded["city_title"] in page and reminded["liandu_title"] not in page
    assert "今日（2022-10-08）到期" in page
    assert f'href="/tasks/{reminded["city_task"]}"' in page
    assert '提醒<span class="unread-count">(1)</span>' in hr.page("/inbox")  # the nav badge on every page
    [(notice_id, read)] = listed(page)
    assert read == "no"

    other = Browser(ctx, "liandu_co_hr")
    other_page = other.page("/notifications")
    assert reminded["liandu_title"] in other_page and reminded["city_title"] not in other_page
    # Marking another unit's notice read is refused as if it did not exist.
    refused = other.submit(f"/notifications/{notice_id}/read", token_from="/notifications")
    assert refused.status_code == 404
    db.session.rollback()
    assert db.session.get(Notification, notice_id).read_at is None
    # Someone with no notices sees none, and no badge.
    applicant = Browser(ctx, "grad_city")
    assert listed(applicant.page("/notifications")) == []
    assert 'class="unread-count"' not in applicant.page("/inbox")


def test_marking_read_needs_csrf_and_is_kept(ctx, reminded):
    hr = Browser(ctx, "institute_hr")
    [(notice_id, _)] = listed(hr.page("/notifications"))
    without = hr.client.post(f"/notifications/{notice_id}/read")
    assert without.status_code == 400
    db.session.rollback()
    assert db.session.get(Notification, notice_id).read_at is None

    done = hr.submit(f"/notifications/{notice_id}/read", token_from="/notifications")
    assert done.status_code == 302 and done.headers["Location"].startswith("/notifications")
    page = hr.page("/notifications")
    assert listed(page) == [(notice_id, "yes")]
    assert 'class="unread-count"' not in page
    db.session.rollback()
    assert db.session.get(Notification, notice_id).read_at is not None


def test_mark_all_read_and_role_notices(ctx, reminded, admin):
    set_clock(admin, "2022-10-09T09:00:00+08:00")
    assert admin.post("/api/v1/reminders/run").get_json()["reminders"] == 2  # overdue now
    db.session.rollback()
    hr = user("institute_hr")
    # A notice for the role in the unit (not a deadline reminder) is shared by the role.
    notifications.notify("filing", "请报送年度总结", org_id=hr.org_id, role="employer_hr")
    db.session.commit()

    browser = Browser(ctx, "institute_hr")
    page = browser.page("/notifications")
    assert [read for _, read in listed(page)] == ["no", "no", "no"]
    assert "请报送年度总结" in page and "现已逾期" in page
    assert "请报送年度总结" not in Browser(ctx, "liandu_co_hr").page("/notifications")
    assert browser.client.post("/notifications/read-all").status_code == 400
    done = browser.submit("/notifications/read-all", token_from="/notifications")
    assert done.status_code == 302
    page = browser.page("/notifications")
    assert "已将 3 条提醒标为已读" in page
    assert [read for _, read in listed(page)] == ["yes", "yes", "yes"]
    # The other unit's notices are untouched.
    assert [read for _, read in listed(Browser(ctx, "liandu_co_hr").page("/notifications"))] == ["no", "no"]


def test_paging_with_unread_first(ctx):
    hr = user("institute_hr")
    rows = [notifications.notify("reminder", f"第 {n:02d} 条提醒", user_id=hr.id) for n in range(1, 26)]
    db.session.commit()
    oldest_id = rows[0].id
    for row in rows[1:6]:  # five recent ones already read
        notifications.mark_read(hr, row.id)
    browser = Browser(ctx, "institute_hr")

    first = listed(browser.page("/notifications"))
    assert len(first) == 20 and all(read == "no" for _, read in first)
    assert first[0][0] == rows[-1].id and first[-1][0] == oldest_id  # unread, newest first
    second = listed(browser.page("/notifications?page=2"))
    assert [read for _, read in second] == ["yes"] * 5
    assert "第 2 / 2 页" in browser.page("/notifications?page=2")

    newest = listed(browser.page("/notifications?order=newest"))
    assert [i for i, _ in newest] == [r.id for r in reversed(rows)][:20]
    assert listed(browser.page("/notifications?order=newest&page=2"))[-1] == (oldest_id, "no")
