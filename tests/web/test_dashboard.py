"""The managers' dashboard (统计): counts from real cases driven through their flows; the table,
the chart's JSON and the Excel export agree; every number links to the filtered instance list;
waiting times are counted in official working days (across the 2022 National Day holiday)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from api_client import Api
from committee_names import AUTO, INDUSTRY, LIANDU_TEACHERS
from openpyxl import load_workbook
from page_client import Browser
from sqlalchemy import select

from app.extensions import db
from app.models import Setting, User
from app.services import archives

GRAD = "graduate_initial_determination"
START = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
         "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}
IN_PROGRESS_STATUSES = ["running", "waiting", "suspended", "error"]
CHARTS = ("series", "level", "committee", "county", "year", "pass_committee", "pass_series", "waiting",
          "batches", "grad_levels", "archive_kpi")


# -- reading the page and the export -----------------------------------------------------------
class _Tables(HTMLParser):
    """Every dashboard table: {key: {"columns": [...], "rows": {row key: {...}}}}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._table: dict | None = None
        self._row: dict | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and (a.get("id") or "").startswith("table-"):
            self._table = self.tables.setdefault(a["id"][6:], {"columns": [], "rows": {}, "order": []})
        elif self._table is None:
            return
        elif tag == "th" and "data-column" in a and self._row is None:
            self._table["columns"].append(a["data-column"])
        elif tag == "tr" and "data-row" in a:
            self._row = {"label": "", "link": None, "values": {}, "links": {}}
            self._table["rows"][a["data-row"]] = self._row
            self._table["order"].append(a["data-row"])
        elif tag == "th" and self._row is not None:
            self._cell = "label"
        elif tag == "td" and self._row is not None:
            self._cell = a["data-column"]
            self._row["values"][self._cell] = _number(a.get("data-value", ""))
        elif tag == "a" and self._row is not None and self._cell:
            if self._cell == "label":
                self._row["link"] = a["href"]
            else:
                self._row["links"][self._cell] = a["href"]

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._row is not None and self._cell == "label":
            self._row["label"] += data.strip()


def _number(text: str):
    if text == "":
        return None
    return float(text) if "." in text else int(text)


def tables(html: str) -> dict[str, dict]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def charts(html: str) -> dict[str, dict]:
    found = re.findall(r'<script type="application/json" class="dash-chart-data" id="chart-data-([\w-]+)">(.*?)</script>',
                       html, re.S)
    return {key: json.loads(body) for key, body in found}


def sheet_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    rows = []
    for row in sheet.iter_rows(values_only=True):
        if all(v is None for v in row):
            break
        rows.append(list(row))
    return rows


