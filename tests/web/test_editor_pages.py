"""The browser editors of a draft without a browser: access, vendor files, saving, validating, the form preview."""

from __future__ import annotations

import json
import re

import pytest
from page_client import Browser, csrf_from

from app.extensions import db
from app.models import ModelDraft
from app.services import drafts
from app.web import studio

BPMN = "graduate_initial_determination.bpmn"
DMN = "initial_determination_level.dmn"
FORM = "forms/grad_application.schema.json"
UI = "forms/grad_application.uischema.json"
FIELD_DIV = re.compile(r'<div class="field[^"]*" id="field-[^"]+">.*?</div>', re.S)


def _owner():
    from sqlalchemy import select

    from app.models import User

    return db.session.scalar(select(User).where(User.username == "owner"))


@pytest.fixture()
def draft(ctx) -> ModelDraft:
    drafts.copy_for_year(2023, _owner())
    found = drafts.open_draft("graduate_initial_determination", 2023)
    assert found is not None
    return found


@pytest.fixture()
def vendor_dir(ctx, tmp_path):
    """A node_modules holding the whitelisted files (tiny stand-ins), and one that is not whitelisted."""
    for path in studio.VENDOR_FILES:
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"/* {path} */")
    (tmp_path / "bpmn-js" / "package.json").write_text("{}")
    (tmp_path.parent / "secret.txt").write_text("secret")
    ctx.config["STUDIO_NODE_MODULES"] = str(tmp_path)
    yield tmp_path
    ctx.config.pop("STUDIO_NODE_MODULES", None)


def _fresh(draft_id: int) -> ModelDraft:
    db.session.rollback()
    return drafts.get(draft_id)


def _post(browser: Browser, url: str, body, token: str | None):
    headers = {"X-CSRFToken": token} if token else {}
    return browser.client.post(url, json=body, headers=headers)


def _token(browser: Browser, draft: ModelDraft) -> str:
    return csrf_from(browser.page(f"/drafts/{draft.id}"))


@pytest.mark.parametrize("username", ["city_hr", "manager", "teacher1"])
def test_editors_are_for_process_owners_and_admins_only(ctx, draft, vendor_dir, username):
    browser = Browser(ctx, username)
    for url in (f"/drafts/{draft.id}/diagram", f"/drafts/{draft.id}/decision?name={DMN}",
                f"/drafts/{draft.id}/form?name={FORM}"):
        assert "流程管理员" in browser.page(url, status=403)
    token = csrf_from(browser.page("/inbox"))
    for url, body in ((f"/drafts/{draft.id}/diagram", {"bpmn": "<x/>"}), (f"/drafts/{draft.id}/validate.json", {}),
                      (f"/drafts/{draft.id}/decision", {"name": DMN, "dmn": "<x/>"}),
                      (f"/drafts/{draft.id}/form/preview", {"schema": "{}"})):
        response = _post(browser, url, body, token)
        assert response.status_code == 403 and "流程管理员" in response.get_json()["error"]["message"]
    assert _fresh(draft.id).files[BPMN] == draft.files[BPMN]


def test_owner_and_admin_open_every_editor_from_the_draft_page(ctx, draft, vendor_dir):
    for username in ("owner", "admin"):
        browser = Browser(ctx, username)
        page = browser.page(f"/drafts/{draft.id}")
        for link in ("编辑流程图", "编辑决策表", "编辑表单"):
            assert link in page
        diagram = browser.page(f"/drafts/{draft.id}/diagram")
        assert "bpmn-modeler.production.min.js" in diagram and 'id="properties-panel"' in diagram
        config = json.loads(re.search(r'id="studio-config">(.*?)</script>', diagram, re.S).group(1))
        assert "grad_application.schema.json" in config["forms"] and "add_working_days" in config["helpers"]
        assert {"id": "initial_determination_level", "file": DMN} in config["decisions"]
        assert config["lanes"]["申请人"]["role"] == "applicant"
        assert "dmn-modeler.production.min.js" in browser.page(f"/drafts/{draft.id}/decision?name={DMN}")
        form = browser.page(f"/drafts/{draft.id}/form?name=grad_application.schema.json")
        assert "grad_application.uischema.json" in form and 'id="form-preview"' in form
        browser.page(f"/drafts/{draft.id}/decision?name=nope.dmn", status=404)
        browser.page(f"/drafts/{draft.id}/form?name=model.json", status=404)


