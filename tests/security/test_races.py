"""Races: two sessions interleaved at chosen points, and many sessions at once on PostgreSQL.

Each deterministic test runs two sessions (threads with their own app context and database
session) and holds one of them at a seam of the service it runs (race_support.pause), so the
other one runs at a known moment:

* "holds": the first has locked the instance, read and decided, and not yet written; the second
  comes to the same instance and queues behind it (race_support.wait_queued), then the first
  commits. On PostgreSQL the second waits on the row lock and then reads the first one's result;
  on SQLite (one writer, no row locks) the second, whose read is older than the first one's
  commit, is refused as a Conflict. Either way nothing of the second is applied.
* "read before": the first has read (its transaction began), the second runs its whole use case
  and commits, then the first takes the lock: it sees the second one's result (PostgreSQL) or is
  refused for its stale read (SQLite).

Outcomes are asserted exactly: who succeeded, the error of the other, one audit event per change,
one set of next tasks, and the invariants of race_support.invariant_problems. Writers that only
touch what refers to an instance (a comment, the reminder sweep) must neither deadlock with a
writer of the instance nor be lost behind it.

The many-session tests (PostgreSQL) let eight sessions claim and complete overlapping tasks, fire
the same due timers and deliver the same messages, then count the outcomes.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
from race_support import (
    APPROVE,
    GRADUATE,
    RETURN,
    arrives,
    by_name,
    colleague,
    count,
    events,
    finishes_unblocked,
    invariant_problems,
    open_rows,
    pause,
    postgres,
    refused,
    release_all,
    require_postgres,
    start,
    wait_queued,
)
from sqlalchemy import select

from app import clock
from app.config import ROOT
from app.engine import read_model_folder
from app.extensions import db
from app.models import Event, HumanTask, InstanceMigration, OutboxMessage, ProcessInstance, ProcessVersion
from app.services import (
    cases,
    comments,
    instances,
    messages,
    migration,
    outbox,
    registry,
    reminders,
    tasks,
    timers,
)
from app.services.errors import Conflict, NotFound, TaskAlreadyCompleted

GRAD = "graduate_initial_determination"
PROBE = Path(__file__).resolve().parents[1] / "web" / "models" / "message_probe"
CROWD = "八个连接同时争用行锁（SQLite 只有一个写者）"
UNIT, COLLEAGUE = "liandu_co_hr", "liandu_co_hr2"


@pytest.fixture(autouse=True)
def _released():
    yield
    release_all()


@pytest.fixture()
def grad(ctx, set_clock):
    """Starts graduate cases (applicant grad_liandu, unit 丽水市莲都区云峰科技有限公司), each with
    its 用人单位考核 task open; returns (instance id, task id). The unit's HR has a colleague."""
    set_clock("2026-03-02T09:00:00+08:00")
    colleague(UNIT, COLLEAGUE)

    def make() -> tuple[int, int]:
        instance = instances.start_instance(by_name("grad_liandu"), GRAD, dict(GRADUATE))
        db.session.commit()
        [row] = open_rows(instance.id)
        return instance.id, row.id

    return make


def _complete(username: str, task_id: int, data: dict):
    def work():
        return tasks.complete_task(by_name(username), task_id, dict(data)).id
    return work


def _claim(username: str, task_id: int):
    def work():
        return tasks.claim(by_name(username), task_id).claimed_by_id
    return work


def _having_read(task_id: int, work):
    """The transaction begins with a read of the task (as the request that showed it), then works."""
    def run():
        db.session.get(HumanTask, task_id)
        return work()
    return run


def _id(username: str) -> int:
    return by_name(username).id


# -- claim -------------------------------------------------------------------------------------
def test_a_claim_behind_a_claim_in_progress_is_refused(ctx, grad, monkeypatch):
    """A holds: it found the task free and is recording its claim. B claims the same task: B
    queues, then finds it claimed by A (409). A's claim stands, one task_claimed event.
    (Before the fix B overwrote A's claim and both were told they had it.)"""
    case_id, task_id = grad()
    gate = pause(monkeypatch, tasks.audit, "record", "A")
    arrived = arrives(monkeypatch, cases, "lock", "B")
    a = start(ctx, "A", _claim(UNIT, task_id))
    gate.wait_reached(a)
    b = start(ctx, "B", _claim(COLLEAGUE, task_id))
    wait_queued(b, arrived)
    gate.open()
    assert a.outcome() == _id(UNIT)
    refused(b.outcome(), Conflict, "已被")
    assert db.session.get(HumanTask, task_id).claimed_by_id == _id(UNIT)
    assert [e.actor_id for e in events(case_id, "task_claimed")] == [_id(UNIT)]


