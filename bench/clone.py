"""Bulk data for the scale benchmarks: copies of real instances, made by PostgreSQL in one statement.

A template is an instance the services made (its state, inbox rows and events are real); each
copy gets its own id and its own task ids: every GUID in the state and in the inbox rows is
rewritten the same way for copy g (its first 24 characters kept, the last 12 the hex of g), so
copies load, step and save like the original. The ids are reserved from the sequences first, so
copy g of a template is instance ``base + g`` and its rows are found without a lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text

from app.extensions import db

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

INSTANCE_COLUMNS = ("process_id", "version_id", "title", "status", "data", "starter_id", "employer_org_id",
                    "county", "created_at", "updated_at", "completed_at", "next_timer_at", "error_message",
                    "library_version", "serializer_version", "lock_version", "plan_year", "committee",
                    "outcome", "title_level", "dept_org")
TASK_COLUMNS = ("bpmn_id", "name", "lane", "role", "org_id", "assignee_id", "claimed_by_id", "form_key", "state",
                "created_at", "completed_at", "completed_by_id", "due_date", "delegated_by_id", "reminder_stage",
                "reminded_at")
EVENT_COLUMNS = ("at", "type", "actor_id", "bpmn_id", "details")


@dataclass
class Copies:
    template_id: int
    first_id: int  # instance ids first_id .. first_id + count - 1
    count: int


def _reserve(sequence: str, count: int) -> int:
    """The first of ``count`` fresh ids of a sequence (they are then taken)."""
    first = db.session.execute(text(f"SELECT nextval('{sequence}')")).scalar_one()
    db.session.execute(text(f"SELECT setval('{sequence}', :last)"), {"last": first + count})
    return int(first) + 1


def _guid_sql(guid: str) -> str:
    return f"('{guid[:24]}' || lpad(to_hex(g), 12, '0'))"


def _renewed(column: str, guids: list[str]) -> str:
    expr = f"{column}::text"
    for guid in guids:
        expr = f"replace({expr}, '{guid}', {_guid_sql(guid)})"
    return expr


def copy_instance(template_id: int, count: int, overrides: dict[str, str] | None = None,
                  with_tasks: bool = True, with_events: bool = True) -> Copies:
    """``count`` copies of the instance; ``overrides``: column → SQL expression over ``g`` (1..count)
    and the template's columns (``t.``). Commits."""
    overrides = overrides or {}
    state = db.session.execute(text("SELECT state::text FROM process_instance WHERE id = :id"),
                               {"id": template_id}).scalar_one()
    task_guids = list(db.session.scalars(text("SELECT task_guid FROM human_task WHERE instance_id = :id"),
                                         {"id": template_id}))
    guids = sorted(set(GUID.findall(state)) | set(task_guids))
    first = _reserve("process_instance_id_seq", count)
    columns = ", ".join(INSTANCE_COLUMNS)
    values = ", ".join(overrides.get(c, f"t.{c}") for c in INSTANCE_COLUMNS)
    db.session.execute(text(
        f"INSERT INTO process_instance (id, state, {columns}) "
        f"SELECT {first - 1} + g, ({_renewed('t.state', guids)})::json, {values} "
        f"FROM process_instance t, generate_series(1, {count}) AS g WHERE t.id = :id"), {"id": template_id})
    task_map: dict[int, int] = {}
    task_first = 0
    if with_tasks:
        ids = list(db.session.scalars(text("SELECT id FROM human_task WHERE instance_id = :id ORDER BY id"),
                                      {"id": template_id}))
        if ids:
            task_first = _reserve("human_task_id_seq", count * len(ids))
            task_map = {task_id: k for k, task_id in enumerate(ids)}
            cases = " ".join(f"WHEN {task_id} THEN {k}" for task_id, k in task_map.items())
            tcols = ", ".join(TASK_COLUMNS)
            tvals = ", ".join(overrides.get(f"task.{c}", f"t.{c}") for c in TASK_COLUMNS)
            db.session.execute(text(
                f"INSERT INTO human_task (id, instance_id, task_guid, checkpoint_id, {tcols}) "
                f"SELECT {task_first} + (g - 1) * {len(ids)} + (CASE t.id {cases} END), {first - 1} + g, "
                f"{_renewed('t.task_guid', guids)}, NULL, {tvals} "
                f"FROM human_task t, generate_series(1, {count}) AS g WHERE t.instance_id = :id"), {"id": template_id})
    if with_events:
        ecols = ", ".join(EVENT_COLUMNS)
        task_id = "NULL"
        if task_map:  # an event about a task names that task's copy
            arms = " ".join(f"WHEN {tid} THEN {task_first} + (g - 1) * {len(task_map)} + {k}"
                            for tid, k in task_map.items())
            task_id = f"CASE t.task_id {arms} END"
        db.session.execute(text(
            f"INSERT INTO event (instance_id, task_id, {ecols}) "
            f"SELECT {first - 1} + g, {task_id}, {', '.join('t.' + c for c in EVENT_COLUMNS)} "
            f"FROM event t, generate_series(1, {count}) AS g WHERE t.instance_id = :id"), {"id": template_id})
    db.session.commit()
    return Copies(template_id, first, count)


def analyze() -> None:
    """VACUUM ANALYZE after the copies: statistics for the planner, and nothing left for autovacuum
    to do on the 2 cores while the pages are timed (a production database is vacuumed too)."""
    db.session.commit()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
