"""The outcome, title level and department as typed columns (migration 0010): copied on every save,
filled for existing cases by the migration, and what the dashboard counts by."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event, text

from app.config import ROOT
from app.services.cases import tracked_texts


def test_the_columns_hold_the_text_or_nothing():
    assert tracked_texts({"outcome": "published", "title_level": "中级", "dept_org": "丽水市莲都区教育局"}) == (
        "published", "中级", "丽水市莲都区教育局")
    assert tracked_texts({"outcome": 3, "title_level": "", "dept_org": None}) == (None, None, None)
    assert tracked_texts({"dept_org": "局" * 300}) == (None, None, "局" * 200)


def _alembic(connection) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def test_migration_0010_fills_the_columns_from_existing_cases_and_goes_back(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    # The rows alone: no users or versions for them to point at.
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA foreign_keys = OFF"))
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "0009")
    insert = text("INSERT INTO process_instance (id, process_id, version_id, title, status, state, data, starter_id, "
                  "created_at, updated_at, library_version, serializer_version, lock_version) VALUES (:id, "
                  "'title_application', 1, 't', 'completed', '{}', :data, 1, '2023-01-01 00:00:00', "
                  "'2023-01-01 00:00:00', '3.2', '1', 1)")
    with engine.begin() as connection:
        connection.execute(insert, {"id": 1, "data": '{"outcome": "published", "title_level": "中级", '
                                                      '"dept_org": "丽水市莲都区教育局"}'})
        connection.execute(insert, {"id": 2, "data": '{"outcome": null, "title_level": 2}'})
        connection.execute(insert, {"id": 3, "data": '{}'})
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "head")
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, outcome, title_level, dept_org FROM process_instance ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, "published", "中级", "丽水市莲都区教育局"), (2, None, None, None),
                                        (3, None, None, None)]
    with engine.begin() as connection:
        command.downgrade(_alembic(connection), "0009")
    with engine.connect() as connection:
        columns = {r[1] for r in connection.execute(text("PRAGMA table_info(process_instance)"))}
    assert "outcome" not in columns and "plan_year" in columns
