"""Shared fixtures: an app on a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import contextvars
import os
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from app import clock, create_app
from app.config import TestConfig, database_url
from app.extensions import db, limiter

TABLES = ["saved_view", "case_comment", "email_message", "instance_migration", "background_job", "model_draft", "authority_decision", "supervision_finding", "random_draw", "notification", "integrity_record", "objection", "public_notice", "session_entry", "supervision_flag",
          "outbox_message", "doc_sequence", "event", "audit_chain", "message_subscription", "human_task", "instance_checkpoint", "certificate", "achievement", "performance_archive",
          "document", "ce_record",
          "process_instance", "process_version", "committee_scope", "plan_entry", "annual_plan", "api_token", "login_attempt", "user_role", "user_account",
          "committee", "organisation", "calendar_day", "calendar_year", "app_setting"]


class IsolatedClient(FlaskClient):
    """Each request in a fresh context, as in production.

    Tests hold an app context open (the ``ctx`` fixture); Flask would reuse it for every request
    made meanwhile, so ``g`` (Flask-Login's current user, Flask-WTF's CSRF token) would leak from
    one request, and one user, to the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("app")
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{base / 'test.sqlite3'}"

    class Config(TestConfig):
        # Before create_app: Flask-SQLAlchemy makes its engine in init_app.
        SQLALCHEMY_DATABASE_URI = database_url(url)
        DOCUMENT_DIR = str(base / "documents")

    application = create_app(Config)
    application.test_client_class = IsolatedClient
    with application.app_context():
        from app.services.bootstrap import upgrade_database

        upgrade_database()
    yield application
    with application.app_context():
        db.engine.dispose()


def _wipe() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    else:
        for table in TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


# The seeded database (calendar, bundled models, demo data, plans), taken once per test session
# and written back for each test: seeding through the services costs far more than a bulk insert.
_snapshot: dict[str, list[dict]] | None = None
# Self-references: parents are inserted before the rows that point at them.
_SELF_REFS = {"organisation": ("parent_id", "competent_dept_id"), "annual_plan": ("parent_id", "copied_from_id")}


def _seed() -> None:
    from app.services import calendar, committees, demo, registry

    calendar.seed_from_chinese_calendar()
    registry.deploy_bundled()
    demo.load_demo_data()
    committees.seed_bundled()
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


def _capture() -> dict[str, list[dict]]:
    taken = {}
    for table in db.metadata.sorted_tables:
        rows = [dict(r._mapping) for r in db.session.execute(table.select().order_by(*table.primary_key.columns))]
        if rows:
            taken[table.name] = _parents_first(rows, _SELF_REFS[table.name]) if table.name in _SELF_REFS else rows
    return taken


def _restore(snapshot: dict[str, list[dict]]) -> None:
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


@pytest.fixture()
def ctx(app):
    """A clean database with the calendar, bundled models and demo data."""
    global _snapshot
    from app.services import calendar, registry

    with app.app_context():
        _wipe()
        limiter.reset()
        registry.forget()
        calendar.invalidate()
        if _snapshot is None:
            _seed()
            _snapshot = _capture()
            # End the capture's read transaction: on SQLite a later write from this session would
            # otherwise start from a snapshot older than the requests' commits ("database is locked").
            db.session.rollback()
        else:
            _restore(_snapshot)
        yield app
        db.session.rollback()
        clock.set_override(None)
        db.session.remove()


@pytest.fixture()
def set_clock():
    def _set(value: str) -> None:
        clock.set_override(datetime.fromisoformat(value))

    yield _set
    clock.set_override(None)


@pytest.fixture()
def user(ctx):
    from sqlalchemy import select

    from app.models import User

    def _get(username: str) -> User:
        return db.session.scalar(select(User).where(User.username == username))

    return _get


@pytest.fixture()
def celery_worker(ctx):
    """A real Celery worker (two threads) on the local Redis, running tasks on the test database;
    tests using it are marked celery_support.needs_redis."""
    import redis
    from celery.contrib.testing.worker import start_worker
    from celery_support import BACKEND, BROKER

    from app import worker

    for url in (BROKER, BACKEND):
        redis.Redis.from_url(url).flushdb()
    ctx.config.update(CELERY_BROKER_URL=BROKER, CELERY_RESULT_BACKEND=BACKEND)
    app = worker.init_celery(ctx)
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30):
        yield app
    ctx.config.update(CELERY_BROKER_URL="", CELERY_RESULT_BACKEND=None)
    worker.init_celery(ctx)

