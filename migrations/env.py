"""Alembic environment.

Where the database comes from, in order:

1. ``config.attributes["connection"]`` — a SQLAlchemy Connection passed in by the app or the
   tests (``cfg = Config("alembic.ini"); cfg.attributes["connection"] = conn;
   command.upgrade(cfg, "head")``). The caller owns the connection and its transaction.
2. the ``DATABASE_URL`` environment variable;
3. ``sqlite:///<repo>/instance/zhicheng.sqlite3`` (the ``instance/`` directory is created).
"""

from __future__ import annotations

import os
import sys
from logging.config import fileConfig
from pathlib import Path

import sqlalchemy as sa
from alembic import context
from sqlalchemy import pool

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import app.models  # noqa: E402,F401  (registers every table on the metadata)
from app.extensions import db  # noqa: E402
from app.models.base import UTCDateTime  # noqa: E402

config = context.config

# Only configure logging when run from the command line, not when the app or the tests
# call us programmatically (that would reset their logging).
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = db.metadata


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    instance = ROOT / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance / 'zhicheng.sqlite3'}"


def render_item(type_, obj, autogen_context):
    """Render the app's UTCDateTime TypeDecorator as a plain sa.DateTime(timezone=True)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def compare_type(context_, inspected_column, metadata_column, inspected_type, metadata_type):
    """Compare UTCDateTime by its implementation type; otherwise use Alembic's default."""
    if isinstance(metadata_type, UTCDateTime):
        return not isinstance(inspected_type, sa.DateTime)
    return None


def _configure(**kwargs) -> None:
    dialect_name = kwargs.pop("dialect_name")
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=dialect_name == "sqlite",
        render_item=render_item,
        compare_type=compare_type,
        compare_server_default=False,
        **kwargs,
    )


def run_migrations_offline() -> None:
    url = database_url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        dialect_name=sa.engine.make_url(url).get_backend_name(),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection: sa.Connection) -> None:
    _configure(connection=connection, dialect_name=connection.dialect.name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = sa.create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run_with(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
