"""Benchmark 6: managers' tracking over the dashboard benchmark's N cases. Prints figures; asserts nothing.

Runs after benchmark 5 (bench/dashboard.py), on the same cases: one page of the instance list
(unfiltered, filtered by process and overdue, sorted by a result field), the Excel export of a
filtered list, and the reminder sweep over every open task (first sweep sends, second finds
nothing to send).
"""

from __future__ import annotations

import io
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import HumanTask, User
from app.services import case_export, case_search, reminders


def _median_ms(work, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def _page(user: User, args: dict[str, list[str]]) -> None:
    query = case_search.parse(user, args)
    case_search.count(query)
    case_search.search(query)


def _export(user: User, args: dict[str, list[str]]) -> int:
    return case_export.write(case_search.parse(user, args), "基准导出", lambda c, v: str(v), io.BytesIO())


def run(app) -> None:
    with app.app_context():
        clock.set_override(datetime(2022, 10, 12, 2, tzinfo=UTC))
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        shapes = {
            "第一页（不筛选）": {},
            "职称申报、按结果排序": {"process": ["title_application"], "sort": ["f.outcome"]},
            "逾期案件": {"overdue": ["1"]},
        }
        pages = {label: _median_ms(lambda a=args: _page(manager, a)) for label, args in shapes.items()}
        grad = {"process": ["graduate_initial_determination"]}
        began = time.perf_counter()
        exported = _export(manager, grad)
        export_ms = (time.perf_counter() - began) * 1000
        open_tasks = db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "open"))
        began = time.perf_counter()
        first = reminders.sweep()
        first_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        second = reminders.sweep()
        second_ms = (time.perf_counter() - began) * 1000
        clock.set_override(None)
    print("\n6. 案件跟踪与办理提醒 / the instance list, its export and the reminder sweep")
    for label, elapsed in pages.items():
        print(f"   案件列表 {label}: {elapsed:.0f} ms (count + page, median of 5)")
    print(f"   导出 Excel（初定案件 {exported} 行）: {export_ms:.0f} ms")
    print(f"   提醒扫描 {open_tasks} 个待办：首次 {first_ms:.0f} ms {first}，再次 {second_ms:.0f} ms {second}")
