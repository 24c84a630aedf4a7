"""A new year in one step, end to end through the pages: 2023 is copied from 2022 (plans and models),
a form field and a decision rule row are changed, the year's comparison shows them, the bureau
publishes the plan and the owner the models; 2022 cases keep their version until the owner moves
the safe ones, and the one that passed a removed element is refused with the reason."""

from __future__ import annotations

import json
import re

from migration_world import BPMN, Cases, rename
from page_client import Browser
from sqlalchemy import select

from app.extensions import db
from app.models import ModelDraft, ProcessInstance, ProcessVersion
from app.services import committees, drafts, plans

FORM = "forms/review_decision.schema.json"
DMN = "authority_resolution.dmn"
OLD_ENTRY = '<outputEntry id="Out_city_letter"><text>"丽水市人力资源和社会保障局"</text></outputEntry>'
NEW_ENTRY = '<outputEntry id="Out_city_letter"><text>"浙江省人力资源和社会保障厅"</text></outputEntry>'


def _draft(process_id: str) -> ModelDraft:
    db.session.rollback()
    draft = drafts.open_draft(process_id, 2023)
    assert draft is not None
    return draft


def test_creating_2023_from_2022_through_the_pages(ctx, user):
    world = Cases(ctx)
    cases = [world.at_review, world.at_notice, world.notice_running]
    v2022 = db.session.get(ProcessInstance, world.at_review).version
    owner_page, city_page = Browser(ctx, "owner"), Browser(ctx, "city_hr")

    assert owner_page.submit("/years/new", {"year": "2023"}, token_from="/plans").status_code == 302
    owner = user("owner")
    # a form field and a rule row change; the title model also loses an element some cases passed
    title = _draft("title_application")
    schema = json.loads(title.files[FORM])
    assert schema["properties"]["opinion"]["title"] != "审核意见（2023年起必填理由）"
    schema["properties"]["opinion"]["title"] = "审核意见（2023年起必填理由）"
    drafts.update_file(title, FORM, json.dumps(schema, ensure_ascii=False, indent=2), owner)
    files = dict(title.files)
    rename("Task_unit_notice_end", "Task_notice_deadline")(files)
    drafts.update_file(title, BPMN, files[BPMN], owner)
    session = _draft("review_session")
    drafts.update_file(session, DMN, session.files[DMN].replace(OLD_ENTRY, NEW_ENTRY), owner)
    db.session.commit()

    year = owner_page.page("/years/2023")
    assert "计划行没有变化" in year  # the plan is last year's, carried forward
    assert "审核意见（2023年起必填理由）" in year and "Rule_city" in year and "浙江省人力资源和社会保障厅" in year
    assert "Task_notice_deadline" in year

    # the bureau publishes its plan, the owner the models
    city = plans.plans_of_year(2023)[0]
    assert city_page.submit(f"/plans/{city.id}/publish", token_from=f"/plans/{city.id}").status_code == 302
    for draft in (_draft("title_application"), _draft("review_session")):
        response = owner_page.submit(f"/drafts/{draft.id}/publish", token_from=f"/drafts/{draft.id}")
        assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    db.session.rollback()
    assert committees.current_plan_year() == 2023
    v2023 = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == "title_application",
                                                           ProcessVersion.plan_year == 2023))
    assert v2023 is not None
    # 2022 cases stay on 2022
    assert {db.session.get(ProcessInstance, c).version_id for c in cases} == {v2022.id}

    # the owner moves what can move: the case that passed the removed element cannot
    page = owner_page.page(f"/models/title_application/migrate?from={v2022.version}&to={v2023.version}")
    assert "Task_unit_notice_end（计算公示截止日）" in page
    response = owner_page.submit("/models/title_application/migrate",
                                 {"instance_ids": [str(c) for c in cases], "to": str(v2023.version)},
                                 token_from=f"/models/title_application/migrate?from={v2022.version}")
    assert response.status_code == 302
    job_id = int(re.search(r"/jobs/(\d+)", response.headers["Location"]).group(1))
    progress = owner_page.client.get(f"/jobs/{job_id}.json").get_json()
    while progress["status"] != "done":
        progress = owner_page.client.get(f"/jobs/{job_id}.json").get_json()
    assert (progress["total"], progress["failed"]) == (3, 1)
    db.session.rollback()
    versions = {c: db.session.get(ProcessInstance, c).version_id for c in cases}
    assert versions == {world.at_review: v2023.id, world.at_notice: v2023.id, world.notice_running: v2022.id}
    # the moved case goes on under 2023: its next form is the new one
    world.flow.do("school_hr", world.at_review, "单位审核", {"decision": "approve"})
    assert db.session.get(ProcessInstance, world.at_review).version_id == v2023.id
