"""Title-review rules (analysis §6 DT-01…DT-10, acceptance cases §8, decisions D1–D8, D13)."""

from datetime import date

import chinese_calendar
import pytest

from app.rules.title import (
    LISHUI_COUNTIES,
    MOUNTAIN_26,
    MOUNTAIN_26_COUNTIES,
    RULES,
    RuleInputError,
    archive_ratio_kpi,
    ce_application_ok,
    ce_year_compliant,
    evaluate,
    integrity_gate,
    jurisdiction_gate,
    lead_time_ok,
    mountain26,
    two_thirds_up,
    vote_result,
)
from app.rules.workdays import OfficialCalendar, exceptions_from, weekend_only

KNOWN_YEARS = frozenset({2021, 2022, 2023})


@pytest.fixture(scope="module")
def official() -> OfficialCalendar:
    days = [(d, False) for d in chinese_calendar.constants.holidays if d.year in KNOWN_YEARS]
    days += [(d, True) for d in chinese_calendar.constants.workdays if d.year in KNOWN_YEARS]
    return OfficialCalendar(exceptions_from(days), KNOWN_YEARS)


def h(professional: int, public: int, general_public: int) -> dict[str, int]:
    return {"professional": professional, "public": public, "general_public": general_public}


# --- DT-01 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "professional", "public", "general_public", "reasons"),
    [
        # The DT-01 examples (total = professional + public).
        (2020, 60, 30, 12, []),
        (2022, 72, 18, 12, []),
        (2021, 70, 25, 11, ["一般公需科目学时 11，低于 12"]),
        (2019, 55, 25, 15, ["总学时 80，低于 90", "专业科目学时 55，低于 60"]),
        (2023, 80, 10, 10, ["公需科目学时 10，低于 18", "一般公需科目学时 10，低于 12"]),
        (2017, 0, 0, 0, ["2019年以前的学时视同合格"]),
        # P01 2019–2022, P02 2019–2023, P03 2019–2021, P04 2020–2021, P06 2019–2022.
        (2019, 66, 30, 18, []),
        (2021, 72, 30, 14, []),
        (2019, 70, 30, 20, []),
        (2020, 62, 30, 14, []),
        (2023, 66, 30, 18, []),
        (2019, 61, 30, 12, []),
        (2020, 63, 30, 18, []),
        (2021, 70, 20, 12, []),
        (2021, 70, 30, 15, []),
        (2022, 64, 26, 13, []),
        # Each threshold exactly on the boundary and one below.
        (2024, 60, 30, 12, []),
        (2024, 59, 31, 12, ["专业科目学时 59，低于 60"]),
        (2024, 72, 18, 18, []),
        (2024, 72, 17, 12, ["总学时 89，低于 90", "公需科目学时 17，低于 18"]),
        (2024, 73, 17, 12, ["公需科目学时 17，低于 18"]),
        (2024, 66, 24, 12, []),
        (2024, 66, 24, 11, ["一般公需科目学时 11，低于 12"]),
        (2024, 60, 29, 12, ["总学时 89，低于 90"]),
        (
            2024,
            0,
            0,
            0,
            [
                "总学时 0，低于 90",
                "专业科目学时 0，低于 60",
                "公需科目学时 0，低于 18",
                "一般公需科目学时 0，低于 12",
            ],
        ),
        # 2018 deemed, 2019 assessed (D2).
        (2018, 0, 0, 0, ["2019年以前的学时视同合格"]),
        (
            2019,
            0,
            0,
            0,
            [
                "总学时 0，低于 90",
                "专业科目学时 0，低于 60",
                "公需科目学时 0，低于 18",
                "一般公需科目学时 0，低于 12",
            ],
        ),
    ],
)
def test_ce_year_compliant(year, professional, public, general_public, reasons):
    result = ce_year_compliant(year, professional, public, general_public)
    assert result == {"compliant": not reasons or year <= 2018, "reasons": reasons}


def test_ce_year_deemed_cutoff_is_a_setting():
    assert ce_year_compliant(2019, 55, 25, 15, deemed_until_year=2019) == {
        "compliant": True,
        "reasons": ["2020年以前的学时视同合格"],
    }
    assert ce_year_compliant(2018, 0, 0, 0, deemed_until_year=2017)["compliant"] is False


