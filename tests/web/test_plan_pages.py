"""年度计划 pages: list, import with row/column errors, publish, export, edit, district plans, a new year."""

from __future__ import annotations

import io
import re

from page_client import Browser, csrf_from
from sqlalchemy import select

from app.extensions import db
from app.models import AnnualPlan, Organisation, PlanEntry
from app.services import committees, plans

HEADER = "section,seq,committee_or_item,titles_evaluated,titles_recommended,start_month,finish_months,office,phone,scope\n"
ROW = ("city_committee,1,市交通工程技术人员中级专业技术职务任职资格评审委员会,工程师,高级工程师,2023-06,2023-08,"
       "市交通局人事处,2615165,全市交通工程技术人员\n")


def _upload(browser: Browser, content: bytes, name: str = "附件1.csv", year: int = 2023, **extra):
    """Post the import form; a checked table is written by a job: poll its page until it is done."""
    html = browser.page("/plans/import")
    response = browser.client.post("/plans/import", data={
        "csrf_token": csrf_from(html), "year": str(year), "file": (io.BytesIO(content), name), **extra},
        content_type="multipart/form-data")
    if response.status_code == 302 and "/jobs/" in response.headers["Location"]:
        polls = [browser.client.get(response.headers["Location"] + ".json").get_json() for _ in range(3)]
        assert polls[-1]["finished"] and polls[-1]["failed"] == 0, polls[-1]
        db.session.rollback()
    return response


def test_the_plan_list_and_a_plan_page(ctx, app):
    browser = Browser(app, "manager")
    html = browser.page("/plans")
    assert "丽水市人力资源和社会保障局2021年度职称评审计划" in html and 'id="current-year">2022<' in html
    plan = plans.city_plan(2021)
    page = browser.page(f"/plans/{plan.id}")
    assert "市交通工程技术人员中级专业技术职务任职资格评审委员会" in page and "9 个评委会" in page
    assert "修改</a>" not in page and 'id="publish"' not in page  # the manager reads, does not edit
    for who in ("teacher1", "school_hr"):
        assert Browser(app, who).client.get("/plans").status_code == 403


def test_exports_are_the_plan(ctx, app):
    browser = Browser(app, "city_hr")
    plan = plans.city_plan(2021)
    response = browser.client.get(f"/plans/{plan.id}/export.csv")
    assert response.status_code == 200 and response.get_data() == (plans.DATA / "2021-city.csv").read_bytes()
    xlsx = browser.client.get(f"/plans/{plan.id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")


def test_a_bad_table_shows_every_problem_and_imports_nothing(ctx, app):
    browser = Browser(app, "city_hr")
    bad = (HEADER + ROW + "city_committee,1,,工程师,,2023-07,2023-05,x,abc,\n").encode()
    response = _upload(browser, bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "未导入任何内容" in html
    cells = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", html)
    assert cells == [("3", "序号", "序号 1 与第 2 行重复"), ("3", "评委会名称（评审项目）", "此项为必填项"),
                     ("3", "完成时间", "完成时间 2023-05 早于启动时间 2023-07"),
                     ("3", "电话", "“abc”不是电话号码（7–8 位本地号码，或带区号）")]
    assert plans.plans_of_year(2023) == []
    wrong = _upload(browser, b"hello", name="plan.txt")
    assert wrong.status_code == 422 and "只接受 .csv 或 .xlsx 计划表" in wrong.get_data(as_text=True)
    missing = browser.client.post("/plans/import", data={"csrf_token": csrf_from(browser.page("/plans/import")),
                                                          "year": "2023"})
    assert missing.status_code == 422 and "请选择 .csv 或 .xlsx 文件" in missing.get_data(as_text=True)


def test_import_edit_and_publish_a_plan(ctx, app):
    browser = Browser(app, "city_hr")
    response = _upload(browser, (HEADER + ROW).encode(), doc_no="丽人社函〔2023〕9号", issue_date="2023-05-20")
    assert response.status_code == 302
    plan = db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == 2023))
    assert plan.status == "draft" and plan.doc_no == "丽人社函〔2023〕9号" and len(plan.entries) == 1
    entry = plan.entries[0]
    url = f"/plans/{plan.id}/entries/{entry.id}"
    form = {"section": "city_committee", "seq": "1", "committee_or_item": entry.name, "titles_evaluated": "工程师",
            "titles_recommended": "高级工程师", "start_month": "2023-06", "finish_months": "2023-13",
            "office": "市交通局人事处", "phone": "2615165", "scope": "全市交通工程技术人员"}
    refused = browser.submit(url, form)
    assert refused.status_code == 422 and "“2023-13”的月份应在 01–12 之间" in refused.get_data(as_text=True)
    saved = browser.submit(url, {**form, "finish_months": "2023-09"}, follow_redirects=True)
    assert "已保存第 1 行" in saved.get_data(as_text=True), saved.get_data(as_text=True)[-3000:]
    db.session.rollback()  # a fresh snapshot: the request committed in its own session
    assert db.session.get(PlanEntry, entry.id).finish_months == ["2023-09"]
    # the draft changes nothing; publishing puts it in force
    assert 2023 not in committees.plan_years()
    assert Browser(app, "liandu_hr").client.post(f"/plans/{plan.id}/publish").status_code in (400, 403)
    published = browser.submit(f"/plans/{plan.id}/publish", token_from=f"/plans/{plan.id}")
    assert published.status_code == 302
    db.session.rollback()  # a fresh snapshot: the request committed in its own session
    assert db.session.get(AnnualPlan, plan.id).status == "published" and 2023 in committees.plan_years()
    again = browser.submit(f"/plans/{plan.id}/publish", token_from=f"/plans/{plan.id}", follow_redirects=True)
    assert "已发布" in again.get_data(as_text=True)


