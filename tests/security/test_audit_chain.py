"""The audit trail is a hash chain: appends link up, any edit, removal or insertion is named."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditChain, Event, ProcessInstance
from app.services import audit, instances, tasks

GRADUATE = {"education": "本科", "graduation_date": "2024-07-01", "work_start_date": "2024-07-15",
            "months_pre_degree": 0, "specialty": "软件工程", "requested_level": "助理级"}


@pytest.fixture()
def tamper(ctx):
    """Run raw SQL on event as an intruder with database access would (past the trigger)."""
    postgres = db.engine.dialect.name == "postgresql"

    def _run(sql: str, **params) -> None:
        if postgres:
            db.session.execute(text("ALTER TABLE event DISABLE TRIGGER event_append_only"))
        db.session.execute(text(sql), params)
        if postgres:
            db.session.execute(text("ALTER TABLE event ENABLE TRIGGER event_append_only"))
        db.session.commit()

    return _run


def _case(user, set_clock) -> int:
    set_clock("2026-03-02T09:00:00+08:00")
    instance = instances.start_instance(user("grad_liandu"), "graduate_initial_determination", GRADUATE)
    db.session.commit()
    return instance.id


def _chain(instance_id: int) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.id)))


def test_the_seeded_trail_and_new_events_form_unbroken_chains(ctx, user, set_clock):
    before = audit.verify()
    assert before.ok, before.first_broken
    assert before.events == db.session.scalar(select(db.func.count()).select_from(Event)) > 0

    case_id = _case(user, set_clock)
    employer = user("liandu_co_hr")
    task = instances.open_tasks(instances.get_instance(employer, case_id))[0]
    tasks.claim(employer, task.id)
    tasks.complete_task(employer, task.id, {"decision": "approve"})
    db.session.commit()

    links = _chain(case_id)
    assert [e.chain_seq for e in links] == list(range(1, len(links) + 1))
    assert len({e.hash for e in links}) == len(links) and all(len(e.hash) == 64 for e in links)
    head = db.session.get(ProcessInstance, case_id)
    assert (head.audit_seq, head.audit_hash) == (links[-1].chain_seq, links[-1].hash)
    assert db.session.get(AuditChain, case_id) is None  # an instance's head is on its row
    after = audit.verify()
    assert after.ok and after.events == before.events + len(links)
    assert after.chains == before.chains + 1


def test_an_edited_event_is_named_as_the_first_broken_link(ctx, user, set_clock, tamper):
    case_id = _case(user, set_clock)
    victim = _chain(case_id)[1] if len(_chain(case_id)) > 1 else _chain(case_id)[0]
    tamper("UPDATE event SET type = 'task_completed_forged' WHERE id = :id", id=victim.id)
    report = audit.verify()
    assert not report.ok and report.broken_chains == 1
    broken = report.first_broken
    assert (broken.chain, broken.seq, broken.event_id) == (case_id, victim.chain_seq, victim.id)
    assert "哈希不符" in broken.describe() and f"事件 #{victim.id}" in broken.describe()


def test_an_edited_detail_of_the_global_chain_is_found(ctx, tamper):
    first = db.session.scalar(select(Event).where(Event.instance_id.is_(None)).order_by(Event.id))
    assert first is not None, "the seed writes events without an instance"
    tamper("UPDATE event SET details = :d WHERE id = :id", d='{"forged": true}', id=first.id)
    broken = audit.verify().first_broken
    assert (broken.chain, broken.seq, broken.event_id) == (audit.GLOBAL_CHAIN, 1, first.id)


def test_a_removed_middle_event_and_a_removed_last_event_are_named(ctx, user, set_clock, tamper):
    case_id = _case(user, set_clock)
    links = _chain(case_id)
    assert len(links) >= 3
    tamper("DELETE FROM event WHERE id = :id", id=links[-1].id)
    broken = audit.verify().first_broken
    assert (broken.chain, broken.seq, broken.event_id) == (case_id, len(links), None)
    assert "被删除" in broken.reason

    tamper("DELETE FROM event WHERE id = :id", id=links[0].id)
    broken = audit.verify().first_broken
    assert (broken.chain, broken.seq, broken.event_id) == (case_id, 1, links[1].id)
    assert "缺少第 1 环" in broken.reason


def test_a_forged_event_inserted_without_the_service_is_named(ctx, user, set_clock, tamper):
    case_id = _case(user, set_clock)
    links = _chain(case_id)
    tamper("INSERT INTO event (instance_id, at, type, details) VALUES (:i, :at, 'outcome_forged', '{}')",
           i=case_id, at=links[-1].at)
    broken = audit.verify().first_broken
    assert (broken.chain, broken.seq) == (case_id, len(links) + 1)
    assert "没有链接" in broken.reason


def test_a_comment_links_without_changing_the_case_version(ctx, user, set_clock):
    """An event for a case written outside a change of the case (a comment) moves the chain's
    head on the instance row without touching its version (the optimistic-lock column)."""
    from app.services.comments import add_comment

    case_id = _case(user, set_clock)
    before = db.session.get(ProcessInstance, case_id).lock_version
    add_comment(user("grad_liandu"), case_id, "材料已补齐，请审核")
    db.session.commit()
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, case_id)
    assert instance.lock_version == before
    assert instance.audit_seq == len(_chain(case_id)) and audit.verify().ok


def test_a_rolled_back_savepoint_leaves_no_gap(ctx):
    audit.record("probe_kept")
    db.session.flush()
    savepoint = db.session.begin_nested()
    audit.record("probe_dropped")
    db.session.flush()
    savepoint.rollback()
    audit.record("probe_after")
    db.session.commit()
    assert audit.verify().ok
    types = list(db.session.scalars(select(Event.type).where(Event.type.like("probe_%")).order_by(Event.id)))
    assert types == ["probe_kept", "probe_after"]


def test_the_command_says_intact_or_names_the_break(ctx, tamper):
    runner = CliRunner()
    cli = ctx.cli
    ok = runner.invoke(cli, ["audit-verify"], catch_exceptions=False)
    assert ok.exit_code == 0 and "审计记录完整" in ok.output
    first = db.session.scalar(select(Event).where(Event.instance_id.is_(None)).order_by(Event.id))
    tamper("UPDATE event SET actor_id = NULL, type = 'x' WHERE id = :id", id=first.id)
    bad = runner.invoke(cli, ["audit-verify"])
    assert bad.exit_code == 1
    assert f"事件 #{first.id}" in bad.output and "第一个断点" in bad.output


def test_many_writers_on_one_chain_keep_it_whole(app, ctx):
    """Eight threads append to the global chain at once: every link is numbered once, in order."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks between connections are a PostgreSQL matter; SQLite has one writer")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(10):
                    audit.record("probe_parallel", details={"writer": n, "i": i})
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = audit.verify()
    assert report.ok, report.first_broken
    seqs = list(db.session.scalars(select(Event.chain_seq).where(Event.instance_id.is_(None)).order_by(Event.id)))
    assert seqs == list(range(1, len(seqs) + 1))
    assert sum(1 for _ in db.session.scalars(select(Event.id).where(Event.type == "probe_parallel"))) == 80
