"""Every path through graduate_initial_determination, with the saved state reloaded from JSON
after every step (the driver asserts the same ready tasks, timer and data after reloading)."""

from datetime import datetime

import pytest

LIANDU_HR = "莲都区人力资源和社会保障局"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_approve_batch_approve_certificate(driver, p09, certificates):
    case = driver.start(p09(), "2022-07-15T10:00:00+08:00")
    assert case.status() == "running"
    [task] = case.ready_user_tasks()
    assert (task.bpmn_id, task.lane, task.due_working_days) == ("Task_employer_assess", "用人单位", 5)
    assert task.form == "review_decision.schema.json"
    assert task.data["submitted_on"] == "2022-07-15"
    assert task.data["return_count"] == 0
    assert case.next_timer_at() is None

    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": "情况属实"})
    assert case.status() == "waiting"
    assert driver.ready(case) == []
    assert case.next_timer_at() == at("2022-08-10T00:00:00+08:00")
    data = case.data()
    assert (data["batch"], data["reviewer_org"], data["max_level"]) == ("2022-08", LIANDU_HR, "助理级")

    # Any sweep before the batch opens changes nothing.
    case = driver.fire(case, "2022-07-31T12:00:00+08:00")
    assert case.status() == "waiting"
    assert case.next_timer_at() == at("2022-08-10T00:00:00+08:00")

    case = driver.fire(case, "2022-08-10T08:00:00+08:00")
    [task] = case.ready_user_tasks()
    assert (task.bpmn_id, task.lane, task.due_working_days) == ("Task_bureau_review", "审核机关", 10)
    assert task.form == "grad_determination.schema.json"
    assert case.next_timer_at() is None
    assert certificates == []

    case = driver.complete(case, "Task_bureau_review", {"decision": "approve", "approved_level": "助理级"})
    assert case.status() == "completed"
    assert driver.ready(case) == []
    assert case.next_timer_at() is None
    data = case.data()
    assert data["outcome"] == "approved"
    assert data["approved_level"] == "助理级"
    assert data["certificate_no"] == "LS2022CD000001"
    assert "certificate" not in data  # removed by the post-script
    assert len(certificates) == 1
    operation, params, context = certificates[0]
    assert operation == "issue_certificate"
    assert params == {"level": "助理级", "specialty": "机械制造", "kind": "初定"}
    assert context["applicant_name"] == "何俊"
    assert driver.round_trips == 5


