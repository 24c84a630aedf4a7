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


@pytest.fixture()
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()
