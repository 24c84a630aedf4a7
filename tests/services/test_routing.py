"""DT-08 route_application over the bundled committee catalogue (P01–P07, P10 and the scope rows)."""

from __future__ import annotations

import pytest
from committee_names import (  # noqa: F401
    AGRI,
    AUTO,
    BUILD,
    DIRECT,
    ENTERPRISE,
    FORESTRY,
    HEALTH_SENIOR,
    INDUSTRY,
    LIANDU_TEACHERS,
    NATURAL,
    TRANSPORT,
)

from app.services import rules
from app.services.errors import FormInvalid


def route(**kw):
    inputs = {"plan_year": 2022, "unit_type": "事业单位", "unit_county": "莲都区", "self_managed": False, **kw}
    return rules.evaluate("route_application", inputs)


def test_p01_teacher_accepted_by_the_district_committee(ctx):
    out = route(committee=LIANDU_TEACHERS, specialty="中小学教师", target_title="一级教师")
    assert out["accepted"] is True and out["committee"] == LIANDU_TEACHERS and out["route"] == "accepted"


def test_a_longquan_teacher_is_sent_to_the_longquan_committee_of_the_template_row(ctx):
    out = route(committee=LIANDU_TEACHERS, specialty="中小学教师", target_title="一级教师", unit_county="龙泉市")
    assert out["accepted"] is False and out["route"] == "rejected_routing"
    assert out["committee"] == "龙泉市中小学教师中级专业技术职务任职资格评审委员会"


def test_outside_every_scope_means_manual_triage(ctx):
    out = route(committee=LIANDU_TEACHERS, specialty="中小学教师", target_title="一级教师", unit_county="外省")
    assert out["accepted"] is False and out["committee"] is None and out["route"] == "rejected_scope"
    assert "不含外省" in out["reason"] and "人工分流" in out["reason"]


def test_p06_auto_parts_goes_to_the_new_committee_from_2022(ctx):
    kw = {"specialty": "汽车零部件工程", "target_title": "工程师", "unit_type": "企业", "unit_county": "龙泉市"}
    refused = route(committee=INDUSTRY, **kw)
    assert refused["accepted"] is False and refused["route"] == "rejected_routing"
    assert refused["committee"] == AUTO
    assert refused["reason"].startswith("自2022年起汽车零部件工程助理工程师、工程师由")
    # the broad enterprise committee may not take it either
    assert route(committee=DIRECT, **kw)["committee"] == AUTO
    assert route(committee=AUTO, **kw)["accepted"] is True
    # in 2021 there was no such committee: the industry committee took it
    assert route(committee=INDUSTRY, plan_year=2021, **kw)["accepted"] is True


def test_p10_forestry_moved_out_of_natural_resources_in_2022(ctx):
    kw = {"specialty": "林业工程", "target_title": "工程师"}
    refused = route(committee=NATURAL, **kw)
    assert refused["route"] == "rejected_routing" and refused["committee"] == FORESTRY
    assert "林业工程" in refused["reason"]
    assert route(committee=FORESTRY, **kw)["accepted"] is True
    assert route(committee=NATURAL, plan_year=2021, **kw)["accepted"] is True


def test_p07_self_managed_unit_is_out_of_scope_for_the_city_senior_committee(ctx):
    out = route(committee=HEALTH_SENIOR, specialty="临床医学", target_title="副主任医师", self_managed=True)
    assert out["accepted"] is False and out["route"] == "self_managed" and out["committee"] is None
    assert "自主评聘" in out["reason"]
    assert route(committee=HEALTH_SENIOR, specialty="临床医学", target_title="副主任医师")["accepted"] is True


def test_p02_p04_p05_accepted(ctx):
    assert route(committee=DIRECT, specialty="机电制造", target_title="工程师", unit_type="企业")["accepted"]
    assert route(committee=INDUSTRY, plan_year=2021, specialty="能源", target_title="工程师", unit_type="企业")["accepted"]
    assert route(committee=AGRI, specialty="农学", target_title="农艺师")["accepted"]
    # the direct-report committee takes enterprise staff only
    out = route(committee=DIRECT, specialty="机电制造", target_title="工程师", unit_type="事业单位")
    assert out["route"] == "rejected_routing" and out["committee"] == INDUSTRY


def test_p03_recommendation_for_the_provincial_senior_title(ctx):
    out = route(committee=TRANSPORT, plan_year=2021, specialty="交通工程", target_title="高级工程师",
                unit_county="市本级")
    assert out["accepted"] is True and out["route"] == "recommended"
    assert out["recommendation_target"] == "provincial_senior"


@pytest.mark.parametrize(("unit_type", "committee", "accepted", "taker"), [
    ("事业单位", BUILD, True, BUILD),          # row 6
    ("企业", BUILD, False, ENTERPRISE),        # row 7: 中初级 limited to public institutions
    ("企业", ENTERPRISE, True, ENTERPRISE),
    ("事业单位", ENTERPRISE, False, BUILD),
])
def test_construction_engineers_by_unit_type(ctx, unit_type, committee, accepted, taker):
    out = route(committee=committee, specialty="建设工程", target_title="助理工程师", unit_type=unit_type)
    assert out["accepted"] is accepted and out["committee"] == taker


def test_no_committee_in_the_plan_means_manual_triage(ctx):
    out = route(committee="丽水市不存在的评委会", specialty="天文", target_title="工程师")
    assert out["accepted"] is False and out["route"] == "manual" and out["committee"] is None
    assert "不在2022年度评审计划中" in out["reason"]


def test_bad_inputs_are_all_reported(ctx):
    with pytest.raises(FormInvalid) as caught:
        rules.evaluate("route_application", {"plan_year": 1999, "specialty": 3, "self_managed": "yes"})
    fields = caught.value.fields
    assert set(fields) == {"plan_year", "specialty", "target_title", "unit_county", "committee", "self_managed"}
    assert fields["plan_year"] == ["没有 1999 年度的评审计划"]
