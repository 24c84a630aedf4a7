"""Continuing-education hours through the pages: county scope, one-year entry, Excel import, DT-01 verdicts."""

from __future__ import annotations

import io
import re

from api_client import Api
from openpyxl import load_workbook
from page_client import Browser
from sqlalchemy import func, select
from xlsx_files import workbook

from app.extensions import db
from app.models import CeRecord, User


def hours(username: str, year: int, professional="60", public="30", general_public="12") -> dict[str, str]:
    return {"username": username, "year": str(year), "professional": professional, "public": public,
            "general_public": general_public}


def saved(username: str) -> dict[int, tuple[int, int, int]]:
    db.session.rollback()  # end this test's read transaction: see what the requests committed
    user_id = db.session.scalar(select(User.id).where(User.username == username))
    return {r.year: (r.professional, r.public, r.general_public)
            for r in db.session.scalars(select(CeRecord).where(CeRecord.user_id == user_id))}




def test_county_staff_enter_hours_for_their_county_only(ctx):
    liandu = Browser(ctx, "liandu_hr")
    done = liandu.submit("/ce", hours("teacher1", 2023), token_from="/ce")
    assert done.status_code == 302
    assert saved("teacher1") == {2023: (60, 30, 12)}
    person = liandu.page(done.headers["Location"])
    assert "周晓岚" in person and 'data-year="2023"' in person

    refused = liandu.submit("/ce", hours("engineer1", 2023), token_from="/ce")
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert "本县（市、区）" in html and "engineer1" in html and "叶海波" in html
    assert 'value="engineer1"' in html  # the typed values stay
    assert saved("engineer1") == {}
    assert liandu.client.get("/ce?username=engineer1").status_code == 403

    api = Api(ctx.test_client(), "liandu_hr").put("/api/v1/ce-records", json=[
        {"username": "teacher1", "year": 2022, "professional": 60, "public": 30, "general_public": 12},
        {"username": "engineer1", "year": 2022, "professional": 60, "public": 30, "general_public": 12}])
    assert api.status_code == 403
    error = api.get_json()["error"]
    assert error["code"] == "forbidden" and "engineer1" in error["message"]
    assert saved("teacher1") == {2023: (60, 30, 12)}  # nothing of the batch saved

    longquan = Api(ctx.test_client(), "longquan_hr")
    assert longquan.put("/api/v1/ce-records", json=[
        {"username": "engineer1", "year": 2022, "professional": 60, "public": 30, "general_public": 12}]).status_code == 200


def test_city_staff_enter_hours_for_anyone(ctx):
    city = Browser(ctx, "city_hr")
    for username in ("teacher1", "engineer1", "grad_city"):
        assert city.submit("/ce", hours(username, 2023), token_from="/ce").status_code == 302
        assert saved(username) == {2023: (60, 30, 12)}
    assert city.submit("/ce", hours("teacher1", 2023, professional="72"), token_from="/ce").status_code == 302
    assert saved("teacher1") == {2023: (72, 30, 12)}


def test_search_stays_within_scope(ctx):
    liandu = Browser(ctx, "liandu_hr")
    page = liandu.page("/ce?q=1")
    assert 'data-user="teacher1"' in page and 'data-user="engineer1"' not in page
    assert 'data-user="teacher1"' in liandu.page("/ce?q=周晓")
    city = Browser(ctx, "city_hr").page("/ce?q=1")
    assert 'data-user="teacher1"' in city and 'data-user="engineer1"' in city
    for outsider in ("teacher1", "school_hr"):
        assert Browser(ctx, outsider).client.get("/ce").status_code == 403


def test_bad_entry_rerenders_with_chinese_errors(ctx):
    city = Browser(ctx, "city_hr")
    response = city.submit("/ce", hours("teacher1", 2023, professional="六十", general_public=""), token_from="/ce")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "不是有效的整数" in html and "请填写一般公需科目学时" in html
    assert 'value="六十"' in html and 'value="teacher1"' in html
    response = city.submit("/ce", hours("nobody", 1999, general_public="40"), token_from="/ce")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "用户不存在" in html and "年份应为 2000–2100 的整数" in html and "不能超过公需科目学时" in html
    assert 'value="nobody"' in html and 'value="1999"' in html
    assert db.session.scalar(select(func.count()).select_from(CeRecord)) == 0


def test_excel_import_all_rows_or_none(ctx):
    city = Browser(ctx, "city_hr")
    bad = city.submit("/ce/import", {"file": (workbook([["teacher1", 2022, 60, 30, 12], ["teacher1", 2023, 60, 30, 50]]),
                                              "学时.xlsx")}, token_from="/ce", content_type="multipart/form-data")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "第 3 行 一般公需科目：一般公需科目学时不能超过公需科目学时" in html and "未导入任何记录" in html
    assert db.session.scalar(select(func.count()).select_from(CeRecord)) == 0

    good = city.submit("/ce/import", {"file": (workbook([["teacher1", 2022, 60, 30, 12], ["engineer1", 2023, 61, 30, 12]]),
                                               "学时.xlsx")}, token_from="/ce", content_type="multipart/form-data")
    assert good.status_code == 302
    assert "已导入 2 条" in city.page("/ce")
    assert saved("engineer1") == {2023: (61, 30, 12)}


def test_excel_import_refuses_rows_outside_the_county(ctx):
    liandu = Browser(ctx, "liandu_hr")
    response = liandu.submit("/ce/import", {"file": (workbook([["teacher1", 2022, 60, 30, 12],
                                                               ["engineer1", 2022, 60, 30, 12]]), "学时.xlsx")},
                             token_from="/ce", content_type="multipart/form-data")
    assert response.status_code == 403
    assert "第 3 行 用户名" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CeRecord)) == 0
    not_excel = liandu.submit("/ce/import", {"file": (io.BytesIO(b"plain text"), "学时.xlsx")}, token_from="/ce",
                              content_type="multipart/form-data")
    assert not_excel.status_code == 422 and "不是有效的 Excel 文件" in not_excel.get_data(as_text=True)
    assert liandu.submit("/ce/import", {}, token_from="/ce").status_code == 422


def test_template_download(ctx):
    response = Browser(ctx, "liandu_hr").client.get("/ce/template.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == ["用户名", "年度", "专业科目", "公需科目", "一般公需科目"]
    assert Browser(ctx, "teacher1").client.get("/ce/template.xlsx").status_code == 403


def test_applicant_sees_each_years_verdict(ctx):
    Api(ctx.test_client(), "city_hr").put("/api/v1/ce-records", json=[
        {"username": "teacher1", "year": 2018, "professional": 0, "public": 0, "general_public": 0},
        {"username": "teacher1", "year": 2022, "professional": 60, "public": 30, "general_public": 12},
        {"username": "teacher1", "year": 2023, "professional": 60, "public": 30, "general_public": 11}])
    page = Browser(ctx, "teacher1").page("/my/ce")
    rows = dict(re.findall(r'<tr data-year="(\d+)">(.*?)</tr>', page, re.S))
    assert "视同合格" in rows["2018"]
    assert "<td>90</td>" in rows["2022"] and "未达标" not in rows["2022"] and "达标" in rows["2022"]
    assert "未达标" in rows["2023"] and "一般公需科目学时 11，低于 12" in rows["2023"]
    assert "2018 年及以前年度的学时视同合格" in page
    assert "暂无登记的学时" in Browser(ctx, "engineer1").page("/my/ce")