def test_a_claim_that_read_before_another_claim_committed_is_refused(ctx, grad, monkeypatch):
    """A read the task (free); B claims it and commits; A then claims: refused (409), B's claim
    stands (PostgreSQL: A reads the task again under the lock; SQLite: A's read is stale)."""
    case_id, task_id = grad()
    gate = pause(monkeypatch, cases, "lock", "A")
    a = start(ctx, "A", _having_read(task_id, _claim(UNIT, task_id)))
    gate.wait_reached(a)
    b = start(ctx, "B", _claim(COLLEAGUE, task_id))
    assert b.outcome() == _id(COLLEAGUE)
    gate.open()
    refused(a.outcome(), Conflict, "已被")
    assert db.session.get(HumanTask, task_id).claimed_by_id == _id(COLLEAGUE)
    assert [e.actor_id for e in events(case_id, "task_claimed")] == [_id(COLLEAGUE)]


def test_a_claim_behind_a_completion_finds_the_task_done(ctx, grad, monkeypatch):
    """B holds: it is completing the task. A claims it: A queues, then is told the task is done
    (409). (Before the fix: a deadlock between the claim's event and the completion's row.)"""
    case_id, task_id = grad()
    gate = pause(monkeypatch, cases, "save", "B")
    arrived = arrives(monkeypatch, cases, "lock", "A")
    b = start(ctx, "B", _complete(COLLEAGUE, task_id, RETURN))
    gate.wait_reached(b)
    a = start(ctx, "A", _claim(UNIT, task_id))
    wait_queued(a, arrived)
    gate.open()
    assert b.outcome() == case_id
    refused(a.outcome(), TaskAlreadyCompleted, "办理完毕")
    row = db.session.get(HumanTask, task_id)
    assert row.state == "completed" and row.claimed_by_id == row.completed_by_id == _id(COLLEAGUE)
    assert events(case_id, "task_claimed") == [] and len(events(case_id, "task_completed")) == 1
    assert [r.name for r in open_rows(case_id)] == ["修改申请"]
    assert invariant_problems([case_id]) == []


def test_a_completion_behind_a_colleagues_claim_is_refused(ctx, grad, monkeypatch):
    """A holds: it is claiming the task. B, a colleague, completes it: B queues, then finds it
    claimed by A and is refused (409); nothing of B's is applied."""
    case_id, task_id = grad()
    gate = pause(monkeypatch, tasks.audit, "record", "A")
    arrived = arrives(monkeypatch, cases, "lock", "B")
    a = start(ctx, "A", _claim(UNIT, task_id))
    gate.wait_reached(a)
    b = start(ctx, "B", _complete(COLLEAGUE, task_id, RETURN))
    wait_queued(b, arrived)
    gate.open()
    assert a.outcome() == _id(UNIT)
    refused(b.outcome(), Conflict, "认领")
    row = db.session.get(HumanTask, task_id)
    assert (row.state, row.claimed_by_id) == ("open", _id(UNIT))
    assert events(case_id, "task_completed") == [] and len(events(case_id, "task_claimed")) == 1
    assert invariant_problems([case_id]) == []


# -- complete ----------------------------------------------------------------------------------
def test_a_completion_behind_a_completion_of_the_same_task_is_refused(ctx, grad, monkeypatch):
    """A holds: it loaded the case and completed the task in the engine, not yet saved. B
    completes the same task (another decision): B queues, then is told it is done. One
    task_completed (A's), one next task (A's path)."""
    case_id, task_id = grad()
    gate = pause(monkeypatch, cases, "save", "A")
    arrived = arrives(monkeypatch, cases, "lock", "B")
    a = start(ctx, "A", _complete(UNIT, task_id, RETURN))
    gate.wait_reached(a)
    b = start(ctx, "B", _complete(UNIT, task_id, APPROVE))
    wait_queued(b, arrived)
    gate.open()
    assert a.outcome() == case_id
    refused(b.outcome(), TaskAlreadyCompleted, "办理完毕")
    assert [e.details["data"]["decision"] for e in events(case_id, "task_completed")] == ["return"]
    assert [r.name for r in open_rows(case_id)] == ["修改申请"]
    assert invariant_problems([case_id]) == []


