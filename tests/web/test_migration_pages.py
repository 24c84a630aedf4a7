"""版本迁移 pages: the check list, the bulk job's progress, the migration history and undo."""

from __future__ import annotations

import re

import pytest
from migration_world import Cases, rename, variant
from page_client import Browser, csrf_from
from sqlalchemy import select

from app.extensions import db
from app.models import BackgroundJob, Event, InstanceMigration, ProcessInstance

URL = "/models/title_application/migrate"


@pytest.fixture()
def world(ctx):
    return Cases(ctx)


def row(html: str, cid: int) -> str:
    match = re.search(rf'<tr data-instance-id="{cid}".*?</tr>', html, re.S)
    assert match, f"no row for instance {cid}"
    return match.group(0)


def test_owner_checks_migrates_in_bulk_watches_progress_and_undoes(ctx, world):
    v2 = variant(rename("Task_unit_notice_end", "Task_notice_deadline"))
    owner = Browser(ctx, "owner")
    assert "版本迁移" in owner.page("/inbox")
    index = owner.page("/migrations")
    assert f"{URL}?from=1" in index

    html = owner.page(f"{URL}?from=1&to={v2.version}")
    assert "可安全迁移" in row(html, world.at_review) and "可安全迁移" in row(html, world.at_notice)
    refused = row(html, world.notice_running)
    assert "不能迁移" in refused and "Task_unit_notice_end（计算公示截止日）在新版本中已删除" in refused
    assert 'name="instance_ids"' not in refused

    response = owner.submit(URL, {"to": str(v2.version), "from": "1",
                                  "instance_ids": [str(world.at_review), str(world.at_notice),
                                                   str(world.notice_running)]},
                            token_from=f"{URL}?from=1&to={v2.version}")
    assert response.status_code == 302
    job_url = response.headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    page = owner.page(job_url)
    assert "版本迁移" in page and 'id="job-progress"' in page and "jobs.js" in page
    progress = owner.client.get(f"/jobs/{job_id}.json").get_json()  # the poll advances the job
    assert (progress["status"], progress["done"], progress["total"], progress["failed"]) == ("done", 3, 3, 1)
    by_id = {r["id"]: r for r in progress["results"]}
    assert by_id[world.at_review]["ok"] and by_id[world.at_notice]["ok"]
    assert "计算公示截止日" in by_id[world.notice_running]["message"]
    assert "未迁移" in owner.page(job_url)

    # the history: the admin sees it on the instance page, with the undo button for the latest move
    admin = Browser(ctx, "admin")
    instance_page = admin.page(f"/instances/{world.at_review}")
    assert "迁移到新版本" in instance_page and "版本 1 → 版本 2" in instance_page
    assert "撤销迁移" in instance_page
    db.session.rollback()
    moved = db.session.scalar(select(InstanceMigration).where(InstanceMigration.instance_id == world.at_review))

    without_reason = admin.submit(f"/migrations/{moved.id}/undo", {"reason": ""},
                                  token_from=f"/instances/{world.at_review}")
    assert without_reason.status_code == 422 and "请填写撤销原因" in without_reason.get_data(as_text=True)
    done = admin.submit(f"/migrations/{moved.id}/undo", {"reason": "迁移批次有误"},
                        token_from=f"/instances/{world.at_review}")
    assert done.status_code == 302
    db.session.rollback()
    assert db.session.get(ProcessInstance, world.at_review).version.version == 1
    assert "撤销版本迁移" in admin.page(f"/instances/{world.at_review}")
    assert db.session.scalar(select(Event.id).where(Event.instance_id == world.at_review,
                                                    Event.type == "instance_migration_undone"))
    # the owner reaches the same history on its own page
    history = owner.page(f"/instances/{world.at_notice}/migrations")
    assert "撤销迁移" in history and "版本 1 → 版本 2" in history


def test_bad_input_is_refused_without_a_500(ctx, world):
    v2 = variant(rename("Task_unit_notice_end", "Task_notice_deadline"))
    owner = Browser(ctx, "owner")
    nothing = owner.submit(URL, {"to": str(v2.version)})
    assert nothing.status_code == 422 and "请至少选择一个流程实例" in nothing.get_data(as_text=True)
    bad = owner.submit(URL, {"to": str(v2.version), "instance_ids": ["abc"]})
    assert bad.status_code == 422
    foreign = owner.submit(URL, {"to": str(v2.version), "instance_ids": ["999999"]})
    assert foreign.status_code == 422 and "999999" in foreign.get_data(as_text=True)
    owner.page("/models/no_such_process/migrate", status=404)
    owner.page(f"{URL}?to=99", status=404)
    assert owner.client.get(f"{URL}?to=x").status_code == 422
    owner.page("/jobs/424242", status=404)
    owner.page("/jobs/424242.json", status=404)
    token = csrf_from(owner.page("/migrations"))
    assert owner.client.post("/migrations/424242/undo", data={"csrf_token": token, "reason": "无"}).status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(BackgroundJob.id)) is None


def test_only_owners_and_admins_and_only_with_csrf(ctx, world):
    v2 = variant(rename("Task_unit_notice_end", "Task_notice_deadline"))
    owner = Browser(ctx, "owner")
    no_token = owner.client.post(URL, data={"to": str(v2.version), "instance_ids": [str(world.at_review)]})
    assert no_token.status_code == 400 and "CSRF" in no_token.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(BackgroundJob.id)) is None

    response = owner.submit(URL, {"to": str(v2.version), "instance_ids": [str(world.at_review)]})
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    owner.client.get(f"/jobs/{job_id}.json")
    db.session.rollback()
    moved = db.session.scalar(select(InstanceMigration))
    no_token = owner.client.post(f"/migrations/{moved.id}/undo", data={"reason": "无令牌"})
    assert no_token.status_code == 400

    for username in ("school_hr", "teacher1", "city_hr"):
        other = Browser(ctx, username)
        assert "版本迁移" not in other.page("/inbox")
        for url in ("/migrations", URL, f"/jobs/{job_id}", f"/jobs/{job_id}.json",
                    f"/instances/{world.at_review}/migrations"):
            assert other.client.get(url).status_code == 403, (username, url)
        token = csrf_from(other.page("/inbox"))
        assert other.client.post(URL, data={"csrf_token": token, "to": str(v2.version),
                                            "instance_ids": [str(world.at_notice)]}).status_code == 403
        assert other.client.post(f"/migrations/{moved.id}/undo",
                                 data={"csrf_token": token, "reason": "不该允许"}).status_code == 403
    teacher = Browser(ctx, "teacher1")  # the applicant sees the case, not the migration tools
    assert "版本迁移记录" not in teacher.page(f"/instances/{world.at_review}")
    db.session.rollback()
    assert db.session.get(InstanceMigration, moved.id).undone_at is None
