"""Scoping of the instance list (案件跟踪): a district manager or district HR bureau lists, counts and
exports only its county's cases; the city sees all; applicants may not open the list.

The cases are real, started through the REST API as their applicants: a 莲都区 teacher's title
application (P01) at its unit, a 龙泉市 application refused at routing, a 市本级 application in
progress, and graduate applications of 莲都区 and 市本级.
"""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from page_client import Browser
from title_flow import LIANDU_HR, LIANDU_TEACHERS, P01, TRANSPORT, person

from app.extensions import db
from app.services import case_export

GRAD = "graduate_initial_determination"
TITLE = "title_application"
LIST = "/manage/instances"
ROW_ID = re.compile(r'<tr data-instance-id="(\d+)"')



@pytest.fixture()
def cases(flow):
    person("liandu_manager", "莲都区监督管理员", "manager", LIANDU_HR)
    db.session.commit()
    flow.at("2022-07-11")
    teacher = flow.apply("teacher1", **P01)
    refused = flow.refused_in_longquan()
    city = flow.city_application()
    ids = {"teacher": teacher["id"], "refused": refused["id"], "city": city["id"],
           "grad_liandu": flow.graduate("grad_liandu"), "grad_city": flow.graduate("grad_city")}
    flow.at("2022-07-20")
    db.session.rollback()
    return ids


def listed(browser: Browser, query: str = "") -> tuple[list[int], int]:
    page = browser.page(f"{LIST}?{query}")
    total = int(re.search(r'data-total="(\d+)"', page).group(1))
    return [int(i) for i in ROW_ID.findall(page)], total


def exported(browser: Browser, query: str = "") -> list[int]:
    response = browser.client.get(f"{LIST}/export.xlsx?{query}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [int(r[0]) for r in sheet.iter_rows(min_row=case_export.FIRST_ROW, values_only=True)]


def test_the_city_lists_every_county(world, cases):
    everything = sorted(cases.values(), reverse=True)
    for username in ("manager", "city_hr", "admin"):
        browser = Browser(world, username)
        assert listed(browser) == (everything, 5)
        assert exported(browser) == everything
    manager = Browser(world, "manager")
    assert listed(manager, "county=龙泉市") == ([cases["refused"]], 1)
    assert listed(manager, f"process={TITLE}&sort=f.title_year") == (
        [cases["city"], cases["refused"], cases["teacher"]], 3)  # 2015, 2016, 2017
    assert listed(manager, f"process={TITLE}&sort=f.years_in_m26&dir=desc") == (
        [cases["city"], cases["refused"], cases["teacher"]], 3)  # 10, 9, 8 years
    assert listed(manager, "series=中小学教师") == ([cases["teacher"]], 1)
    assert listed(manager, f"process={TITLE}&f.title_level=中级&f.outcome=rejected_routing") == ([cases["refused"]], 1)
    page = manager.page(f"{LIST}?process={TITLE}")
    for label in ("申报资格", "级别", "结果", "证书编号"):
        assert f">{label}</a>" in page  # the title review's default result columns


@pytest.mark.parametrize("username", ["liandu_manager", "liandu_hr"])
def test_a_district_lists_counts_and_exports_only_its_county(world, cases, username):
    browser = Browser(world, username)
    own = sorted([cases["teacher"], cases["grad_liandu"]], reverse=True)
    assert listed(browser) == (own, 2)
    assert exported(browser) == own
    # Asking for another county or its cases' values finds nothing: the scope holds.
    assert listed(browser, "county=龙泉市") == ([], 0)
    assert exported(browser, "county=市本级") == []
    assert listed(browser, "f.outcome=rejected_routing") == ([], 0)
    assert listed(browser, f"committee={TRANSPORT}") == ([], 0)
    # A dashboard link (several values of one parameter) stays inside the district too.
    link = f"process={TITLE}&plan_year=2022&committee={LIANDU_TEACHERS}&status=running&status=waiting"
    assert listed(browser, link) == ([cases["teacher"]], 1)
    assert exported(browser, link) == [cases["teacher"]]


def test_applicants_and_units_may_not_open_the_list(world, cases):
    for username in ("teacher1", "grad_city", "school_hr"):
        browser = Browser(world, username)
        refused = browser.client.get(LIST)
        assert refused.status_code == 403
        assert "只有监督管理员、人社部门工作人员和系统管理员可以使用案件跟踪" in refused.get_data(as_text=True)
        assert browser.client.get(f"{LIST}/export.xlsx").status_code == 403
