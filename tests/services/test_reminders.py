"""Deadline reminders with the app clock moved day by day over the 2022 National Day holiday and over
a plain weekend, on the seeded official calendar (chinese-calendar): which day each stage goes out,
that a jump over the whole period sends only the latest stage, and that nothing is sent twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from api_client import Api
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import EmailMessage, Event, HumanTask, Notification, ProcessInstance, User
from app.services import deadlines, instances, reminders, tasks

GRAD = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
        "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}


def at(day: date, hour: int = 9) -> None:
    clock.set_override(datetime(day.year, day.month, day.day, hour, tzinfo=clock.SHANGHAI))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def employer_task(username: str = "grad_city") -> HumanTask:
    """A graduate case's first task: 用人单位考核, dueWorkingDays 5, for the employer's HR."""
    case = instances.start_instance(user(username), "graduate_initial_determination", dict(GRAD))
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id, HumanTask.state == "open"))


def stages_sent(task_id: int) -> list[str]:
    events = db.session.scalars(select(Event).where(Event.task_id == task_id, Event.type == "reminder_sent")
                                .order_by(Event.id))
    return [e.details["stage"] for e in events]


def day_by_day(first: date, last: date) -> dict[date, dict[str, int]]:
    """Sweep each day at 09:00 and keep what each sweep sent, by stage, on the days it sent anything."""
    sent = {}
    day = first
    while day <= last:
        at(day)
        summary = reminders.sweep()
        if summary["reminders"]:
            sent[day] = {s: summary[s] for s in deadlines.REMINDER_STAGES if summary[s]}
        day += timedelta(days=1)
    return sent


def test_reminders_around_the_national_day_holiday(ctx):
    at(date(2022, 9, 26))  # Mon; 10-01..07 off, Sat 10-08 and Sun 10-09 are make-up working days
    task = employer_task()
    task_id, title = task.id, task.instance.title
    assert task.due_date == date(2022, 10, 8)  # 09-27, 28, 29, 30, then the make-up Saturday

    sent = day_by_day(date(2022, 9, 26), date(2022, 10, 14))
    assert sent == {date(2022, 9, 29): {"before": 1}, date(2022, 10, 8): {"due": 1},
                    date(2022, 10, 9): {"overdue": 1}}
    # Seven days off are not working days left: a week before the due date, one working day remains.
    assert deadlines.working_days_left(date(2022, 10, 8), date(2022, 10, 1)) == 1
    assert deadlines.working_days_left(date(2022, 10, 8), date(2022, 9, 28)) == 3

    notices = db.session.scalars(select(Notification).where(Notification.task_id == task_id)
                                 .order_by(Notification.id)).all()
    hr = user("institute_hr")
    assert [(n.kind, n.user_id) for n in notices] == [("reminder", hr.id), ("due", hr.id), ("overdue", hr.id)]
    assert notices[0].message == f"任务“用人单位考核”（{title}）将于 2022-10-08 到期，请及时办理"
    assert notices[1].message == f"任务“用人单位考核”（{title}）今日（2022-10-08）到期，请及时办理"
    assert "已于 2022-10-08 到期，现已逾期" in notices[2].message
    assert {n.instance_id for n in notices} == {db.session.get(HumanTask, task_id).instance_id}
    event = db.session.scalar(select(Event).where(Event.task_id == task_id, Event.type == "reminder_sent"))
    assert event.details == {"stage": "before", "due_date": "2022-10-08", "recipients": ["institute_hr"]}
    row = db.session.get(HumanTask, task_id)
    assert row.reminder_stage == "overdue"
    assert clock.to_local(row.reminded_at).date() == date(2022, 10, 9)
    assert db.session.scalar(select(func.count(EmailMessage.id))) == 0  # no SMTP_HOST: in-app only


def test_reminders_across_a_plain_weekend(ctx):
    at(date(2022, 10, 19))  # Wed; 5 working days: 10-20, 21, 24, 25, 26
    task = employer_task()
    assert task.due_date == date(2022, 10, 26)
    sent = day_by_day(date(2022, 10, 19), date(2022, 10, 31))
    # Fri 10-21 and the weekend are 3 working days away (24, 25, 26): the first reminder waits for Monday.
    assert sent == {date(2022, 10, 24): {"before": 1}, date(2022, 10, 26): {"due": 1},
                    date(2022, 10, 27): {"overdue": 1}}
    assert deadlines.working_days_left(date(2022, 10, 26), date(2022, 10, 22)) == 3


def test_a_clock_jumping_over_the_whole_period_sends_only_overdue_once(ctx):
    at(date(2022, 9, 26))
    task = employer_task()
    at(date(2022, 10, 12))
    assert reminders.sweep()["reminders"] == 1
    assert stages_sent(task.id) == ["overdue"]
    assert reminders.sweep()["reminders"] == 0
    at(date(2022, 10, 20))
    assert reminders.sweep()["reminders"] == 0
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.task_id == task.id)) == 1


def test_a_jump_from_before_to_past_the_due_date_skips_the_due_reminder(ctx):
    at(date(2022, 9, 26))
    task = employer_task()
    at(date(2022, 9, 29))
    reminders.sweep()
    at(date(2022, 10, 10))  # the due day (10-08) was never swept
    reminders.sweep()
    reminders.sweep()
    assert stages_sent(task.id) == ["before", "overdue"]


def test_a_claimed_task_reminds_its_claimer_and_unclaimed_every_member_of_the_role(ctx):
    at(date(2022, 9, 26))
    claimed = employer_task("grad_city")
    open_one = employer_task("grad_liandu")
    tasks.claim(user("institute_hr"), claimed.id)
    at(date(2022, 10, 8))
    assert reminders.sweep()["reminders"] == 2
    claimed_notices = db.session.scalars(select(Notification).where(Notification.task_id == claimed.id)).all()
    assert [(n.user_id, n.org_id, n.role) for n in claimed_notices] == [(user("institute_hr").id, None, None)]
    members = db.session.scalars(select(Notification.user_id).where(Notification.task_id == open_one.id)).all()
    assert members == [user("liandu_co_hr").id]
    notice = db.session.scalar(select(Notification).where(Notification.task_id == open_one.id))
    assert (notice.org_id, notice.role) == (open_one.org_id, "employer_hr")


def test_suspended_cases_get_no_reminders_until_resumed(ctx):
    at(date(2022, 9, 26))
    task = employer_task()
    instance = db.session.get(ProcessInstance, task.instance_id)
    instance.status = "suspended"
    db.session.commit()
    at(date(2022, 10, 8))
    assert reminders.sweep()["reminders"] == 0
    instance.status = "waiting"
    db.session.commit()
    assert reminders.sweep()["due"] == 1


def test_completed_tasks_get_no_reminders(ctx):
    at(date(2022, 9, 26))
    task = employer_task()
    hr = user("institute_hr")
    tasks.claim(hr, task.id)
    tasks.complete_task(hr, task.id, {"decision": "approve"})
    at(date(2022, 10, 9))
    assert reminders.sweep()["reminders"] == 0
    assert stages_sent(task.id) == []


def test_a_task_without_a_due_date_gets_one_from_its_creation_day(ctx):
    at(date(2022, 9, 26))
    task = employer_task()
    task.due_date = None
    db.session.commit()
    at(date(2022, 9, 27))
    summary = reminders.sweep()
    assert summary["dated"] == 1 and summary["reminders"] == 0
    # The default (TASK_DUE_WORKING_DAYS 10) from Mon 09-26: 09-27..30, 10-08..13.
    assert db.session.get(HumanTask, task.id).due_date == date(2022, 10, 13)


def test_batches_walk_every_task_by_id(ctx, monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 1)
    at(date(2022, 9, 26))
    ids = [employer_task("grad_city").id, employer_task("grad_liandu").id]
    at(date(2022, 10, 9))
    assert reminders.sweep()["overdue"] == 2
    assert [stages_sent(i) for i in ids] == [["overdue"], ["overdue"]]


def test_sweep_takes_an_explicit_instant(ctx):
    at(date(2022, 9, 26))
    task = employer_task()
    clock.set_override(None)
    assert reminders.sweep(datetime(2022, 10, 8, 9, tzinfo=clock.SHANGHAI))["due"] == 1
    notice = db.session.scalar(select(Notification).where(Notification.task_id == task.id))
    assert clock.to_local(notice.created_at).date() == date(2022, 10, 8)


@pytest.fixture()
def admin(ctx):
    return Api(ctx.test_client(), "admin")


def test_the_api_and_the_cli_run_a_sweep(ctx, admin):
    at(date(2022, 9, 26))
    task = employer_task()
    assert admin.put("/api/v1/clock", json={"now": "2022-09-29T09:00:00+08:00"}).status_code == 200
    assert admin.post("/api/v1/reminders/run").get_json() == {"reminders": 1, "emails_sent": 0}
    assert admin.post("/api/v1/reminders/run").get_json() == {"reminders": 0, "emails_sent": 0}
    refused = Api(ctx.test_client(), "institute_hr").post("/api/v1/reminders/run")
    assert refused.status_code == 403
    assert "/api/v1/reminders/run" in ctx.test_client().get("/api/v1/openapi.json").get_json()["paths"]

    assert admin.put("/api/v1/clock", json={"now": "2022-10-08T09:00:00+08:00"}).status_code == 200
    db.session.rollback()
    result = ctx.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "reminders: 1, emails_sent: 0" in result.output
    db.session.rollback()
    assert stages_sent(task.id) == ["before", "due"]
