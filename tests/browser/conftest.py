"""Browser tests: the app served on a real port in this process, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest
from browsing import CHROMIUM, FLAGS
from werkzeug.serving import make_server


def pytest_collection_modifyitems(items) -> None:
    skip = pytest.mark.skip(reason="Debian chromium 未安装（make test 会安装）")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM):
                item.add_marker(skip)


@pytest.fixture()
def live_server(ctx) -> Iterator[Callable[[], str]]:
    """Starts the server when called (after the test's own setup); returns its base URL."""
    ctx.config["CLOCK_OVERRIDE"] = False  # requests must not re-read a persisted clock
    servers = []

    def start() -> str:
        httpd = make_server("127.0.0.1", 0, ctx, threaded=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_port}"

    yield start
    for httpd in servers:
        httpd.shutdown()
    ctx.config["CLOCK_OVERRIDE"] = True


class PolicyWatch:
    """The browser, with every page watched for content-security-policy refusals: a page that
    needs inline script, eval or a foreign origin fails its test."""

    def __init__(self, browser):
        self._browser = browser
        self.violations: list[str] = []

    def _watch(self, page) -> None:
        page.on("console", lambda message: self.violations.append(message.text)
                if "Content Security Policy" in message.text else None)

    def new_page(self, **kwargs):
        page = self._browser.new_page(**kwargs)
        self._watch(page)
        return page

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.on("page", self._watch)
        return context

    def __getattr__(self, name: str):
        return getattr(self._browser, name)


@pytest.fixture()
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        watched = PolicyWatch(browser)
        yield watched
        browser.close()
        assert not watched.violations, watched.violations