def test_ce_year_fractional_hours_are_shown_as_entered():
    assert ce_year_compliant(2022, 59.5, 30.5, 12)["reasons"] == ["专业科目学时 59.5，低于 60"]


# --- DT-02 ------------------------------------------------------------------------------------

P01_HOURS = {"2019": h(66, 30, 18), "2020": h(60, 30, 12), "2021": h(72, 30, 14), "2022": h(72, 18, 12)}
P02_HOURS = {"2019": h(70, 30, 20), "2020": h(62, 30, 14), "2021": h(70, 25, 11), "2022": h(68, 30, 16)}
P03_HOURS = {2019: h(61, 30, 12), 2020: h(63, 30, 18), 2021: h(70, 20, 12)}
P04_HOURS = {"2019": h(55, 25, 15), "2020": h(60, 30, 14), "2021": h(70, 30, 15)}
P06_HOURS = {str(y): h(64, 26, 13) for y in range(2019, 2023)}
ALL_GOOD = {str(y): h(70, 30, 15) for y in range(2019, 2024)}


def test_p01_ce_ok_on_the_exact_thresholds():
    result = ce_application_ok(2022, 2017, 5, P01_HOURS)
    assert result["ce_ok"] is True
    assert result["compliant_years"] == 5
    assert result["reasons"] == []
    assert all(r["compliant"] for r in result["years"].values())
    assert result["years"][2018] == {"compliant": True, "reasons": ["2019年以前的学时视同合格"]}
    assert sorted(result["years"]) == [2018, 2019, 2020, 2021, 2022]


def test_p02_two_consecutive_years_and_count_both_fail():
    result = ce_application_ok(2022, 2018, 4, P02_HOURS)
    assert result["ce_ok"] is False
    assert result["compliant_years"] == 3
    assert result["reasons"] == [
        "申报当年（2022年）及前一年度（2021年）须连续两年达标，2021年未达标",
        "2019—2022年达标年份数 3，少于申报年限要求 4",
    ]
    assert result["years"][2021] == {"compliant": False, "reasons": ["一般公需科目学时 11，低于 12"]}


def test_p02_follow_up_2023_gap_year_is_fine_once_the_last_two_are_clean():
    result = ce_application_ok(2023, 2018, 4, {**P02_HOURS, "2023": h(66, 30, 18)})
    assert (result["ce_ok"], result["compliant_years"], result["reasons"]) == (True, 4, [])
    assert [y for y, r in result["years"].items() if not r["compliant"]] == [2021]


def test_p03_pre_2019_years_deemed():
    result = ce_application_ok(2021, 2015, 5, P03_HOURS)
    assert (result["ce_ok"], result["compliant_years"], result["reasons"]) == (True, 6, [])


def test_p04_2019_is_assessed_so_the_count_fails():
    result = ce_application_ok(2021, 2017, 4, P04_HOURS)
    assert result["ce_ok"] is False
    assert result["compliant_years"] == 3
    assert result["reasons"] == ["2018—2021年达标年份数 3，少于申报年限要求 4"]
    assert result["years"][2019]["compliant"] is False


def test_p04_depends_on_ce_deemed_cutoff():
    result = ce_application_ok(2021, 2017, 4, P04_HOURS, deemed_until_year=2019)
    assert (result["ce_ok"], result["compliant_years"]) == (True, 4)


@pytest.mark.parametrize(
    ("application_year", "title_year", "required", "hours"),
    [
        (2022, 2016, 4, P06_HOURS),  # P06
        (2022, 2017, 4, ALL_GOOD),  # P05, P10
    ],
)
def test_other_applicants_ce_ok(application_year, title_year, required, hours):
    assert ce_application_ok(application_year, title_year, required, hours)["ce_ok"] is True


def test_missing_year_after_the_cutoff_is_not_compliant():
    hours = {k: v for k, v in ALL_GOOD.items() if k != "2020"}
    result = ce_application_ok(2022, 2017, 4, hours)
    assert result["years"][2020] == {"compliant": False, "reasons": ["未登记继续教育学时"]}
    assert (result["ce_ok"], result["compliant_years"]) == (True, 4)
    result = ce_application_ok(2022, 2017, 5, hours)
    assert result["reasons"] == ["2018—2022年达标年份数 4，少于申报年限要求 5"]