def params(url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    assert parts.path == "/manage/instances"
    return sorted(parse_qsl(parts.query))


def counts(table: dict) -> dict[str, dict]:
    return {key: row["values"] for key, row in table["rows"].items()}


def agree(browser: Browser, html: str, key: str, query: str = "") -> list[list]:
    """The table, the chart data and the export hold the same numbers; returns the export's rows."""
    table = tables(html)[key]
    response = browser.client.get(f"/dashboard/{key}.xlsx{query}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = sheet_rows(response.data)
    assert len(rows) == len(table["order"]) + 1
    for line, row_key in zip(rows[1:], table["order"], strict=True):
        row = table["rows"][row_key]
        assert line[0] == row["label"]
        exported = dict(zip(table["columns"], line[1:], strict=True))
        for column, value in row["values"].items():
            if isinstance(value, int):
                assert exported[column] == value and type(exported[column]) is int, (key, row_key, column)
            elif value is not None:  # a float: openpyxl reads 5.0 back as 5
                assert exported[column] == value and isinstance(exported[column], (int, float)), (key, row_key, column)
    chart = charts(html).get(key)
    if table["order"]:
        assert chart is not None
        assert chart["labels"] == [table["rows"][k]["label"] for k in table["order"]]
        for dataset in chart["datasets"]:
            column = dataset["key"]
            assert dataset["data"] == [table["rows"][k]["values"][column] for k in table["order"]]
            for value, url, row_key in zip(dataset["data"], dataset["urls"], table["order"], strict=True):
                if value:
                    assert url == table["rows"][row_key]["links"].get(column)
    return rows


# -- the cases ---------------------------------------------------------------------------------
def _at(admin: Api, when: str) -> None:
    assert admin.put("/api/v1/clock", json={"now": when}).status_code == 200


def _start(api: Api) -> int:
    response = api.post("/api/v1/process-instances", json={"process_model": GRAD, "data": START})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _act(api: Api, instance_id: int, data: dict) -> dict:
    [task] = api.tasks(instance_id=instance_id)
    response = api.complete(task["id"], data)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def audited_archive(applicant: str, employer_hr: str) -> None:
    """Title applicants need an audited performance archive to apply."""
    person = db.session.scalar(select(User).where(User.username == applicant))
    archives.add_achievement(person, {"kind": "论文", "title": "论文一篇", "achieved_on": "2020-05-01",
                                      "description": "省级期刊", "attachments": []})
    archives.submit_for_audit(person)
    archives.audit(db.session.scalar(select(User).where(User.username == employer_hr)), person.id, "approve", "属实")


def graduate_world(client, at: Callable[[str], None] | None = None) -> dict[str, int]:
    """Six graduate cases in 市本级 and 莲都区, ending on Wed 2022-10-12 (after the National Day holiday).

    `at` sets the clock; by default through the API (a live browser test sets it in-process)."""
    admin, city, liandu = Api(client, "admin"), Api(client, "grad_city"), Api(client, "grad_liandu")
    at = at or (lambda when: _at(admin, when))
    institute, company = Api(client, "institute_hr"), Api(client, "liandu_co_hr")
    at("2022-07-15T09:00:00+08:00")
    ids = {"g1": _start(city), "g2": _start(liandu), "g3": _start(city), "g6": _start(liandu)}
    assert _act(institute, ids["g1"], {"decision": "approve"})["data"]["batch"] == "2022-08"
    assert _act(company, ids["g2"], {"decision": "approve"})["data"]["batch"] == "2022-08"
    assert _act(institute, ids["g3"], {"decision": "reject", "opinion": "非相关专业工作"})["data"]["outcome"] == "rejected"
    _act(company, ids["g6"], {"decision": "return", "opinion": "缺社保记录"})
    at("2022-08-10T09:00:00+08:00")
    assert admin.post("/api/v1/timers/run").get_json()["fired"] == 3  # two batches open, one correction lapses
    approved = _act(Api(client, "city_hr"), ids["g1"], {"decision": "approve", "approved_level": "助理级"})
    assert approved["data"]["outcome"] == "approved"
    refused = _act(Api(client, "liandu_hr"), ids["g2"], {"decision": "reject", "opinion": "不符合初定条件"})
    assert refused["data"]["outcome"] == "rejected"
    assert liandu.get(f"/api/v1/process-instances/{ids['g6']}").get_json()["data"]["outcome"] == "lapsed"
    at("2022-09-29T10:00:00+08:00")  # Thu before the holiday (10-01 … 10-07; 10-08 and 10-09 are worked)
    ids["g4"] = _start(liandu)
    at("2022-10-08T10:00:00+08:00")  # a Saturday, worked
    ids["g5"] = _start(city)
    at("2022-10-12T10:00:00+08:00")
    db.session.rollback()
    return ids


@pytest.fixture()
def client(ctx):
    return ctx.test_client()


# -- tests -------------------------------------------------------------------------------------
def test_only_managers_hr_staff_and_administrators_see_the_dashboard(ctx):
    for username in ("manager", "city_hr", "liandu_hr", "admin"):
        page = Browser(ctx, username).page("/dashboard")
        assert '<a href="/dashboard">统计</a>' in page
    for username in ("teacher1", "school_hr", "edu_office", "owner"):
        browser = Browser(ctx, username)
        assert '<a href="/dashboard">统计</a>' not in browser.page("/inbox")
        refused = browser.page("/dashboard", status=403)
        assert "只有监督管理员、人社部门工作人员和系统管理员可以查看统计" in refused
        assert browser.client.get("/dashboard/batches.xlsx").status_code == 403
        assert browser.client.get(f"/dashboard/waiting/{GRAD}").status_code == 403
    assert Browser(ctx, "manager").client.get("/dashboard/nonsense.xlsx").status_code == 404
    assert Browser(ctx, "manager").client.get("/dashboard/waiting/no_such_process").status_code == 404


def test_graduate_batches_and_levels_from_real_cases(ctx, client):
    graduate_world(client)
    manager = Browser(ctx, "manager")
    html = manager.page("/dashboard")
    assert 'value="2022" selected' in html  # the current plan year by default
    page = tables(html)
    batches = page["batches"]
    assert batches["columns"] == ["in_progress", "approved", "rejected", "lapsed", "total"]
    assert batches["order"] == ["2022-08", "未分批"]
    assert counts(batches) == {
        "2022-08": {"in_progress": 0, "approved": 1, "rejected": 1, "lapsed": 0, "total": 2},
        "未分批": {"in_progress": 2, "approved": 0, "rejected": 1, "lapsed": 1, "total": 4},
    }
    august = batches["rows"]["2022-08"]
    base = [("plan_year", "2022"), ("process", GRAD)]
    assert params(august["links"]["approved"]) == sorted([*base, ("f.batch", "2022-08"), ("f.outcome", "approved")])
    assert params(august["links"]["total"]) == sorted([*base, ("f.batch", "2022-08")])
    assert params(august["link"]) == sorted([*base, ("f.batch", "2022-08")])
    # The list cannot select "no batch yet": those cells are not links.
    assert batches["rows"]["未分批"]["links"] == {} and batches["rows"]["未分批"]["link"] is None
    assert counts(page["grad_levels"]) == {"助理级": {"approved": 1}}
    assert params(page["grad_levels"]["rows"]["助理级"]["links"]["approved"]) == sorted(
        [*base, ("f.approved_level", "助理级"), ("f.outcome", "approved")])

    rows = agree(manager, html, "batches")
    assert rows[0] == ["批次", "办理中", "通过", "未通过", "已失效", "合计"]
    assert rows[1] == ["2022-08", 0, 1, 1, 0, 2]
    agree(manager, html, "grad_levels")
    assert page["series"]["order"] == [] and "暂无数据" in html


def test_waiting_per_step_counts_working_days_across_the_holiday(ctx, client):
    graduate_world(client)
    manager = Browser(ctx, "manager")
    html = manager.page("/dashboard")
    waiting = tables(html)["waiting"]
    key = f"{GRAD}:Task_employer_assess"
    assert waiting["order"] == [key]
    # g4 from Thu 09-29: 09-30, 10-08, 10-09 (worked weekend), 10-10, 10-11, 10-12 → 6 working days (12 calendar
    # days, 9 weekdays); g5 from Sat 10-08: 10-09 … 10-12 → 4. g4 was due after 5 working days (10-11): overdue.
    assert counts(waiting)[key] == {"count": 2, "average": 5.0, "longest": 6, "overdue": 1}
    row = waiting["rows"][key]
    assert row["label"] == "大中专毕业生初定 · 用人单位考核"
    step = [("plan_year", "2022"), ("process", GRAD), ("step", "Task_employer_assess")]
    assert params(row["links"]["count"]) == sorted(step)
    assert params(row["links"]["overdue"]) == sorted([*step, ("overdue", "1")])
    rows = agree(manager, html, "waiting")
    assert rows[1] == ["大中专毕业生初定 · 用人单位考核", 2, 5.0, 6, 1]
    chart = charts(html)["waiting"]
    assert [d["key"] for d in chart["datasets"]] == ["count", "overdue", "average"]
    assert chart["datasets"][2]["unit"] == "工作日"

    # The next Monday: the weekend of 10-15/16 is not counted; g5 is now overdue too (due 10-13).
    Api(client, "admin").put("/api/v1/clock", json={"now": "2022-10-17T10:00:00+08:00"})
    later = tables(manager.page("/dashboard"))["waiting"]
    assert counts(later)[key] == {"count": 2, "average": 8.0, "longest": 9, "overdue": 2}


def test_the_heat_map_page_shows_the_current_diagram_with_the_same_figures(ctx, client):
    graduate_world(client)
    manager = Browser(ctx, "manager")
    assert f'href="/dashboard/waiting/{GRAD}?year=2022"' in manager.page("/dashboard")
    html = manager.page(f"/dashboard/waiting/{GRAD}?year=2022")
    xml = json.loads(re.search(r'<script type="application/json" id="heatmap-xml">(.*?)</script>', html, re.S).group(1))
    assert 'id="Task_employer_assess"' in xml and "<bpmn:process" in xml
    cells = json.loads(re.search(r'<script type="application/json" id="heatmap-cells">(.*?)</script>', html, re.S).group(1))
    assert set(cells) == {"Task_employer_assess"}
    cell = cells["Task_employer_assess"]
    assert (cell["count"], cell["average"], cell["longest"], cell["overdue"]) == (2, 5.0, 6, 1)
    assert params(cell["url"]) == sorted([("plan_year", "2022"), ("process", GRAD), ("step", "Task_employer_assess")])
    table = tables(html)[f"waiting_{GRAD}"]
    assert counts(table) == {f"{GRAD}:Task_employer_assess": {"count": 2, "average": 5.0, "longest": 6, "overdue": 1}}
    assert "bpmn-navigated-viewer.production.min.js" in html and "missing-steps" not in html
    export = manager.client.get(f"/dashboard/waiting/{GRAD}.xlsx?year=2022")
    assert sheet_rows(export.data)[1] == ["大中专毕业生初定 · 用人单位考核", 2, 5.0, 6, 1]


def test_title_applications_by_every_dimension_and_year(ctx, client):
    """Two quick title cases: one refused at routing (龙泉市), one in progress (莲都区)."""
    audited_archive("engineer1", "auto_hr")
    audited_archive("teacher1", "school_hr")
    admin = Api(client, "admin")
    _at(admin, "2022-07-11T09:00:00+08:00")
    engineer = Api(client, "engineer1")
    application = {"target_title": "工程师", "specialty": "汽车零部件工程", "current_title": "助理工程师",
                   "title_year": 2016, "education": "大专", "application_mode": "正常申报", "years_in_m26": 9,
                   "id_number": "332502198601011234", "phone": "13905780006"}
    wrong = engineer.post("/api/v1/process-instances", json={"process_model": "title_application",
                                                             "data": {**application, "committee": INDUSTRY}})
    assert wrong.status_code == 201, wrong.get_json()
    assert wrong.get_json()["data"]["outcome"] == "rejected_routing"
    teacher = Api(client, "teacher1").post("/api/v1/process-instances", json={"process_model": "title_application", "data": {
        "committee": LIANDU_TEACHERS, "target_title": "一级教师", "specialty": "中小学教师", "current_title": "二级教师",
        "title_year": 2017, "education": "本科", "application_mode": "正常申报", "years_in_m26": 8,
        "id_number": "33250119900101123X", "phone": "0578-2123456"}})
    assert teacher.status_code == 201, teacher.get_json()
    db.session.rollback()

    manager = Browser(ctx, "manager")
    html = manager.page("/dashboard")
    page = tables(html)
    base = [("plan_year", "2022"), ("process", "title_application")]
    assert counts(page["county"]) == {
        "莲都区": {"in_progress": 1, "rejected_routing": 0, "total": 1},
        "龙泉市": {"in_progress": 0, "rejected_routing": 1, "total": 1},
    }
    assert counts(page["committee"]) == {
        LIANDU_TEACHERS: {"in_progress": 1, "rejected_routing": 0, "total": 1},
        INDUSTRY: {"in_progress": 0, "rejected_routing": 1, "total": 1},
    }
    assert counts(page["level"]) == {"中级": {"in_progress": 1, "rejected_routing": 1, "total": 2}}
    assert counts(page["series"]) == {"中小学教师": {"in_progress": 1, "rejected_routing": 0, "total": 1},
                                      "工程": {"in_progress": 0, "rejected_routing": 1, "total": 1}}
    assert params(page["series"]["rows"]["工程"]["link"]) == sorted([*base, ("series", "工程")])
    assert counts(page["year"]) == {"2022": {"in_progress": 1, "rejected_routing": 1, "total": 2}}
    assert page["year"]["rows"]["2022"]["label"] == "2022年度"
    committee_link = page["committee"]["rows"][INDUSTRY]["links"]["rejected_routing"]
    assert params(committee_link) == sorted([*base, ("committee", INDUSTRY), ("f.outcome", "rejected_routing")])
    county_link = page["county"]["rows"]["莲都区"]["links"]["in_progress"]
    assert params(county_link) == sorted([*base, ("county", "莲都区"), *(("status", s) for s in IN_PROGRESS_STATUSES)])
    assert params(page["level"]["rows"]["中级"]["link"]) == sorted([*base, ("f.title_level", "中级")])
    # Refused at routing is no review result: neither committee has a pass rate yet.
    assert counts(page["pass_committee"])[INDUSTRY] == {"passed": 0, "decided": 0, "rate": None}
    for key in ("series", "level", "committee", "county", "year", "pass_committee", "pass_series"):
        agree(manager, html, key)
    assert AUTO not in page["committee"]["rows"]

    narrowed = tables(manager.page("/dashboard?county=莲都区"))
    assert set(counts(narrowed["county"])) == {"莲都区"}
    only = tables(manager.page(f"/dashboard?committee={INDUSTRY}"))
    assert set(counts(only["committee"])) == {INDUSTRY}
    assert params(only["committee"]["rows"][INDUSTRY]["link"]) == sorted([*base, ("committee", INDUSTRY)])
    assert tables(manager.page("/dashboard?year=2021"))["county"]["order"] == []


def test_the_default_year_follows_the_current_plan_year(ctx):
    db.session.merge(Setting(key="current_plan_year", value={"year": 2021}))
    db.session.commit()
    html = Browser(ctx, "manager").page("/dashboard")
    assert 'value="2021" selected' in html and "2021年度职称申报及结果：按系列" in html
    assert "2021 年度暂无业绩档案5倍要求的统计数据。" in html


def test_every_export_opens(ctx):
    manager = Browser(ctx, "manager")
    for key in CHARTS:
        response = manager.client.get(f"/dashboard/{key}.xlsx?year=2022")
        assert response.status_code == 200, key
        assert sheet_rows(response.data)[0][0]