def test_vendor_serves_only_whitelisted_files_with_cache_headers(ctx, vendor_dir):
    client = ctx.test_client()
    response = client.get("/vendor/bpmn-js/dist/bpmn-modeler.production.min.js")
    assert response.status_code == 200 and "bpmn-modeler" in response.get_data(as_text=True)
    assert "max-age=604800" in response.headers["Cache-Control"]
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert client.get("/vendor/dmn-js/dist/assets/dmn-js-decision-table.css").mimetype == "text/css"
    for bad in ("bpmn-js/package.json", "../secret.txt", "bpmn-js/dist/../../../secret.txt",
                "bpmn-js/dist/%2e%2e/%2e%2e/package.json", "%2e%2e/secret.txt", "/etc/passwd", "..%2fsecret.txt",
                "bpmn-js/dist/", ""):
        assert client.get(f"/vendor/{bad}", follow_redirects=True).status_code == 404, bad


def test_without_node_modules_the_editors_say_so_in_chinese(ctx, draft, tmp_path):
    ctx.config["STUDIO_NODE_MODULES"] = str(tmp_path / "missing")
    try:
        browser = Browser(ctx, "owner")
        for url in (f"/drafts/{draft.id}/diagram", f"/drafts/{draft.id}/decision?name={DMN}"):
            page = browser.page(url, status=503)
            assert studio.VENDOR_MISSING in page and "bpmn-modeler" not in page and "dmn-modeler" not in page
        assert ctx.test_client().get("/vendor/bpmn-js/dist/bpmn-modeler.production.min.js").status_code == 404
        browser.page(f"/drafts/{draft.id}/form?name={FORM}")  # the form editor needs no vendor files
    finally:
        ctx.config.pop("STUDIO_NODE_MODULES", None)


def test_saving_needs_the_csrf_header_and_never_validity(ctx, draft, vendor_dir):
    browser = Browser(ctx, "owner")
    url = f"/drafts/{draft.id}/diagram"
    form_of_assess = ('<bpmn:userTask id="Task_employer_assess" name="用人单位考核"><bpmn:extensionElements>'
                      '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
                      'value="review_decision.schema.json" />')
    broken = draft.files[BPMN].replace(form_of_assess, form_of_assess.rsplit("<spiffworkflow:property", 1)[0])
    assert broken != draft.files[BPMN]
    response = _post(browser, url, {"bpmn": broken}, None)
    assert response.status_code == 400 and "CSRF" in response.get_json()["error"]["message"]
    assert _fresh(draft.id).files[BPMN] == draft.files[BPMN]

    model = json.loads(draft.files["model.json"])
    model["lanes"]["用人单位"]["org_var"] = "unit_org"
    text = json.dumps(model, ensure_ascii=False, indent=2) + "\n"
    response = _post(browser, url, {"bpmn": broken, "model_json": text}, _token(browser, draft))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["saved"] == [BPMN, "model.json"]
    saved = _fresh(draft.id)
    assert saved.files[BPMN] == broken and json.loads(saved.files["model.json"])["lanes"]["用人单位"]["org_var"] == "unit_org"

    result = _post(browser, f"/drafts/{draft.id}/validate.json", {}, _token(browser, draft)).get_json()
    assert result["ok"] is False
    assert [(p["file"], p["element_id"], p["message"]) for p in result["problems"]] == [
        (BPMN, "Task_employer_assess", "用户任务缺少表单（formJsonSchemaFilename）")], result


