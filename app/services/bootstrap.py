"""Bringing a database up to date: migrations, bundled models, calendar, demo data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app

from app.config import ROOT
from app.extensions import db
from app.services import calendar, committees, demo, demo_cases, registry


def upgrade_database() -> None:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def pending_migrations() -> list[str]:
    """Revisions the database still lacks (empty: it is at the newest schema)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == set(script.get_heads()):
        return []
    done = {rev.revision for head in current for rev in script.iterate_revisions(head, "base")}
    return [rev.revision for rev in script.walk_revisions() if rev.revision not in done][::-1]


def prepare(load_demo: bool = True) -> dict[str, int | bool]:
    """Idempotent: safe to run on every start. In production the schema is only changed by the
    explicit `flask db-upgrade`: prepare refuses a database that lacks a migration."""
    uri = str(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if current_app.config.get("APP_ENV") == "production":
        missing = pending_migrations()
        if missing:
            raise RuntimeError(f"数据库尚未升级（缺少迁移 {', '.join(missing)}）：请先运行 flask --app app db-upgrade")
    else:
        upgrade_database()
    years = calendar.seed_from_chinese_calendar()
    versions = registry.deploy_bundled()
    added = committees.seed_bundled()
    db.session.commit()
    loaded = False
    if load_demo and current_app.config.get("APP_ENV") != "production":
        loaded = demo.load_demo_data()
        if loaded:
            demo_cases.load_demo_cases()
    return {"calendar_years_added": years, "models": len(versions), "committees_added": added,
            "demo_loaded": loaded}
