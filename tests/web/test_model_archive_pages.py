"""Pages: exporting and importing models, a new draft, retiring versions, the comparison diagram."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from page_client import Browser, csrf_from
from sqlalchemy import func, select

from app.extensions import db
from app.models import ModelDraft
from app.services import drafts, model_archive, registry


def _draft_count() -> int:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(func.count()).select_from(ModelDraft))


def _upload(browser: Browser, data: bytes, name: str = "model.zip"):
    return browser.submit("/models/import", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _owner():
    from app.models import User

    return db.session.scalar(select(User).where(User.username == "owner"))


def test_a_version_and_a_draft_download_as_zip(ctx):
    browser = Browser(ctx, "owner")
    version = registry.for_new_instances("review_session")
    page = browser.page("/models/review_session")
    url = f"/models/review_session/versions/{version.version}/export.zip"
    assert url in page and "新建草稿" in page and "/models/import" in page
    response = browser.client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert f"review_session-v{version.version}.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        assert json.loads(zf.read("MANIFEST.json"))["exported_by"] == "owner"
    draft = drafts.new_draft("review_session", _owner())
    response = browser.client.get(f"/drafts/{draft.id}/export.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        assert "review_session/model.json" in zf.namelist()
    assert browser.client.get("/models/review_session/versions/999/export.zip").status_code == 404


def test_importing_an_export_redirects_to_the_new_draft_with_notes(ctx):
    browser = Browser(ctx, "owner")
    version = registry.for_new_instances("supervision")
    data = browser.client.get(f"/models/supervision/versions/{version.version}/export.zip").data
    page = browser.page("/models/import")
    assert 'enctype="multipart/form-data"' in page and "SpiffArena" in page
    response = _upload(browser, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.rollback()
    draft = drafts.open_draft("supervision", version.plan_year)
    assert draft is not None and response.headers["Location"].endswith(f"/drafts/{draft.id}")
    assert draft.files == version.sources["files"]
    landing = browser.page(response.headers["Location"])
    assert "已导入为" in landing
    again = _upload(browser, data)
    assert again.status_code == 409
    body = again.get_data(as_text=True)
    assert "已有" in body and f"/drafts/{draft.id}" in body and _draft_count() == 1


@pytest.mark.parametrize(("entries", "expected"), [
    ({"../evil.bpmn": "<a/>"}, "“..”"),
    ({"m/model.json": "{}", "m/x.exe": "MZ"}, "只接受"),
])
def test_a_refused_upload_rerenders_the_form_with_the_reason(ctx, entries, expected):
    browser = Browser(ctx, "owner")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in entries.items():
            zf.writestr(name, text)
    response = _upload(browser, buffer.getvalue())
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "未能导入" in body and expected in body and 'id="import-form"' in body and "没有保存任何内容" in body
    assert _draft_count() == 0


SPIFF_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D1" targetNamespace="x">
  <bpmn:process id="leave_request" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L1" name="Staff"><bpmn:flowNodeRef>S</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>T</bpmn:flowNodeRef><bpmn:flowNodeRef>E</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" />
    <bpmn:userTask id="T" name="填写"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="x-schema.json" />
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E" />
    <bpmn:endEvent id="E" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_spiffarena_zip_through_the_page_flashes_what_to_do(ctx):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("leave/process_model.json", json.dumps({"display_name": "请假", "primary_file_name": "l.bpmn",
                                                            "primary_process_id": "leave_request", "files": []}))
        zf.writestr("leave/l.bpmn", SPIFF_BPMN)
        zf.writestr("leave/x-schema.json", '{"type": "object", "properties": {}}')
    browser = Browser(ctx, "owner")
    response = _upload(browser, buffer.getvalue())
    assert response.status_code == 302
    page = browser.page(response.headers["Location"])
    assert "SpiffArena" in page and "Staff" in page and "尚未映射到角色" in page
    db.session.rollback()
    assert "forms/x-schema.json" in drafts.open_draft("leave_request", drafts.drafts()[0].plan_year).files


def test_import_without_a_csrf_token_is_refused(ctx):
    browser = Browser(ctx, "owner")
    _, data = "x", model_archive.export_zip(dict(registry.latest("supervision").sources["files"]),
                                            {"process_id": "supervision"})
    response = browser.client.post("/models/import", data={"file": (io.BytesIO(data), "m.zip")},
                                   content_type="multipart/form-data")
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert _draft_count() == 0


@pytest.mark.parametrize("username", ["city_hr", "manager", "teacher1", "edu_office"])
def test_non_owners_get_403_everywhere(ctx, username):
    browser = Browser(ctx, username)
    version = registry.latest("supervision")
    draft = drafts.new_draft("supervision", _owner())
    for url in ("/models/import", f"/models/supervision/versions/{version.version}/export.zip",
                f"/drafts/{draft.id}/export.zip"):
        assert browser.client.get(url).status_code == 403
    token = csrf_from(browser.page("/inbox"))
    for url in ("/models/import", "/models/supervision/new-draft",
                f"/models/supervision/versions/{version.version}/retire",
                f"/models/supervision/versions/{version.version}/reinstate"):
        assert browser.client.post(url, data={"csrf_token": token}).status_code == 403
    assert registry.latest("supervision").status == "published" and _draft_count() == 1


def test_new_draft_button_creates_one_then_links_to_it(ctx):
    browser = Browser(ctx, "owner")
    response = browser.submit("/models/supervision/new-draft", token_from="/models/supervision")
    assert response.status_code == 302
    draft = drafts.open_draft("supervision", registry.for_new_instances("supervision").plan_year)
    assert response.headers["Location"].endswith(f"/drafts/{draft.id}")
    again = browser.submit("/models/supervision/new-draft", token_from="/models/supervision")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/drafts/{draft.id}")
    assert "已有" in browser.page(again.headers["Location"]) and _draft_count() == 1


def _publish_second_review_session() -> tuple[int, int, str]:
    owner = _owner()
    first = registry.for_new_instances("review_session")
    draft = drafts.new_draft("review_session", owner)
    bpmn = next(n for n in draft.files if n.endswith(".bpmn"))
    text = draft.files[bpmn]
    match = re.search(r'<bpmn:userTask id="([^"]+)" name="([^"]+)"', text)
    assert match
    text = text.replace(match.group(0), f'<bpmn:userTask id="{match.group(1)}" name="{match.group(2)}（改）"', 1)
    drafts.update_file(draft, bpmn, text, owner)
    second = drafts.publish(draft, owner)
    return first.version, second.version, match.group(1)


def test_retire_and_reinstate_buttons_and_the_history(ctx):
    a, b, _ = _publish_second_review_session()
    browser = Browser(ctx, "owner")
    page = browser.page("/models/review_session")
    assert f"/models/review_session/versions/{b}/retire" in page
    response = browser.submit(f"/models/review_session/versions/{b}/retire", token_from="/models/review_session")
    assert response.status_code == 302
    db.session.rollback()
    assert registry.for_new_instances("review_session").version == a
    page = browser.page("/models/review_session")
    assert f"/models/review_session/versions/{b}/reinstate" in page and "停用版本" in page and "已停用" in page
    refused = browser.submit(f"/models/review_session/versions/{a}/retire", token_from="/models/review_session")
    assert refused.status_code == 302 and "唯一已发布" in browser.page("/models/review_session")
    browser.submit(f"/models/review_session/versions/{b}/reinstate", token_from="/models/review_session")
    db.session.rollback()
    assert registry.for_new_instances("review_session").version == b
    assert "恢复版本" in browser.page("/models/review_session")


def test_the_compare_page_carries_the_diagram_and_the_ids_to_colour(ctx):
    a, b, task_id = _publish_second_review_session()
    browser = Browser(ctx, "owner")
    page = browser.page(f"/models/review_session/compare?a={a}&b={b}")
    match = re.search(r'<script type="application/json" id="diagram-changes">(.*?)</script>', page, re.S)
    assert match
    changes = json.loads(match.group(1))
    assert task_id in changes["changed"] and changes["added"] == [] and changes["removed"] == []
    xml = json.loads(re.search(r'<script type="application/json" id="diagram-xml">(.*?)</script>',
                               page, re.S).group(1))
    assert "（改）" in xml and "<bpmn:" in xml
    assert "/vendor/bpmn-js/dist/bpmn-navigated-viewer.production.min.js" in page
    assert "compare_diagram.js" in page and 'id="changes"' in page  # the table stays
    assert browser.client.get("/static/compare_diagram.js").status_code == 200


def test_the_draft_compare_page_marks_added_elements(ctx):
    owner = _owner()
    draft = drafts.new_draft("review_session", owner)
    bpmn = next(n for n in draft.files if n.endswith(".bpmn"))
    text = draft.files[bpmn]
    annotation = '<bpmn:textAnnotation id="Note_new"><bpmn:text>新的说明</bpmn:text></bpmn:textAnnotation>'
    drafts.update_file(draft, bpmn, text.replace("</bpmn:process>", annotation + "</bpmn:process>", 1), owner)
    page = Browser(ctx, "owner").page(f"/drafts/{draft.id}/compare")
    changes = json.loads(re.search(r'id="diagram-changes">(.*?)</script>', page, re.S).group(1))
    assert "Note_new" in changes["added"]


def test_removed_elements_are_listed_beside_the_diagram(ctx):
    from app.web.model_archive import compare_diagram

    files = dict(registry.latest("supervision").sources["files"])
    bpmn = next(n for n in files if n.endswith(".bpmn"))
    old = dict(files)
    old[bpmn] = files[bpmn].replace(
        "</bpmn:process>", '<bpmn:textAnnotation id="Note_old"><bpmn:text>旧说明</bpmn:text></bpmn:textAnnotation>'
        "</bpmn:process>", 1)
    diagram = compare_diagram(drafts.compare(old, files), files)
    assert diagram["file"] == bpmn and [e["id"] for e in diagram["changes"]["removed"]] == ["Note_old"]
    assert compare_diagram(drafts.compare({}, {}), {}) is None
