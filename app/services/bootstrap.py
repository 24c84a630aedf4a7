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


def prepare(load_demo: bool = True) -> dict[str, int | bool]:
    """Idempotent: safe to run on every start."""
    uri = str(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
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