def test_missing_application_year_fails_the_consecutive_rule():
    hours = {k: v for k, v in ALL_GOOD.items() if k != "2022"}
    result = ce_application_ok(2022, 2015, 3, hours)
    assert result["ce_ok"] is False
    assert result["reasons"] == ["申报当年（2022年）及前一年度（2021年）须连续两年达标，2022年未达标"]


def test_both_last_years_failing_are_named():
    hours = {**ALL_GOOD, "2021": h(0, 0, 0), "2022": h(0, 0, 0)}
    result = ce_application_ok(2022, 2015, 3, hours)
    assert result["reasons"][0].endswith("2021、2022年未达标")


def test_hours_outside_the_window_do_not_count():
    result = ce_application_ok(2022, 2020, 3, ALL_GOOD)
    assert result["compliant_years"] == 2  # 2021, 2022
    assert sorted(result["years"]) == [2021, 2022]
    assert result["reasons"] == ["2021—2022年达标年份数 2，少于申报年限要求 3"]


def test_year_before_application_is_checked_even_when_before_the_window():
    # Title obtained in 2021: window is 2022 only, yet 2021 must be compliant too.
    result = ce_application_ok(2022, 2021, 1, {"2022": h(70, 30, 15)})
    assert result["ce_ok"] is False
    assert sorted(result["years"]) == [2021, 2022]
    result = ce_application_ok(2022, 2022, 1, {"2021": h(70, 30, 15), "2022": h(70, 30, 15)})
    assert result["compliant_years"] == 0
    assert result["reasons"] == ["取得现职称后达标年份数 0，少于申报年限要求 1"]


# --- DT-03 ------------------------------------------------------------------------------------


def test_p05_veto_during_post_notice():
    result = integrity_gate("finding", "academic_fraud", "post_notice", "2022-09-20", None, None)
    assert result["action"] == "veto"
    assert result["ban_until"] == "2025-09-20"
    assert result["integrity_record_until"] == "2025-09-20"
    assert "一票否决" in result["reason"]


@pytest.mark.parametrize(
    ("submission", "action"),
    [
        ("2024-07-01", "reject_at_intake"),
        ("2025-09-19", "reject_at_intake"),  # the day before ban_until
        ("2025-09-20", "pass"),  # on ban_until: accepted (D5)
        ("2025-09-21", "pass"),  # the day after
        ("2025-09-22", "pass"),
    ],
)
def test_p05_re_applications(submission, action):
    result = integrity_gate("intake_check", None, None, None, submission, "2025-09-20")
    assert result["action"] == action
    if action == "reject_at_intake":
        assert result["ban_until"] == "2025-09-20"
        assert result["reason"].startswith("职称申报限制期内")
    else:
        assert result["ban_until"] is None


def test_intake_without_a_ban_passes():
    assert integrity_gate("intake_check", "none", None, None, "2022-05-01", None)["action"] == "pass"


@pytest.mark.parametrize(
    ("finding", "ban_until"),
    [
        ("2024-02-29", "2027-02-28"),  # 29 Feb → 28 Feb (D5)
        ("2023-02-28", "2026-02-28"),
        ("2023-03-01", "2026-03-01"),
        ("2022-12-31", "2025-12-31"),
    ],
)
def test_ban_until_is_three_years_on_the_same_day(finding, ban_until):
    assert integrity_gate("finding", "plagiarism", "meeting", finding, None, None)["ban_until"] == ban_until


@pytest.mark.parametrize(
    ("submission", "action"),
    [("2027-02-27", "reject_at_intake"), ("2027-02-28", "pass"), ("2027-03-01", "pass")],
)
def test_leap_day_ban_boundaries(submission, action):
    ban = integrity_gate("finding", "false_certificate", "eligibility", "2024-02-29", None, None)["ban_until"]
    assert integrity_gate("intake_check", None, None, None, submission, ban)["action"] == action


@pytest.mark.parametrize(
    "finding_type",
    ["academic_fraud", "false_certificate", "false_performance", "false_experience", "plagiarism"],
)
@pytest.mark.parametrize(
    ("stage", "action"),
    [
        ("unit_review", "veto"),
        ("dept_review", "veto"),
        ("eligibility", "veto"),
        ("pre_notice", "veto"),
        ("meeting", "veto"),
        ("post_notice", "veto"),
        ("after_publication", "revoke"),
    ],
)
def test_fraud_findings_veto_or_revoke(finding_type, stage, action):
    result = integrity_gate("finding", finding_type, stage, "2022-09-20", None, None)
    assert (result["action"], result["ban_until"], result["integrity_record_until"]) == (
        action,
        "2025-09-20",
        "2025-09-20",
    )


