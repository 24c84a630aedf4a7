"""Hostile and malformed query strings on the managers' pages get a Chinese answer, never a 500."""

from __future__ import annotations

import pytest
from page_client import Browser

from app.extensions import db

GARBAGE = ["year=abc", "year=99999999999999999999", "county=%00", "page=-1", "page=x", "per_page=100000",
           "sort=__class__", "dir=sideways", "plan_year=1e9", "created_from=2022-13-45", "f.__proto__=1",
           "f.outcome=" + "x" * 5000, "status=running&status=bogus", "step=%27%20OR%201=1--", "overdue=yes",
           "process=../../etc/passwd", "cols=" + ",".join(["id"] * 500), "due=never", "task=%ff", "q=%25%25"]
PAGES = ["/manage/instances", "/manage/instances/export.xlsx", "/dashboard", "/dashboard/titles_by_committee.xlsx",
         "/dashboard/waiting/title_application", "/dashboard/waiting/no_such_process", "/inbox", "/notifications"]


@pytest.mark.parametrize("page", PAGES)
def test_garbage_parameters_never_fail_the_server(ctx, page):
    browser = Browser(ctx, "manager")
    for query in GARBAGE:
        response = browser.client.get(f"{page}?{query}")
        assert response.status_code < 500, (page, query, response.status_code)
        if response.status_code >= 400 and response.mimetype == "text/html":
            text = response.get_data(as_text=True)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (page, query)
    db.session.rollback()


def test_admin_actions_refuse_unknown_actions_and_cases(ctx):
    admin = Browser(ctx, "admin")
    assert admin.client.get("/instances/999999/admin/suspend").status_code == 404
    assert admin.client.get("/instances/999999/diagram.json").status_code == 404
    assert admin.client.get("/instances/1/admin/explode").status_code in (404, 400)


def test_nul_characters_are_refused_before_any_query(ctx):
    """PostgreSQL cannot hold \\x00 in text: query strings, forms and JSON bodies with one get a 400."""
    browser = Browser(ctx, "manager")
    page = browser.client.get("/manage/instances?county=%00")
    assert page.status_code == 400 and "控制字符" in page.get_data(as_text=True)
    from api_client import Api

    api = Api(ctx.test_client(), "grad_city")
    answer = api.post("/api/v1/process-instances", json={"process_model": "graduate_initial_determination",
                                                         "data": {"specialty": "农\x00学"}})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_request"
    assert api.get("/api/v1/process-instances?status=%00").status_code == 400
