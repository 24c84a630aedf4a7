"""Benchmark 5: the managers' dashboard over N cases. Prints figures; asserts nothing.

The cases are inserted directly (title applications and graduate cases across the counties, a
third with an open task), then the whole dashboard, one Excel export and one heat map are
computed as the city manager and as a district manager.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from app import clock
from app.extensions import db
from app.models import Committee, HumanTask, Organisation, ProcessInstance, User, UserRole
from app.rules.title import CITY_LEVEL, LISHUI_COUNTIES
from app.services import registry, stats, stats_export, stats_waiting

LABELS = {"published": "评审通过（已公布）", "recommended": "已推荐", "failed": "评审未通过", "rejected": "未通过",
          "approved": "通过", "lapsed": "已失效"}
TITLE_OUTCOMES = [None, None, "published", "published", "recommended", "failed", "rejected", "rejected_routing"]
GRAD_OUTCOMES = [None, "approved", "approved", "rejected", "lapsed"]


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000


def _cases(count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    title, grad = registry.latest("title_application"), registry.latest("graduate_initial_determination")
    names = list(db.session.scalars(select(Organisation.name).join(Committee, Committee.org_id == Organisation.id)))
    starter = db.session.scalar(select(User.id).where(User.username == "teacher1"))
    now = clock.now()
    instances, tasks = [], []
    first_id = (db.session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc()).limit(1)) or 0) + 1
    for n in range(count):
        is_title = n % 5 < 3
        outcome = rng.choice(TITLE_OUTCOMES if is_title else GRAD_OUTCOMES)
        created = now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
        data = ({"committee": rng.choice(names), "title_level": rng.choice(["初级", "中级", "副高级"]), "outcome": outcome}
                if is_title else {"batch": f"2022-{rng.choice(['02', '05', '08', '11'])}", "outcome": outcome,
                                  "approved_level": "助理级" if outcome == "approved" else None})
        instances.append({
            "id": first_id + n, "process_id": (title if is_title else grad).process_id,
            "version_id": (title if is_title else grad).id, "title": f"基准案件 {n}",
            "status": "completed" if outcome else "running", "state": {}, "data": data, "starter_id": starter,
            "county": rng.choice([CITY_LEVEL, *LISHUI_COUNTIES]), "plan_year": 2022,
            "committee": data.get("committee"), "outcome": outcome, "title_level": data.get("title_level"),
            "created_at": created, "updated_at": created,
            "library_version": "3.2.0", "serializer_version": "bench", "lock_version": 1})
        if outcome is None:
            tasks.append({"instance_id": first_id + n, "task_guid": str(uuid.uuid4()), "state": "open",
                          "bpmn_id": rng.choice(["Task_unit_review", "Task_dept_review", "Task_office_check"])
                          if is_title else "Task_employer_assess", "name": "基准任务", "created_at": created,
                          "due_date": created.date() + timedelta(days=14)})
    db.session.execute(insert(ProcessInstance), instances)
    db.session.execute(insert(HumanTask), tasks)
    if db.session.get_bind().dialect.name == "postgresql":
        # The ids were given: move the sequence past them, or the next case started would collide.
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                                "(SELECT max(id) FROM process_instance))"))
    db.session.commit()


def _district_manager() -> User:
    found = db.session.scalar(select(User).where(User.username == "bench_liandu_manager"))
    if found is None:
        bureau = db.session.scalar(select(Organisation).where(Organisation.name == "莲都区人力资源和社会保障局"))
        found = User(username="bench_liandu_manager", display_name="莲都区监督管理员（基准）", password_hash="!",
                     org_id=bureau.id)
        found.roles.append(UserRole(role="manager", org_id=bureau.id))
        db.session.add(found)
        db.session.commit()
    return found


def _time(work, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        times.append(_ms(began))
    return statistics.median(times)


def run(app, count: int = 10_000) -> None:
    with app.app_context():
        clock.set_override(datetime(2022, 10, 12, 2, tzinfo=UTC))
        began = time.perf_counter()
        _cases(count)
        fill_ms = _ms(began)
        city = db.session.scalar(select(User).where(User.username == "manager"))
        figures = []
        for label, user in (("市本级监督管理员", city), ("莲都区监督管理员", _district_manager())):
            filters = stats.filters_for(user, 2022, None, None)
            whole = _time(lambda u=user, f=filters: stats.dashboard(u, f, LABELS))
            export = _time(lambda u=user, f=filters: stats_export.workbook(stats.table(u, f, "committee", LABELS), f))
            heat = _time(lambda u=user, f=filters: stats_waiting.heatmap(u, f, "title_application"))
            figures.append((label, whole, export, heat))
        clock.set_override(None)
    print(f"\n5. 统计（{count} 件案件，直接写入 {fill_ms:.0f} ms） / the dashboard over {count} cases")
    for label, whole, export, heat in figures:
        print(f"   {label}: 整个统计页 {whole:.0f} ms, 按评委会导出 Excel {export:.0f} ms, 待办热力图 {heat:.0f} ms (median of 5)")

