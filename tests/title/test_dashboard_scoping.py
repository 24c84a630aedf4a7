"""Scoping of the dashboard (统计): a district manager or district HR bureau counts only its county's
cases, on the page and in every Excel export; the city counts all. The cases are real: P01
published through the 莲都区 teachers' committee, a routing refusal in 龙泉市, a 市本级 application
in progress, and graduate cases of 莲都区 and 市本级."""

from __future__ import annotations

import pytest
from test_dashboard import CHARTS, agree, counts, params, sheet_rows, tables
from title_flow import INDUSTRY, LIANDU_HR, LIANDU_TEACHERS, TRANSPORT, person

from app.extensions import db

GRAD = "graduate_initial_determination"


def _p01_published(flow) -> int:
    """P01 (test_p01_district_happy_path) up to publication."""
    cid = flow.p01_accepted()
    flow.at("2022-08-22")
    sid = flow.start_session("edu_office", "2022-09-20")["id"]
    flow.to_meeting("edu_office", sid, pre_notice="2022-08-29", report="2022-09-08", meeting="2022-09-20",
                    opinion_by="liandu_hr", opinion_on="2022-09-14", filing_by="city_hr")
    flow.meeting("edu_office", sid, {cid: 11})
    end = flow.post_notice("edu_office", sid, "2022-09-22")
    assert end == "2022-09-28"
    flow.at("2022-09-29")
    assert flow.timers() == 1
    flow.do("edu_office", sid, "报送公布申请", {"decision": "approve"})
    flow.at("2022-09-30")
    flow.do("liandu_hr", sid, "审核并发文公布", {"decision": "approve"})
    assert flow.instance(cid)["data"]["outcome"] == "published"
    flow.at("2022-10-10")
    flow.do("edu_office", sid, "退回评审材料", {"returned_on": "2022-10-10", "decision": "approve"})
    flow.do("school_hr", cid, "接收退回材料并归档", {"received_on": "2022-10-10", "decision": "approve"})
    return cid



@pytest.fixture()
def cases(flow):
    person("liandu_manager", "莲都区监督管理员", "manager", LIANDU_HR)
    db.session.commit()
    published = _p01_published(flow)
    refused = flow.refused_in_longquan()
    city = flow.city_application()
    assert city["status"] == "running" and city["open_tasks"]
    ids = {"published": published, "refused": refused["id"], "city": city["id"],
           "grad_liandu": flow.graduate("grad_liandu"), "grad_city": flow.graduate("grad_city")}
    flow.at("2022-10-12")
    db.session.rollback()
    return ids


def _pages(world, username: str) -> tuple[object, str]:
    from page_client import Browser

    browser = Browser(world, username)
    return browser, browser.page("/dashboard?year=2022")


def test_the_city_counts_every_county(world, cases):
    browser, html = _pages(world, "manager")
    page = tables(html)
    assert counts(page["county"]) == {
        "莲都区": {"in_progress": 0, "published": 1, "rejected_routing": 0, "total": 1},
        "龙泉市": {"in_progress": 0, "published": 0, "rejected_routing": 1, "total": 1},
        "市本级": {"in_progress": 1, "published": 0, "rejected_routing": 0, "total": 1},
    }
    assert counts(page["pass_committee"])[LIANDU_TEACHERS] == {"passed": 1, "decided": 1, "rate": 100.0}
    passed = page["pass_committee"]["rows"][LIANDU_TEACHERS]["links"]["passed"]
    assert params(passed) == sorted([("committee", LIANDU_TEACHERS), ("f.outcome", "published"),
                                     ("f.outcome", "recommended"), ("plan_year", "2022"), ("process", "title_application")])
    assert counts(page["batches"]) == {"未分批": {"in_progress": 2, "total": 2}}
    waiting = counts(page["waiting"])
    assert waiting[f"{GRAD}:Task_employer_assess"]["count"] == 2
    assert sum(v["count"] for v in waiting.values()) == 3  # and the 市本级 title application at its unit
    assert counts(page["archive_kpi"])[LIANDU_TEACHERS]["applicants"] == 1
    for key in CHARTS:
        agree(browser, html, key, "?year=2022")
    city_hr, city_html = _pages(world, "city_hr")
    assert counts(tables(city_html)["county"]) == counts(page["county"])


@pytest.mark.parametrize("username", ["liandu_manager", "liandu_hr"])
def test_a_district_counts_only_its_county(world, cases, username):
    browser, html = _pages(world, username)
    assert "地区：莲都区（仅统计本地区的案件）" in html
    page = tables(html)
    assert counts(page["county"]) == {"莲都区": {"in_progress": 0, "published": 1, "total": 1}}
    assert list(counts(page["committee"])) == [LIANDU_TEACHERS]
    assert counts(page["year"]) == {"2022": {"in_progress": 0, "published": 1, "total": 1}}
    assert counts(page["pass_committee"]) == {LIANDU_TEACHERS: {"passed": 1, "decided": 1, "rate": 100.0}}
    assert counts(page["batches"]) == {"未分批": {"in_progress": 1, "total": 1}}
    assert counts(page["waiting"]) == {f"{GRAD}:Task_employer_assess": {"count": 1, "average": 2.0, "longest": 2,
                                                                          "overdue": 0}}
    assert list(counts(page["archive_kpi"])) == [LIANDU_TEACHERS]
    county_link = page["county"]["rows"]["莲都区"]["link"]
    assert ("county", "莲都区") in params(county_link)
    for key in CHARTS:
        rows = agree(browser, html, key, "?year=2022")
        labels = [r[0] for r in rows[1:]]
        assert not any(name in label for label in labels for name in ("龙泉市", "市本级", INDUSTRY, TRANSPORT)), key

    # Asking for another county changes nothing: the district stays in its own.
    other = tables(browser.page("/dashboard?year=2022&county=市本级"))
    assert counts(other["county"]) == counts(page["county"])
    export = browser.client.get("/dashboard/county.xlsx?year=2022&county=龙泉市")
    assert [r[0] for r in sheet_rows(export.data)[1:]] == ["莲都区"]
    heat = tables(browser.page(f"/dashboard/waiting/{GRAD}?year=2022"))[f"waiting_{GRAD}"]
    assert counts(heat)[f"{GRAD}:Task_employer_assess"]["count"] == 1
