"""Shared fixtures: an app on a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import contextvars
import os
from datetime import datetime

import pytest
from db_snapshot import capture, restore, wipe
from flask.testing import FlaskClient

from app import clock, create_app
from app.config import TestConfig, database_url
from app.extensions import db, limiter


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


# The seeded database (calendar, bundled models, demo data, plans), taken once per test session
# and written back for each test: seeding through the services costs far more than a bulk insert.
_snapshot: dict[str, list[dict]] | None = None


def _seed() -> None:
    from app.services import calendar, committees, demo, registry

    calendar.seed_from_chinese_calendar()
    registry.deploy_bundled()
    demo.load_demo_data()
    committees.seed_bundled()
    db.session.commit()


@pytest.fixture()
def ctx(app):
    """A clean database with the calendar, bundled models and demo data."""
    global _snapshot
    from app.services import calendar, registry

    with app.app_context():
        wipe()
        limiter.reset()
        registry.forget()
        calendar.invalidate()
        if _snapshot is None:
            _seed()
            _snapshot = capture()
            # End the capture's read transaction: on SQLite a later write from this session would
            # otherwise start from a snapshot older than the requests' commits ("database is locked").
            db.session.rollback()
        else:
            restore(_snapshot)
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