def test_a_completion_that_read_before_another_completion_committed_is_refused(ctx, grad, monkeypatch):
    """A read the task (open); B completes it and commits; A then completes it: refused, and its
    decision is not applied over B's (no batch timer of A's path, B's revise deadline)."""
    case_id, task_id = grad()
    gate = pause(monkeypatch, cases, "lock", "A")
    a = start(ctx, "A", _having_read(task_id, _complete(UNIT, task_id, APPROVE)))
    gate.wait_reached(a)
    b = start(ctx, "B", _complete(UNIT, task_id, RETURN))
    assert b.outcome() == case_id
    gate.open()
    refused(a.outcome(), TaskAlreadyCompleted, "办理完毕")
    assert [e.details["data"]["decision"] for e in events(case_id, "task_completed")] == ["return"]
    assert [r.name for r in open_rows(case_id)] == ["修改申请"]
    assert invariant_problems([case_id]) == []


def test_a_comment_during_a_completion_queues_behind_it_without_a_deadlock(ctx, grad, monkeypatch):
    """A holds: it is completing the task. B comments on the case: its event extends the case's
    audit chain, whose head is on the instance row, so B queues behind A's instance lock before it
    writes anything (holding nothing A needs), and goes on once A commits. Both are kept, linked
    in that order. (Before, B's foreign-key check waited for A's instance lock while holding the
    chain head A was about to need: a deadlock, one of them failed.)"""
    require_postgres("外键检查与行锁的冲突只在 PostgreSQL 上存在（SQLite 只有一个写者）")
    case_id, task_id = grad()
    gate = pause(monkeypatch, cases, "save", "A")
    a = start(ctx, "A", _complete(UNIT, task_id, RETURN))
    gate.wait_reached(a)
    b = start(ctx, "B", lambda: comments.add_comment(by_name("grad_liandu"), case_id, "已补充社保缴纳记录").id)
    wait_queued(b, threading.Event())
    gate.open()
    assert a.outcome() == case_id
    assert isinstance(b.outcome(), int)
    [completed], [commented] = events(case_id, "task_completed"), events(case_id, "comment_added")
    assert completed.chain_seq < commented.chain_seq
    assert invariant_problems([case_id]) == []


def _overdue(task_id: int) -> None:
    """The clock three days past the task's due date: the reminder sweep has an overdue notice."""
    due = db.session.get(HumanTask, task_id).due_date
    clock.set_override(clock.local_midnight(due) + clock.ONE_DAY * 3)


def test_a_completion_behind_a_reminder_in_progress_waits_and_completes(ctx, grad, monkeypatch):
    """B, the reminder sweep, has marked the overdue task reminded and is notifying; the unit
    completes the task (A): A queues behind B, then completes it. One reminder, one completion.
    (Before the fix B did not lock the instance: A took the case's audit-chain head and waited
    for B's task row while B went on to wait for that chain head: a deadlock.)"""
    case_id, task_id = grad()
    _overdue(task_id)
    gate = pause(monkeypatch, reminders, "_claim_stage", "B", after=True)
    arrived = arrives(monkeypatch, cases, "lock", "A")
    b = start(ctx, "B", lambda: reminders.sweep()["reminders"])
    gate.wait_reached(b)
    a = start(ctx, "A", _complete(UNIT, task_id, RETURN))
    wait_queued(a, arrived)
    gate.open()
    assert b.outcome() == 1
    assert len(events(case_id, "reminder_sent")) == 1
    if postgres():
        assert a.outcome() == case_id
        assert len(events(case_id, "task_completed")) == 1 and [r.name for r in open_rows(case_id)] == ["修改申请"]
    else:
        refused(a.outcome())
        assert [r.id for r in open_rows(case_id)] == [task_id]
    assert invariant_problems([case_id]) == []