def test_bad_xml_or_json_is_refused_in_chinese_and_nothing_is_saved(ctx, draft, vendor_dir):
    browser = Browser(ctx, "owner")
    token = _token(browser, draft)
    url = f"/drafts/{draft.id}/diagram"
    response = _post(browser, url, {"bpmn": "<bpmn:definitions", "model_json": "{}"}, token)
    assert response.status_code == 422
    assert "不是有效的 XML" in response.get_json()["error"]["message"]
    response = _post(browser, url, {"bpmn": draft.files[BPMN] + " ", "model_json": "{oops"}, token)
    assert response.status_code == 422 and "不是有效的 JSON" in response.get_json()["error"]["message"]
    doctype = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>'
    assert _post(browser, url, {"bpmn": doctype}, token).status_code == 422
    assert _post(browser, url, {"nothing": 1}, token).status_code == 422
    raw = browser.client.post(url, data="not json", headers={"X-CSRFToken": token, "Content-Type": "text/plain"})
    assert raw.status_code == 422 and "JSON" in raw.get_json()["error"]["message"]
    response = _post(browser, f"/drafts/{draft.id}/decision", {"name": DMN, "dmn": "<definitions>"}, token)
    assert response.status_code == 422 and "XML" in response.get_json()["error"]["message"]
    assert _fresh(draft.id).files == draft.files


def test_decision_and_form_saves(ctx, draft, vendor_dir):
    browser = Browser(ctx, "owner")
    token = _token(browser, draft)
    dmn = draft.files[DMN].replace("</definitions>", "<!-- 2023 --></definitions>")
    response = _post(browser, f"/drafts/{draft.id}/decision", {"name": DMN, "dmn": dmn}, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    schema = json.loads(draft.files[FORM])
    schema["title"] = "2023 年度初定申请"
    body = {"name": "grad_application.schema.json", "schema": json.dumps(schema, ensure_ascii=False),
            "ui_name": UI, "ui": draft.files[UI]}
    assert _post(browser, f"/drafts/{draft.id}/form", body, token).status_code == 200
    saved = _fresh(draft.id)
    assert saved.files[DMN] == dmn and json.loads(saved.files[FORM])["title"] == "2023 年度初定申请"


def test_published_draft_cannot_be_saved(ctx, draft, vendor_dir):
    drafts.publish(draft, _owner())
    browser = Browser(ctx, "owner")
    token = _token(browser, draft)
    assert "只能查看" in browser.page(f"/drafts/{draft.id}/diagram")
    response = _post(browser, f"/drafts/{draft.id}/diagram", {"bpmn": draft.files[BPMN]}, token)
    assert response.status_code == 409 and "不能再修改" in response.get_json()["error"]["message"]


def test_preview_is_the_html_the_start_page_renders(ctx, draft):
    owner = Browser(ctx, "owner")
    response = _post(owner, f"/drafts/{draft.id}/form/preview",
                     {"schema": draft.files[FORM], "ui": draft.files[UI]}, _token(owner, draft))
    assert response.status_code == 200 and response.mimetype == "text/html"
    preview = FIELD_DIV.findall(response.get_data(as_text=True))
    start = FIELD_DIV.findall(Browser(ctx, "grad_city").page("/start/graduate_initial_determination"))
    assert len(preview) >= 5 and preview == start


def test_preview_reports_broken_definitions_in_chinese(ctx, draft):
    owner = Browser(ctx, "owner")
    token = _token(owner, draft)
    url = f"/drafts/{draft.id}/form/preview"
    for body, words in (({"schema": "{"}, "不是有效的 JSON"), ({"schema": "[]"}, "应为 JSON 对象"),
                        ({"schema": '{"properties": []}'}, "properties 应为对象"),
                        ({"schema": '{"properties": {"x": 1}}'}, "无法预览"),
                        ({"schema": "{}", "ui": "{"}, "UI schema")):
        response = _post(owner, url, body, token)
        assert response.status_code == 422 and words in response.get_data(as_text=True), body
    empty = _post(owner, url, {"schema": '{"properties": {"名称": {"type": "string", "title": "名称"}}}'}, token)
    assert empty.status_code == 200 and "名称" in empty.get_data(as_text=True)
