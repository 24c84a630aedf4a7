"""Whole-database snapshots of the test database: wipe it, capture every row, write them back.

The conftest seeds once per session and restores the seed for each test; a test module that
builds a larger world once (tests/security/test_access_matrix.py) does the same with its own.
"""

from __future__ import annotations

from sqlalchemy import text

from app.extensions import db

TABLES = ["saved_view", "case_comment", "email_message", "instance_migration", "background_job", "model_draft", "authority_decision", "supervision_finding", "random_draw", "notification", "integrity_record", "objection", "public_notice", "session_entry", "supervision_flag",
          "outbox_message", "doc_sequence", "event", "audit_chain", "message_subscription", "human_task", "instance_checkpoint", "certificate", "achievement", "performance_archive",
          "document", "ce_record",
          "process_instance", "process_version", "committee_scope", "plan_entry", "annual_plan", "api_token", "login_attempt", "user_role", "user_account",
          "committee", "organisation", "calendar_day", "calendar_year", "app_setting"]
# Self-references: parents are inserted before the rows that point at them.
_SELF_REFS = {"organisation": ("parent_id", "competent_dept_id"), "annual_plan": ("parent_id", "copied_from_id")}


def wipe() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    else:
        for table in TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


def _parents_first(rows: list[dict], columns: tuple[str, ...]) -> list[dict]:
    placed: set = set()
    ordered: list[dict] = []
    pending = list(rows)
    while pending:
        ready = [r for r in pending if all(r.get(c) is None or r[c] in placed or r[c] == r["id"] for c in columns)]
        if not ready:  # a cycle cannot come from the seed; keep the rest as they are
            ready = pending
        for row in ready:
            placed.add(row["id"])
            ordered.append(row)
        pending = [r for r in pending if r["id"] not in placed]
    return ordered


def capture() -> dict[str, list[dict]]:
    taken = {}
    for table in db.metadata.sorted_tables:
        rows = [dict(r._mapping) for r in db.session.execute(table.select().order_by(*table.primary_key.columns))]
        if rows:
            taken[table.name] = _parents_first(rows, _SELF_REFS[table.name]) if table.name in _SELF_REFS else rows
    return taken


def restore(snapshot: dict[str, list[dict]]) -> None:
    for table in db.metadata.sorted_tables:
        rows = snapshot.get(table.name)
        if rows:
            db.session.execute(table.insert(), rows)
    if db.engine.dialect.name == "postgresql":
        for name, rows in snapshot.items():
            if "id" in rows[0] and isinstance(rows[0]["id"], int):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                        f"{max(r['id'] for r in rows)})"))
    db.session.commit()


