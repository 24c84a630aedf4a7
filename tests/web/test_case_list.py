"""The instance list page (案件跟踪) as managers use it: filters, sorting, paging, saved views, export.

Cases are real graduate applications started and moved on through the services (the clock set
through the persisted override, so the pages' requests keep it); the pages are read as a logged-in
browser reads them, with real CSRF tokens.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from page_client import Browser, csrf_from
from sqlalchemy import func, select

from app.extensions import db
from app.models import HumanTask, SavedView, User
from app.services import case_export, instances, tasks
from app.services import clock as clock_service

GRAD = "graduate_initial_determination"
LIST = "/manage/instances"
APPLICATION = {"education": "硕士", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
               "months_pre_degree": 0, "specialty": "农学", "requested_level": "中级"}
ROW = re.compile(r'<tr data-instance-id="(\d+)"[^>]*>(.*?)</tr>', re.S)
CELL = re.compile(r'<td class="[^"]*" data-col="([^"]+)" data-kind="([^"]+)" data-value="([^"]*)"[^>]*>(.*?)</td>', re.S)
HEAD = re.compile(r'<th class="[^"]*" data-col="([^"]+)"[^>]*>\s*<a [^>]*>([^<]*?)(?: [▲▼])?</a>', re.S)
TAG = re.compile(r"<[^>]+>")


def person(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def at(when: str) -> None:
    clock_service.set_clock(person("admin"), datetime.fromisoformat(when))


def act(username: str, instance_id: int, data: dict) -> None:
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open"))
    tasks.complete_task(person(username), task.id, data)


@pytest.fixture()
def many(ctx):
    """25 graduate cases over five days: months before the degree repeat (ties), every seventh asks
    for 助理级, every fourth is approved by the employer and every fifth refused."""
    ids = []
    for k in range(25):
        at(f"2022-07-{11 + k // 5:02d}T{9 + k % 5:02d}:15:00+08:00")
        who, employer = ("grad_city", "institute_hr") if k % 2 else ("grad_liandu", "liandu_co_hr")
        level = "助理级" if k % 7 == 3 else "中级"
        case = instances.start_instance(person(who), GRAD, {**APPLICATION, "months_pre_degree": (k % 6) * 10,
                                                            "requested_level": level,
                                                            "graduation_date": f"2021-0{1 + k % 6}-15"})
        if k % 4 == 1:
            act(employer, case.id, {"decision": "approve"})
        elif k % 5 == 2:
            act(employer, case.id, {"decision": "reject", "opinion": "非本专业工作"})
        ids.append(case.id)
    at("2022-07-25T09:00:00+08:00")
    db.session.rollback()
    return ids


def rows_of(page: str) -> list[tuple[int, list[tuple[str, str, str, str]]]]:
    """[(instance id, [(column, kind, data-value, visible text)])] of the page's table."""
    table = page.split('id="case-list"', 1)[1].split("</table>", 1)[0]
    return [(int(i), [(c, k, html.unescape(v), " ".join(html.unescape(TAG.sub(" ", t)).split()))
                      for c, k, v, t in CELL.findall(body)])
            for i, body in ROW.findall(table)]


def expected_cell(kind: str, value: str, text: str):
    if kind in ("integer", "number"):
        return float(value) if value else None
    if kind == "date":
        return date.fromisoformat(value) if value else None
    if kind == "datetime":
        return datetime.fromisoformat(value).replace(tzinfo=None) if value else None
    if kind == "boolean":
        return {"true": True, "false": False}.get(value)
    return None if text == "—" else text


def as_cell(kind: str, cell):
    if cell is None:
        return None
    if kind in ("integer", "number"):
        assert isinstance(cell, (int, float)) and not isinstance(cell, bool), cell
        return float(cell)
    if kind == "date":
        assert isinstance(cell, datetime), cell  # a date cell, not text
        return cell.date()
    if kind == "datetime":
        assert isinstance(cell, datetime), cell
        return cell.replace(microsecond=0)
    if kind == "boolean":
        assert isinstance(cell, bool), cell
    return cell


def test_the_export_matches_the_filtered_list_row_for_row(ctx, many):
    manager = Browser(ctx, "manager")
    query = f"process={GRAD}&f.requested_level=中级&sort=f.months_pre_degree&dir=desc&cols=months_pre_degree,graduation_date,eligible,outcome,batch"
    first = manager.page(f"{LIST}?{query}&per_page=20")
    second = manager.page(f"{LIST}?{query}&per_page=20&page=2")
    listed = rows_of(first) + rows_of(second)
    assert len(rows_of(first)) == 20 and len(listed) == 21  # 25 cases, 4 ask for 助理级
    assert 'data-total="21"' in first
    months = [float(v) for _, cells in listed for c, _, v, _ in cells if c == "f.months_pre_degree"]
    assert months == sorted(months, reverse=True) and months[0] == 50

    kinds = {k for _, cells in listed for _, k, v, _ in cells if v}
    assert kinds == {"integer", "string", "list", "date", "datetime", "boolean"}

    response = manager.client.get(f"{LIST}/export.xlsx?{query}&per_page=20&page=2")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert "申请级别：中级" in sheet.cell(row=1, column=1).value
    header = [c.value for c in sheet[case_export.HEADER_ROW]]
    assert header == [label.strip() for _, label in HEAD.findall(first)]
    exported = list(sheet.iter_rows(min_row=case_export.FIRST_ROW, values_only=True))
    assert [int(r[0]) for r in exported] == [i for i, _ in listed]  # every page, the same order
    for (instance_id, cells), line in zip(listed, exported, strict=True):
        assert len(line) == len(cells)
        for (column, kind, value, text), cell in zip(cells, line, strict=True):
            assert as_cell(kind, cell) == expected_cell(kind, value, text), (instance_id, column, cell, value, text)