def test_publishing_needs_a_csrf_token(ctx, app):
    browser = Browser(app, "city_hr")
    _upload(browser, (HEADER + ROW).encode())
    plan = db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == 2023))
    assert browser.client.post(f"/plans/{plan.id}/publish").status_code == 400
    db.session.rollback()  # a fresh snapshot: the request committed in its own session
    assert db.session.get(AnnualPlan, plan.id).status == "draft"


def test_a_district_derives_its_plan_from_the_city_plan(ctx, app, user):
    owner = user("owner")
    copies = plans.copy_year(owner, 2022, 2023)
    liandu = db.session.scalar(select(Organisation).where(Organisation.name == "莲都区人力资源和社会保障局"))
    plans.publish(user("city_hr"), copies[0])
    db.session.delete(copies[1])  # the district will derive its own
    db.session.commit()
    browser = Browser(app, "liandu_hr")
    city_page = browser.page(f"/plans/{copies[0].id}")
    assert 'id="derive"' in city_page
    response = browser.submit(f"/plans/{copies[0].id}/derive", token_from=f"/plans/{copies[0].id}",
                              follow_redirects=True)
    assert "已由市计划派生" in response.get_data(as_text=True), response.get_data(as_text=True)[-3000:]
    db.session.rollback()
    child = db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == 2023, AnnualPlan.issuer_org_id == liandu.id))
    assert child.parent_id == copies[0].id and [e.seq for e in child.entries] == [1, 2, 3]
    assert child.entries[1].name == "莲都区中小学教师中级专业技术职务任职资格评审委员会"
    assert 'id="derive"' not in browser.page(f"/plans/{copies[0].id}")  # done once


def test_a_new_year_in_one_step_and_its_comparison(ctx, app):
    browser = Browser(app, "owner")
    response = browser.submit("/years/new", {"year": "2023"}, token_from="/plans")
    assert response.status_code == 302 and response.headers["Location"].endswith("/years/2023")
    db.session.rollback()
    assert [p.status for p in plans.plans_of_year(2023)] == ["draft", "draft"]
    html = browser.page("/years/2023")
    assert "计划行没有变化" in html and "title_application" in html
    city = plans.plans_of_year(2023)[0]
    assert "对照丽水市人力资源和社会保障局2022年度职称评审计划" in browser.page(f"/plans/{city.id}")
    # the owner copies, the bureau publishes
    assert 'id="publish"' not in browser.page(f"/plans/{city.id}")
    again = browser.submit("/years/new", {"year": "2023"}, token_from="/plans", follow_redirects=True)
    assert again.status_code == 200
    assert len(plans.plans_of_year(2023)) == 2


def test_setting_the_current_year(ctx, app):
    browser = Browser(app, "city_hr")
    refused = browser.submit("/plans/current-year", {"year": "2030"}, token_from="/plans", follow_redirects=True)
    assert "2030年度计划尚未发布" in refused.get_data(as_text=True)
    assert browser.submit("/plans/current-year", {"year": "2021"}, token_from="/plans").status_code == 302
    db.session.rollback()
    assert committees.current_plan_year() == 2021
    assert "丽水市汽车零部件工程技术人员中级专业技术职务任职资格评审委员会" not in committees.offered_committees()
    assert Browser(app, "liandu_hr").submit("/plans/current-year", {"year": "2022"},
                                            token_from="/plans").status_code == 403