def test_revoke_reason_mentions_the_certificate():
    assert (
        "撤销"
        in integrity_gate("finding", "plagiarism", "after_publication", "2022-09-20", None, None)["reason"]
    )


def test_other_misconduct_is_referred_and_none_passes():
    refer = integrity_gate("finding", "other_misconduct", "meeting", "2022-09-20", None, None)
    assert (refer["action"], refer["ban_until"], refer["integrity_record_until"]) == ("refer", None, None)
    assert integrity_gate("finding", "none", "meeting", "2022-09-20", None, None)["action"] == "pass"


def test_new_finding_never_shortens_a_running_bar():
    result = integrity_gate("finding", "plagiarism", "meeting", "2022-01-10", None, "2025-09-20")
    assert (result["ban_until"], result["integrity_record_until"]) == ("2025-09-20", "2025-01-10")


def test_ban_on_a_weekend_still_ends_on_that_date():
    # 2025-09-20 is a Saturday.
    assert date(2025, 9, 20).weekday() == 5
    assert integrity_gate("intake_check", None, None, None, "2025-09-20", "2025-09-20")["action"] == "pass"


# --- DT-04 ------------------------------------------------------------------------------------


def test_the_26_counties():
    assert len(MOUNTAIN_26) == 26
    assert sum(len(v) for v in MOUNTAIN_26_COUNTIES.values()) == 26
    assert set(LISHUI_COUNTIES) <= MOUNTAIN_26
    assert MOUNTAIN_26_COUNTIES["丽水"] == LISHUI_COUNTIES


@pytest.mark.parametrize(
    ("county", "years", "single_list", "score"),
    [
        ("莲都区", 8, True, 8),  # P01
        ("市本级", 0, True, 0),  # P03: a city-level unit (D7)
        ("龙泉市", 9, True, 9),  # P06: +1 per year
        ("杭州市西湖区", 0, False, 0),  # X1
        ("省级", 0, False, 0),  # X1
        ("杭州市西湖区", 4, False, 4),  # earlier years in the 26 counties still earn weight
        ("景宁畲族自治县", 10, True, 10),
        ("景宁畲族自治县", 11, True, 10),  # capped at 10
        ("淳安县", 25, True, 10),
        ("开化县", 3.9, True, 3),  # whole years only
        ("温州市永嘉县", 2, True, 2),
        ("丽水市松阳县", 1, True, 1),
        ("鹿城区", 1, False, 1),
    ],
)
def test_mountain26(county, years, single_list, score):
    assert mountain26(county, years) == {"single_list": single_list, "m26_score": score}


def test_mountain26_weighting_is_a_setting():
    assert mountain26("龙泉市", 9, points_per_year=0.5, cap=4) == {"single_list": True, "m26_score": 4}
    assert mountain26("龙泉市", 5, points_per_year=0.5, cap=4)["m26_score"] == 2.5


# --- DT-05 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("applicants", "archives", "status", "shortfall", "ratio"),
    [
        (12, 58, "NON_COMPLIANT", 2, 4.83),  # O1
        (10, 50, "COMPLIANT", 0, 5.0),  # O2
        (0, 3, "NOT_APPLICABLE", 0, None),  # O3
        (0, 0, "NOT_APPLICABLE", 0, None),
        (10, 49, "NON_COMPLIANT", 1, 4.9),
        (10, 51, "COMPLIANT", 0, 5.1),
        (1, 3, "NON_COMPLIANT", 2, 3.0),  # the tiny employer of DT-05
        (3, 0, "NON_COMPLIANT", 15, 0.0),
        (1000, 4999, "NON_COMPLIANT", 1, 4.99),  # floored: never shows 5.00 when short
    ],
)
def test_archive_ratio_kpi(applicants, archives, status, shortfall, ratio):
    assert archive_ratio_kpi(applicants, archives) == {
        "status": status,
        "shortfall": shortfall,
        "ratio": ratio,
    }


