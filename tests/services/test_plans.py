"""Annual plans as data: the bundled 2021 plan, round trips, bad tables, templates, routing by plan."""

from __future__ import annotations

import csv
import io

import pytest
from api_client import Api
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AnnualPlan, Committee, CommitteeScope, Organisation, PlanEntry
from app.rules import plan_text
from app.rules.title import LISHUI_COUNTIES
from app.services import committees, plans, rules
from app.services.errors import Conflict, FormInvalid
from app.services.plan_io import PlanTableInvalid, read_table

BUNDLED_2021 = plans.DATA / "2021-city.csv"
CITY = "丽水市人力资源和社会保障局"
INDUSTRY = "丽水市工业与信息化领域、生态环境工程技术人员中级专业技术职务任职资格评审委员会"
AUTO = "丽水市汽车零部件工程技术人员中级专业技术职务任职资格评审委员会"
NATURAL = "丽水市自然资源工程技术人员中级专业技术职务任职资格评审委员会"
FORESTRY = "丽水市林业工程技术人员中级专业技术职务任职资格评审委员会"
CRAFTS = "丽水市工艺美术中级专业技术职务任职资格评审委员会"
CITY_TEACHERS = "市本级中小学教师中级专业技术职务任职资格评审委员会"


def org(name: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def route(year: int = 2022, **kw):
    inputs = {"plan_year": year, "unit_type": "事业单位", "unit_county": "莲都区", "self_managed": False, **kw}
    return rules.evaluate("route_application", inputs)


def test_the_2021_plan_ships_and_exports_back_byte_for_byte(ctx):
    plan = plans.city_plan(2021)
    assert plan is not None and plan.status == "published" and plan.doc_no == "丽人社〔2021〕53号"
    counts = dict(db.session.execute(select(PlanEntry.section, func.count()).where(PlanEntry.plan_id == plan.id)
                                     .group_by(PlanEntry.section)).all())
    assert counts == {"city_committee": 28, "provincial_recommendation": 33, "graduate_initial_determination": 1}
    assert plans.export_csv(plan) == BUNDLED_2021.read_bytes().decode("utf-8")
    row22 = next(e for e in plan.entries if e.section == "city_committee" and e.seq == 22)
    assert row22.titles_evaluated == ["主任（中）医（药、护、技）师", "副主任（中）医（药、护、技）师"]
    grads = next(e for e in plan.entries if e.section == "graduate_initial_determination")
    assert grads.finish_months == ["2021-02", "2021-05", "2021-08", "2021-11"]


def test_an_excel_export_imports_back_to_the_same_plan(ctx, user):
    plan = plans.city_plan(2021)
    book = plans.export_xlsx(plan)
    sheet = load_workbook(io.BytesIO(book)).worksheets[0]
    assert sheet["B2"].value == "序号" and sheet["C3"].value.startswith("市文化系列")
    assert read_table("plan.xlsx", book, 2021) == plans.rows_of(plan)
    # …and into a plan of its own (another issuer), which exports to the bundled CSV again
    copy = plans.import_table(user("liandu_hr"), 2021, "附件1.xlsx", book, issuer=org("莲都区人力资源和社会保障局"))
    assert copy.status == "draft" and plans.export_csv(copy) == BUNDLED_2021.read_bytes().decode("utf-8")


def _table(*rows: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "seq", "committee_or_item", "titles_evaluated", "titles_recommended", "start_month",
                     "finish_months", "office", "phone", "scope"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


GOOD = ["city_committee", "1", "市交通工程技术人员中级专业技术职务任职资格评审委员会", "工程师", "高级工程师", "2023-06",
        "2023-08", "市交通局人事处", "2615165", "全市交通工程技术人员"]


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_imported(ctx, user):
    before = db.session.scalar(select(func.count()).select_from(PlanEntry))
    content = _table(
        GOOD,
        ["城市评委会", "x", "", "工程师、、助理工程师", "", "2023-13", "2023-08", "市交通局", "12ab", ""],
        ["city_committee", "1", "市水利工程技术人员中级专业技术职务任职资格评审委员会", "工程师", "", "2023-09",
         "2023-07", "市水利局", "2802209", "全市水利工程技术人员"],
        ["provincial_recommendation", "1", "高级会计师", "", "", "", "2025-08", "市财政局", "2669369", "全市会计人员"],
    )
    with pytest.raises(PlanTableInvalid) as caught:
        plans.import_table(user("city_hr"), 2023, "plan.csv", content, issuer=org(CITY))
    found = [(p.row, p.column, p.message) for p in caught.value.problems]
    assert found == [
        (3, "部分", "“城市评委会”不是计划的部分（city_committee、provincial_recommendation、graduate_initial_determination）"),
        (3, "序号", "“x”不是正整数"),
        (3, "评委会名称（评审项目）", "此项为必填项"),
        (3, "所评资格名称", "有空的资格名称（多余的“、”）"),
        (3, "启动时间", "“2023-13”的月份应在 01–12 之间"),
        (3, "电话", "“12ab”不是电话号码（7–8 位本地号码，或带区号）"),
        (4, "序号", "序号 1 与第 2 行重复"),
        (4, "完成时间", "完成时间 2023-07 早于启动时间 2023-09"),
        (5, "完成时间", "完成时间应在 2023 年或 2024 年"),
        (5, "推荐资格名称", "推荐项目应写明推荐资格名称"),
    ]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PlanEntry)) == before
    assert plans.plans_of_year(2023) == []


