"""流程模型 pages: the models and their versions, a new plan year's drafts, editing a file,
validating, comparing side by side and publishing."""

from __future__ import annotations

import html
import json
import re

import pytest
from page_client import Browser, csrf_from

from app.extensions import db
from app.models import ModelDraft
from app.services import drafts, registry

FORM = "forms/session_open.schema.json"
DMN = "authority_resolution.dmn"
OLD_ENTRY = '<outputEntry id="Out_city_letter"><text>"丽水市人力资源和社会保障局"</text></outputEntry>'
NEW_ENTRY = '<outputEntry id="Out_city_letter"><text>"浙江省人力资源和社会保障厅"</text></outputEntry>'


def _textarea(page: str) -> str:
    match = re.search(r"<textarea[^>]*>\r?\n?(.*?)</textarea>", page, re.S)
    assert match, "no textarea on the page"
    return html.unescape(match.group(1))


def _new_year(browser: Browser, year: str = "2023"):
    return browser.submit("/models/new-year", {"year": year}, token_from="/models")


def _review_session_draft() -> ModelDraft:
    db.session.rollback()  # end the test's read transaction: see what the requests committed
    found = drafts.open_draft("review_session", 2023)
    assert found is not None
    return found


def _save(browser: Browser, draft_id: int, name: str, text: str):
    url = f"/drafts/{draft_id}/file?name={name}"
    return browser.submit(f"/drafts/{draft_id}/file", {"name": name, "text": text}, token_from=url)


@pytest.mark.parametrize("username", ["edu_office", "city_hr", "manager", "teacher1"])
def test_only_process_owners_and_admins_see_the_model_pages(ctx, username):
    browser = Browser(ctx, username)
    assert "流程模型" not in browser.page("/inbox").split("<main", 1)[0]
    drafts.copy_for_year(2023, registry_owner())
    draft = _review_session_draft()
    for url in ("/models", "/models/review_session", "/models/review_session/compare", "/drafts",
                f"/drafts/{draft.id}", f"/drafts/{draft.id}/compare", f"/drafts/{draft.id}/file?name={FORM}"):
        assert "流程管理员" in browser.page(url, status=403)
    token = csrf_from(browser.page("/inbox"))
    assert browser.client.post("/models/new-year", data={"year": "2024", "csrf_token": token}).status_code == 403
    for action in ("validate", "publish", "discard"):
        assert browser.client.post(f"/drafts/{draft.id}/{action}", data={"csrf_token": token}).status_code == 403
    response = browser.client.post(f"/drafts/{draft.id}/file", data={"name": FORM, "text": "{}", "csrf_token": token})
    assert response.status_code == 403
    assert _review_session_draft().status == "draft" and drafts.drafts(year=2024) == []


def registry_owner():
    from sqlalchemy import select

    from app.models import User

    return db.session.scalar(select(User).where(User.username == "owner"))


def test_anonymous_visitors_are_sent_to_the_login_page(ctx):
    response = ctx.test_client().get("/models")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_models_list_shows_versions_and_the_new_year_form(ctx):
    browser = Browser(ctx, "owner")
    page = browser.page("/models")
    assert '>流程模型</a>' in page  # the nav link
    for version in registry.published():
        assert f'data-process-id="{version.process_id}"' in page
    assert "2022 年度" in page and 'id="new-year"' in page
    detail = browser.page("/models/review_session")
    assert 'data-version="1"' in detail and "新案件使用" in detail
    assert 'href="/models/review_session/migrate"' in detail
    Browser(ctx, "admin").page("/models")


def test_csrf_is_enforced_on_every_form(ctx):
    browser = Browser(ctx, "owner")
    assert browser.client.post("/models/new-year", data={"year": "2023"}).status_code == 400
    assert drafts.drafts(year=2023) == []
    assert _new_year(browser).status_code == 302
    draft = _review_session_draft()
    for action in ("validate", "publish", "discard"):
        assert browser.client.post(f"/drafts/{draft.id}/{action}").status_code == 400
    response = browser.client.post(f"/drafts/{draft.id}/file", data={"name": FORM, "text": "{}"})
    assert response.status_code == 400
    assert _review_session_draft().status == "draft"
    assert _review_session_draft().files[FORM] == draft.files[FORM]


def test_a_bad_year_is_refused_in_chinese(ctx):
    browser = Browser(ctx, "owner")
    response = _new_year(browser, "明年")
    assert response.status_code == 422
    assert "年度应为四位数字" in response.get_data(as_text=True)


