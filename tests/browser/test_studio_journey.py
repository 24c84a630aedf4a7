"""The BPMN editor in Chromium: open it from a 2023 draft, move an element, save, break a user task's form
in the properties panel, validate and see the problem on the element, fix it, validate, publish."""

from __future__ import annotations

from pathlib import Path

import pytest
from browsing import login

from app.extensions import db
from app.services import drafts
from app.web import studio

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
pytestmark = pytest.mark.skipif(
    not all((NODE_MODULES / p).is_file() for p in studio.BPMN_VENDOR),
    reason="bpmn-js 未安装（make test / make run 会运行 npm install）")

PROCESS = "graduate_initial_determination"
BPMN = "graduate_initial_determination.bpmn"
TASK = "Task_employer_assess"
SHAPE = f".djs-element.djs-shape[data-element-id={TASK}]"


def _owner():
    from sqlalchemy import select

    from app.models import User

    return db.session.scalar(select(User).where(User.username == "owner"))


def _position(page, element_id: str) -> tuple[float, float]:
    return tuple(page.evaluate("id => { const e = window.studioModeler.get('elementRegistry').get(id);"
                               " return [e.x, e.y]; }", element_id))


def _validate(page) -> None:
    page.evaluate("document.getElementById('problem-summary').removeAttribute('data-ok')")
    page.click("#validate-draft")
    page.wait_for_selector("#problem-summary[data-ok]")


def test_edit_save_validate_fix_publish(live_server, chromium):
    drafts.copy_for_year(2023, _owner())
    draft = drafts.open_draft(PROCESS, 2023)
    original = draft.files[BPMN]
    server = live_server()
    page = chromium.new_context(locale="zh-CN", viewport={"width": 1600, "height": 1000}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, server, "owner")

    page.goto(f"{server}/drafts/{draft.id}")
    page.click(f"tr[data-file='{BPMN}'] a.studio-link")
    page.wait_for_selector("#canvas[data-ready=true]")
    assert page.locator(".djs-palette [aria-label='开始事件']").count() == 1  # Chinese palette

    # A real mouse drag of the task (at 100 % zoom, the task in view), then a move through the modeler's API.
    page.evaluate("""id => { const c = window.studioModeler.get('canvas');
                             c.zoom(1); c.scrollToElement(window.studioModeler.get('elementRegistry').get(id)); }""", TASK)
    before = _position(page, TASK)
    box = page.locator(SHAPE).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(box["x"] + box["width"] / 2 + 6 * step, box["y"] + box["height"] / 2)
    page.mouse.up()
    after = _position(page, TASK)
    assert after != before, "dragging with the mouse did not move the task"
    page.evaluate("""id => { const m = window.studioModeler, e = m.get('elementRegistry').get(id);
                             m.get('modeling').moveElements([e], {x: 0, y: 10}); }""", "Task_revise")

    page.click("#save-draft")
    page.wait_for_selector(".studio-status-ok")
    assert "草稿已保存" in page.inner_text("#studio-status")
    db.session.rollback()
    assert drafts.get(draft.id).files[BPMN] != original

    # Break it in the panel: the task loses its form.
    page.evaluate("window.studioModeler.get('selection').select(null)")  # the drag left it selected
    page.locator(SHAPE).click(position={"x": 12, "y": 12})  # a corner: a flow's label may lie over the middle
    page.wait_for_selector(f"#properties-panel[data-element-id={TASK}]")
    assert "用户任务 属性" in page.inner_text("#panel-title")
    page.select_option("#prop-formJsonSchemaFilename", "")
    _validate(page)
    problem = page.locator(f"#problem-list li[data-element-id={TASK}]")
    assert "用户任务缺少表单" in problem.inner_text()
    assert page.get_attribute("#problem-summary", "data-ok") == "false"
    assert page.locator(f"{SHAPE}.studio-has-problem").count() == 1

    # The problem list leads back to the element; fix it there and validate again.
    page.evaluate("window.studioModeler.get('selection').select(null)")
    page.wait_for_selector("#properties-panel .muted")
    problem.click()
    page.wait_for_selector(f"#properties-panel[data-element-id={TASK}] .studio-element-problem")
    page.select_option("#prop-formJsonSchemaFilename", "review_decision.schema.json")
    _validate(page)
    assert page.get_attribute("#problem-summary", "data-ok") == "true"
    assert "校验通过" in page.inner_text("#problem-summary")
    assert page.locator(".studio-has-problem").count() == 0

    page.click("#publish-draft")
    page.wait_for_url(f"{server}/models/{PROCESS}")
    assert "已发布" in page.inner_text(".flashes")
    db.session.rollback()
    published = drafts.get(draft.id)
    assert published.status == "published"
    assert 'value="review_decision.schema.json"' in published.files[BPMN]
    assert errors == []


def test_decision_table_and_form_editors(live_server, chromium):
    drafts.copy_for_year(2023, _owner())
    draft = drafts.open_draft(PROCESS, 2023)
    server = live_server()
    page = chromium.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, server, "owner")
    page.goto(f"{server}/drafts/{draft.id}/decision?name=initial_determination_level.dmn")
    page.wait_for_selector("#dmn-canvas[data-ready=true] .tjs-table")
    page.click("#save-draft")
    page.wait_for_selector(".studio-status-ok")

    page.goto(f"{server}/drafts/{draft.id}/form?name=forms/grad_application.schema.json")
    page.wait_for_selector("#form-preview[data-ok=true] #field-education")
    page.fill("#schema-text", '{"title": "试填", "properties": {"备注": {"type": "string", "title": "备注说明"}}}')
    page.wait_for_selector("#form-preview[data-ok=true] #field-备注")
    assert "备注说明" in page.inner_text("#form-preview")
    page.fill("#schema-text", "{")
    page.wait_for_selector("#form-preview[data-ok=false]")
    assert "不是有效的 JSON" in page.inner_text("#form-preview")
    assert errors == []


def test_scenarios_run_from_the_editor_and_their_path_is_drawn(live_server, chromium):
    drafts.copy_for_year(2023, _owner())
    draft = drafts.open_draft(PROCESS, 2023)
    server = live_server()
    page = chromium.new_context(locale="zh-CN", viewport={"width": 1600, "height": 1000}).new_page()
    login(page, server, "owner")
    page.goto(f"{server}/drafts/{draft.id}/diagram")
    page.wait_for_selector("#canvas[data-ready=true]")
    page.click("#run-scenarios")
    page.wait_for_selector("#scenario-list li", timeout=60_000)
    items = page.locator("#scenario-list li")
    assert items.count() >= 2 and all(items.nth(i).get_attribute("data-ok") == "true" for i in range(items.count()))
    # the path of the chosen scenario is marked on its elements
    items.nth(0).click()
    path = page.evaluate("JSON.parse(document.querySelector('#scenario-list li').getAttribute('data-path'))")
    assert TASK in path
    assert page.locator(f".djs-element.studio-on-path[data-element-id={TASK}]").count() == 1
