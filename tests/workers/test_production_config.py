"""APP_ENV=production: no secret or no PostgreSQL refuses to start, no clock override, no demo data,
and the schema changes only through the explicit db-upgrade command."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import TestConfig, check_production
from app.extensions import db
from app.models import User
from app.services import bootstrap


def test_production_refuses_without_secret_postgresql_or_with_a_clock_override(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        check_production({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y"})
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        check_production({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"})
    with pytest.raises(RuntimeError, match="CLOCK_OVERRIDE"):
        check_production({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y",
                          "CLOCK_OVERRIDE": True})
    check_production({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y"})


def test_production_prepare_needs_the_explicit_upgrade_and_loads_no_demo_data(tmp_path):
    class Fresh(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        DOCUMENT_DIR = str(tmp_path / "documents")

    app = create_app(Fresh)
    with app.app_context():
        app.config["APP_ENV"] = "production"  # after create_app: the production checks want PostgreSQL
        with pytest.raises(RuntimeError, match="db-upgrade"):
            bootstrap.prepare(load_demo=True)
        assert bootstrap.pending_migrations()[0] == "0001"
        bootstrap.upgrade_database()  # what `flask db-upgrade` does
        assert bootstrap.pending_migrations() == []
        result = bootstrap.prepare(load_demo=True)
        assert result["demo_loaded"] is False and result["models"] >= 5
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        db.session.remove()
