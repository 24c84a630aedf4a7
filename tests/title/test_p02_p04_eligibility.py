"""P02 and P04: the committee office's eligibility check names every failing rule; approve is not
offered, the office rejects with a one-time statement of reasons and no meeting follows."""

from __future__ import annotations

from title_flow import DIRECT, INDUSTRY, hours, plan_year

P02 = {"committee": DIRECT, "target_title": "工程师", "specialty": "机电制造", "current_title": "助理工程师",
       "title_year": 2018, "education": "本科", "application_mode": "正常申报", "years_in_m26": 6,
       "id_number": "332501198805051234", "phone": "13905780001"}


def test_p02_general_public_11_in_the_year_before_fails_both_ce_rules(flow):
    hours("p02", {2019: (70, 30, 20), 2020: (62, 30, 14), 2021: (70, 25, 11), 2022: (68, 30, 16)})
    flow.at("2022-07-11")
    cid = flow.apply("p02", **P02)["id"]
    assert flow.instance(cid)["data"]["dept_org"] == "莲都区人力资源和社会保障局"  # an enterprise: local HR reviews
    flow.through_unit(cid, "p02_hr", "liandu_hr", "2022-07-12")
    flow.at("2022-08-15")
    checked = flow.eligibility("direct_office", cid)
    assert checked["ce_ok"] is False and checked["eligible"] is False
    assert checked["ce_compliant_years"] == 3
    assert any("2021年未达标" in r for r in checked["ce_reasons"])
    assert any("达标年份数 3，少于申报年限要求 4" in r for r in checked["ce_reasons"])
    year_2021 = next(y for y in checked["ce_years"] if y["year"] == 2021)
    assert year_2021["compliant"] is False and year_2021["reasons"] == ["一般公需科目学时 11，低于 12"]
    assert checked["office_choices"] == ["return", "reject", "recheck"]
    refused = flow.submit("direct_office", cid, "受理及资格审查", {"decision": "approve"})
    assert refused.status_code == 422 and "decision" in refused.get_json()["error"]["fields"]
    flow.do("direct_office", cid, "受理及资格审查",
            {"decision": "reject", "opinion": "；".join(checked["eligibility_reasons"])})
    final = flow.instance(cid)
    assert final["status"] == "completed"
    assert final["data"]["outcome"] == "rejected" and final["data"]["rejected_by"] == DIRECT
    assert "2021年未达标" in final["data"]["opinion"] and "少于申报年限要求 4" in final["data"]["opinion"]


def test_p02_recheck_uses_the_hours_registered_by_the_check_date(flow):
    """D4: the application year's hours count as registered by the office's check date."""
    hours("p02", {2019: (70, 30, 20), 2020: (62, 30, 14), 2021: (70, 30, 12)})
    flow.at("2022-07-11")
    cid = flow.apply("p02", **P02)["id"]
    flow.through_unit(cid, "p02_hr", "liandu_hr", "2022-07-12")
    flow.at("2022-07-20")
    checked = flow.eligibility("direct_office", cid)
    assert checked["eligible"] is False and any("2022年未达标" in r for r in checked["ce_reasons"])
    hours("p02", {2022: (68, 30, 16)})
    flow.at("2022-08-15")
    flow.do("direct_office", cid, "受理及资格审查", {"decision": "recheck"})
    checked = flow.eligibility("direct_office", cid)
    assert checked["eligible"] is True and checked["checked_on"] == "2022-08-15"
    assert checked["office_choices"] == ["approve", "return", "reject"]


def test_p04_2019_is_assessed_and_the_count_fails(flow):
    plan_year(2021)
    hours("p04", {2019: (55, 25, 15), 2020: (60, 30, 14), 2021: (70, 30, 15)})
    flow.at("2021-06-15")
    cid = flow.apply("p04", committee=INDUSTRY, target_title="工程师", specialty="能源", current_title="助理工程师",
                     title_year=2017, education="本科", application_mode="正常申报", years_in_m26=4,
                     id_number="332501199001011234", phone="13905780004")["id"]
    assert flow.instance(cid)["data"]["plan_year"] == 2021
    flow.through_unit(cid, "p04_hr", "liandu_hr", "2021-06-16")
    checked = flow.eligibility("industry_office", cid)
    assert checked["ce_ok"] is False and checked["ce_compliant_years"] == 3
    assert checked["ce_reasons"] == ["2018—2021年达标年份数 3，少于申报年限要求 4"]  # 2020 and 2021 are both fine
    flow.do("industry_office", cid, "受理及资格审查", {"decision": "reject", "opinion": checked["ce_reasons"][0]})
    assert flow.instance(cid)["data"]["outcome"] == "rejected"


def test_p02_follow_up_in_2023_under_the_2023_plan_is_eligible(flow):
    """The 2023 plan is made from 2022 in one step and published; P02 applies again under it."""
    from app.extensions import db
    from app.models import User
    from app.services import plans

    city_hr = db.session.query(User).filter_by(username="city_hr").one()
    owner = db.session.query(User).filter_by(username="owner").one()
    city = plans.copy_year(owner, 2022, 2023)[0]
    plans.publish(city_hr, city)
    db.session.commit()
    hours("p02", {2019: (70, 30, 20), 2020: (62, 30, 14), 2021: (70, 25, 11), 2022: (68, 30, 16),
                  2023: (66, 30, 18)})
    flow.at("2023-07-10")
    cid = flow.apply("p02", **P02)["id"]
    assert flow.instance(cid)["data"]["plan_year"] == 2023
    flow.through_unit(cid, "p02_hr", "liandu_hr", "2023-07-11")
    flow.at("2023-08-15")
    checked = flow.eligibility("direct_office", cid)
    # window 2019–2023: 2019, 2020, 2022, 2023 compliant (4 ≥ 4) and 2022, 2023 consecutive
    assert checked["ce_ok"] is True and checked["ce_compliant_years"] == 4
    assert checked["eligible"] is True and checked["office_choices"] == ["approve", "return", "reject"]