def test_missing_columns_and_wrong_files_are_refused(ctx, user):
    with pytest.raises(PlanTableInvalid) as caught:
        read_table("p.csv", b"seq,section\n1,city_committee\n", 2023)
    assert "缺少此列" in caught.value.problems[0].message and caught.value.problems[0].row == 1
    for name, content in (("p.docx", b"x"), ("p.xlsx", b"not a workbook"), ("p.csv", b"\xff\xfe\x00bad")):
        with pytest.raises(Exception) as caught:
            read_table(name, content, 2023)
        assert caught.value.message  # a Chinese message, not a crash


def test_template_rows_expand_to_one_committee_per_county(ctx):
    plan = plans.city_plan(2021)
    templates = [e for e in plan.entries if e.per_county]
    assert [e.seq for e in templates] == [21, 23, 24]
    scopes = list(db.session.scalars(select(CommitteeScope).where(
        CommitteeScope.plan_entry_id.in_([e.id for e in templates]))))
    assert len(scopes) == 27
    by_county = {s.counties[0] for s in scopes if s.plan_entry_id == templates[1].id}
    assert by_county == set(LISHUI_COUNTIES)
    qingtian = committees.committee_named("青田县中小学教师中级专业技术职务任职资格评审委员会")
    assert qingtian.location == "青田县" and qingtian.office == "青田县教育局"
    scope = committees.scope_of(qingtian, 2021)
    assert scope.scope_text == "青田县（自主评聘单位除外）中小学、幼儿园教师及教育管理、实验人员"
    assert scope.recommendation_target == "city_senior"  # → 市中小学教师高级评委会 (#27)


def test_the_wording_of_a_row_limits_who_it_takes(ctx):
    # #20: 龙泉、青田 only 中级; city units and the other counties 中级 and 初级
    kw = {"committee": CRAFTS, "specialty": "工艺美术", "plan_year": 2021, "unit_type": "企业"}
    assert route(target_title="助理工艺美术师", unit_county="莲都区", **kw)["accepted"] is True
    refused = route(target_title="助理工艺美术师", unit_county="龙泉市", **kw)
    assert refused["accepted"] is False and "龙泉市、青田县申报对象不含助理工艺美术师" in refused["reason"]
    assert route(target_title="工艺美术师", unit_county="青田县", **kw)["accepted"] is True
    # #25: 市本级 only
    teachers = {"committee": CITY_TEACHERS, "specialty": "中小学教师", "target_title": "一级教师"}
    assert route(unit_county="市本级", **teachers)["accepted"] is True
    moved = route(unit_county="云和县", **teachers)
    assert moved["accepted"] is False and moved["committee"] == "云和县中小学教师中级专业技术职务任职资格评审委员会"
    # “自主评聘单位除外”
    assert route(self_managed=True, unit_county="市本级", **teachers)["route"] == "self_managed"


