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

TABLES = ["instance_migration", "background_job", "model_draft", "authority_decision", "supervision_finding", "random_draw", "notification", "integrity_record", "objection", "public_notice", "session_entry", "supervision_flag",
          "outbox_message", "doc_sequence", "event", "message_subscription", "human_task", "certificate", "achievement", "performance_archive",
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


@pytest.fixture()
def ctx(app):
    """A clean database with the calendar, bundled models and demo data."""
    from app.services import calendar, committees, demo, registry

    with app.app_context():
        _wipe()
        limiter.reset()
        registry._compiled.clear()
        calendar.invalidate()
        calendar.seed_from_chinese_calendar()
        registry.deploy_bundled()
        demo.load_demo_data()
        committees.seed_bundled()
        db.session.commit()
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
