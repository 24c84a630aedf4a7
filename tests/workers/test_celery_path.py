"""The Celery path against the local Redis (127.0.0.1:6379): a real worker thread runs the tasks on
the test database. A timer fired by a worker through the beat sweep, a bulk job advanced batch by
batch with its progress, and two sweeps racing on the same due timers (each fired once).

Waiting is on task results (AsyncResult.get), never on sleeps.
"""

from __future__ import annotations

from api_client import Api
from celery.result import AsyncResult
from celery_support import WAIT, needs_redis
from sqlalchemy import func, select

from app import background
from app.extensions import db
from app.models import Event, ProcessInstance
from app.services import jobs

GRAD = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
        "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}

pytestmark = needs_redis


def _waiting_on_batch(client, count: int) -> list[int]:
    """Graduate cases approved by their unit on 2022-07-15: each waits for the 2022-08 batch timer."""
    admin, applicant, unit = Api(client, "admin"), Api(client, "grad_city"), Api(client, "institute_hr")
    assert admin.put("/api/v1/clock", json={"now": "2022-07-15T09:00:00+08:00"}).status_code == 200
    ids = []
    for _ in range(count):
        started = applicant.post("/api/v1/process-instances",
                                 json={"process_model": "graduate_initial_determination", "data": GRAD}).get_json()
        task = next(t for t in unit.tasks(instance_id=started["id"]))
        assert unit.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
        assert unit.complete(task["id"], {"decision": "approve"}).status_code == 200
        ids.append(started["id"])
    assert admin.put("/api/v1/clock", json={"now": "2022-08-10T09:00:00+08:00"}).status_code == 200
    db.session.rollback()
    return ids


def _fired(instance_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Event).where(
        Event.instance_id == instance_id, Event.type == "timer_fired")) or 0


def test_the_beat_sweep_fires_a_due_timer_in_a_worker(ctx, celery_worker):
    [case] = _waiting_on_batch(ctx.test_client(), 1)
    swept = background.sweep.delay().get(timeout=WAIT)
    assert len(swept["timer_tasks"]) == 1  # one batch
    assert AsyncResult(swept["timer_tasks"][0], app=celery_worker).get(timeout=WAIT) == 1
    assert _fired(case) == 1
    instance = db.session.get(ProcessInstance, case)
    assert instance.status == "running" and instance.next_timer_at is None  # 初定审核 is open
    assert background.sweep.delay().get(timeout=WAIT)["timer_tasks"] == []  # nothing due any more


def test_two_sweeps_racing_fire_each_timer_once(ctx, celery_worker):
    cases = _waiting_on_batch(ctx.test_client(), 4)
    first = background.sweep.delay()
    second = background.sweep.delay()  # overlaps: both see the same four due timers
    queued = first.get(timeout=WAIT)["timer_tasks"] + second.get(timeout=WAIT)["timer_tasks"]
    results = [AsyncResult(task_id, app=celery_worker).get(timeout=WAIT) for task_id in queued]
    assert len(queued) == 2 and sum(results) <= 4  # one batch of four from each sweep
    assert all(_fired(case) <= 1 for case in cases)  # never twice
    # An attempt that met the other one's lock (SQLite refuses a second writer) leaves its timer
    # due: the next sweep fires what is left, still once each.
    again = background.sweep.delay().get(timeout=WAIT)["timer_tasks"]
    later = [AsyncResult(task_id, app=celery_worker).get(timeout=WAIT) for task_id in again]
    assert sum(results) + sum(later) == 4
    assert [_fired(case) for case in cases] == [1, 1, 1, 1]


def test_a_bulk_job_advances_batch_by_batch_with_progress(ctx, celery_worker):
    seen: list[int] = []

    def handle(job, item, actor):
        seen.append(item)
        return jobs.ItemResult(item % 7 != 0, f"第 {item} 项" if item % 7 else f"第 {item} 项不可处理")

    jobs.register("celery_path_test", handle, "测试作业")
    job = jobs.create("celery_path_test", list(range(1, 46)), None)
    db.session.commit()
    progress, batches = [], 0
    task_id = background.start_job(job.id)
    while task_id:
        step = AsyncResult(task_id, app=celery_worker).get(timeout=WAIT)
        progress.append(step["done"])
        task_id, batches = step["next"], batches + 1
    assert progress == [20, 40, 45] and batches == 3
    db.session.rollback()
    done = jobs.progress(jobs.get(job.id))
    assert done["finished"] and done["status"] == "done"
    assert (done["done"], done["failed"], done["succeeded"]) == (45, 6, 39)
    assert sorted(seen) == list(range(1, 46))  # each item handled exactly once
