"""计划执行进度 pages: the plan year's timeline as HTML (chart and table) and as JSON."""

from __future__ import annotations

import html
import re

import pytest
from page_client import Browser
from timeline_world import (
    AUTO,
    FORESTRY,
    LIANDU_TEACHERS,
    Flow,
    build_world,
    late_forestry_session,
    on_time_teachers_session,
    set_window,
)

from app.extensions import db

TAG = re.compile(r"<[^>]+>")
TR = re.compile(r'<tr data-committee-id="(\d+)"(?: data-session-id="(\d+)")?[^>]*>(.*?)</tr>', re.S)
COLUMNS = ["序号", "评审委员会", "所在地", "计划评审时间", "计划完成月份", "评审会次", "开启日期", "评审会议日期",
           "发文公布日期", "参评人数", "通过人数", "会次状态", "是否按期", "进度", "说明"]


def table(page: str) -> list[dict[str, str]]:
    body = page.partition('id="timeline-table"')[2].partition("</table>")[0]
    head = [html.unescape(TAG.sub("", h)).strip() for h in re.findall(r"<th>(.*?)</th>", body, re.S)]
    assert head == COLUMNS
    rows = []
    for committee_id, session_id, cells in TR.findall(body):
        values = [html.unescape(TAG.sub("", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
        rows.append({"committee_id": committee_id, "session_id": session_id, **dict(zip(COLUMNS, values, strict=True))})
    return rows


def expected_rows(data: dict) -> list[dict[str, str]]:
    """The table as the JSON says it should read: one line per session, or one for a committee without."""
    lines = []
    for row in data["rows"]:
        window = (f"{row['start_month'] or '—'} 至 {row['finish_month'] or '—'}"
                  if row["start_month"] or row["finish_month"] else "计划未载明")
        common = {"committee_id": str(row["committee_id"]), "序号": str(row["plan_seq"] or "—"), "评审委员会": row["name"],
                  "所在地": row["location"], "计划评审时间": window,
                  "计划完成月份": "、".join(row["plan_finish_months"]) or row["finish_month"] or "—",
                  "进度": row["status_label"]}
        for s in row["sessions"]:
            lines.append({**common, "session_id": str(s["instance_id"]), "评审会次": s["name"],
                          "开启日期": s["opened_on"],
                          "评审会议日期": (s["meeting_date"] + ("" if s["meeting_held"] else "（拟）"))
                          if s["meeting_date"] else "—",
                          "发文公布日期": s["published_on"] or "—", "参评人数": str(s["applicants"]),
                          "通过人数": "—" if s["passed"] is None else str(s["passed"]),
                          "会次状态": s["status_label"] + (f"（{s['stage']}）" if s["stage"] else ""),
                          "是否按期": "不计入" if s["cancelled"] else s["lateness_label"],
                          "说明": "；".join(s["reasons"])})
        if not row["sessions"]:
            lines.append({**common, "session_id": "", "评审会次": "未开启", "开启日期": "—", "评审会议日期": "—",
                          "发文公布日期": "—", "参评人数": "0", "通过人数": "—", "会次状态": "—",
                          "是否按期": row["lateness_label"], "说明": "；".join(row["reasons"])})
    return lines


def by_name(rows: list[dict[str, str]], name: str) -> list[dict[str, str]]:
    return [r for r in rows if r["评审委员会"] == name]


@pytest.fixture()
def flow(ctx):
    build_world()
    return Flow(ctx.test_client())


def test_the_timeline_shows_late_and_on_time_sessions_and_the_json_says_the_same(ctx, flow):
    set_window(AUTO, 2022, "2022-08", "2022-10")
    late_sid = late_forestry_session(flow)
    on_time_sid = on_time_teachers_session(flow)
    flow.at("2022-12-01")
    db.session.rollback()

    manager = Browser(ctx, "manager")
    page = manager.page("/plans/2022/timeline")
    assert "2022 年度评审计划执行进度" in page and '<option value="2022" selected>' in page
    assert 'id="timeline-chart"' in page and "2022年1月" in page
    rows = table(page)
    [late] = by_name(rows, FORESTRY)
    assert late["session_id"] == str(late_sid)
    assert (late["计划评审时间"], late["开启日期"], late["评审会议日期"], late["发文公布日期"]) == (
        "2022-08 至 2022-10", "2022-10-20", "2022-11-15", "2022-11-25")
    assert (late["参评人数"], late["通过人数"], late["是否按期"], late["进度"]) == ("1", "1", "逾期", "逾期")
    assert "评审会议于 2022-11-15 召开，晚于计划完成月份（2022-10）" in late["说明"]
    assert "于 2022-11-25 发文公布，晚于计划完成月份（2022-10）" in late["说明"]
    [on_time] = by_name(rows, LIANDU_TEACHERS)
    assert on_time["session_id"] == str(on_time_sid)
    assert (on_time["评审会议日期"], on_time["发文公布日期"], on_time["参评人数"], on_time["通过人数"]) == (
        "2022-09-20", "2022-09-30", "2", "1")
    assert (on_time["是否按期"], on_time["进度"], on_time["说明"]) == ("按期", "已完成", "")
    [auto] = by_name(rows, AUTO)
    assert (auto["评审会次"], auto["是否按期"], auto["说明"]) == ("未开启", "逾期", "计划完成月份（2022-10）已过，尚未开启评审会次")

    # the chart: the late meeting is red and says why in text (title and screen-reader text), not by colour only
    chart = page.partition('id="timeline-chart"')[2].partition('id="table-title"')[0]
    forestry_block = chart.partition(f'data-committee-id="{late["committee_id"]}"')[2].partition('<div class="tl-row')[0]
    assert 'class="tl-mark tl-meeting tl-late"' in forestry_block and 'class="tl-mark tl-published tl-late"' in forestry_block
    assert "逾期：评审会议于 2022-11-15 召开" in html.unescape(forestry_block)
    assert 'class="tl-window"' in forestry_block and "计划评审时间 2022-08 至 2022-10" in forestry_block
    teachers_block = chart.partition(f'data-committee-id="{on_time["committee_id"]}"')[2].partition('<div class="tl-row')[0]
    assert 'class="tl-mark tl-meeting"' in teachers_block and "tl-late" not in teachers_block

    response = manager.client.get("/plans/2022/timeline.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert data["year"] == 2022 and data["today"] == "2022-12-01"
    assert table(page) == expected_rows(data)
    session = next(r for r in data["rows"] if r["name"] == FORESTRY)["sessions"][0]
    assert (session["meeting_date"], session["published_on"], session["lateness"]) == ("2022-11-15", "2022-11-25", "late")

    # the city's HR staff see every committee; a district bureau only the committees located in its district
    assert table(Browser(ctx, "city_hr").page("/plans/2022/timeline")) == table(page)
    liandu = Browser(ctx, "liandu_hr")
    liandu_page = liandu.page("/plans/2022/timeline")
    liandu_rows = table(liandu_page)
    assert liandu_rows and {r["所在地"] for r in liandu_rows} == {"莲都区"}
    assert by_name(liandu_rows, LIANDU_TEACHERS) and not by_name(liandu_rows, FORESTRY)
    assert "仅显示位于莲都区的评审委员会" in liandu_page
    liandu_json = liandu.client.get("/plans/2022/timeline.json").get_json()
    assert liandu_json["county"] == "莲都区" and table(liandu_page) == expected_rows(liandu_json)


def test_not_started_is_shown_as_a_warning_in_words(ctx):
    set_window(AUTO, 2022, "2022-08", "2022-10")
    Flow(ctx.test_client()).at("2022-10-08")  # the persisted clock: each request reads it
    page = Browser(ctx, "manager").page("/plans/2022/timeline")
    [auto] = by_name(table(page), AUTO)
    assert (auto["是否按期"], auto["进度"]) == ("未按期开始", "未开始")
    assert auto["说明"] == "计划 2022-08 开始评审，宽限一个月（至 2022-09-30）后仍未开启评审会次"
    assert "未按期开始：计划 2022-08 开始评审" in TAG.sub("", page)


def test_others_are_refused(ctx):
    for username in ("teacher1", "edu_office", "school_hr"):
        browser = Browser(ctx, username)
        assert browser.client.get("/plans/2022/timeline").status_code == 403
        response = browser.client.get("/plans/2022/timeline.json")
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
        assert browser.client.get("/plans/timeline?year=2022").status_code == 403
    anonymous = ctx.test_client().get("/plans/2022/timeline")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_unknown_and_bad_years_are_an_empty_timeline_not_an_error(ctx):
    manager = Browser(ctx, "manager")
    page = manager.page("/plans/2031/timeline")
    assert "2031 年度暂无评审计划数据" in page and table(page) == []
    assert '<option value="2031" selected>' in page
    assert manager.client.get("/plans/2031/timeline.json").get_json()["rows"] == []
    assert "无效" in manager.page("/plans/99999999999/timeline")
    assert manager.client.get("/plans/99999999999/timeline.json").status_code == 200
    assert manager.client.get("/plans/2021/x").status_code == 404
    chosen = manager.client.get("/plans/timeline?year=2021")
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith("/plans/2021/timeline")
    for bad in ("abc", "-5", "1", ""):
        fallback = manager.client.get(f"/plans/timeline?year={bad}")
        assert fallback.status_code == 302 and re.search(r"/plans/\d{4}/timeline$", fallback.headers["Location"])
    assert 'id="year-picker"' in manager.page("/plans/2021/timeline")
