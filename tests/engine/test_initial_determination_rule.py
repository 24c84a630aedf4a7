"""DT-11 through the real process: months are computed by Task_compute, the level and the
reviewer by the two DMN decisions, eligibility by Task_eligible (analysis §4, §6 DT-11, D10)."""

from datetime import date, datetime

import pytest

CITY_HR = "丽水市人力资源和社会保障局"
LIANDU_HR = "莲都区人力资源和社会保障局"
SUBMITTED = date(2022, 7, 15)
SUBMITTED_AT = "2022-07-15T10:00:00+08:00"
LEVELS = ("员级", "助理级", "中级")


def months_before(day: date, months: int) -> str:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, day.day).isoformat()


def application(education: str, months_post: int, months_pre: int = 0, **overrides) -> dict:
    """An application submitted on SUBMITTED with exactly `months_post` whole months since graduation."""
    started = months_before(SUBMITTED, months_post)
    data = {
        "applicant_name": "测试",
        "education": education,
        "graduation_date": started,
        "work_start_date": started,
        "months_pre_degree": months_pre,
        "specialty": "计算机应用",
        "requested_level": "助理级",
        "employer_org": "丽水市测试科技有限公司",
        "unit_county": "莲都区",
        "self_managed": False,
        "correction_working_days": 10,
    }
    data.update(overrides)
    return data


def determine(driver, data: dict, when: str = SUBMITTED_AT) -> dict:
    """Submit, let the employer approve, and return the case data at the batch timer."""
    case = driver.start(data, when)
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    assert case.status() == "waiting"
    assert driver.ready(case) == []
    return case.data()


def test_months_before():
    assert months_before(date(2022, 7, 15), 36) == "2019-07-15"
    assert months_before(date(2022, 7, 15), 7) == "2021-12-15"
    assert months_before(date(2022, 7, 15), 0) == "2022-07-15"


@pytest.mark.parametrize(
    ("education", "pre", "post", "max_level"),
    [
        ("博士", 0, 0, "中级"),
        ("博士", 0, 40, "中级"),
        ("硕士", 0, 0, "助理级"),
        ("硕士", 6, 29, "助理级"),  # 35 in total: not yet 中级
        ("硕士", 6, 30, "中级"),  # 36 in total, 30 after the degree
        ("硕士", 24, 12, "中级"),  # 36 in total, exactly 12 after the degree
        ("硕士", 36, 11, "助理级"),  # 47 in total, but 12 months after the degree are required
        ("硕士", 36, 12, "中级"),
        ("硕士", 0, 36, "中级"),
        ("第二学士学位", 0, 0, "助理级"),
        ("第二学士学位", 0, 60, "助理级"),  # never 中级 by this route
        ("研究生班", 0, 0, "助理级"),
        ("研究生班", 40, 40, "助理级"),
        ("本科", 0, 0, None),
        ("本科", 0, 11, None),
        ("本科", 0, 12, "助理级"),
        ("本科", 0, 60, "助理级"),
        ("大专", 0, 11, None),
        ("大专", 0, 12, "员级"),
        ("大专", 0, 35, "员级"),
        ("大专", 0, 36, "助理级"),
        ("中专", 0, 11, None),
        ("中专", 0, 12, "员级"),
        ("中专", 0, 60, "员级"),
        ("大专", 24, 11, None),  # months before a degree count for 硕士 only
        ("高中", 0, 120, None),  # not a graduate at all
    ],
)
def test_level_table(driver, education, pre, post, max_level):
    data = determine(driver, application(education, post, pre))
    assert data["submitted_on"] == SUBMITTED.isoformat()
    assert data["months_post_grad"] == post
    assert data["max_level"] == max_level
    assert data["level_reason"]
    rank = LEVELS.index(max_level) + 1 if max_level else 0
    assert data["allowed_levels"] == list(LEVELS[:rank])


def test_level_reason_explains_the_master_rule(driver):
    data = determine(driver, application("硕士", 11, 36))
    assert "学位后满1年" in data["level_reason"]
    data = determine(driver, application("本科", 11))
    assert "暂不符合" in data["level_reason"]


@pytest.mark.parametrize(
    ("education", "post", "requested", "eligible", "suggested"),
    [
        ("本科", 12, "助理级", True, "助理级"),
        ("本科", 12, "员级", True, "员级"),
        ("本科", 12, "中级", False, "助理级"),
        ("本科", 11, "助理级", False, None),
        ("大专", 35, "助理级", False, "员级"),
        ("大专", 36, "助理级", True, "助理级"),
        ("博士", 0, "中级", True, "中级"),
    ],
)
def test_eligibility_against_the_requested_level(driver, education, post, requested, eligible, suggested):
    data = determine(driver, application(education, post, requested_level=requested))
    assert data["eligible"] is eligible
    assert data["suggested_level"] == suggested


def test_months_count_from_the_later_of_graduation_and_work_start(driver):
    # Working since 2018 but graduated 2021-07-15: only 12 months after graduation count.
    data = determine(driver, application("本科", 48, graduation_date="2021-07-15"))
    assert data["months_post_grad"] == 12
    # Graduated 2018 but related work only since 2022-01-15.
    data = determine(driver, application("本科", 48, work_start_date="2022-01-15"))
    assert data["months_post_grad"] == 6
    assert data["max_level"] is None