@pytest.mark.parametrize("year", [2021, 2022])
def test_routing_scopes_come_from_the_plan_of_the_year(ctx, year):
    scopes = committees.scopes_for(year)
    plan_scopes = db.session.scalars(select(CommitteeScope).where(CommitteeScope.plan_year == year,
                                                                  CommitteeScope.plan_entry_id.is_not(None)))
    names = {s.committee for s in scopes}
    assert (AUTO in names) is (year == 2022) and (FORESTRY in names) is (year == 2022)
    assert len(list(plan_scopes)) == (28 - 3 + 27 if year == 2021 else 30 - 3 + 27)
    natural = next(s for s in scopes if s.committee == NATURAL)
    assert ("林业工程" in (natural.specialties or ())) is (year == 2021)


def test_p06_and_p10_under_2022_and_the_same_applications_under_2021(ctx):
    auto = {"specialty": "汽车零部件工程", "target_title": "工程师", "unit_type": "企业", "unit_county": "龙泉市"}
    refused = route(committee=INDUSTRY, **auto)
    assert (refused["accepted"], refused["route"], refused["committee"]) == (False, "rejected_routing", AUTO)
    assert refused["reason"].startswith("自2022年起汽车零部件工程助理工程师、工程师由")
    assert route(committee=AUTO, **auto)["accepted"] is True
    assert route(year=2021, committee=INDUSTRY, **auto)["accepted"] is True
    assert route(year=2021, committee=AUTO, **auto)["committee"] == INDUSTRY  # no such committee in 2021

    forest = {"specialty": "林业工程", "target_title": "工程师"}
    refused = route(committee=NATURAL, **forest)
    assert (refused["accepted"], refused["route"], refused["committee"]) == (False, "rejected_routing", FORESTRY)
    assert route(committee=FORESTRY, **forest)["accepted"] is True
    assert route(year=2021, committee=NATURAL, **forest)["accepted"] is True
    assert route(year=2021, committee=FORESTRY, **forest)["committee"] == NATURAL


def test_the_district_plan_derives_from_the_city_plan(ctx):
    liandu = org("莲都区人力资源和社会保障局")
    plan = next(p for p in plans.plans_of_year(2022) if p.issuer_org_id == liandu.id)
    assert plan.parent == plans.city_plan(2022) and plan.status == "published"
    assert [(e.seq, e.name) for e in plan.entries] == [
        (1, "莲都区卫技人员中级专业技术职务任职资格评审委员会"),
        (2, "莲都区中小学教师中级专业技术职务任职资格评审委员会"),
        (3, "莲都区中等职业学校教师中级专业技术职务任职资格评审委员会")]
    teachers = committees.committee_named("莲都区中小学教师中级专业技术职务任职资格评审委员会")
    scope = committees.scope_of(teachers, 2022)
    assert scope.plan_entry_id == plan.entries[1].id and scope.counties == ["莲都区"]
    # the register names the concrete title “副高” means for this committee
    assert scope.titles_recommended == ["高级教师"] and scope.recommendation_target == "city_senior"
    with pytest.raises(Conflict):
        plans.derive_district(None, plans.city_plan(2022), liandu, check_access=False)


def test_a_new_year_is_a_draft_until_published_and_then_routing_reads_it(ctx, user):
    owner, city_hr = user("owner"), user("city_hr")
    copies = plans.copy_year(owner, 2022, 2023)
    assert [p.issuer.name for p in copies] == [CITY, "莲都区人力资源和社会保障局"]
    city = copies[0]
    assert city.status == "draft" and city.copied_from_id == plans.city_plan(2022).id
    assert copies[1].parent_id == city.id
    row = next(e for e in city.entries if e.section == "city_committee" and e.seq == 12)
    assert (row.start_month, row.finish_months) == ("2023-06", ["2023-08"])
    assert plans.compare(plans.city_plan(2022), city)["changes"] == []
    assert 2023 not in committees.plan_years() and committees.current_plan_year() == 2022

    # the auto-parts committee is not in the 2023 plan: the industry committee takes its titles again
    auto_row = next(e for e in city.entries if e.seq == 29 and e.section == "city_committee")
    plans.delete_entry(city_hr, auto_row)
    edited = next(e for e in city.entries if e.seq == 12 and e.section == "city_committee")
    changed = plans.rows_of(city)[11]
    assert changed.seq == 12
    changed.finish_months = ["2023-09"]
    plans.update_entry(city_hr, edited, changed)
    diff = plans.compare(plans.city_plan(2022), city)
    assert [(c["kind"], c["seq"]) for c in diff["changes"]] == [("changed", 12), ("removed", 29)]
    assert diff["changes"][0]["fields"] == [{"field": "finish_months", "label": "完成时间", "old": "2022-08",
                                             "new": "2023-09"}]
    auto = {"specialty": "汽车零部件工程", "target_title": "工程师", "unit_type": "企业", "unit_county": "龙泉市"}
    with pytest.raises(FormInvalid):
        route(year=2023, committee=INDUSTRY, **auto)  # no 2023 plan in force yet
    plans.publish(city_hr, city)
    db.session.commit()
    assert committees.current_plan_year() == 2023
    assert route(year=2023, committee=INDUSTRY, **auto)["accepted"] is True
    assert route(committee=INDUSTRY, **auto)["committee"] == AUTO  # 2022 unchanged
    transport = committees.scope_of(committees.committee_named("丽水市交通工程技术人员中级专业技术职务任职资格评审委员会"), 2023)
    assert transport.finish_month == "2023-09"
    # the self-managed unit's own committee (no plan row) carries on into the new year
    own = db.session.scalar(select(Committee).where(Committee.self_managed_org_id.is_not(None)))
    assert committees.scope_of(own, 2023) is not None
    with pytest.raises(Conflict):
        plans.copy_year(owner, 2022, 2023) and plans._new_plan(2023, city.issuer, owner)