# --- DT-06 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meeting", "action", "opinion", "latest", "earliest", "may_convene"),
    [
        # P01: meeting 2022-09-20 across Mid-Autumn; report 09-08.
        ("2022-09-20", "2022-09-08", "agree", "2022-09-13", "2022-09-16", True),
        # P10: meeting 2022-10-10 across National Day with make-up days 10-08/09; report 09-29 too late.
        ("2022-10-10", "2022-09-29", "agree", "2022-09-28", "2022-10-11", False),
        ("2022-10-10", "2022-09-28", "agree", "2022-09-28", "2022-10-10", True),
        ("2022-10-11", "2022-09-29", "agree", "2022-09-29", "2022-10-11", True),  # P10 moved meeting
        # P07: filing 12-12 for meeting 12-20 (Procedure B: no approval).
        ("2022-12-20", "2022-12-12", "not_required", "2022-12-13", "2022-12-19", True),
        ("2022-12-20", "2022-12-13", "not_required", "2022-12-13", "2022-12-20", True),  # exactly on
        ("2022-12-20", "2022-12-14", "not_required", "2022-12-13", "2022-12-21", False),  # one day late
        # P03 (2021): report 08-10, meeting 08-18.
        ("2021-08-18", "2021-08-10", "agree", "2021-08-11", "2021-08-17", True),
        # P05: report 08-18, meeting 08-26.
        ("2022-08-26", "2022-08-18", "agree", "2022-08-19", "2022-08-25", True),
    ],
)
def test_lead_time(official, meeting, action, opinion, latest, earliest, may_convene):
    result = lead_time_ok(meeting, action, opinion, official)
    assert result["latest_action_date"] == latest
    assert result["earliest_meeting_date"] == earliest
    assert result["may_convene"] is may_convene
    assert result["provisional"] is False
    assert (result["reasons"] == []) is may_convene


def test_lead_time_late_report_reason_names_the_dates(official):
    reasons = lead_time_ok("2022-10-10", "2022-09-29", "agree", official)["reasons"]
    assert reasons == ["须提前5个工作日报告：2022-09-29 晚于最迟日期 2022-09-28，最早可于 2022-10-11 召开"]


@pytest.mark.parametrize("opinion", ["disagree", "missing"])
def test_lead_time_needs_consent(official, opinion):
    result = lead_time_ok("2022-09-20", "2022-09-08", opinion, official)
    assert result["may_convene"] is False
    assert result["reasons"] == ["须经同意并出具书面意见"]
    late = lead_time_ok("2022-10-10", "2022-09-29", opinion, official)
    assert len(late["reasons"]) == 2 and late["reasons"][1] == "须经同意并出具书面意见"


def test_lead_time_without_the_holiday_calendar_differs_and_is_provisional():
    result = lead_time_ok("2022-10-10", "2022-09-29", "agree", weekend_only())
    assert (result["latest_action_date"], result["earliest_meeting_date"]) == ("2022-10-03", "2022-10-06")
    assert result["may_convene"] is True
    assert result["provisional"] is True


@pytest.mark.parametrize(
    ("meeting", "action"),
    [
        ("2030-06-20", "2030-06-10"),  # a year with no calendar at all
        ("2023-12-29", "2023-12-28"),  # earliest meeting steps into 2024
        ("2021-01-05", "2020-12-20"),  # latest action steps back into 2020
    ],
)
def test_lead_time_in_a_year_without_calendar_is_provisional(official, meeting, action):
    assert lead_time_ok(meeting, action, "agree", official)["provisional"] is True


def test_lead_days_is_a_parameter(official):
    assert lead_time_ok("2022-10-10", "2022-09-29", "agree", official, lead_days=3)["latest_action_date"] == (
        "2022-09-30"
    )


# --- DT-07 ------------------------------------------------------------------------------------

LIANDU_HR = "莲都区人力资源和社会保障局"


# --- DT-10 votes (D13) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 2),
        (4, 3),
        (5, 4),
        (6, 4),
        (9, 6),
        (12, 8),
        (13, 9),
        (14, 10),
        (15, 10),
        (300, 200),
        (301, 201),
    ],
)
def test_two_thirds_rounded_up(n, expected):
    assert two_thirds_up(n) == expected


