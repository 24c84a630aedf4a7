"""Reminder e-mails through a real SMTP server (aiosmtpd on 127.0.0.1): the outbox rows written with
the reminder, the UTF-8 Chinese subject and body with the task link, retries when the server is
down, and no rows at all without SMTP_HOST."""

from __future__ import annotations

import socket
from datetime import date, datetime
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import EmailMessage, HumanTask, Notification, User, UserRole
from app.services import instances, mailer, reminders

GRAD = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
        "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}


class Collector:
    """Keeps every message the server accepts (the handler runs before the client's send returns)."""

    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp_server():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, collector
    controller.stop()


@pytest.fixture()
def smtp_config(ctx, monkeypatch):
    def _point_at(port: int) -> None:
        monkeypatch.setitem(ctx.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(ctx.config, "SMTP_PORT", port)
        monkeypatch.setitem(ctx.config, "SMTP_SECURITY", "none")
        monkeypatch.setitem(ctx.config, "SMTP_TIMEOUT", 5)
        monkeypatch.setitem(ctx.config, "MAIL_FROM", "zhicheng@lishui.invalid")
        monkeypatch.setitem(ctx.config, "BASE_URL", "https://zc.lishui.invalid/")

    return _point_at


def at(day: date) -> None:
    clock.set_override(datetime(day.year, day.month, day.day, 9, tzinfo=clock.SHANGHAI))


def employer_task(username: str = "grad_city") -> HumanTask:
    starter = db.session.scalar(select(User).where(User.username == username))
    case = instances.start_instance(starter, "graduate_initial_determination", dict(GRAD))
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id, HumanTask.state == "open"))


def pending() -> list[EmailMessage]:
    return list(db.session.scalars(select(EmailMessage).order_by(EmailMessage.id)))


def test_a_reminder_is_mailed_in_chinese_with_the_task_link(ctx, smtp_server, smtp_config):
    controller, collector = smtp_server
    smtp_config(controller.port)
    at(date(2022, 9, 26))
    task = employer_task()
    task_id, title = task.id, task.instance.title
    at(date(2022, 9, 29))
    summary = reminders.sweep()
    assert (summary["reminders"], summary["emails"]) == (1, 1)
    [row] = pending()
    notice = db.session.scalar(select(Notification).where(Notification.task_id == task_id))
    assert (row.status, row.attempts, row.to_address) == ("pending", 0, "institute_hr@demo.lishui.invalid")
    assert row.notification_id == notice.id
    assert collector.received == []  # nothing is sent by the sweep itself

    assert mailer.send_pending() == 1
    [(recipients, raw)] = collector.received
    assert recipients == ["institute_hr@demo.lishui.invalid"]
    message = message_from_bytes(raw, policy=default_policy)
    assert message["Subject"] == "【职称评审】到期前提醒：用人单位考核"
    assert "=?utf-8?" in raw.decode("ascii").lower()  # the Chinese subject is encoded on the wire
    assert message["From"] == "zhicheng@lishui.invalid"
    body = message.get_body().get_content()
    assert message.get_body().get_content_charset() == "utf-8"
    assert f"任务“用人单位考核”（{title}）将于 2022-10-08 到期，请及时办理" in body
    assert f"https://zc.lishui.invalid/tasks/{task_id}" in body
    db.session.refresh(row)
    assert (row.status, row.attempts, row.error) == ("sent", 1, None) and row.sent_at is not None
    assert mailer.send_pending() == 0  # sent once
    assert len(collector.received) == 1


def test_every_member_of_the_role_gets_a_mail_and_inactive_or_addressless_users_none(ctx, smtp_server, smtp_config):
    controller, collector = smtp_server
    smtp_config(controller.port)
    at(date(2022, 9, 26))
    task = employer_task()
    org_id = task.org_id
    colleague = User(username="institute_hr2", display_name="农林院人事 李四", password_hash="x", org_id=org_id,
                     email="hr2@demo.lishui.invalid")
    no_mail = User(username="institute_hr3", display_name="农林院人事 王五", password_hash="x", org_id=org_id)
    gone = User(username="institute_hr4", display_name="农林院人事 赵六", password_hash="x", org_id=org_id,
                email="gone@demo.lishui.invalid", active=False)
    for person in (colleague, no_mail, gone):
        person.roles.append(UserRole(role="employer_hr", org_id=org_id))
        db.session.add(person)
    db.session.commit()
    at(date(2022, 10, 8))
    summary = reminders.sweep()
    assert (summary["notifications"], summary["emails"]) == (3, 2)  # the inactive user is not told at all
    assert mailer.send_pending() == 2
    assert sorted(r for rcpts, _ in collector.received for r in rcpts) == [
        "hr2@demo.lishui.invalid", "institute_hr@demo.lishui.invalid"]


def test_a_server_that_is_down_leaves_the_mail_pending_until_a_later_run(ctx, smtp_server, smtp_config):
    controller, collector = smtp_server
    smtp_config(free_port())  # nothing listens there
    at(date(2022, 9, 26))
    employer_task()
    at(date(2022, 10, 9))
    reminders.sweep()
    assert mailer.send_pending() == 0
    [row] = pending()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Connection" in row.error or "refused" in row.error.lower()
    assert mailer.send_pending() == 0
    db.session.refresh(row)
    assert row.attempts == 2

    smtp_config(controller.port)  # the server is back
    assert mailer.send_pending() == 1
    db.session.refresh(row)
    assert (row.status, row.attempts, row.error) == ("sent", 3, None)
    assert len(collector.received) == 1


def test_a_mail_is_given_up_after_five_attempts(ctx, smtp_config):
    smtp_config(free_port())
    at(date(2022, 9, 26))
    employer_task()
    at(date(2022, 10, 9))
    reminders.run()
    for _ in range(6):
        mailer.send_pending()
    [row] = pending()
    assert (row.status, row.attempts) == ("failed", mailer.MAX_ATTEMPTS)


def test_without_smtp_host_no_mail_is_written(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "SMTP_HOST", "")
    at(date(2022, 9, 26))
    employer_task()
    at(date(2022, 10, 9))
    assert reminders.run() == {"reminders": 1, "emails_sent": 0}
    assert db.session.scalar(select(func.count(Notification.id))) >= 1
    assert db.session.scalar(select(func.count(EmailMessage.id))) == 0


def test_the_run_sends_what_the_sweep_queued(ctx, smtp_server, smtp_config):
    controller, collector = smtp_server
    smtp_config(controller.port)
    at(date(2022, 9, 26))
    employer_task("grad_city")
    employer_task("grad_liandu")
    at(date(2022, 10, 9))
    assert reminders.run() == {"reminders": 2, "emails_sent": 2}
    assert {r for rcpts, _ in collector.received for r in rcpts} == {
        "institute_hr@demo.lishui.invalid", "liandu_co_hr@demo.lishui.invalid"}
    assert reminders.run() == {"reminders": 0, "emails_sent": 0}