def test_a_reminder_sweep_passes_over_a_case_being_worked_on_and_reminds_it_next_time(ctx, grad, monkeypatch):
    """A holds the case (a claim of its overdue task, not committed); the reminder sweep (B) does
    not wait for it: it passes the task over (no reminder, no deadlock) and the next sweep sends
    the reminder, to the claimer, once."""
    require_postgres("SQLite 只有一个写者：提醒扫描等待写锁，没有可跳过的行锁")
    case_id, task_id = grad()
    _overdue(task_id)
    gate = pause(monkeypatch, tasks.audit, "record", "A")
    a = start(ctx, "A", _claim(UNIT, task_id))
    gate.wait_reached(a)
    b = start(ctx, "B", lambda: reminders.sweep()["reminders"])
    assert finishes_unblocked(b) == 0
    gate.open()
    assert a.outcome() == _id(UNIT)
    assert reminders.sweep()["reminders"] == 1
    [sent] = events(case_id, "reminder_sent")
    assert sent.details["recipients"] == [UNIT] and reminders.sweep()["reminders"] == 0
    assert invariant_problems([case_id]) == []


def test_dating_undated_tasks_passes_over_a_case_being_worked_on_and_dates_it_next_time(ctx, grad, monkeypatch):
    """A holds the case (a claim, not committed) of a task without a due date; the sweep (B)
    gives due dates to old undated tasks: it does not wait for A (which would deadlock with a
    writer of the task row), leaves that task undated and the next sweep dates it, once."""
    require_postgres("SQLite 只有一个写者：提醒扫描等待写锁，没有可跳过的行锁")
    case_id, task_id = grad()
    db.session.get(HumanTask, task_id).due_date = None
    db.session.commit()
    gate = pause(monkeypatch, tasks.audit, "record", "A")
    a = start(ctx, "A", _claim(UNIT, task_id))
    gate.wait_reached(a)
    b = start(ctx, "B", lambda: reminders.sweep()["dated"])
    assert finishes_unblocked(b) == 0
    gate.open()
    assert a.outcome() == _id(UNIT)
    db.session.rollback()
    assert db.session.get(HumanTask, task_id).due_date is None
    assert reminders.sweep()["dated"] == 1 and reminders.sweep()["dated"] == 0
    db.session.rollback()
    assert db.session.get(HumanTask, task_id).due_date is not None
    assert invariant_problems([case_id]) == []


# -- message delivery --------------------------------------------------------------------------
@pytest.fixture()
def probe(ctx):
    """Starts message_probe cases (each waits for probe_reply); returns their ids."""
    registry.deploy(read_model_folder(PROBE, ROOT / "forms"))
    db.session.commit()

    def make() -> int:
        instance = instances.start_instance(by_name("grad_liandu"), "message_probe", {})
        db.session.commit()
        assert instance.status == "waiting"
        return instance.id

    return make


def _reply(decision: str) -> dict:
    return {"decision": decision, "note": f"回复：{decision}"}


def _post(case_id: int, decision: str):
    def work():
        return messages.deliver(by_name("admin"), "probe_reply", {"instance_id": case_id}, _reply(decision))
    return work


def _delivered_once(case_id: int, outcome: str) -> None:
    instance = db.session.get(ProcessInstance, case_id)
    assert (instance.status, instance.data["outcome"]) == ("completed", outcome)
    assert len(events(case_id, "message_delivered")) == 1 and events(case_id, "engine_error") == []
    assert invariant_problems([case_id]) == []


def test_two_dispatchers_of_a_message_sent_twice_deliver_it_once(ctx, probe, monkeypatch):
    """The same message twice in the outbox, two dispatchers. A holds: it delivered the first row
    to the case, not committed. B takes the second row and finds the case still subscribed: it
    queues for the case, then sees it no longer waits: the second row is dropped. Delivered once;
    (before the fix the case caught an unexpected message and went into error)."""
    case_id = probe()
    outbox.enqueue("probe_reply", {"instance_id": case_id}, _reply("first"))
    outbox.enqueue("probe_reply", {"instance_id": case_id}, _reply("second"))
    outbox.take_pending()
    db.session.commit()
    gate = pause(monkeypatch, messages, "deliver_to", "A", after=True)
    # SQLite: B's dispatcher waits for the write lock already when it takes its row
    arrived = arrives(monkeypatch, cases, "lock", "B") if postgres() else arrives(monkeypatch, outbox, "_next_pending", "B")
    a = start(ctx, "A", outbox.dispatch)
    gate.wait_reached(a)
    b = start(ctx, "B", outbox.dispatch)
    wait_queued(b, arrived)
    gate.open()
    handled = (a.outcome(), b.outcome())
    if postgres():
        assert handled == (1, 1)  # B skipped the row A holds and took the other one
    else:  # after A's commit both want the write lock again: either takes the second row
        assert sum(handled) == 2 and handled[0] >= 1, handled
    _delivered_once(case_id, "first")
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.name == "probe_reply")
                              .order_by(OutboxMessage.id)).all()
    assert [(r.status, r.delivered_to) for r in rows] == [("delivered", [case_id]), ("dropped", [])]


