"""The managers' tracking journey in headless Chromium: the dashboard's bar → the filtered instance
list → one case → its diagram with the completed and active elements marked."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from browsing import at, login
from test_dashboard import GRAD, graduate_world


def _bar_position(page, chart: str, dataset: str, label: str) -> dict:
    """The middle of one bar of a Chart.js chart, in page coordinates."""
    page.locator(f"#canvas-{chart}").scroll_into_view_if_needed()
    return page.evaluate(
        """([chart, key, label]) => {
            const canvas = document.getElementById("canvas-" + chart);
            const instance = Chart.getChart(canvas);
            const set = instance.data.datasets.findIndex((d) => d.key === key);
            const bar = instance.getDatasetMeta(set).data[instance.data.labels.indexOf(label)];
            const box = canvas.getBoundingClientRect();
            return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
        }""", [chart, dataset, label])


def test_manager_from_a_bar_to_the_case_diagram(ctx, live_server, chromium):
    graduate_world(ctx.test_client(), at)
    server = live_server()
    page = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    login(page, server, "manager")
    page.click("nav.main-nav a:text-is('统计')")
    page.wait_for_url(f"{server}/dashboard")
    page.wait_for_selector('#canvas-waiting[data-ready="1"]', state="attached")
    assert page.inner_text("#table-waiting tr[data-row] th") == "大中专毕业生初定 · 用人单位考核"

    spot = _bar_position(page, "waiting", "count", "大中专毕业生初定 · 用人单位考核")
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_url(f"{server}/manage/instances?*")
    query = sorted(parse_qsl(urlsplit(page.url).query))
    assert query == [("plan_year", "2022"), ("process", GRAD), ("step", "Task_employer_assess")]
    rows = page.locator("table#case-list tr[data-instance-id]")
    assert rows.count() == 2  # the two graduates waiting for their employer's assessment

    rows.first.locator("a[href^='/instances/']").first.click()
    page.wait_for_url(f"{server}/instances/*")
    page.wait_for_selector('#case-diagram[data-ready="1"]')
    assert page.locator("#case-diagram .mark-completed").count() >= 1
    assert page.locator('#case-diagram [data-element-id="Task_employer_assess"].mark-active').count() == 1
