"""评审监督 pages: the 5× archive KPI and its Excel export, supervision flags, daily assessment and patrol findings."""

from __future__ import annotations

import html
import io
import re

import pytest
from kpi_world import COMMITTEE_A, EMPLOYER_C, YEAR, application, build, flag
from openpyxl import load_workbook
from page_client import Browser, csrf_from
from sqlalchemy import func, select

from app.extensions import db
from app.models import Document, Event, Organisation, SupervisionFinding, SupervisionFlag
from app.services import archive_kpi, committees

PDF = b"%PDF-1.4 x"
TAG = re.compile(r"<[^>]+>")


def table_rows(page: str, table_id: str) -> list[list[str]]:
    body = page.partition(f'id="{table_id}"')[2].partition("</table>")[0].partition("<tbody>")[2]
    rows = re.findall(r"<tr data-[^>]*>(.*?)</tr>", body, re.S)
    return [[html.unescape(TAG.sub("", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in rows]


def sheet_rows(sheet) -> list[list[str]]:
    """As the page shows them: the ratio (column 5, a number formatted 0.00) with two decimals."""
    def text(index: int, value) -> str:
        return f"{value:.2f}" if index == 4 and isinstance(value, int | float) else str(value)

    return [[text(i, v) for i, v in enumerate(row)] for row in sheet.iter_rows(min_row=2, values_only=True)]


@pytest.fixture()
def world(ctx):
    return build()


# -- DT-05 -------------------------------------------------------------------------------------
def test_manager_sees_the_kpi_and_downloads_the_same_rows(ctx, world):
    manager = Browser(ctx, "manager")
    assert 'href="/oversight"' in manager.page("/inbox")  # the 监督 link
    assert manager.client.get("/oversight").headers["Location"].endswith("/oversight/archive-kpi")
    page = manager.page(f"/oversight/archive-kpi?year={YEAR}")
    assert "业绩档案5倍要求完成情况" in page and f'<option value="{YEAR}" selected>' in page
    committees_rows = table_rows(page, "kpi-committees")
    assert committees_rows[0] == [COMMITTEE_A, "莲都区", "12", "58", "4.83", "未达标", "2"]
    assert [EMPLOYER_C, "莲都区", "0", "3", "—", "不适用", "0"] in table_rows(page, "kpi-employers")

    download = manager.client.get(f"/oversight/archive-kpi.xlsx?year={YEAR}")
    assert download.status_code == 200
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(download.data))
    assert book.sheetnames == list(archive_kpi.LEVELS.values())
    for level, label in archive_kpi.LEVELS.items():
        assert [c.value for c in book[label][1]] == archive_kpi.HEADERS
        assert sheet_rows(book[label]) == table_rows(page, f"kpi-{level}"), level


def test_kpi_year_is_selectable(ctx, world):
    page = Browser(ctx, "city_hr").page(f"/oversight/archive-kpi?year={YEAR - 1}")
    row = next(r for r in table_rows(page, "kpi-committees") if r[0] == COMMITTEE_A)
    assert row[2:4] == ["1", "3"]
    default = Browser(ctx, "city_hr").page("/oversight/archive-kpi")  # the current plan year
    assert f'<option value="{committees.current_plan_year()}" selected>' in default


def test_county_hr_sees_only_its_county(ctx, world):
    page = Browser(ctx, "liandu_hr").page(f"/oversight/archive-kpi?year={YEAR}")
    assert "仅显示莲都区" in page
    counties = {r[1] for t in ("kpi-committees", "kpi-departments", "kpi-employers") for r in table_rows(page, t)}
    assert counties == {"莲都区"}


def test_employer_hr_may_not_see_oversight(ctx, world):
    school = Browser(ctx, "school_hr")
    assert 'href="/oversight"' not in school.page("/inbox")
    for url in ("/oversight", "/oversight/archive-kpi", "/oversight/archive-kpi.xlsx", "/oversight/flags",
                "/oversight/findings"):
        assert school.client.get(url).status_code == 403, url


# -- supervision flags -------------------------------------------------------------------------
@pytest.fixture()
def flags(world):
    liandu = application(COMMITTEE_A, world["a"], "莲都区测试工业局")
    city = application("丽水市建设工程技术人员中级专业技术职务任职资格评审委员会", world["b"], "丽水市人力资源和社会保障局")
    return flag(liandu, COMMITTEE_A), flag(city, "丽水市建设工程技术人员中级专业技术职务任职资格评审委员会",
                                            kind="filing_overdue", reason="评聘结果未在规定时间内报备")


def flag_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-flag-id="(\d+)"', page)]


def test_flags_list_by_county_and_close_with_a_note(ctx, flags):
    liandu_flag, city_flag = flags
    city = Browser(ctx, "city_hr").page("/oversight/flags")
    assert set(flag_ids(city)) == {liandu_flag.id, city_flag.id}
    assert "线下评审线上登记" in city and "评聘报备逾期" in city
    assert f'href="/instances/{liandu_flag.instance_id}"' in city

    liandu = Browser(ctx, "liandu_hr")
    assert flag_ids(liandu.page("/oversight/flags")) == [liandu_flag.id]
    url = f"/oversight/flags/{liandu_flag.id}/close"
    refused = liandu.submit(url, {"note": "  "}, token_from="/oversight/flags")
    assert refused.status_code == 422 and "请填写处理说明" in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(SupervisionFlag, liandu_flag.id).status == "open"
    assert liandu.submit(f"/oversight/flags/{city_flag.id}/close", {"note": "已核查"},
                         token_from="/oversight/flags").status_code == 404  # not in 莲都区

    note = "经核查，该评委会已重新组织线上评审，相关人员已约谈"
    closed = liandu.submit(url, {"note": note}, token_from="/oversight/flags")
    assert closed.status_code == 302 and closed.headers["Location"].endswith("/oversight/flags")
    page = liandu.page("/oversight/flags")
    assert "已关闭" in page and note in page
    db.session.rollback()
    assert db.session.get(SupervisionFlag, liandu_flag.id).status == "closed"
    event = db.session.scalar(select(Event).where(Event.type == "supervision_flag_closed"))
    assert event.instance_id == liandu_flag.instance_id and event.details["note"] == note
    again = liandu.client.post(url, data={"csrf_token": csrf_from(page), "note": note})
    assert again.status_code == 302 and "已关闭" in liandu.page("/oversight/flags")


def test_managers_see_flags_but_do_not_close_them(ctx, flags):
    manager = Browser(ctx, "manager")
    page = manager.page("/oversight/flags")
    assert set(flag_ids(page)) == {f.id for f in flags} and "close-flag" not in page
    response = manager.client.post(f"/oversight/flags/{flags[0].id}/close",
                                   data={"csrf_token": csrf_from(page), "note": "已处理"})
    assert response.status_code == 403
    assert Browser(ctx, "liandu_edu").client.get("/oversight/flags").status_code == 403


# -- daily assessment and patrol findings ------------------------------------------------------
def _committee_id(name: str) -> int:
    return committees.committee_named(name).id


def test_department_records_a_patrol_with_a_document(ctx, world):
    edu = Browser(ctx, "liandu_edu")
    assert edu.client.get("/oversight").headers["Location"].endswith("/oversight/findings")
    form_page = edu.page("/oversight/findings")
    committee_id = _committee_id("莲都区中小学教师中级专业技术职务任职资格评审委员会")
    assert f'<option value="{committee_id}">' in form_page
    findings = "抽查评审会议记录及投票材料，程序规范，材料齐全。"
    response = edu.submit("/oversight/findings", {
        "committee_id": str(committee_id), "kind": "patrol", "result": "compliant", "findings": findings,
        "documents": [(io.BytesIO(PDF), "巡查记录.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    page = edu.page("/oversight/findings")
    assert findings in page and "巡查" in page and "符合规定" in page and "巡查记录.pdf" in page
    db.session.rollback()
    item = db.session.scalar(select(SupervisionFinding))
    assert (item.kind, item.result, item.plan_year) == ("patrol", "compliant", committees.current_plan_year())
    assert item.org_id == db.session.scalar(select(Organisation.id).where(Organisation.name == "莲都区教育局"))
    assert len(item.documents) == 1
    link = f"/oversight/findings/{item.id}/documents/{item.documents[0]}"
    assert link in page and edu.client.get(link).data == PDF

    city = Browser(ctx, "city_hr")  # city HR sees every finding, and may open its documents
    assert findings in city.page("/oversight/findings") and city.client.get(link).data == PDF
    other = Browser(ctx, "city_edu")  # another department sees only its own
    assert findings not in other.page("/oversight/findings") and other.client.get(link).status_code == 404


def test_bad_finding_re_renders_with_the_typed_values(ctx, world):
    edu = Browser(ctx, "liandu_edu")
    committee_id = _committee_id("莲都区中小学教师中级专业技术职务任职资格评审委员会")
    response = edu.submit("/oversight/findings", {
        "committee_id": str(committee_id), "kind": "daily_assessment", "result": "problems", "findings": "有问题",
        "documents": [(io.BytesIO(PDF), "记录.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "检查情况应为 4–4000 字" in page and "请重新选择上传" in page
    assert f'<option selected value="{committee_id}">' in page or f'<option value="{committee_id}" selected>' in page
    assert re.search(r'<input checked[^>]*value="daily_assessment"', page)
    assert re.search(r'<input checked[^>]*value="problems"', page)
    assert "有问题</textarea>" in page
    db.session.rollback()
    assert db.session.scalar(select(func.count(SupervisionFinding.id))) == 0
    assert db.session.scalar(select(func.count(Document.id))) == 0  # the upload was discarded

    missing = edu.submit("/oversight/findings", {"committee_id": "999999", "findings": ""})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 422
    for message in ("请选择本年度评审计划中的评审委员会", "请选择监督方式", "请选择检查结论", "请填写检查情况"):
        assert message in text


def test_only_departments_and_hr_record_findings(ctx, world):
    manager = Browser(ctx, "manager")
    page = manager.page("/oversight/findings")
    assert 'id="record-finding"' not in page
    response = manager.client.post("/oversight/findings", data={
        "csrf_token": csrf_from(page), "committee_id": "1", "kind": "patrol", "result": "compliant",
        "findings": "检查情况正常"})
    assert response.status_code == 403


def test_post_without_csrf_is_refused(ctx, flags):
    liandu = Browser(ctx, "liandu_hr")
    assert liandu.client.post(f"/oversight/flags/{flags[0].id}/close", data={"note": "已处理完毕"}).status_code == 400
    edu = Browser(ctx, "liandu_edu")
    assert edu.client.post("/oversight/findings", data={"kind": "patrol", "findings": "检查情况正常"}).status_code == 400
    db.session.rollback()
    assert db.session.get(SupervisionFlag, flags[0].id).status == "open"