def test_sort_by_a_date_column_and_paging(ctx, many):
    manager = Browser(ctx, "manager")
    page = manager.page(f"{LIST}?process={GRAD}&sort=f.graduation_date&per_page=20")
    graduation = [v for _, cells in rows_of(page) for c, _, v, _ in cells if c == "f.graduation_date"]
    assert graduation == sorted(graduation) and graduation[0] == "2021-01-15"
    assert 'rel="next"' in page and "第 1 / 2 页" in page
    last = manager.page(f"{LIST}?process={GRAD}&sort=f.graduation_date&per_page=20&page=2")
    assert len(rows_of(last)) == 5 and 'rel="prev"' in last and 'rel="next"' not in last
    assert len(rows_of(manager.page(f"{LIST}?per_page=50"))) == 25
    newest = rows_of(manager.page(f"{LIST}?sort=created_at&dir=desc"))
    assert newest[0][0] == many[-1] and newest[-1][0] == many[5]


def test_filters_from_the_dashboard_narrow_the_page(ctx, many):
    manager = Browser(ctx, "manager")
    page = manager.page(f"{LIST}?process={GRAD}&status=running&status=waiting&county=莲都区")
    shown = {i for i, _ in rows_of(page)}
    db.session.rollback()
    assert shown == {i for k, i in enumerate(many) if k % 2 == 0 and not (k % 4 == 1 or k % 5 == 2)}
    overdue = rows_of(manager.page(f"{LIST}?overdue=1&step=用人单位考核"))
    assert overdue and all("已逾期" in dict((c, t) for c, _, _, t in cells)["due"] for _, cells in overdue)
    rejected = [i for i, _ in rows_of(manager.page(f"{LIST}?f.outcome=rejected"))]
    assert rejected == [i for k, i in reversed(list(enumerate(many))) if k % 5 == 2 and k % 4 != 1]
    assert rejected == [i for i, _ in rows_of(manager.page(f"{LIST}?process={GRAD}&status=completed&f.outcome=rejected"))]


@pytest.mark.parametrize(("query", "message"), [
    ("plan_year=abc", "计划年度应为四位年份"),
    ("created_from=2022-08-01&created_to=2022-07-01", "截止日期不能早于起始日期"),
    ("completed_to=2022-02-30", "日期格式应为 YYYY-MM-DD"),
    ("status=stuck", "未知的状态"),
    ("process=nothing_here", "没有该流程"),
    (f"process={GRAD}&f.target_title=一级教师", "没有结果字段 target_title"),
    (f"process={GRAD}&f.months_pre_degree=many", "应为数字"),
    ("per_page=1000", "每页条数应为 20、50、100 之一"),
    ("sort=salary", "不能按该列排序"),
])
def test_bad_input_is_answered_in_chinese_with_422(ctx, query, message):
    manager = Browser(ctx, "manager")
    for url in (f"{LIST}?{query}", f"{LIST}/export.xlsx?{query}"):
        response = manager.client.get(url)
        assert response.status_code == 422, (url, response.status_code)
        body = response.get_data(as_text=True)
        assert message in body and "筛选条件有误" in body
        assert 'id="case-filters"' in body  # the form again, to correct


def test_saved_views_round_trip(ctx, many):
    manager = Browser(ctx, "manager")
    url = f"{LIST}?process={GRAD}&status=running&sort=f.months_pre_degree"
    saved = manager.submit(f"{LIST}/views", {"name": " 办理中的初定 ", "process": GRAD, "status": "running",
                                             "sort": "f.months_pre_degree", "page": "2", "evil": "1"}, token_from=url)
    assert saved.status_code == 302
    assert "process=" in saved.headers["Location"] and "evil" not in saved.headers["Location"]
    db.session.rollback()
    view = db.session.scalar(select(SavedView).where(SavedView.user_id == person("manager").id))
    assert (view.name, view.page) == ("办理中的初定", "instances")
    assert view.query == {"process": [GRAD], "status": ["running"], "sort": ["f.months_pre_degree"]}

    listing = manager.page(LIST)
    assert f'href="/manage/instances/views/{view.id}">办理中的初定</a>' in listing
    opened = manager.client.get(f"{LIST}/views/{view.id}")
    assert opened.status_code == 302
    assert rows_of(manager.page(opened.headers["Location"])) == rows_of(manager.page(url))

    again = manager.submit(f"{LIST}/views", {"name": "办理中的初定", "process": GRAD}, token_from=LIST)
    assert again.status_code == 422 and "您已保存过名为“办理中的初定”的视图" in again.get_data(as_text=True)
    refused = manager.submit(f"{LIST}/views", {"name": "坏视图", "plan_year": "去年"}, token_from=LIST)
    assert refused.status_code == 422 and "计划年度应为四位年份" in refused.get_data(as_text=True)

    other = Browser(ctx, "city_hr")
    assert "办理中的初定" not in other.page(LIST)
    assert other.client.get(f"{LIST}/views/{view.id}").status_code == 404
    assert other.submit(f"{LIST}/views/{view.id}/delete", token_from=LIST).status_code == 404

    view_id = view.id
    deleted = manager.submit(f"{LIST}/views/{view_id}/delete", token_from=LIST)
    assert deleted.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(func.count(SavedView.id))) == 0
    after = manager.page(LIST)
    assert "已删除视图“办理中的初定”" in after and f"/manage/instances/views/{view_id}" not in after