def test_employer_reject_ends_rejected(driver, p09, certificates):
    case = driver.start(p09(), "2022-07-15T10:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "reject", "opinion": "非本专业工作"})
    assert case.status() == "completed"
    assert case.next_timer_at() is None
    data = case.data()
    assert data["outcome"] == "rejected"
    assert data["rejected_by"] == "丽水市莲都区云峰机械有限公司"
    assert "batch" not in data  # never reached the computation
    assert certificates == []


def test_bureau_reject_ends_rejected(driver, p08, certificates):
    case = driver.start(p08(), "2022-07-15T10:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    assert case.data()["eligible"] is False
    case = driver.fire(case, "2022-08-10T09:00:00+08:00")
    case = driver.complete(
        case, "Task_bureau_review", {"decision": "reject", "opinion": "学位前后合计未满3年，建议初定助理级"}
    )
    assert case.status() == "completed"
    data = case.data()
    assert data["outcome"] == "rejected"
    assert data["approved_level"] is None
    assert "certificate_no" not in data
    assert certificates == []


def test_return_revise_resubmit_then_approve(driver, p09, certificates):
    case = driver.start(p09(), "2022-09-29T10:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "return", "opinion": "缺社保记录"})
    [task] = case.ready_user_tasks()
    assert (task.bpmn_id, task.lane, task.due_working_days) == ("Task_revise", "申请人", 10)
    assert task.form == "grad_application.schema.json"
    # 10 working days from Thu 2022-09-29 on the official calendar is Tue 2022-10-18
    # (National Day off, make-up 10-08/09 worked); the deadline is the end of that day.
    assert case.next_timer_at() == at("2022-10-19T00:00:00+08:00")

    case = driver.complete(
        case,
        "Task_revise",
        {"attachments": ["社保缴纳证明.pdf"], "specialty": "机械设计制造"},
        when="2022-10-12T15:00:00+08:00",
    )
    [task] = case.ready_user_tasks()
    assert task.bpmn_id == "Task_employer_assess"
    assert task.data["return_count"] == 1
    assert task.data["submitted_on"] == "2022-10-12"
    assert task.data["attachments"] == ["社保缴纳证明.pdf"]
    assert case.next_timer_at() is None  # the correction deadline went with the revise task

    # Returned a second time: the count grows and the deadline starts again from today.
    case = driver.complete(
        case, "Task_employer_assess", {"decision": "return", "opinion": "证明未盖章"}, when="2022-10-13T09:00:00+08:00"
    )
    assert driver.ready(case) == ["Task_revise"]
    assert case.next_timer_at() == at("2022-10-28T00:00:00+08:00")  # Thu 10-13 + 10 wd = Thu 10-27
    case = driver.complete(case, "Task_revise", {"attachments": ["社保缴纳证明（盖章）.pdf"]}, when="2022-10-14T09:00:00+08:00")
    assert case.data()["return_count"] == 2
    assert case.data()["submitted_on"] == "2022-10-14"

    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    data = case.data()
    # Months and batch follow the latest submission date.
    assert data["months_post_grad"] == 39
    assert data["batch"] == "2022-11"
    assert case.next_timer_at() == at("2022-11-10T00:00:00+08:00")
    case = driver.fire(case, "2022-11-10T00:00:00+08:00")
    case = driver.complete(case, "Task_bureau_review", {"decision": "approve", "approved_level": "助理级"})
    assert case.status() == "completed"
    assert case.data()["outcome"] == "approved"
    assert certificates[0][1]["specialty"] == "机械设计制造"


@pytest.mark.parametrize("late", ["2022-10-19T00:00:00+08:00", "2022-10-19T00:00:01+08:00", "2022-12-01T09:00:00+08:00"])
def test_return_then_correction_deadline_passes(driver, p09, certificates, late):
    case = driver.start(p09(), "2022-09-29T10:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "return", "opinion": "缺社保记录"})
    deadline = case.next_timer_at()
    assert deadline == at("2022-10-19T00:00:00+08:00")

    # Weekends-only counting would have ended on 10-13; the official calendar keeps it open.
    case = driver.fire(case, "2022-10-14T09:00:00+08:00")
    assert driver.ready(case) == ["Task_revise"]
    case = driver.fire(case, "2022-10-18T23:59:59+08:00")  # the last day is not over yet
    assert driver.ready(case) == ["Task_revise"]
    assert case.next_timer_at() == deadline

    case = driver.fire(case, late)
    assert case.status() == "completed"
    assert driver.ready(case) == []
    assert case.next_timer_at() is None
    assert case.data()["outcome"] == "lapsed"
    assert certificates == []


def test_revise_on_the_last_day_is_in_time(driver, p09):
    case = driver.start(p09(), "2022-09-29T10:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "return", "opinion": "缺社保记录"})
    case = driver.fire(case, "2022-10-18T23:00:00+08:00")
    case = driver.complete(case, "Task_revise", {"attachments": ["补充材料.pdf"]}, when="2022-10-18T23:30:00+08:00")
    assert driver.ready(case) == ["Task_employer_assess"]
    case = driver.fire(case, "2022-10-20T09:00:00+08:00")  # the old deadline no longer matters
    assert driver.ready(case) == ["Task_employer_assess"]
    assert "outcome" not in case.data()


@pytest.mark.parametrize(
    ("submitted", "opening_utc"),
    [
        ("2022-07-15T10:00:00+08:00", "2022-08-09T16:00:00+00:00"),
        ("2022-08-10T17:00:00+08:00", "2022-08-09T16:00:00+00:00"),  # on the cut-off day: already open
        ("2022-08-11T09:00:00+08:00", "2022-11-09T16:00:00+00:00"),
        ("2022-11-11T09:00:00+08:00", "2023-02-09T16:00:00+00:00"),
        ("2022-04-15T09:00:00+08:00", "2022-05-09T16:00:00+00:00"),
    ],
)
def test_batch_timer_opens_at_midnight_shanghai_on_the_tenth(driver, p09, submitted, opening_utc):
    case = driver.start(p09(), submitted)
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    opening = at(opening_utc)
    if opening <= at(submitted):
        # Submitted while the batch is already open: the timer fires at once.
        assert driver.ready(case) == ["Task_bureau_review"]
        return
    assert case.next_timer_at() == opening
    assert driver.ready(case) == []

    case = driver.fire(case, "2022-01-01T00:00:00+08:00")  # long before
    assert driver.ready(case) == []
    one_minute_before = opening.replace(minute=59, hour=15)
    assert one_minute_before.isoformat().startswith(opening_utc[:10])
    case = driver.fire(case, one_minute_before.isoformat())
    assert driver.ready(case) == []
    assert case.status() == "waiting"
    assert case.next_timer_at() == opening

    case = driver.fire(case, opening.isoformat())
    assert driver.ready(case) == ["Task_bureau_review"]
    assert case.next_timer_at() is None


def test_history_is_pruned_so_the_stored_state_does_not_grow(driver, p09, certificates):
    """Twenty rounds of send-back and resubmit: the saved state stays the same size, the data
    carried through the pruned rounds survives, and the case still ends with a certificate."""
    case = driver.start(p09(), "2022-09-29T10:00:00+08:00")
    sizes = []
    for n in range(1, 21):
        case = driver.complete(case, "Task_employer_assess", {"decision": "return", "opinion": f"第{n}次"})
        case = driver.complete(case, "Task_revise", {"specialty": f"机械设计{n}"})
        state = driver.runtime.dump(case)
        sizes.append(len(state["tasks"]))
    assert max(sizes) == min(sizes), sizes
    assert case.data()["return_count"] == 20
    assert case.data()["education"] == "大专"  # given at the start, many pruned rounds ago
    case = driver.complete(case, "Task_employer_assess", {"decision": "approve", "opinion": ""})
    case = driver.fire(case, "2022-11-10T00:00:00+08:00")
    case = driver.complete(case, "Task_bureau_review", {"decision": "approve", "approved_level": "助理级"})
    assert case.status() == "completed"
    assert certificates[0][1]["specialty"] == "机械设计20"


def test_pruning_keeps_the_correction_deadline_working(driver, p09):
    """Pruned down to the boundary event's parent, the revise task's timer still fires."""
    case = driver.start(p09(), "2022-09-29T10:00:00+08:00")
    case = driver.complete(case, "Task_employer_assess", {"decision": "return", "opinion": "缺社保记录"})
    case = driver.complete(case, "Task_revise", {})
    case = driver.complete(case, "Task_employer_assess", {"decision": "return", "opinion": "仍缺"})
    state = driver.runtime.dump(case)
    root = state["tasks"][state["root"]]
    assert root["task_spec"] == "Task_revise.BoundaryEventSplit" and root["parent"] is None
    case = driver.fire(case, "2022-12-01T09:00:00+08:00")
    assert case.status() == "completed"
    assert case.data()["outcome"] == "lapsed"
