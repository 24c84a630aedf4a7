"""Moving running title applications to a new model version: checks, bulk job, history, undo."""

from __future__ import annotations

import pytest
from migration_world import Cases, edit_form, insert_after_unit_notice, rename, variant
from sqlalchemy import select

from app.extensions import db
from app.models import BackgroundJob, Event, InstanceMigration
from app.services import jobs, migration, registry
from app.services.errors import Conflict, FormInvalid, NotAllowed


@pytest.fixture()
def world(ctx):
    return Cases(ctx)


def events(cid: int, type_: str) -> list[Event]:
    db.session.rollback()
    return list(db.session.scalars(select(Event).where(Event.instance_id == cid, Event.type == type_)
                                   .order_by(Event.id)))


def test_bulk_migrates_the_safe_instances_and_refuses_the_others_with_reasons(world, user):
    v1 = registry.latest("title_application")
    v2 = variant(rename("Task_unit_notice_end", "Task_notice_deadline"))
    owner = user("owner")
    rows_before = world.open_rows(world.at_review)

    verdicts = {cid: migration.check(world.get(cid), v2)
                for cid in (world.at_review, world.at_notice, world.notice_running)}
    assert verdicts[world.at_review].safe and verdicts[world.at_notice].safe
    refused = verdicts[world.notice_running]
    assert not refused.safe
    assert "已完成的环节 Task_unit_notice_end（计算公示截止日）在新版本中已删除" in refused.reasons
    assert verdicts[world.at_review].mapping["Task_employer_review"] == "Task_employer_review"

    job = migration.start_bulk(owner, [world.at_review, world.at_notice, world.notice_running], v2)
    assert (job.kind, job.status, job.total, job.done) == ("migrate", "queued", 3, 0)
    job = migration.advance(job, batch=2)
    assert (job.status, job.done, job.failed) == ("running", 2, 0)
    job = migration.advance(job, batch=2)
    assert (job.status, job.done, job.failed) == ("done", 3, 1)
    results = {r["id"]: r for r in job.results}
    assert results[world.at_review]["ok"] and results[world.at_notice]["ok"]
    assert not results[world.notice_running]["ok"]
    assert "Task_unit_notice_end（计算公示截止日）" in results[world.notice_running]["message"]

    assert world.get(world.at_review).version_id == v2.id
    assert world.get(world.at_notice).version_id == v2.id
    assert world.get(world.notice_running).version_id == v1.id
    assert world.open_rows(world.at_review) == rows_before  # same task, same inbox row
    moved = db.session.scalars(select(InstanceMigration).order_by(InstanceMigration.id)).all()
    assert [(m.instance_id, m.job_id) for m in moved] == [(world.at_review, job.id), (world.at_notice, job.id)]
    [event] = events(world.at_review, "instance_migrated")
    assert event.actor_id == owner.id
    assert (event.details["from_version"], event.details["to_version"]) == (v1.version, v2.version)
    assert event.details["name"] == f"版本 {v1.version} → 版本 {v2.version}"
    assert not events(world.notice_running, "instance_migrated")

    # the moved instances go on along the new version
    world.publish_notice(world.at_notice)
    steps = [e.bpmn_id for e in events(world.at_notice, "step_completed")]
    assert "Task_notice_deadline" in steps and "Task_unit_notice_end" not in steps
    assert world.get(world.at_notice).data["unit_notice_end"] == "2022-07-18"
    world.flow.do("school_hr", world.at_review, "单位审核", {"decision": "reject", "opinion": "业绩材料不足"})
    done = world.get(world.at_review)
    assert done.status == "completed" and done.version_id == v2.id
    assert world.open_rows(world.at_review) == []