def test_the_save_and_delete_forms_need_the_csrf_token(ctx):
    manager = Browser(ctx, "manager")
    page = manager.page(LIST)
    assert csrf_from(page.split('id="save-view"', 1)[1])
    refused = manager.client.post(f"{LIST}/views", data={"name": "无令牌", "status": "running"})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    forged = manager.client.post(f"{LIST}/views", data={"name": "伪造", "csrf_token": "forged"})
    assert forged.status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count(SavedView.id))) == 0
    assert manager.submit(f"{LIST}/views", {"name": "有令牌"}, token_from=LIST).status_code == 302
    db.session.rollback()
    view_id = db.session.scalar(select(SavedView.id))
    assert manager.client.post(f"{LIST}/views/{view_id}/delete").status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count(SavedView.id))) == 1


def test_who_may_open_the_list(ctx):
    for username in ("manager", "city_hr", "liandu_hr", "admin"):
        browser = Browser(ctx, username)
        assert 'href="/manage/instances">案件跟踪</a>' in browser.page("/inbox")
        assert 'id="case-list"' in browser.page(LIST)
    for username in ("teacher1", "school_hr", "liandu_edu", "edu_office"):
        browser = Browser(ctx, username)
        assert "案件跟踪" not in browser.page("/inbox")
        refused = browser.client.get(LIST)
        assert refused.status_code == 403 and "只有监督管理员、人社部门工作人员和系统管理员" in refused.get_data(as_text=True)
        assert browser.client.get(f"{LIST}/export.xlsx").status_code == 403
    assert ctx.test_client().get(LIST).status_code in (302, 401)


def test_the_api_list_takes_the_same_filters_as_extras(ctx, many):
    from api_client import Api

    manager, applicant = Api(ctx.test_client(), "manager"), Api(ctx.test_client(), "grad_liandu")
    rejected = [i for k, i in enumerate(many) if k % 5 == 2 and k % 4 != 1]
    body = manager.get("/api/v1/process-instances", query_string={
        "process_model": GRAD, "status": "completed", "f.outcome": "rejected"}).get_json()
    assert [i["id"] for i in body["items"]] == rejected[::-1] and body["total"] == len(rejected)
    assert set(body) == {"items", "total", "page", "per_page"} and body["items"][0]["data"]["outcome"] == "rejected"
    own = applicant.get("/api/v1/process-instances", query_string={"county": "莲都区", "plan_year": 2022}).get_json()
    db.session.rollback()
    assert {i["id"] for i in own["items"]} == {i for k, i in enumerate(many) if k % 2 == 0}  # still only their own
    bad = manager.get("/api/v1/process-instances", query_string={"plan_year": "去年", "f.nothing": "1"})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"plan_year", "f.nothing"}
    unknown = manager.get("/api/v1/process-instances", query_string={"process_model": "no_such", "status": "running"})
    assert unknown.status_code == 200 and unknown.get_json()["items"] == []  # the contract's params as before
    spec = ctx.test_client().get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/process-instances"]["get"]
    assert {"process_model", "status", "page", "plan_year", "overdue", "created_from"} <= {
        p["name"] for p in spec["parameters"]}


def test_a_list_longer_than_the_export_cap_says_so(ctx, many, monkeypatch):
    from app.services import case_search

    monkeypatch.setattr(case_search, "EXPORT_CAP", 10)
    manager = Browser(ctx, "manager")
    page = manager.page(f"{LIST}?sort=f.months_pre_degree&process={GRAD}")
    assert 'id="export-cap"' in page and "超过导出上限 10 条" in page
    listed = [i for i, _ in rows_of(page)]
    sheet = load_workbook(io.BytesIO(manager.client.get(f"{LIST}/export.xlsx?sort=f.months_pre_degree&process={GRAD}").data)).active
    assert "共 25 条，超过导出上限，仅含前 10 条" in sheet.cell(row=1, column=1).value
    assert [int(r[0]) for r in sheet.iter_rows(min_row=case_export.FIRST_ROW, values_only=True)] == listed[:10]
    assert 'id="export-cap"' not in manager.page(f"{LIST}?f.outcome=rejected")