@pytest.mark.parametrize(
    ("members", "attending", "yes", "valid", "passed", "quorum", "needed"),
    [
        (15, 9, 9, False, False, 10, 6),  # V1
        (15, 12, 7, True, False, 10, 8),  # V2
        (15, 12, 8, True, True, 10, 8),
        (15, 13, 11, True, True, 10, 9),  # P01
        (15, 13, 9, True, True, 10, 9),
        (15, 13, 8, True, False, 10, 9),
        (15, 10, 7, True, True, 10, 7),  # quorum exactly
        (15, 10, 6, True, False, 10, 7),
        (15, 15, 10, True, True, 10, 10),
        (15, 15, 9, True, False, 10, 10),
        (14, 10, 7, True, True, 10, 7),
        (14, 9, 9, False, False, 10, 6),
        (13, 9, 6, True, True, 9, 6),
        (13, 8, 8, False, False, 9, 6),
        (12, 8, 6, True, True, 8, 6),
        (12, 8, 5, True, False, 8, 6),
        (12, 7, 7, False, False, 8, 5),
        (3, 2, 2, True, True, 2, 2),
        (3, 2, 1, True, False, 2, 2),
        (3, 3, 2, True, True, 2, 2),
        (3, 1, 1, False, False, 2, 1),
        (1, 0, 0, False, False, 1, 0),
    ],
)
def test_vote_result(members, attending, yes, valid, passed, quorum, needed):
    assert vote_result(members, attending, yes) == {
        "valid": valid,
        "passed": passed,
        "quorum": quorum,
        "needed": needed,
    }


@pytest.mark.parametrize("members", range(1, 61))
def test_vote_thresholds_match_exact_fractions(members):
    quorum = vote_result(members, members, members)["quorum"]
    assert 3 * quorum >= 2 * members > 3 * (quorum - 1)
    assert vote_result(members, quorum - 1, 0)["valid"] is False


# --- DT-09 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("consistent", "in_city", "letter", "result"),
    [
        (True, True, None, "accept"),
        (True, True, False, "accept"),
        (False, True, None, "accept_via_social_insurance"),
        (True, False, True, "accept"),  # X1 with the letter
        (None, False, True, "accept"),
        (True, False, False, "pending"),  # X1
        (None, False, None, "pending"),
    ],
)
def test_jurisdiction_gate(consistent, in_city, letter, result):
    out = jurisdiction_gate(consistent, in_city, letter)
    assert out["result"] == result
    assert out["reason"]
    if result == "pending":
        assert "委托评审函" in out["reason"]


# --- evaluate and input errors ----------------------------------------------------------------


def test_rule_ids():
    assert set(RULES) == {
        "ce_year_compliant",
        "ce_application_ok",
        "integrity_gate",
        "mountain26",
        "archive_ratio_kpi",
        "lead_time_ok",
        "vote_result",
        "jurisdiction_gate",
    }


@pytest.mark.parametrize("rule_id", ["route_application", "initial_determination", "nope"])
def test_unknown_rule_id(official, rule_id):
    with pytest.raises(KeyError):
        evaluate(rule_id, {}, official)


@pytest.mark.parametrize(
    ("rule_id", "inputs", "outputs"),
    [
        (
            "ce_year_compliant",
            {"year": 2021, "professional": 70, "public": 25, "general_public": 11},
            {"compliant": False, "reasons": ["一般公需科目学时 11，低于 12"]},
        ),
        (
            "integrity_gate",
            {
                "event": "finding",
                "finding_type": "academic_fraud",
                "stage": "post_notice",
                "finding_date": "2022-09-20",
                "submission_date": None,
                "active_ban_until": None,
            },
            {"action": "veto", "ban_until": "2025-09-20", "integrity_record_until": "2025-09-20"},
        ),
        (
            "integrity_gate",
            {"event": "intake_check", "submission_date": "2025-09-19", "active_ban_until": "2025-09-20"},
            {"action": "reject_at_intake", "ban_until": "2025-09-20"},
        ),
        (
            "integrity_gate",
            {"event": "intake_check", "submission_date": "2025-09-20", "active_ban_until": "2025-09-20"},
            {"action": "pass", "ban_until": None},
        ),
        ("mountain26", {"unit_county": "龙泉市", "years_in_m26": 9}, {"single_list": True, "m26_score": 9}),
        ("mountain26", {"unit_county": "省级", "years_in_m26": 0}, {"single_list": False, "m26_score": 0}),
        (
            "archive_ratio_kpi",
            {"applicants": 12, "archives_completed": 58},
            {"status": "NON_COMPLIANT", "shortfall": 2, "ratio": 4.83},
        ),
        (
            "archive_ratio_kpi",
            {"applicants": 0, "archives_completed": 3},
            {"status": "NOT_APPLICABLE", "shortfall": 0},
        ),
        (
            "lead_time_ok",
            {"meeting_date": "2022-10-10", "action_date": "2022-09-29", "written_opinion": "agree"},
            {
                "may_convene": False,
                "latest_action_date": "2022-09-28",
                "earliest_meeting_date": "2022-10-11",
                "provisional": False,
            },
        ),
        (
            "vote_result",
            {"members": 15, "attending": 12, "yes": 7},
            {"valid": True, "passed": False, "quorum": 10, "needed": 8},
        ),
        ("vote_result", {"members": 15, "attending": 9, "yes": 9}, {"valid": False, "passed": False}),
        (
            "jurisdiction_gate",
            {
                "affiliation_consistent": True,
                "affiliation_in_city": False,
                "has_incoming_commission_letter": False,
            },
            {"result": "pending"},
        ),
    ],
)
def test_evaluate(official, rule_id, inputs, outputs):
    result = evaluate(rule_id, inputs, official)
    assert {k: result[k] for k in outputs} == outputs


