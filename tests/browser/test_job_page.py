"""The job page's script in headless Chromium: a plan import polled to its end, then its result opened."""

from __future__ import annotations

from browsing import login

from app.services import plan_import, plans


def test_the_job_page_follows_a_plan_import_to_the_plan(ctx, live_server, chromium, monkeypatch, tmp_path):
    monkeypatch.setattr(plan_import, "CHUNK_ROWS", 20)
    table = tmp_path / "附件1.csv"
    table.write_bytes((plans.DATA / "2021-city.csv").read_bytes())
    server = live_server()
    page = chromium.new_context(locale="zh-CN").new_page()
    login(page, server, "liandu_hr")
    page.goto(f"{server}/plans/import")
    page.fill("input[name=year]", "2021")
    page.set_input_files("input[name=file]", str(table))
    page.click("form button[type=submit]:text-is('导入为草稿')")
    page.wait_for_url(f"{server}/jobs/*")
    assert page.inner_text("h1").startswith("计划导入")
    # the script polls (each poll writes one chunk) until the job is done, then shows the plan's link
    page.wait_for_selector("#job-result:not([hidden])")
    assert page.inner_text("#job-status") == "已完成"
    assert page.inner_text("#job-done") == page.inner_text("#job-total") == "4"
    assert page.locator("#job-results tbody tr[data-ok=yes]").count() == 4
    assert page.locator("#job-download").is_hidden()
    page.click("#job-result")
    page.wait_for_url(f"{server}/plans/*")
    assert "莲都区人力资源和社会保障局2021年度职称评审计划" in page.inner_text("h1")
