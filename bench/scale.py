"""Issue 8's scale targets on PostgreSQL: B7 (timers), B4 (200,000 applications), B5 (bytes per case).

They need PostgreSQL (BENCH_DATABASE_URL); they run in a database of their own, ``<name>_scale``,
dropped and created afresh, so the data they generate never mixes with other figures. B7 also
needs Redis (CELERY_BROKER_URL, default redis://127.0.0.1:6379/12) and starts two Celery workers.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import HumanTask, ProcessInstance, Setting, User
from app.services import instances, tasks
from bench import clone

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/12"
START = {"education": "大专", "graduation_date": "2019-06-30", "work_start_date": "2019-07-01",
         "months_pre_degree": 0, "specialty": "机械设计", "requested_level": "员级"}


def scale_url(url: str) -> str | None:
    """A fresh database beside BENCH_DATABASE_URL's (None unless that is PostgreSQL)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return None
    name = f"{parsed.database}_scale"
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _set_clock(value) -> None:
    """The shared clock (what clock_service.sync gives every worker)."""
    row = db.session.get(Setting, "clock_override") or Setting(key="clock_override", value={})
    row.value = {"now": value.isoformat()}
    db.session.add(row)
    db.session.commit()


# -- B7 --------------------------------------------------------------------------------------------
def _workers(url: str, count: int, folder: str) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": BROKER, "CLOCK_OVERRIDE": "1",
           "SECRET_KEY": "bench", "APP_ENV": "bench", "DOCUMENT_DIR": f"{folder}/documents",
           "PYTHONPATH": str(ROOT)}
    celery = str(Path(sys.executable).with_name("celery"))
    return [subprocess.Popen([celery, "-A", "app.celery_app", "worker", "--pool=solo", "--loglevel=WARNING",
                              f"--hostname=bench{i}@%h", "--without-gossip", "--without-mingle"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(count)]


def _wait_for_workers(celery_app, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(celery_app.control.ping(timeout=1.0) or []) >= count:
            return
    raise RuntimeError("Celery 工作进程未能启动")


def b7(app, url: str, folder: str, waiting: int = 100_000, due: int = 10_000) -> dict[str, float]:
    from app import background, worker

    with app.app_context():
        case = instances.start_instance(_user("grad_liandu"), "graduate_initial_determination", dict(START))
        task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id, HumanTask.state == "open"))
        tasks.complete_task(_user("liandu_co_hr"), task.id, {"decision": "approve"})  # waits for its batch
        template = db.session.get(ProcessInstance, case.id)
        at = template.next_timer_at
        began = time.perf_counter()
        copies = clone.copy_instance(template.id, waiting - 1, {
            "next_timer_at": f"CASE WHEN g < {due} THEN t.next_timer_at ELSE t.next_timer_at + interval '400 days' END"})
        clone.analyze()
        made = time.perf_counter() - began
        _set_clock(at + timedelta(minutes=1))
        celery_app = worker.celery()
        celery_app.control.purge()
        procs = _workers(url, 2, folder)
        try:
            _wait_for_workers(celery_app, 2)
            began = time.perf_counter()
            swept = background.sweep()
            queued = time.perf_counter() - began
            left = due
            count_due = text("SELECT count(*) FROM process_instance WHERE status IN ('waiting', 'running') "
                             "AND next_timer_at <= :now")
            while left and time.perf_counter() - began < 600:
                time.sleep(0.25)
                left = db.session.execute(count_due, {"now": at + timedelta(minutes=1)}).scalar_one()
                db.session.rollback()
            elapsed = time.perf_counter() - began
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
        mine = "(instance_id = :t OR instance_id BETWEEN :f AND :l)"
        ids = {"t": template.id, "f": copies.first_id, "l": copies.first_id + copies.count - 1}
        fired = db.session.execute(text(f"SELECT count(*) FROM event WHERE type = 'timer_fired' AND {mine}"),
                                   ids).scalar_one()
        twice = db.session.execute(text(
            f"SELECT count(*) FROM (SELECT instance_id FROM event WHERE type = 'timer_fired' AND {mine} "
            "GROUP BY instance_id HAVING count(*) > 1) AS x"), ids).scalar_one()
        opened = db.session.execute(text(f"SELECT count(*) FROM human_task WHERE state = 'open' AND {mine}"),
                                    ids).scalar_one()
    return {"made": made, "batches": len(swept["timer_tasks"]), "queued": queued, "elapsed": elapsed,
            "left": left, "fired": fired, "twice": twice, "opened": opened, "waiting": waiting, "due": due}


# -- B5 --------------------------------------------------------------------------------------------
def _db_bytes() -> int:
    """The database's tables with their indexes and TOAST, compacted (VACUUM FULL) first."""
    db.session.commit()
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM FULL"))
        return int(connection.execute(text(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'")).scalar_one())


def b5(app, count: int = 50) -> dict[str, float]:
    """``count`` title applications from submission to 材料已归入本人档案, in one session: the
    database's growth per application (the applicants' accounts and archives made beforehand)."""
    from bench import title_review

    with app.app_context():
        try:
            users = title_review._applicants(count)
            before = _db_bytes()
            cases, _ = title_review._accepted(users)
            steps = title_review.session(cases)
            title_review.finish(int(steps["id"]), cases)
            after = _db_bytes()
            done = db.session.scalar(select(func.count()).select_from(ProcessInstance).where(
                ProcessInstance.id.in_(cases), ProcessInstance.status == "completed"))
            rows = {name: db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                    for name in ("event", "human_task", "instance_checkpoint")}
        finally:
            from app import clock

            clock.set_override(None)
    return {"count": count, "completed": done, "per_case": (after - before) / count, **rows}


def run(app_factory, bench_url: str, folder: str) -> None:
    url = scale_url(bench_url)
    if url is None:
        print("\nS. 规模目标 B4/B5/B7 需要 PostgreSQL（设置 BENCH_DATABASE_URL）；本次跳过")
        return
    from bench.targets import machine

    app, _ = app_factory(folder, url, CELERY_BROKER_URL=BROKER)
    print(f"\nS. 规模目标（{machine()}；PostgreSQL {make_url(url).database}）")
    r = b5(app)
    print(f"   B5 每件职称申报（从提交到材料归档，{r['count']} 件同一会次，{r['completed']} 件已办结）占用数据库 "
          f"{r['per_case'] / 1024:.1f} KB（目标 ≤ 30 KB；表、索引、TOAST，VACUUM FULL 后计）")
    r = b7(app, url, folder)
    print(f"   B7 {r['waiting']:,} 个实例等待定时器、{r['due']:,} 个同时到期：两个 Celery 工作进程 "
          f"{r['elapsed']:.1f} s 全部触发（目标 ≤ 60 s）；分 {r['batches']} 批入队 {r['queued']:.1f} s；"
          f"触发 {r['fired']:,} 次，重复 {r['twice']} 次，未触发 {r['left']}；新开任务 {r['opened']:,}；"
          f"造数 {r['made']:.1f} s")