def test_a_message_posted_behind_a_delivery_in_progress_finds_nothing_waiting(ctx, probe, monkeypatch):
    """Two administrators post the same message (REST API service). A holds: it delivers, not
    saved. B matched the still-subscribed case and queues for it, then finds it no longer
    waiting: 404 (SQLite: 409). Delivered once, no engine error."""
    case_id = probe()
    gate = pause(monkeypatch, cases, "save", "A")
    arrived = arrives(monkeypatch, cases, "lock", "B")
    a = start(ctx, "A", _post(case_id, "first"))
    gate.wait_reached(a)
    b = start(ctx, "B", _post(case_id, "second"))
    wait_queued(b, arrived)
    gate.open()
    assert a.outcome() == [case_id]
    outcome = b.outcome()
    assert isinstance(outcome, NotFound if postgres() else Conflict), outcome
    _delivered_once(case_id, "first")


def test_a_message_posted_on_a_read_before_another_delivery_committed_is_not_delivered_again(
        ctx, probe, monkeypatch):
    """A matched the waiting case and is about to lock it; B posts the same message and commits;
    A then finds nothing waiting (404; SQLite: its read is stale, 409). Delivered once (B's)."""
    case_id = probe()
    gate = pause(monkeypatch, cases, "lock", "A")
    a = start(ctx, "A", _post(case_id, "first"))
    gate.wait_reached(a)
    b = start(ctx, "B", _post(case_id, "second"))
    assert b.outcome() == [case_id]
    gate.open()
    outcome = a.outcome()
    assert isinstance(outcome, NotFound if postgres() else Conflict), outcome
    _delivered_once(case_id, "second")


# -- timers ------------------------------------------------------------------------------------
def _waiting_for_batch(grad) -> int:
    """A case its unit approved: it waits for its batch timer."""
    case_id, task_id = grad()
    tasks.complete_task(by_name(UNIT), task_id, dict(APPROVE))
    instance = db.session.get(ProcessInstance, case_id)
    assert instance.status == "waiting" and instance.next_timer_at is not None
    return case_id


def _returned(grad) -> tuple[int, int]:
    """A case sent back to its applicant: 修改申请 is open, with its deadline (a boundary timer)."""
    case_id, task_id = grad()
    tasks.complete_task(by_name(UNIT), task_id, dict(RETURN))
    [row] = open_rows(case_id)
    return case_id, row.id


def _past(instance_ids: list[int]) -> None:
    """The clock an hour past the latest of the instances' timers."""
    db.session.rollback()
    due = max(db.session.get(ProcessInstance, i).next_timer_at for i in instance_ids)
    clock.set_override(clock.to_local(due) + clock.ONE_DAY / 24)


def _fire(case_id: int):
    return lambda: timers.fire_one(case_id)


def test_a_sweep_behind_a_sweep_firing_the_same_timer_fires_nothing(ctx, grad, monkeypatch):
    """A holds: it fired the batch timer in the engine, not saved. B fires the same instance: it
    queues, then finds the timer no longer due. Fired once, one 初定审核 task."""
    case_id = _waiting_for_batch(grad)
    _past([case_id])
    gate = pause(monkeypatch, cases, "save", "A")
    arrived = arrives(monkeypatch, cases, "lock", "B")
    a = start(ctx, "A", _fire(case_id))
    gate.wait_reached(a)
    b = start(ctx, "B", _fire(case_id))
    wait_queued(b, arrived)
    gate.open()
    assert (a.outcome(), b.outcome()) == (True, False)
    assert len(events(case_id, "timer_fired")) == 1
    assert [r.name for r in open_rows(case_id)] == ["初定审核"]
    assert invariant_problems([case_id]) == []