def test_a_deleted_current_step_or_form_field_is_refused_naming_the_element(world, user):
    owner = user("owner")
    renamed = variant(rename("Task_employer_review", "Task_unit_review"))
    verdict = migration.check(world.get(world.at_review), renamed)
    assert "当前环节 Task_employer_review（单位审核）在新版本中不存在" in verdict.reasons
    passed = migration.check(world.get(world.at_notice), renamed)
    assert "已完成的环节 Task_employer_review（单位审核）在新版本中已删除" in passed.reasons
    with pytest.raises(Conflict, match="当前环节 Task_employer_review（单位审核）在新版本中不存在"):
        migration.migrate(world.get(world.at_review), renamed, owner)
    assert world.get(world.at_review).version_id != renamed.id

    def drop_place(schema):
        del schema["properties"]["notice_place"]
        schema["required"] = ["notice_start"]

    fewer_fields = variant(edit_form("unit_notice.schema.json", drop_place))
    verdict = migration.check(world.get(world.at_notice), fewer_fields)
    assert verdict.reasons == ["当前环节 Task_unit_notice（单位内公示）的表单在新版本中删除了字段 notice_place（公示地点或方式）"]
    assert migration.check(world.get(world.at_review), fewer_fields).safe  # its own form did not change

    def relabel(schema):
        schema["properties"]["notice_start"]["title"] = "公示起始日期"

    relabelled = variant(edit_form("unit_notice.schema.json", relabel))
    verdict = migration.check(world.get(world.at_notice), relabelled)
    assert verdict.safe and any("notice_start（公示开始日期）" in n for n in verdict.notes)


def test_a_new_step_after_a_completed_one_is_refused_ahead_of_it_taken(world, user):
    owner = user("owner")
    longer = variant(insert_after_unit_notice)
    assert migration.check(world.get(world.at_review), longer).safe
    assert migration.check(world.get(world.at_notice), longer).safe
    verdict = migration.check(world.get(world.notice_running), longer)
    assert any(r.startswith("已完成的环节 Task_unit_notice（单位内公示）之后的流转在新版本中已改变")
               for r in verdict.reasons), verdict.reasons

    migration.migrate(world.get(world.at_notice), longer, owner)
    world.publish_notice(world.at_notice)
    steps = [e.bpmn_id for e in events(world.at_notice, "step_completed")]
    assert steps[-2:] == ["Task_notice_materials", "Task_unit_notice_end"]
    assert world.get(world.at_notice).status == "waiting"


def test_undo_restores_version_and_state_and_the_instance_goes_on(world, user):
    owner = user("owner")
    v1 = registry.latest("title_application")
    v2 = variant(rename("Task_unit_notice_end", "Task_notice_deadline"))
    before = world.get(world.at_review)
    state_before, rows_before = before.state, world.open_rows(world.at_review)
    moved = migration.migrate(before, v2, owner)
    assert moved.state_before == state_before and moved.from_version_id == v1.id

    with pytest.raises(FormInvalid):
        migration.undo(moved, owner, " ")
    with pytest.raises(NotAllowed):
        migration.undo(moved, user("school_hr"), "误操作")
    migration.undo(moved, owner, "迁移有误，恢复原版本")
    back = world.get(world.at_review)
    assert back.version_id == v1.id and back.state == state_before
    assert world.open_rows(world.at_review) == rows_before
    row = db.session.get(InstanceMigration, moved.id)
    assert row.undone_at is not None and row.undone_by_id == owner.id
    assert row.details["undo_reason"] == "迁移有误，恢复原版本"
    [event] = events(world.at_review, "instance_migration_undone")
    assert event.details["reason"] == "迁移有误，恢复原版本"
    with pytest.raises(Conflict, match="已撤销"):
        migration.undo(row, owner, "再撤销一次")

    world.flow.do("school_hr", world.at_review, "单位审核", {"decision": "approve"})
    steps = [e.bpmn_id for e in events(world.at_review, "task_completed")]
    assert steps == ["Task_employer_review"]
    assert world.flow.instance(world.at_review)["open_tasks"][0]["name"] == "单位内公示"


