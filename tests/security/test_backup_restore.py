"""Backup and restore: an archive restored into an empty database finds every case, task and
document; restore refuses a database or archive it must not touch."""

from __future__ import annotations

import hashlib
import io
import tarfile
import uuid
from pathlib import Path

import pytest
from api_client import Api
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Document, Event, HumanTask, ProcessInstance, User
from app.services import audit, backup, cases, documents

GRADUATE = {"education": "本科", "graduation_date": "2024-07-01", "work_start_date": "2024-07-15",
            "months_pre_degree": 0, "specialty": "软件工程", "requested_level": "助理级"}


@pytest.fixture()
def empty_database(app, tmp_path):
    """A database with no tables, on the same kind of server as the tests'."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _restored_app(url: str, documents: Path):
    class Restored(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        DOCUMENT_DIR = str(documents)

    return create_app(Restored)


def _world(ctx) -> dict:
    """Cases in several states, with uploaded documents attached and one left loose."""
    client = ctx.test_client()
    applicant = Api(client, "grad_liandu")
    proof = applicant.upload("证明.pdf", b"%PDF-1.4\n% proof of work\n")
    assert proof.status_code == 201, proof.get_json()
    started = applicant.post("/api/v1/process-instances", json={
        "process_model": "graduate_initial_determination", "data": {**GRADUATE, "attachments": [proof.get_json()["id"]]}})
    assert started.status_code == 201, started.get_json()
    loose = Api(client, "teacher1").upload("材料.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    assert loose.status_code == 201, loose.get_json()
    db.session.rollback()
    return {
        "instances": {i.id: (i.status, i.process_id) for i in db.session.scalars(select(ProcessInstance))},
        "tasks": {t.id: (t.instance_id, t.state, t.bpmn_id) for t in db.session.scalars(select(HumanTask))},
        "documents": {d.id: d.sha256 for d in db.session.scalars(select(Document))},
        "counts": backup.table_counts(),
    }


def test_a_backup_restored_into_an_empty_database_has_every_case_task_and_document(app, ctx, tmp_path, empty_database):
    before = _world(ctx)
    assert before["documents"] and before["tasks"] and len(before["instances"]) >= 1
    archive = tmp_path / "backup.tar.gz"
    made = backup.create(archive)
    stored = [p for p in Path(app.config["DOCUMENT_DIR"]).rglob("*") if p.is_file()]
    assert made.tables == before["counts"] and made.documents == len(stored) >= len(before["documents"])

    restored = _restored_app(empty_database, tmp_path / "restored-documents")
    with restored.app_context():
        report = backup.restore(archive)
        assert report.ok, report.problems
        assert report.tables == before["counts"]
        assert {i.id: (i.status, i.process_id) for i in db.session.scalars(select(ProcessInstance))} == before["instances"]
        assert {t.id: (t.instance_id, t.state, t.bpmn_id) for t in db.session.scalars(select(HumanTask))} == before["tasks"]
        for doc_id, sha in before["documents"].items():
            owner = db.session.get(User, db.session.get(Document, doc_id).uploaded_by_id)
            doc, content = documents.get(owner, doc_id)
            assert doc.sha256 == sha == hashlib.sha256(content).hexdigest()
        for instance in db.session.scalars(select(ProcessInstance)):
            cases.load(instance, None)  # every instance's engine state loads
        assert audit.verify().ok
        # The restored database goes on: new ids do not collide with the restored ones.
        # A damaged and a missing file are named (the restore's check against the manifest).
        with tarfile.open(archive) as tar:
            manifest = backup._manifest(tar)
        damaged, missing = sorted(before["documents"])[:2]
        documents.stored_path(damaged).write_bytes(b"changed")
        documents.stored_path(missing).unlink()
        problems = backup.check(manifest).problems
        assert f"文档 {damaged} 的文件校验和不符" in problems and f"文档 {missing} 的文件缺失" in problems
        last = db.session.scalar(select(func.max(Event.id)))
        fresh = audit.record("probe_after_restore")
        db.session.commit()
        assert fresh.id > last
        assert audit.verify().ok
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_database_that_holds_tables(app, ctx, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    backup.create(archive)
    with pytest.raises(backup.BackupError, match="不是空的"):
        backup.restore(archive)


def test_restore_refuses_a_damaged_or_foreign_archive(app, ctx, tmp_path, empty_database):
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar")
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        info = tarfile.TarInfo("notes.txt")
        tar.addfile(info, io.BytesIO(b""))
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        manifest = b'{"format": 1, "dialect": "%s", "tables": {}, "documents": {}}' % db.engine.dialect.name.encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    restored = _restored_app(empty_database, tmp_path / "restored-documents")
    with restored.app_context():
        with pytest.raises(backup.BackupError, match="损坏"):
            backup.restore(broken)
        with pytest.raises(backup.BackupError, match="manifest"):
            backup.restore(foreign)
        with pytest.raises(backup.BackupError, match="不安全"):
            backup.restore(evil)
        assert not (tmp_path.parent / "escaped.txt").exists()
        db.session.remove()
        db.engine.dispose()


def test_the_commands_back_up_and_restore(app, ctx, tmp_path, empty_database):
    _world(ctx)
    archive = tmp_path / "cli.tar.gz"
    made = CliRunner().invoke(app.cli, ["backup", str(archive)], catch_exceptions=False)
    assert made.exit_code == 0 and "已备份到" in made.output
    restored = _restored_app(empty_database, tmp_path / "restored-documents")
    with restored.app_context():
        result = CliRunner().invoke(restored.cli, ["restore", str(archive)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "核对一致" in result.output
        again = CliRunner().invoke(restored.cli, ["restore", str(archive)])
        assert again.exit_code != 0 and "不是空的" in again.output
        db.session.remove()
        db.engine.dispose()