def test_a_sweep_that_listed_the_due_timers_before_another_fired_them_fires_nothing(ctx, grad, monkeypatch):
    """B listed the two due instances; A's sweep fires both and commits; B then fires nothing
    (PostgreSQL: no longer due under the lock; SQLite: its read is stale, a Conflict it skips)."""
    due = [_waiting_for_batch(grad) for _ in range(2)]
    _past(due)
    gate = pause(monkeypatch, cases, "lock", "B")
    b = start(ctx, "B", timers.run_due_timers)
    gate.wait_reached(b)
    a = start(ctx, "A", timers.run_due_timers)
    assert a.outcome() == 2
    gate.open()
    assert b.outcome() == 0
    for case_id in due:
        assert len(events(case_id, "timer_fired")) == 1
        assert [r.name for r in open_rows(case_id)] == ["初定审核"]
    assert invariant_problems(due) == []


def test_a_resubmission_behind_the_deadline_firing_is_refused(ctx, grad, monkeypatch):
    """A holds: the 修改申请 deadline fired in the engine, not saved. The applicant resubmits (B):
    B queues, then finds the task cancelled by the deadline (409). The case lapsed, once."""
    case_id, task_id = _returned(grad)
    _past([case_id])
    gate = pause(monkeypatch, cases, "save", "A")
    arrived = arrives(monkeypatch, cases, "lock", "B")
    a = start(ctx, "A", _fire(case_id))
    gate.wait_reached(a)
    b = start(ctx, "B", _complete("grad_liandu", task_id, GRADUATE))
    wait_queued(b, arrived)
    gate.open()
    assert a.outcome() is True
    outcome = b.outcome()
    refused(outcome, Conflict, "取消")
    assert not isinstance(outcome, TaskAlreadyCompleted)
    instance = db.session.get(ProcessInstance, case_id)
    assert (instance.status, instance.data["outcome"]) == ("completed", "lapsed") and open_rows(case_id) == []
    assert db.session.get(HumanTask, task_id).state == "cancelled"
    assert len(events(case_id, "timer_fired")) == 1 and len(events(case_id, "task_completed")) == 1
    assert invariant_problems([case_id]) == []


def test_the_deadline_firing_behind_a_resubmission_fires_nothing(ctx, grad, monkeypatch):
    """B holds: the applicant's resubmission, not saved. The deadline sweep fires the instance
    (A): A queues, then finds no timer due. The case is back with the unit, no timer fired."""
    case_id, task_id = _returned(grad)
    _past([case_id])
    gate = pause(monkeypatch, cases, "save", "B")
    arrived = arrives(monkeypatch, cases, "lock", "A")
    b = start(ctx, "B", _complete("grad_liandu", task_id, GRADUATE))
    gate.wait_reached(b)
    a = start(ctx, "A", _fire(case_id))
    wait_queued(a, arrived)
    gate.open()
    assert b.outcome() == case_id
    assert a.outcome() is False
    assert events(case_id, "timer_fired") == []
    assert [r.name for r in open_rows(case_id)] == ["用人单位考核"]
    assert invariant_problems([case_id]) == []


# -- instance migration ------------------------------------------------------------------------
@pytest.fixture()
def second_version(ctx):
    """Deploys version 2 of the graduate model (修改申请 renamed 补正申请材料: a safe migration),
    after the cases to move were started; returns its id."""
    def deploy() -> int:
        first = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == GRAD)
                                  .order_by(ProcessVersion.version).limit(1))
        files = dict(first.sources["files"])
        assert 'name="修改申请"' in files[f"{GRAD}.bpmn"]
        files[f"{GRAD}.bpmn"] = files[f"{GRAD}.bpmn"].replace('name="修改申请"', 'name="补正申请材料"')
        version = registry.deploy(files)
        db.session.commit()
        return version.id

    return deploy


def _migrate(case_id: int, version_id: int):
    """The owner's migration of one case, from the instance as its page loaded it."""
    def work():
        instance = db.session.get(ProcessInstance, case_id)
        return migration.migrate(instance, db.session.get(ProcessVersion, version_id), by_name("owner")).id
    return work


