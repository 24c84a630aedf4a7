"""Deadline reminders for open human tasks: before the due date, on it, and once it has passed.

``sweep`` walks the open tasks that may need a reminder today (app clock, Asia/Shanghai), in
batches by id with a commit per batch, and sends each task at most one reminder per stage
(before < due < overdue). A stage already passed is never sent late: a clock that jumps over a
weekend or a holiday sends only the latest stage, once. Each reminder is an in-app notice to the
claimer or assignee, else to every active member of the task's role in its organisation (one row
each, so each keeps their own read state), an e-mail in the outbox for each of them when SMTP is
configured, and an audit event ``reminder_sent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app import clock
from app.extensions import db
from app.models import HumanTask, ProcessInstance, User
from app.services import audit, deadlines, mailer, notifications
from app.services.access import role_holders
from app.services.errors import NotAllowed

BATCH = 200
KINDS = {"before": "reminder", "due": "due", "overdue": "overdue"}
# Instances that are not going anywhere by themselves get no reminders (nor do finished ones).
QUIET = ("suspended", "terminated", "completed")


@dataclass
class Summary:
    dated: int = 0  # open tasks that had no due date and got one
    reminders: int = 0  # tasks reminded (one per task and stage)
    notifications: int = 0
    emails: int = 0  # e-mails queued
    by_stage: dict[str, int] = field(default_factory=lambda: {s: 0 for s in deadlines.REMINDER_STAGES})

    def as_dict(self) -> dict[str, int]:
        return {"dated": self.dated, "reminders": self.reminders, "notifications": self.notifications,
                "emails": self.emails, **self.by_stage}


def _later(stage: str, than: str | None) -> bool:
    order = deadlines.REMINDER_STAGES
    return than not in order or order.index(stage) > order.index(than)


def message_for(task: HumanTask, stage: str) -> str:
    due = task.due_date.isoformat() if task.due_date else ""
    what = f"任务“{task.name}”（{task.instance.title}）"
    if stage == "overdue":
        return f"{what}已于 {due} 到期，现已逾期，请尽快办理"
    if stage == "due":
        return f"{what}今日（{due}）到期，请及时办理"
    return f"{what}将于 {due} 到期，请及时办理"


def _date_undated() -> int:
    """Give every open task without a due date one (tasks created before due dates existed)."""
    dated, last_id = 0, 0
    while True:
        rows = list(db.session.scalars(
            select(HumanTask).where(HumanTask.state == "open", HumanTask.due_date.is_(None), HumanTask.id > last_id)
            .order_by(HumanTask.id).limit(BATCH)))
        if not rows:
            return dated
        for task in rows:
            # As _claim_stage: the case first (a case being worked on is dated by the next sweep),
            # then only a task still open and undated, whatever this session read of it.
            if not _lock_case(task.instance_id):
                continue
            due = deadlines.late_due_date(task.instance, task.role, task.created_at)
            dated += db.session.execute(
                update(HumanTask).where(HumanTask.id == task.id, HumanTask.state == "open",
                                        HumanTask.due_date.is_(None))
                .values(due_date=due).execution_options(synchronize_session=False)).rowcount
        last_id = rows[-1].id
        db.session.commit()


def _candidates(today: date, last_id: int) -> list[HumanTask]:
    """The next batch of open tasks due within the reminder window (or past), not yet told they are overdue."""
    horizon = deadlines.reminder_horizon(today)
    return list(db.session.scalars(
        select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.state == "open", HumanTask.due_date.is_not(None), HumanTask.due_date <= horizon,
               HumanTask.id > last_id, ProcessInstance.status.not_in(QUIET),
               HumanTask.reminder_stage.is_distinct_from("overdue"))
        .options(selectinload(HumanTask.instance), selectinload(HumanTask.claimed_by),
                 selectinload(HumanTask.assignee))
        .order_by(HumanTask.id).limit(BATCH)))


def _personal(task: HumanTask) -> User | None:
    person = task.claimed_by or task.assignee
    return person if person is not None and person.active else None


def _lock_case(instance_id: int) -> bool:
    """Lock the case as its writers do (cases.lock), unless one of them holds it now (PostgreSQL)."""
    locked = select(ProcessInstance.id).where(ProcessInstance.id == instance_id)
    return db.session.scalar(locked.with_for_update(key_share=True, skip_locked=True)) is not None


def _claim_stage(task: HumanTask, stage: str) -> bool:
    """Move the task to the stage unless a concurrent sweep (or a completion) got there first.

    The instance is locked first, as by every writer of its tasks (cases.lock), else a writer
    holding the case's audit-chain head and waiting for this task row deadlocks with this sweep;
    a case being worked on right now is passed over (PostgreSQL), the next sweep reminds it."""
    if not _lock_case(task.instance_id):
        return False
    result = db.session.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.state == "open",
               HumanTask.reminder_stage.is_(None) if task.reminder_stage is None
               else HumanTask.reminder_stage == task.reminder_stage)
        .values(reminder_stage=stage, reminded_at=clock.now())
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)


def _remind(task: HumanTask, stage: str, summary: Summary) -> None:
    if not _claim_stage(task, stage):
        return
    kind, text = KINDS[stage], message_for(task, stage)
    person = _personal(task)
    users = [person] if person is not None else role_holders(task.role, task.org_id)
    if users:
        for user in users:
            row = notifications.notify(kind, text, user_id=user.id, org_id=None if person else task.org_id,
                                       role=None if person else task.role, instance=task.instance, task=task)
            summary.notifications += 1
            subject = f"【职称评审】{deadlines.REMINDER_STAGE_LABELS[stage]}：{task.name}"
            body = f"{user.display_name}：\n\n{text}。\n\n办理地址：{mailer.task_link(task.id)}\n"
            if mailer.queue(user, subject, body, row) is not None:
                summary.emails += 1
    elif task.role is not None and task.org_id is not None:
        # Nobody holds the role yet: the notice waits for whoever will.
        notifications.notify(kind, text, org_id=task.org_id, role=task.role, instance=task.instance, task=task)
        summary.notifications += 1
    details: dict = {"stage": stage, "due_date": task.due_date.isoformat() if task.due_date else None,
                     "recipients": [u.username for u in users]}
    if not users:
        details.update(role=task.role, org_id=task.org_id)
    audit.record("reminder_sent", instance=task.instance, task=task, details=details)
    summary.reminders += 1
    summary.by_stage[stage] += 1


def _sweep(summary: Summary) -> None:
    summary.dated = _date_undated()
    today, last_id = clock.today(), 0
    while True:
        batch = _candidates(today, last_id)
        if not batch:
            return
        for task in batch:
            stage = deadlines.reminder_stage(task.due_date, today) if task.due_date else None
            if stage is not None and _later(stage, task.reminder_stage):
                _remind(task, stage, summary)
        last_id = batch[-1].id
        # After the commit the session keeps no strong reference to the batch's rows: memory stays
        # bounded by the batch size however many tasks are open.
        db.session.commit()


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Send the reminders due at ``now`` (default: the app clock). Commits per batch."""
    summary = Summary()
    if now is None:
        _sweep(summary)
    else:
        with clock.scoped():
            clock.set_scoped(now)
            _sweep(summary)
    if summary.reminders:
        current_app.logger.info("到期提醒 %s 条", summary.reminders)
    return summary.as_dict()


def run() -> dict[str, int]:
    """One sweep, then the e-mails it (or an earlier run) left in the outbox."""
    summary = sweep()
    return {"reminders": summary["reminders"], "emails_sent": mailer.send_pending()}


def run_as(actor: User) -> dict[str, int]:
    if not actor.has_role("system_admin"):
        raise NotAllowed("只有系统管理员可以发送到期提醒")
    return run()