def test_evaluate_ce_application_ok_p02_with_json_keys(official):
    result = evaluate(
        "ce_application_ok",
        {"application_year": 2022, "title_year": 2018, "required_years": 4, "hours": P02_HOURS},
        official,
    )
    assert (result["ce_ok"], result["compliant_years"], len(result["reasons"])) == (False, 3, 2)
    assert result["years"]["2021"]["compliant"] is False
    assert list(result["years"]) == ["2019", "2020", "2021", "2022"]


def test_evaluate_settings(official):
    inputs = {"application_year": 2021, "title_year": 2017, "required_years": 4, "hours": P04_HOURS}
    assert evaluate("ce_application_ok", inputs, official)["ce_ok"] is False
    assert (
        evaluate("ce_application_ok", inputs, official, settings={"ce_deemed_until_year": 2019})["ce_ok"]
        is True
    )
    m26 = {"unit_county": "龙泉市", "years_in_m26": 9}
    assert evaluate("mountain26", m26, official, settings={"m26_cap": 5})["m26_score"] == 5


def errors_of(rule_id: str, inputs, calendar) -> dict[str, list[str]]:
    with pytest.raises(RuleInputError) as info:
        evaluate(rule_id, inputs, calendar)
    assert str(info.value) == "规则输入有误"
    return info.value.fields


def test_missing_fields_are_all_reported_at_once(official):
    assert errors_of("vote_result", {}, official) == {
        "members": ["此项为必填项"],
        "attending": ["此项为必填项"],
        "yes": ["此项为必填项"],
    }
    assert set(errors_of("ce_application_ok", {"hours": {}}, official)) == {
        "application_year",
        "title_year",
        "required_years",
    }
    fields = errors_of("lead_time_ok", {"meeting_date": None}, official)
    assert fields == {k: ["此项为必填项"] for k in ("meeting_date", "action_date", "written_opinion")}


def test_inputs_must_be_an_object(official):
    assert errors_of("vote_result", [15, 12, 7], official) == {"inputs": ["应为对象"]}


