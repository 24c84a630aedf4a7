"""One browser journey in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from browsing import at, login


def test_apply_and_task_arrives_in_employer_inbox(live_server, chromium):
    at("2022-07-15T09:00:00+08:00")
    server = live_server()
    page = chromium.new_context(locale="zh-CN").new_page()
    login(page, server, "grad_city")
    page.goto(f"{server}/start/graduate_initial_determination")
    page.select_option("select[name=education]", "本科")
    page.fill("input[name=graduation_date]", "2021-06-30")
    page.fill("input[name=work_start_date]", "2021-07-01")
    page.fill("input[name=specialty]", "农学")
    page.select_option("select[name=requested_level]", "助理级")
    page.click("main form button[type=submit], form[enctype] button[type=submit]")
    page.wait_for_url(f"{server}/instances/*")
    assert "申请已提交" in page.content()
    page.click("form[action$='/logout'] button")
    login(page, server, "institute_hr")
    assert "用人单位考核" in page.inner_text("body")
    assert "林若溪" in page.inner_text("body")
