"""One browser journey in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
import threading
from datetime import datetime

import pytest
from werkzeug.serving import make_server

from app import clock

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-dev-shm-usage"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium 未安装（make test 会安装）"),
]


@pytest.fixture()
def server(ctx):
    ctx.config["CLOCK_OVERRIDE"] = False  # the live server shares this process's clock
    clock.set_override(datetime.fromisoformat("2022-07-15T09:00:00+08:00"))
    httpd = make_server("127.0.0.1", 0, ctx, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    ctx.config["CLOCK_OVERRIDE"] = True


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("form[action$='/login'] button[type=submit], form:not([action$='/logout']) button[type=submit]")
    page.wait_for_url(f"{base}/inbox")


def test_apply_and_task_arrives_in_employer_inbox(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_context(locale="zh-CN").new_page()
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
        browser.close()
