"""Element ids a draft lost against the published version: warnings that do not stop publishing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from page_client import Browser

from app.engine import read_model_folder
from app.extensions import db
from app.models import ModelDraft
from app.services import drafts, model_checks, registry

ROOT = Path(__file__).resolve().parents[2]
BPMN = "graduate_initial_determination.bpmn"
PROCESS = "graduate_initial_determination"


@pytest.fixture(scope="module")
def published() -> dict[str, str]:
    return read_model_folder(ROOT / "bpmn" / PROCESS, ROOT / "forms")


def _renamed(files: dict[str, str], old: str, new: str) -> dict[str, str]:
    """Every reference to the element changes with its id: a valid model, but not the same ids."""
    changed = dict(files)
    changed[BPMN] = re.sub(rf"\b{old}\b", new, files[BPMN])
    return changed


def test_an_unchanged_model_gives_no_warning(published):
    assert model_checks.changed_ids(published, published) == []
    assert model_checks.changed_ids(published, None) == []
    assert model_checks.changed_ids(published, {}) == []


def test_an_element_whose_id_changed_is_a_warning_with_its_name(published):
    files = _renamed(published, "Task_approve", "Task_confirm")
    [problem] = model_checks.changed_ids(files, published)
    assert (problem.file, problem.element_id, problem.severity) == (BPMN, "Task_approve", "warning")
    assert "“确认初定级别”（Task_approve）" in problem.message and "脚本任务" in problem.message
    assert "无法迁移" in problem.message
    assert problem.as_dict()["severity"] == "warning"


def test_deleted_elements_and_processes_are_listed(published):
    files = dict(published)
    files[BPMN] = files[BPMN].replace('id="Timer_batch"', 'id="Timer_batch_opens"', 1).replace(
        'id="graduate_initial_determination"', 'id="graduate"', 1)
    found = {p.element_id: p.message for p in model_checks.changed_ids(files, published)}
    assert set(found) == {"Timer_batch", "graduate_initial_determination"}
    assert "中间捕获事件" in found["Timer_batch"] and "流程" in found["graduate_initial_determination"]


def test_sequence_flows_and_lanes_do_not_count(published):
    files = _renamed(_renamed(published, "Flow_grant", "Flow_approved"), "Lane_reviewer", "Lane_bureau")
    assert model_checks.changed_ids(files, published) == []


def test_a_changed_kind_is_a_warning(published):
    files = dict(published)
    files[BPMN] = files[BPMN].replace(
        '<bpmn:scriptTask id="Task_approve" name="确认初定级别" scriptFormat="python">',
        '<bpmn:manualTask id="Task_approve" name="确认初定级别">', 1,
    ).replace('<bpmn:script>outcome = "approved"</bpmn:script></bpmn:scriptTask>', "</bpmn:manualTask>", 1)
    [problem] = model_checks.changed_ids(files, published)
    assert problem.element_id == "Task_approve" and "由脚本任务改为手工任务" in problem.message


def test_unparseable_files_are_left_to_the_validation(published):
    files = dict(published)
    files[BPMN] = "<!DOCTYPE x><x/>"
    assert {p.element_id for p in model_checks.changed_ids(files, published)} >= {"Task_approve"}
    assert model_checks.changed_ids(published, files) == []


# -- in drafts: warnings are shown, only errors stop publishing ------------------------------


def _graduate_draft(owner) -> ModelDraft:
    drafts.copy_for_year(2023, owner)
    draft = drafts.open_draft(PROCESS, 2023)
    assert draft is not None
    return draft


def test_a_draft_with_only_warnings_can_be_published(ctx, user):
    owner = user("owner")
    draft = _graduate_draft(owner)
    assert drafts.validate(draft) == []
    drafts.update_file(draft, BPMN, _renamed(draft.files, "Task_approve", "Task_confirm")[BPMN], owner)
    problems = drafts.validate(draft)
    assert [(p["element_id"], p["severity"]) for p in problems] == [("Task_approve", "warning")]
    assert drafts.errors_of(problems) == []
    version = drafts.publish(draft, owner)
    assert version.plan_year == 2023 and registry.latest(PROCESS).id == version.id
    assert draft.status == "published"


def test_a_draft_with_errors_and_warnings_is_refused_with_both(ctx, user):
    owner = user("owner")
    draft = _graduate_draft(owner)
    text = _renamed(draft.files, "Task_approve", "Task_confirm")[BPMN]
    text = text.replace("decision == &quot;reject&quot;", "decision = &quot;reject&quot;", 1)
    drafts.update_file(draft, BPMN, text, owner)
    problems = drafts.validate(draft)
    assert {(p["element_id"], p["severity"]) for p in problems} == {("Flow_reject", "error"),
                                                                    ("Task_approve", "warning")}
    assert all(set(p) == {"file", "element_id", "message", "severity"} for p in problems)
    with pytest.raises(drafts.DraftInvalid) as caught:
        drafts.publish(draft, owner)
    assert caught.value.problems == problems
    assert "1 处问题" in caught.value.message
    assert draft.status == "draft" and registry.latest(PROCESS).plan_year == 2022


def test_the_draft_page_marks_warnings(ctx, user):
    owner = user("owner")
    draft = _graduate_draft(owner)
    drafts.update_file(draft, BPMN, _renamed(draft.files, "Task_approve", "Task_confirm")[BPMN], owner)
    draft_id = draft.id
    db.session.rollback()
    browser = Browser(ctx, "owner")
    body = browser.submit(f"/drafts/{draft_id}/validate", token_from=f"/drafts/{draft_id}").get_data(as_text=True)
    assert 'data-element-id="Task_approve" data-severity="warning"' in body
    assert "校验通过，可以发布；请留意以下 1 条提醒" in body and "修改后才能发布" not in body
