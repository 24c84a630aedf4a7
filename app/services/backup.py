"""Backup and restore of the database and the stored documents, as one archive.

``create(path)`` writes a gzip tar holding:

- ``database.pgdump`` (PostgreSQL: pg_dump's custom format, without owners or grants) or
  ``database.sqlite3`` (SQLite: the online backup API, a consistent copy while the app runs);
- ``documents/``: every file under DOCUMENT_DIR;
- ``manifest.json``: when, from which schema revision, the row count of every table and the
  sha256 of every document file.

``restore(path)`` loads an archive into an empty database (no tables) and an empty document
directory, then checks the result against the manifest: every table has its rows again and
every document row finds its file with the recorded checksum. Restore never overwrites: a
database that already holds tables or a document directory that holds files is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from app import clock
from app.extensions import db
from app.models import Document
from app.services import documents

FORMAT = 1
PG_DUMP = "database.pgdump"
SQLITE_DUMP = "database.sqlite3"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in Chinese."""


@dataclass
class Report:
    path: str
    tables: dict[str, int]
    documents: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return f"{len(self.tables)} 张表 {sum(self.tables.values())} 行，文档文件 {self.documents} 个"


def _document_dir() -> Path:
    return Path(current_app.config["DOCUMENT_DIR"])


def _dialect() -> str:
    return db.engine.dialect.name


def _libpq_url() -> str:
    url = make_url(str(db.engine.url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _sqlite_path() -> Path:
    database = make_url(str(db.engine.url)).database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库不能备份或恢复，请使用数据库文件")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: one consistent state of ``source`` into ``target``, even with writers."""
    origin = sqlite3.connect(source)
    try:
        copy = sqlite3.connect(target)
        with copy:
            origin.backup(copy)
        copy.close()
    finally:
        origin.close()


def _run(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    except FileNotFoundError as exc:
        raise BackupError(f"找不到 {command[0]}：请安装与数据库同版本的 PostgreSQL 客户端") from exc
    if result.returncode != 0:
        raise BackupError(f"{what}失败：{result.stderr.strip()[-500:]}")


def table_counts(bind: Any = None) -> dict[str, int]:
    """Rows per table (alembic_version included) as ``bind`` (default: the app's session) sees them."""
    bind = bind if bind is not None else db.session
    names = inspect(bind.connection() if bind is db.session else bind).get_table_names()
    return {name: bind.scalar(select(func.count()).select_from(text(f'"{name}"'))) or 0 for name in sorted(names)}


def _revision(bind: Any) -> str | None:
    names = inspect(bind).get_table_names()
    return bind.scalar(text("SELECT version_num FROM alembic_version")) if "alembic_version" in names else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _document_files(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root)): _sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def create(path: str | os.PathLike[str]) -> Report:
    """Write a backup archive to ``path`` (a .tar.gz); returns what it holds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    db.session.commit()  # what this session did is in the backup; nothing of it stays open
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / (PG_DUMP if _dialect() == "postgresql" else SQLITE_DUMP)
        if _dialect() == "postgresql":
            # pg_dump reads the snapshot this transaction exported: the counts in the manifest
            # are those of the very state dumped, however busy the database is meanwhile.
            with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
                snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
                tables, revision = table_counts(conn), _revision(conn)
                _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                      f"--file={dump}", f"--dbname={_libpq_url()}"], "pg_dump 备份数据库")
        elif _dialect() == "sqlite":
            _sqlite_copy(_sqlite_path(), dump)
            copied = create_engine(f"sqlite:///{dump}")
            try:
                with copied.connect() as conn:
                    tables, revision = table_counts(conn), _revision(conn)
            finally:
                copied.dispose()
        else:
            raise BackupError(f"不支持备份 {_dialect()} 数据库")
        # Listed after the database: a document row in the dump has its file written already.
        documents = _document_files(_document_dir())
        manifest = {"format": FORMAT, "created_at": clock.wall_now().isoformat(), "dialect": _dialect(),
                    "revision": revision, "tables": tables, "documents": documents}
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(dump, arcname=dump.name)
            root = _document_dir()
            for relative in documents:
                archive.add(root / relative, arcname=f"documents/{relative}")
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        partial.replace(target)  # a crash mid-way never leaves a truncated file under the real name
    return Report(str(target), tables, len(documents))


def _manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile("manifest.json")
    except KeyError as exc:
        raise BackupError("备份文件中没有 manifest.json：不是本系统的备份") from exc
    manifest = json.loads(member.read().decode("utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 不受支持")
    return manifest


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in archive.getmembers():
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"备份文件中有不安全的条目：{member.name}")
        members.append(member)
    return members


def _check_empty_target() -> None:
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(f"目标数据库不是空的（已有 {len(tables)} 张表）：恢复只写入空数据库")
    root = _document_dir()
    if root.is_dir() and any(p.is_file() for p in root.rglob("*")):
        raise BackupError(f"文档目录 {root} 中已有文件：恢复只写入空目录")


def restore(path: str | os.PathLike[str]) -> Report:
    """Load the archive at ``path`` into this app's (empty) database and document directory."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}")
    try:
        archive = tarfile.open(source, "r:gz")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"备份文件已损坏或不是 .tar.gz：{exc}") from exc
    with archive, tempfile.TemporaryDirectory() as work:
        manifest = _manifest(archive)
        if manifest["dialect"] != _dialect():
            raise BackupError(f"这是 {manifest['dialect']} 数据库的备份，不能恢复到 {_dialect()} 数据库")
        members = _safe_members(archive)
        db.session.remove()
        _check_empty_target()
        archive.extractall(work, members=members, filter="data")
        dump = Path(work) / (PG_DUMP if _dialect() == "postgresql" else SQLITE_DUMP)
        if not dump.is_file():
            raise BackupError("备份文件中没有数据库")
        db.engine.dispose()  # no pooled connection sees the database before or while it is written
        if _dialect() == "postgresql":
            _run(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                  f"--dbname={_libpq_url()}", str(dump)], "pg_restore 恢复数据库")
        else:
            _sqlite_copy(dump, _sqlite_path())
        documents = Path(work) / "documents"
        root = _document_dir()
        if documents.is_dir():
            root.mkdir(parents=True, exist_ok=True)
            shutil.copytree(documents, root, dirs_exist_ok=True)
    return check(manifest, str(source))


def check(manifest: dict[str, Any], path: str = "") -> Report:
    """Compare the database and document directory with a backup's manifest."""
    tables = table_counts()
    problems = [f"表 {name}：备份中 {count} 行，恢复后 {tables.get(name, 0)} 行"
                for name, count in manifest["tables"].items() if tables.get(name, 0) != count]
    root = _document_dir()
    files = _document_files(root)  # each file hashed once, for the rows and for the manifest
    for doc_id, sha in db.session.execute(select(Document.id, Document.sha256)):
        stored = files.get(str(documents.stored_path(doc_id).relative_to(root)))
        if stored is None:
            problems.append(f"文档 {doc_id} 的文件缺失")
        elif stored != sha:
            problems.append(f"文档 {doc_id} 的文件校验和不符")
    problems += [f"文件 {name} 校验和不符" for name, sha in manifest["documents"].items() if files.get(name) != sha]
    return Report(path, tables, len(files), problems)
