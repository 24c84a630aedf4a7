"""Benchmark 4: annual plans and a new year. Prints figures; asserts nothing.

- importing and publishing the bundled 2021 city plan (62 rows; publishing derives the committee
  scopes, 9 committees for each template row);
- copying 2022 to 2023 (plans and every process model as drafts) and comparing the year;
- moving N running title applications to a new version: the safety check and the bulk job.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import datetime

from sqlalchemy import delete, select

from app import clock
from app.extensions import db
from app.models import AnnualPlan, CommitteeScope, Organisation, ProcessInstance, User
from app.services import drafts, instances, migration, plans, registry


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000


def _plan_import(rounds: int) -> list[float]:
    city_hr = _user("city_hr")
    city = db.session.scalar(select(Organisation).where(Organisation.name == plans.CITY_BUREAU))
    content = (plans.DATA / "2021-city.csv").read_bytes()
    times = []
    for _ in range(rounds):
        old = plans.city_plan(2021)
        if old is not None:
            db.session.execute(delete(CommitteeScope).where(
                CommitteeScope.plan_entry_id.in_([e.id for e in old.entries])))
            db.session.delete(old)
            db.session.commit()
        began = time.perf_counter()
        plan = plans.import_table(city_hr, 2021, "2021-city.csv", content, issuer=city)
        plans.publish(city_hr, plan)
        db.session.commit()
        times.append(_ms(began))
    return times


def _new_year() -> tuple[float, float, int]:
    owner = _user("owner")
    began = time.perf_counter()
    copied = plans.copy_year(owner, 2022, 2023)
    made = drafts.copy_for_year(2023, owner)
    db.session.commit()
    copy_ms = _ms(began)
    began = time.perf_counter()
    for plan in copied:
        plans.compare(db.session.get(AnnualPlan, plan.copied_from_id), plan)
    for draft in made:
        drafts.compare_draft(draft)
    return copy_ms, _ms(began), len(made)


def _migration(count: int) -> tuple[float, float, int]:
    clock.set_override(datetime.fromisoformat("2022-07-11T09:00:00+08:00"))
    teacher = _user("teacher1")
    data = {"committee": "莲都区中小学教师中级专业技术职务任职资格评审委员会", "target_title": "一级教师",
            "specialty": "中小学教师", "current_title": "二级教师", "title_year": 2017, "education": "本科",
            "application_mode": "正常申报", "years_in_m26": 5, "id_number": "33250119900101123X",
            "phone": "0578-2123456"}
    ids = [instances.start_instance(teacher, "title_application", data).id for _ in range(count)]
    files = dict(registry.latest("title_application").sources["files"])
    schema = json.loads(files["forms/review_decision.schema.json"])
    schema["properties"]["opinion"]["title"] = "审核意见（基准）"
    files["forms/review_decision.schema.json"] = json.dumps(schema, ensure_ascii=False)
    target = registry.deploy(files)
    db.session.commit()
    began = time.perf_counter()
    safe = sum(migration.check(db.session.get(ProcessInstance, i), target).safe for i in ids)
    check_ms = _ms(began) / count
    job = migration.start_bulk(_user("owner"), ids, target)
    db.session.commit()
    began = time.perf_counter()
    while job.status not in ("done", "failed"):
        job = migration.advance(job, batch=20)
    move_ms = _ms(began) / count
    clock.set_override(None)
    return check_ms, move_ms, safe


def run(app, count: int = 50) -> None:
    with app.app_context():
        imports = _plan_import(5)
        copy_ms, compare_ms, models = _new_year()
        check_ms, move_ms, safe = _migration(count)
    print("\n4. 年度计划与新年度 / annual plans and a new year")
    print(f"   导入并发布 2021 年市计划（62 行，派生评委会受理范围）: median {statistics.median(imports):.0f} ms, "
          f"max {max(imports):.0f} ms (n={len(imports)})")
    print(f"   复制 2022 → 2023（计划 + {models} 个流程模型为草稿）: {copy_ms:.0f} ms; 年度对照: {compare_ms:.0f} ms")
    print(f"   迁移 {count} 件运行中的申报（{safe} 件可安全迁移）: 检查 {check_ms:.1f} ms/件, 批量迁移 {move_ms:.1f} ms/件")