def _migrations(case_id: int) -> int:
    return count(InstanceMigration, InstanceMigration.instance_id == case_id)


def test_a_completion_behind_a_migration_runs_on_the_new_version(ctx, grad, second_version, monkeypatch):
    """M holds: the case rebuilt on version 2, not saved. The unit completes its task (U): U
    queues, then (PostgreSQL) runs on version 2, its next task named as version 2 names it; on
    SQLite U is refused and the task stays open. (Before the fix U found the instance without its
    version: a 500.)"""
    case_id, task_id = grad()
    target = second_version()
    gate = pause(monkeypatch, cases, "save", "M")
    arrived = arrives(monkeypatch, cases, "lock", "U")
    m = start(ctx, "M", _migrate(case_id, target))
    gate.wait_reached(m)
    u = start(ctx, "U", _complete(UNIT, task_id, RETURN))
    wait_queued(u, arrived)
    gate.open()
    assert isinstance(m.outcome(), int)
    assert db.session.get(ProcessInstance, case_id).version_id == target
    assert _migrations(case_id) == 1 and len(events(case_id, "instance_migrated")) == 1
    if postgres():
        assert u.outcome() == case_id
        assert [r.name for r in open_rows(case_id)] == ["补正申请材料"]
        assert len(events(case_id, "task_completed")) == 1
    else:
        refused(u.outcome())
        assert [r.id for r in open_rows(case_id)] == [task_id] and events(case_id, "task_completed") == []
    assert invariant_problems([case_id]) == []


def test_a_migration_behind_a_completion_is_refused_and_can_be_run_again(ctx, grad, second_version,
                                                                         monkeypatch):
    """U holds: the unit's completion, not saved. The owner migrates the case (M, its page loaded
    the instance before): M queues, then is refused (409, the instance changed under it) rather
    than writing version 2 over the completion. Run again, it moves the case as it now stands."""
    case_id, task_id = grad()
    target = second_version()
    gate = pause(monkeypatch, cases, "save", "U")
    arrived = arrives(monkeypatch, cases, "lock", "M")
    u = start(ctx, "U", _complete(UNIT, task_id, RETURN))
    gate.wait_reached(u)
    m = start(ctx, "M", _migrate(case_id, target))
    wait_queued(m, arrived)
    gate.open()
    assert u.outcome() == case_id
    refused(m.outcome())
    assert _migrations(case_id) == 0 and events(case_id, "instance_migrated") == []
    assert [r.name for r in open_rows(case_id)] == ["修改申请"]
    assert invariant_problems([case_id]) == []
    _migrate(case_id, target)()
    assert [r.name for r in open_rows(case_id)] == ["补正申请材料"]
    assert invariant_problems([case_id]) == []


def test_a_migration_that_read_before_a_completion_committed_is_refused(ctx, grad, second_version,
                                                                        monkeypatch):
    """M loaded the instance (its page) and is about to lock it; the unit completes the task and
    commits; M is then refused (409) rather than moving a state it did not see."""
    case_id, task_id = grad()
    target = second_version()
    gate = pause(monkeypatch, cases, "lock", "M")
    m = start(ctx, "M", _migrate(case_id, target))
    gate.wait_reached(m)
    u = start(ctx, "U", _complete(UNIT, task_id, RETURN))
    assert u.outcome() == case_id
    gate.open()
    refused(m.outcome())
    assert db.session.get(ProcessInstance, case_id).version_id != target
    assert _migrations(case_id) == 0
    assert [r.name for r in open_rows(case_id)] == ["修改申请"]
    assert invariant_problems([case_id]) == []


def test_a_migration_behind_the_same_migration_is_refused(ctx, grad, second_version, monkeypatch):
    """Two owners move the same case: B queues behind A, then is refused. One InstanceMigration,
    one instance_migrated event."""
    case_id, _ = grad()
    target = second_version()
    gate = pause(monkeypatch, cases, "save", "A")
    arrived = arrives(monkeypatch, cases, "lock", "B")
    a = start(ctx, "A", _migrate(case_id, target))
    gate.wait_reached(a)
    b = start(ctx, "B", _migrate(case_id, target))
    wait_queued(b, arrived)
    gate.open()
    assert isinstance(a.outcome(), int)
    refused(b.outcome())
    assert _migrations(case_id) == 1 and len(events(case_id, "instance_migrated")) == 1
    assert invariant_problems([case_id]) == []