def test_new_year_edit_compare_validate_publish(ctx):
    """The journey: 2023 copied from 2022, a form field and a rule row changed, compared,
    validated and published; the version for 2023 is there and 2022 stays for new instances."""
    browser = Browser(ctx, "owner")
    response = _new_year(browser)
    assert response.status_code == 302 and response.headers["Location"].endswith("/drafts?year=2023")
    listing = browser.page("/drafts?year=2023")
    assert 'data-process-id="review_session"' in listing
    draft = _review_session_draft()
    page = browser.page(f"/drafts/{draft.id}")
    assert f'data-file="{FORM}"' in page and f'data-file="{DMN}"' in page

    # Edit the form field through the textarea.
    edit = browser.page(f"/drafts/{draft.id}/file?name={FORM}")
    text = _textarea(edit)
    assert json.loads(text) == json.loads(draft.files[FORM])
    schema = json.loads(text)
    schema["properties"]["members"]["title"] = "评委会出席委员人数"
    response = _save(browser, draft.id, FORM, json.dumps(schema, ensure_ascii=False, indent=2))
    assert response.status_code == 302
    # Edit the rule row; a browser sends CRLF line ends.
    text = _textarea(browser.page(f"/drafts/{draft.id}/file?name={DMN}"))
    assert OLD_ENTRY in text
    response = _save(browser, draft.id, DMN, text.replace(OLD_ENTRY, NEW_ENTRY).replace("\n", "\r\n"))
    assert response.status_code == 302
    after = browser.page(f"/drafts/{draft.id}/file?name={DMN}")
    assert 'data-rule-id="Rule_city"' in after

    # The comparison, side by side: exactly the plan year, the field and the rule row.
    compare = browser.page(f"/drafts/{draft.id}/compare")
    assert 'data-change-count="3"' in compare
    assert 'data-key="plan_year"' in compare
    assert 'data-field="members"' in compare and "评委会委员人数" in compare and "评委会出席委员人数" in compare
    assert 'data-rule-id="Rule_city" data-column-id="Output_letter"' in compare
    assert "浙江省人力资源和社会保障厅" in compare
    assert "data-element-id" not in compare

    # Validate, then publish.
    page = browser.submit(f"/drafts/{draft.id}/validate", token_from=f"/drafts/{draft.id}")
    assert page.status_code == 200 and 'id="valid"' in page.get_data(as_text=True)
    response = browser.submit(f"/drafts/{draft.id}/publish", token_from=f"/drafts/{draft.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/models/review_session")
    db.session.rollback()  # end the test's read transaction: see what the requests committed
    newest = registry.latest("review_session")
    assert newest.plan_year == 2023 and newest.version == 2
    assert registry.for_new_instances("review_session").plan_year == 2022
    detail = browser.page("/models/review_session")
    assert 'data-version="2" data-plan-year="2023"' in detail
    assert _review_session_draft_status(draft.id) == "published"
    # The two published versions compared.
    versions = browser.page("/models/review_session/compare?a=1&b=2")
    assert 'data-change-count="3"' in versions and 'data-rule-id="Rule_city"' in versions
    # A published draft is no longer editable.
    assert _save(browser, draft.id, FORM, "{}").status_code == 409


def _review_session_draft_status(draft_id: int) -> str:
    db.session.rollback()  # end the test's read transaction: see what the requests committed
    return drafts.get(draft_id).status


def test_bad_xml_gives_a_chinese_error_not_a_500(ctx):
    browser = Browser(ctx, "owner")
    _new_year(browser)
    draft = _review_session_draft()
    for text, message in (("<definitions><decision></definitions>", "不是有效的 XML"),
                          ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "DOCTYPE")):
        response = _save(browser, draft.id, DMN, text)
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert message in body and 'class="error"' in body
    response = _save(browser, draft.id, FORM, '{"title": ')
    assert response.status_code == 422 and "不是有效的 JSON" in response.get_data(as_text=True)
    assert _review_session_draft().files[DMN] == draft.files[DMN]
    # Unknown files, drafts, versions and parameters are 404/422 pages, not 500s.
    browser.page(f"/drafts/{draft.id}/file?name=nothing.bpmn", status=404)
    browser.page("/drafts/999999", status=404)
    browser.page("/models/nothing", status=404)
    browser.page("/models/review_session/compare?a=99&b=1", status=404)
    browser.page("/models/review_session/compare?a=x", status=422)
    browser.page("/drafts?year=abc", status=422)


def test_an_invalid_draft_is_refused_at_publish_with_its_problems(ctx):
    browser = Browser(ctx, "owner")
    _new_year(browser)
    draft = _review_session_draft()
    bpmn = "review_session.bpmn"
    text = _textarea(browser.page(f"/drafts/{draft.id}/file?name={bpmn}"))
    broken = text.replace("<bpmn:script>session_invalid = Fal", "<bpmn:script>session_invalid = (Fal")
    assert broken != text
    assert _save(browser, draft.id, bpmn, broken).status_code == 302  # saving is allowed
    response = browser.submit(f"/drafts/{draft.id}/publish", token_from=f"/drafts/{draft.id}")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="problems"' in body and 'data-element-id="Task_defaults"' in body and "修改后才能发布" in body
    assert registry.latest("review_session").version == 1
    assert _review_session_draft().status == "draft"
    # Validate shows the same list.
    body = browser.submit(f"/drafts/{draft.id}/validate", token_from=f"/drafts/{draft.id}").get_data(as_text=True)
    assert 'data-element-id="Task_defaults"' in body


def test_discarding_a_draft(ctx):
    browser = Browser(ctx, "admin")
    _new_year(browser)
    draft = _review_session_draft()
    response = browser.submit(f"/drafts/{draft.id}/discard", token_from=f"/drafts/{draft.id}")
    assert response.status_code == 302
    assert _review_session_draft_status(draft.id) == "discarded"
    page = browser.page(f"/drafts/{draft.id}")
    assert 'id="draft-actions"' not in page
    token = csrf_from(page)
    assert browser.client.post(f"/drafts/{draft.id}/publish", data={"csrf_token": token}).status_code == 409