def test_undo_is_refused_once_the_instance_moved_on_or_for_an_older_migration(world, user):
    owner = user("owner")
    v1 = registry.latest("title_application")
    v2 = variant(rename("Task_unit_notice_end", "Task_notice_deadline"))

    def relabel(schema):
        schema["properties"]["notice_start"]["title"] = "公示起始日期"

    v3 = variant(edit_form("unit_notice.schema.json", relabel))
    moved = migration.migrate(world.get(world.at_notice), v2, owner)
    world.publish_notice(world.at_notice)
    assert migration.undo_blocker(db.session.get(InstanceMigration, moved.id)).startswith("实例在迁移后已继续办理")
    with pytest.raises(Conflict, match="已继续办理"):
        migration.undo(db.session.get(InstanceMigration, moved.id), owner, "想撤销")
    assert world.get(world.at_notice).version_id == v2.id

    first = migration.migrate(world.get(world.at_review), v2, owner)
    second = migration.migrate(world.get(world.at_review), v3, owner)
    with pytest.raises(Conflict, match="只能撤销该实例最近一次迁移"):
        migration.undo(db.session.get(InstanceMigration, first.id), owner, "撤销第一次")
    migration.undo(db.session.get(InstanceMigration, second.id), owner, "撤销第二次")
    assert world.get(world.at_review).version_id == v2.id
    migration.undo(db.session.get(InstanceMigration, first.id), owner, "撤销第一次")
    assert world.get(world.at_review).version_id == v1.id


def test_refusals_and_access(world, user):
    owner, admin = user("owner"), user("admin")
    v1 = registry.latest("title_application")
    v2 = variant(rename("Task_unit_notice_end", "Task_notice_deadline"))
    assert migration.check(world.get(world.at_review), v1).reasons == [f"实例已在版本 {v1.version} 上"]
    world.flow.do("school_hr", world.at_review, "单位审核", {"decision": "reject", "opinion": "材料不全"})
    assert migration.check(world.get(world.at_review), v2).reasons == ["实例已办结，不能迁移"]
    other = registry.latest("graduate_initial_determination")
    assert "不同" in migration.check(world.get(world.at_notice), other).reasons[0]

    for username in ("teacher1", "school_hr", "city_hr"):
        with pytest.raises(NotAllowed):
            migration.migrate(world.get(world.at_notice), v2, user(username))
        with pytest.raises(NotAllowed):
            migration.start_bulk(user(username), [world.at_notice], v2)
    with pytest.raises(FormInvalid):
        migration.start_bulk(owner, [], v2)
    assert migration.migrate(world.get(world.at_notice), v2, admin).migrated_by_id == admin.id


def test_the_periodic_sweep_advances_pending_jobs(world, user):
    v2 = variant(rename("Task_unit_notice_end", "Task_notice_deadline"))
    job = migration.start_bulk(user("owner"), [world.at_review, world.at_notice, 999999], v2)
    assert jobs.run_pending(batch=20) == 3
    db.session.rollback()
    job = db.session.get(BackgroundJob, job.id)
    assert (job.status, job.done, job.failed) == ("done", 3, 1)
    assert job.results[-1] == {"id": 999999, "ok": False, "message": "流程实例不存在"}
    assert jobs.run_pending() == 0
    assert jobs.progress(job)["percent"] == 100


def test_a_running_boundary_timer_keeps_its_deadline_and_fires_on_the_new_version(world, user):
    flow = world.flow
    cid = world.at_review
    flow.do("school_hr", cid, "单位审核", {"decision": "return", "opinion": "请补充年度考核表"})
    due = world.get(cid).next_timer_at
    assert due is not None
    v2 = variant(rename("Task_unit_notice_end", "Task_notice_deadline"))
    flow.at("2022-07-20")  # later: a timer restarted now would move
    assert migration.check(world.get(cid), v2).safe
    migration.migrate(world.get(cid), v2, user("owner"))
    moved = world.get(cid)
    assert moved.version_id == v2.id and moved.next_timer_at == due
    assert [name for _, name in world.open_rows(cid)] == ["补正申报材料"]
    flow.at(due.isoformat())
    assert flow.timers() >= 1  # (the other applications' notice timers are due by then as well)
    lapsed = world.get(cid)
    assert lapsed.status == "completed" and lapsed.data["outcome"] == "lapsed" and lapsed.version_id == v2.id