def test_only_the_issuing_bureau_manages_its_plan(ctx, user):
    city = plans.city_plan(2021)
    assert plans.can_manage(user("city_hr"), city.issuer) and plans.can_manage(user("admin"), city.issuer)
    assert not plans.can_manage(user("liandu_hr"), city.issuer)
    assert not plans.can_manage(user("owner"), city.issuer)
    with pytest.raises(Exception) as caught:
        plans.import_table(user("liandu_hr"), 2023, "p.csv", _table(GOOD), issuer=city.issuer)
    assert caught.value.status == 403


def test_a_published_plan_is_not_overwritten_by_an_import(ctx, user):
    with pytest.raises(Conflict):
        plans.import_table(user("city_hr"), 2021, "p.csv", _table(GOOD).replace(b"2023", b"2021"),
                           issuer=org(CITY))


def test_plan_text_helpers():
    assert plan_text.split_titles("主任（中）医（药、护、技）师、副主任（中）医（药、护、技）师") == [
        "主任（中）医（药、护、技）师", "副主任（中）医（药、护、技）师"]
    assert plan_text.split_titles("") == []
    assert plan_text.official_name("市交通工程技术人员中级专业技术职务任职资格评审委员会").startswith("丽水市交通")
    assert plan_text.official_name(CITY_TEACHERS) == CITY_TEACHERS
    assert plan_text.committee_level("市卫技人员高级专业技术职务任职资格评审委员会") == "高"
    assert plan_text.short_name("市交通工程技术人员中级专业技术职务任职资格评审委员会") == "市交通工程技术人员中评委"
    rule = plan_text.scope_rule("全市建设工程技术人员，申报中初级职务限事业单位人员", per_county=False,
                                titles_evaluated=["工程师"], level_of=committees.title_level)
    assert rule["unit_types_by_title"] == {"工程师": ["事业单位"]} and rule["specialties"] == ["建设"]


def test_api_plans(ctx, app):
    client = app.test_client()
    api = Api(client, "teacher1")
    body = api.get("/api/v1/plans/2021").get_json()
    assert body["year"] == 2021 and len(body["entries"]) == 62
    first = body["entries"][0]
    assert set(first) >= {"section", "seq", "name", "titles_evaluated", "titles_recommended", "start_month",
                          "finish_months", "office", "phone", "scope"}
    assert first["finish_months"] == ["2021-08"] and first["titles_recommended"] == ["副高"]
    assert any(c["name"] == "莲都区中小学教师中级专业技术职务任职资格评审委员会" and c["plan_seq"] == 23
               for c in body["committees"])
    body22 = api.get("/api/v1/plans/2022").get_json()
    assert [p["issuer"] for p in body22["district_plans"]] == ["莲都区人力资源和社会保障局"]
    assert api.get("/api/v1/plans/1999").status_code == 404
    listed = api.get("/api/v1/plans").get_json()["plans"]
    assert [(p["year"], p["issuer"]) for p in listed][:2] == [(2022, CITY), (2022, "莲都区人力资源和社会保障局")]
    assert client.get("/api/v1/plans").status_code == 401
    assert AnnualPlan