# -- many sessions (PostgreSQL) ----------------------------------------------------------------
SESSIONS = 8


def _crowd(app, work) -> list:
    """work(n) in SESSIONS sessions released together; what each returned (or raised)."""
    barrier = threading.Barrier(SESSIONS)

    def run(n: int):
        barrier.wait()
        return work(n)

    crowd = [start(app, f"crowd-{n}", lambda n=n: run(n)) for n in range(SESSIONS)]
    results = [session.outcome() for session in crowd]
    assert not [r for r in results if isinstance(r, BaseException)], [s.trace for s in crowd if s.trace]
    return results


def test_many_sessions_claiming_and_completing_the_same_tasks_complete_each_once(ctx, grad):
    """Eight sessions (of two colleagues, a third of them claiming first) each try every task of
    six cases, in shuffled orders: each task is completed exactly once, every other attempt is a
    409, each case has exactly one next task and at most one claim."""
    require_postgres(CROWD)
    made = [grad() for _ in range(6)]

    def work(n: int) -> list[str]:
        username = (UNIT, COLLEAGUE)[n % 2]
        order = [task_id for _, task_id in made]
        random.Random(n).shuffle(order)
        outcomes = []
        for task_id in order:
            try:
                if n % 3 == 0:
                    tasks.claim(by_name(username), task_id)
                tasks.complete_task(by_name(username), task_id, dict(RETURN))
                outcomes.append("done")
            except Conflict:
                db.session.rollback()
                outcomes.append("refused")
        return outcomes

    results = _crowd(ctx, work)
    assert sum(r.count("done") for r in results) == len(made)
    assert sum(r.count("refused") for r in results) == len(made) * (SESSIONS - 1)
    for case_id, _ in made:
        assert len(events(case_id, "task_completed")) == 1
        assert len(events(case_id, "task_claimed")) <= 1
        assert [r.name for r in open_rows(case_id)] == ["修改申请"]
    assert invariant_problems([case_id for case_id, _ in made]) == []


def test_many_sweeps_fire_each_due_timer_once(ctx, grad):
    """Eight sweeps at once over six due batch timers: six firings in all, one per case."""
    require_postgres(CROWD)
    due = [_waiting_for_batch(grad) for _ in range(6)]
    _past(due)
    assert sum(_crowd(ctx, lambda n: timers.run_due_timers())) == len(due)
    for case_id in due:
        assert len(events(case_id, "timer_fired")) == 1
        assert [r.name for r in open_rows(case_id)] == ["初定审核"]
    assert invariant_problems(due) == []


def test_many_deliveries_of_the_same_messages_deliver_each_once(ctx, probe):
    """Six waiting cases; each one's message is twice in the outbox, and while four sessions
    dispatch the outbox four others post the same messages: each case is delivered exactly once
    and none goes into error; every outbox row ends delivered or dropped."""
    require_postgres(CROWD)
    waiting = [probe() for _ in range(6)]
    for case_id in waiting:
        for copy in range(2):
            outbox.enqueue("probe_reply", {"instance_id": case_id}, _reply(f"outbox-{copy}"))
    outbox.take_pending()
    db.session.commit()

    def work(n: int) -> int:
        posted = 0
        order = list(waiting)
        random.Random(n).shuffle(order)
        for case_id in order:
            if n % 2:
                try:
                    posted += len(_post(case_id, f"posted-{n}")())
                except (NotFound, Conflict):
                    db.session.rollback()
            else:
                outbox.dispatch(limit=1)
        return posted

    posted = sum(_crowd(ctx, work))
    outbox.dispatch()  # the rows no session got to
    for case_id in waiting:
        assert len(events(case_id, "message_delivered")) == 1, case_id
        assert events(case_id, "engine_error") == []
        assert db.session.get(ProcessInstance, case_id).status == "completed"
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.name == "probe_reply")).all()
    assert {r.status for r in rows} <= {"delivered", "dropped"}
    assert posted + sum(len(r.delivered_to) for r in rows) == len(waiting)
    assert count(Event, Event.type == "message_delivered", Event.instance_id.in_(waiting)) == len(waiting)
    assert invariant_problems(waiting) == []