@pytest.mark.parametrize(
    ("rule_id", "inputs", "bad"),
    [
        ("vote_result", {"members": True, "attending": 12, "yes": 7}, {"members"}),
        ("vote_result", {"members": 15, "attending": 12.0, "yes": "7"}, {"attending", "yes"}),
        ("vote_result", {"members": 15, "attending": 12, "yes": 13}, {"yes"}),
        ("vote_result", {"members": 15, "attending": 16, "yes": 13}, {"attending"}),
        ("vote_result", {"members": 0, "attending": -1, "yes": 0}, {"members", "attending"}),
        (
            "ce_year_compliant",
            {"year": 2022, "professional": False, "public": 30, "general_public": 31},
            {"professional", "general_public"},
        ),
        (
            "ce_year_compliant",
            {"year": "2022", "professional": -1, "public": 30, "general_public": 12},
            {"year", "professional"},
        ),
        (
            "archive_ratio_kpi",
            {"applicants": True, "archives_completed": -3},
            {"applicants", "archives_completed"},
        ),
        (
            "lead_time_ok",
            {"meeting_date": "2022-02-30", "action_date": "20220929", "written_opinion": "yes"},
            {"meeting_date", "action_date", "written_opinion"},
        ),
        (
            "lead_time_ok",
            {"meeting_date": "2022-10-10T09:00", "action_date": 20220929, "written_opinion": "agree"},
            {"meeting_date", "action_date"},
        ),
        (
            "integrity_gate",
            {
                "event": "appeal",
                "finding_type": "fraud",
                "stage": "later",
                "finding_date": "2022/09/20",
                "submission_date": "2022-13-01",
                "active_ban_until": "",
            },
            {"event", "finding_type", "stage", "finding_date", "submission_date", "active_ban_until"},
        ),
        ("integrity_gate", {"event": "intake_check"}, {"submission_date"}),
        ("integrity_gate", {"event": "finding"}, {"finding_type"}),
        ("integrity_gate", {"event": "finding", "finding_type": "plagiarism"}, {"stage", "finding_date"}),
        ("mountain26", {"unit_county": "", "years_in_m26": -1}, {"unit_county", "years_in_m26"}),
        ("mountain26", {"unit_county": 331102, "years_in_m26": True}, {"unit_county", "years_in_m26"}),
        (
            "jurisdiction_gate",
            {"affiliation_consistent": "yes", "affiliation_in_city": 1},
            {"affiliation_consistent", "affiliation_in_city"},
        ),
        ("jurisdiction_gate", {"affiliation_in_city": True}, {"affiliation_consistent"}),
        (
            "ce_application_ok",
            {"application_year": 2022, "title_year": 2023, "required_years": 0, "hours": []},
            {"title_year", "required_years", "hours"},
        ),
    ],
)
def test_bad_inputs(official, rule_id, inputs, bad):
    fields = errors_of(rule_id, inputs, official)
    assert set(fields) == bad
    assert all(messages and all(isinstance(m, str) and m for m in messages) for messages in fields.values())


def test_error_messages_are_chinese(official):
    fields = errors_of("vote_result", {"members": True, "attending": 12, "yes": 13}, official)
    assert fields == {"members": ["应为 1–1000 的整数"], "yes": ["同意票数不能超过出席人数"]}
    fields = errors_of(
        "lead_time_ok",
        {"meeting_date": "2022-02-30", "action_date": "2022-09-29", "written_opinion": "ok"},
        official,
    )
    assert fields == {
        "meeting_date": ["应为 YYYY-MM-DD 格式的有效日期"],
        "written_opinion": ["应为 agree、disagree、missing、not_required 之一"],
    }


def test_bad_hours_are_reported_per_year_and_field(official):
    hours = {
        "2019": h(70, 30, 31),
        "twenty": h(70, 30, 12),
        "2020": {"professional": True, "public": 30},
        "2021": "ninety",
        "2022": h(70, 30, 12),
    }
    fields = errors_of(
        "ce_application_ok",
        {"application_year": 2022, "title_year": 2017, "required_years": True, "hours": hours},
        official,
    )
    assert fields == {
        "required_years": ["应为 1–50 的整数"],
        "hours.2019.general_public": ["一般公需科目学时不能超过公需科目学时"],
        "hours.twenty": ["年份应为 1950–2100 的整数"],
        "hours.2020.professional": ["学时应为 0–2000 的整数"],
        "hours.2020.general_public": ["此项为必填项"],
        "hours.2021": ["应为对象：{professional, public, general_public}"],
    }


def test_duplicate_hour_years(official):
    fields = errors_of(
        "ce_application_ok",
        {
            "application_year": 2022,
            "title_year": 2017,
            "required_years": 4,
            "hours": {2021: h(70, 30, 12), "2021": h(70, 30, 12)},
        },
        official,
    )
    assert fields == {"hours.2021": ["年份重复"]}


def test_optional_integrity_inputs_may_be_null(official):
    result = evaluate(
        "integrity_gate",
        {
            "event": "intake_check",
            "finding_type": None,
            "stage": None,
            "finding_date": None,
            "submission_date": "2022-05-01",
            "active_ban_until": None,
        },
        official,
    )
    assert result["action"] == "pass"
    other = evaluate("integrity_gate", {"event": "finding", "finding_type": "other_misconduct"}, official)
    assert other["action"] == "refer"


def test_extra_inputs_are_ignored(official):
    assert evaluate("vote_result", {"members": 15, "attending": 13, "yes": 11, "note": "x"}, official)[
        "passed"
    ]
