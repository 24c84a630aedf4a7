"""Scenario tests from the studio: run a draft's scenarios from its page, the results and the path
on the page and as JSON, managers only, and publishing refused while a scenario fails."""

from __future__ import annotations

import html
import json
import re

import pytest
from page_client import Browser
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, ModelDraft, ProcessInstance, ProcessVersion
from app.services import drafts

MODEL = "graduate_initial_determination"
P09 = "scenarios/p09_assistant_level_liandu.json"
SECTION_PATH = re.compile(r'<section class="card" id="scenarios" data-path=\'([^\']*)\'')


@pytest.fixture()
def draft(ctx, user) -> ModelDraft:
    drafts.copy_for_year(2023, user("owner"))
    found = drafts.open_draft(MODEL, 2023)
    assert P09 in found.files
    return found


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (ProcessInstance, Event, ProcessVersion))


def test_run_from_the_draft_page_shows_results_and_path(ctx, draft):
    owner = Browser(ctx, "owner")
    page = owner.page(f"/drafts/{draft.id}")
    assert "场景测试（2）" in page and "运行场景测试" in page
    assert json.loads(html.unescape(SECTION_PATH.search(page).group(1))) == {}
    before = counts()
    response = owner.submit(f"/drafts/{draft.id}/scenarios/run", token_from=f"/drafts/{draft.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/drafts/{draft.id}#scenarios")
    db.session.rollback()
    assert counts()[:2] == before[:2]  # the run's cases and events are gone (the run record is a setting)
    assert counts()[2] == before[2]
    page = owner.page(f"/drafts/{draft.id}")
    assert "场景测试：2 个全部通过" in page
    paths = json.loads(html.unescape(SECTION_PATH.search(page).group(1)))
    assert set(paths) == {P09, "scenarios/p08_master_not_yet_intermediate.json"}
    assert paths[P09][:3] == ["StartEvent_apply", "Task_register", "Task_employer_assess"]
    assert "End_approved" in paths[P09]
    assert f'data-scenario="{P09}" data-ok="true"' in page
    assert "<code>Task_bureau_review</code>" in page


def test_json_results_last_run_or_a_new_run(ctx, draft, user):
    owner = Browser(ctx, "owner")
    first = owner.client.get(f"/drafts/{draft.id}/scenarios.json")
    assert first.status_code == 200
    body = first.get_json()
    assert body["ok"] is True and body["fresh"] is True and len(body["results"]) == 2
    assert body["paths"][P09][-1] == "End_approved"
    again = owner.client.get(f"/drafts/{draft.id}/scenarios.json").get_json()
    assert again["ran_at"] == body["ran_at"]  # the stored run, not a new one
    # a changed scenario makes the stored run stale: the next request runs again and says why it fails
    db.session.rollback()  # the requests committed meanwhile: read (and write) on a fresh snapshot
    draft = db.session.get(ModelDraft, draft.id)
    scenario = json.loads(draft.files[P09])
    scenario["expect"]["data"]["batch"] = "2022-11"
    drafts.update_file(draft, P09, json.dumps(scenario, ensure_ascii=False), user("owner"))
    stale = owner.page(f"/drafts/{draft.id}")
    assert "草稿已修改，结果已过期" in stale
    rerun = owner.client.get(f"/drafts/{draft.id}/scenarios.json").get_json()
    assert rerun["ok"] is False and rerun["fresh"] is True
    failed = next(r for r in rerun["results"] if r["file"] == P09)
    assert failed["failed_description"] == "结果核对（expect）"
    assert failed["message"] == "结果字段 batch：期望 2022-11，实际 2022-08"


def test_post_needs_csrf_and_a_manager(ctx, draft):
    owner = Browser(ctx, "owner")
    assert owner.client.post(f"/drafts/{draft.id}/scenarios/run").status_code == 400
    city = Browser(ctx, "city_hr")
    assert city.client.get(f"/drafts/{draft.id}/scenarios.json").status_code == 403
    refused = city.submit(f"/drafts/{draft.id}/scenarios/run", token_from="/inbox")
    assert refused.status_code == 403
    assert owner.client.get("/drafts/99999/scenarios.json").status_code == 404


def test_json_post_for_fetch_calls(ctx, draft):
    owner = Browser(ctx, "owner")
    page = owner.page(f"/drafts/{draft.id}")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = owner.client.post(f"/drafts/{draft.id}/scenarios/run",
                                 headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json()["ok"] is True


def test_publishing_is_refused_while_a_scenario_fails(ctx, draft, user):
    owner = user("owner")
    scenario = json.loads(draft.files[P09])
    scenario["steps"][1]["expect_open"] = ["初定审核"]
    drafts.update_file(draft, P09, json.dumps(scenario, ensure_ascii=False), owner)
    page = Browser(ctx, "owner")
    response = page.submit(f"/drafts/{draft.id}/publish", token_from=f"/drafts/{draft.id}")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "1 个场景测试未通过，修改后才能发布" in text
    assert "第 2 步：时钟拨到 2022-08-10T08:00，触发到期定时器未通过：办理前的待办任务：期望 “初定审核”，实际 无" in text
    db.session.rollback()
    assert db.session.get(ModelDraft, draft.id).status == "draft"
    assert db.session.scalar(select(ProcessVersion).where(ProcessVersion.plan_year == 2023)) is None


def test_a_draft_without_scenarios_publishes_as_before(ctx, draft):
    draft.files = {k: v for k, v in draft.files.items() if not k.startswith("scenarios/")}
    db.session.commit()
    page = Browser(ctx, "owner")
    assert "本草稿没有场景测试" in page.page(f"/drafts/{draft.id}")
    response = page.submit(f"/drafts/{draft.id}/publish", token_from=f"/drafts/{draft.id}")
    assert response.status_code == 302
    db.session.rollback()
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == MODEL,
                                                             ProcessVersion.plan_year == 2023))
    assert version is not None and version.status == "published"


def test_a_passing_draft_publishes(ctx, draft, user):
    version = drafts.publish(draft, user("owner"))
    assert version.plan_year == 2023 and P09 in version.sources["files"]
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