@pytest.mark.parametrize(
    ("self_managed", "county", "requested", "reviewer"),
    [
        (True, "莲都区", "员级", "丽水市测试科技有限公司"),
        (True, "莲都区", "中级", "丽水市测试科技有限公司"),
        (True, "市本级", "助理级", "丽水市测试科技有限公司"),
        (False, "市本级", "员级", CITY_HR),
        (False, "市本级", "助理级", CITY_HR),
        (False, "市本级", "中级", CITY_HR),
        (False, "莲都区", "中级", CITY_HR),
        (False, "莲都区", "员级", LIANDU_HR),
        (False, "莲都区", "助理级", LIANDU_HR),
        (False, "龙泉市", "助理级", "龙泉市人力资源和社会保障局"),
        (False, "龙泉市", "中级", CITY_HR),
    ],
)
def test_routing_table(driver, self_managed, county, requested, reviewer):
    data = determine(
        driver, application("本科", 24, self_managed=self_managed, unit_county=county, requested_level=requested)
    )
    assert data["reviewer_org"] == reviewer


def test_routing_uses_the_requested_level_not_the_granted_one(driver):
    # Requests 中级 with only 助理级 reachable: still reviewed by the city (D10).
    data = determine(driver, application("本科", 24, requested_level="中级"))
    assert data["max_level"] == "助理级"
    assert data["reviewer_org"] == CITY_HR


# -- P08 and P09 (analysis §8.1) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "months", "max_level", "eligible", "batch"),
    [
        ("2022-07-15T09:00:00", 24, "助理级", False, "2022-08"),  # (a) 6 + 24 = 30
        ("2022-12-20T09:00:00", 29, "助理级", False, "2023-02"),  # (b) 6 + 29 = 35: not yet
        ("2023-01-10T09:00:00", 30, "中级", True, "2023-02"),  # (c) 6 + 30 = 36
    ],
)
def test_p08_master_attempts(driver, p08, when, months, max_level, eligible, batch):
    data = determine(driver, p08(), when)
    assert data["months_post_grad"] == months
    assert data["max_level"] == max_level
    assert data["eligible"] is eligible
    assert data["suggested_level"] == max_level
    assert data["batch"] == batch
    assert data["reviewer_org"] == CITY_HR


def test_p08_c_is_approved_as_intermediate_in_the_february_batch(driver, p08, certificates):
    case = driver.start(p08(), "2023-01-10T09:00:00")
    assert case.data()["submitted_on"] == "2023-01-10"
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": "同意"})
    assert case.next_timer_at() == datetime.fromisoformat("2023-02-10T00:00:00+08:00")
    case = driver.fire(case, "2023-02-10T00:00:01")
    assert driver.ready(case) == ["Task_bureau_review"]
    [task] = case.ready_user_tasks()
    assert task.lane == "审核机关"
    assert task.data["reviewer_org"] == CITY_HR
    case = driver.complete(case, "Task_bureau_review", {"decision": "approve", "approved_level": "中级"})
    data = case.data()
    assert case.status() == "completed"
    assert (data["outcome"], data["approved_level"]) == ("approved", "中级")
    assert data["certificate_no"] == "LS2022CD000001"
    assert [(op, params) for op, params, _ in certificates] == [
        ("issue_certificate", {"level": "中级", "specialty": "农业技术推广", "kind": "初定"})
    ]


@pytest.mark.parametrize(
    ("when", "months", "max_level", "eligible", "suggested", "batch"),
    [
        ("2022-04-15T09:00:00", 33, "员级", False, "员级", "2022-05"),  # (a)
        ("2022-07-15T09:00:00", 36, "助理级", True, "助理级", "2022-08"),  # (b)
    ],
)
def test_p09_college_attempts(driver, p09, when, months, max_level, eligible, suggested, batch):
    data = determine(driver, p09(), when)
    assert data["months_post_grad"] == months
    assert data["max_level"] == max_level
    assert data["eligible"] is eligible
    assert data["suggested_level"] == suggested
    assert data["batch"] == batch
    # County-level junior: the district bureau; the city 专技处 would be a defect.
    assert data["reviewer_org"] == LIANDU_HR


def test_p09_b_is_approved_as_assistant_in_the_august_batch(driver, p09, certificates):
    case = driver.start(p09(), "2022-07-15T09:00:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    assert case.next_timer_at() == datetime.fromisoformat("2022-08-10T00:00:00+08:00")
    case = driver.fire(case, "2022-08-10T08:30:00")
    [task] = case.ready_user_tasks()
    assert (task.bpmn_id, task.data["reviewer_org"]) == ("Task_bureau_review", LIANDU_HR)
    assert task.data["allowed_levels"] == ["员级", "助理级"]
    case = driver.complete(case, "Task_bureau_review", {"decision": "approve", "approved_level": "助理级"})
    assert case.status() == "completed"
    assert case.data()["outcome"] == "approved"
    assert case.data()["certificate_no"] == "LS2022CD000001"
    assert certificates[0][1] == {"level": "助理级", "specialty": "机械制造", "kind": "初定"}


def test_p09_a_is_rejected_with_the_lower_level_suggested(driver, p09, certificates):
    case = driver.start(p09(), "2022-04-15T09:00:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    assert case.next_timer_at() == datetime.fromisoformat("2022-05-10T00:00:00+08:00")
    case = driver.fire(case, "2022-05-10T09:00:00")
    [task] = case.ready_user_tasks()
    assert (task.data["eligible"], task.data["suggested_level"]) == (False, "员级")
    case = driver.complete(
        case, "Task_bureau_review", {"decision": "reject", "opinion": "工作年限未满3年，建议申报员级或下一批次"}
    )
    assert case.status() == "completed"
    assert case.data()["outcome"] == "rejected"
    assert case.data()["approved_level"] is None
    assert certificates == []
