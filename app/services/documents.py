"""Uploaded documents: stored on disk outside task data, referenced by id, access-checked."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Document, ProcessInstance, User
from app.services import archive_scope, session_access
from app.services.access import can_view
from app.services.errors import FormInvalid, NotAllowed, NotFound

ALLOWED = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


def stored_path(doc_id: str) -> Path:
    """Where a document's file is kept under DOCUMENT_DIR."""
    return Path(current_app.config["DOCUMENT_DIR"]) / doc_id[:2] / doc_id


OFFICIAL_ROLES = ("committee_office", "hr_staff", "system_admin", "manager")


def upload(actor: User | None, filename: str, stream: IO[bytes], *, kind: str = "upload",
           audience: str | None = None) -> Document:
    """Store an uploaded file. `actor` None: a member of the public (an objector's evidence)."""
    name = Path(filename or "").name.strip()
    suffix = Path(name).suffix.lower()
    if not name or suffix not in ALLOWED:
        raise FormInvalid("文件类型不允许", {"file": ["只接受 PDF、PNG、JPG 文件"]})
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise FormInvalid("文件过大", {"file": [f"单个文件不得超过 {limit // (1024 * 1024)} MB"]})
    if not content:
        raise FormInvalid("文件为空", {"file": ["文件内容为空"]})
    content_type, magics = ALLOWED[suffix]
    if not any(content.startswith(m) for m in magics):
        raise FormInvalid("文件内容与扩展名不符", {"file": [f"文件不是有效的 {suffix[1:].upper()} 文件"]})
    doc = Document(
        id=str(uuid.uuid4()),
        name=name[:255],
        size=len(content),
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by_id=actor.id if actor is not None else None,
        created_at=clock.now(),
        kind=kind,
        audience=audience,
    )
    path = stored_path(doc.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    db.session.add(doc)
    db.session.commit()
    return doc


def discard(actor: User | None, ids: list[str]) -> int:
    """Delete the actor's own uploads that no case refers to (a form that failed validation).

    `actor` None: uploads of a member of the public (an objection's evidence), which have no owner.
    """
    if not ids:
        return 0
    owner = Document.uploaded_by_id == actor.id if actor is not None else Document.uploaded_by_id.is_(None)
    docs = list(db.session.scalars(select(Document).where(
        Document.id.in_(ids), owner, Document.instance_id.is_(None))))
    for doc in docs:
        db.session.delete(doc)
    db.session.commit()
    for doc in docs:
        stored_path(doc.id).unlink(missing_ok=True)
    return len(docs)


def check_owned(actor: User, ids: list[str], instance: ProcessInstance | None = None,
                field: str = "attachments") -> None:
    """Attachments must be the actor's own uploads (or already belong to this case)."""
    if not ids:
        return
    docs = {d.id: d for d in db.session.scalars(select(Document).where(Document.id.in_(ids)))}
    bad = [
        i for i in ids
        if i not in docs
        or not (docs[i].uploaded_by_id == actor.id or (instance is not None and docs[i].instance_id == instance.id))
    ]
    if bad:
        raise FormInvalid("附件无效", {field: ["附件不存在或不属于您：" + "、".join(bad)]})


def get(actor: User, doc_id: str) -> tuple[Document, bytes]:
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound("文件不存在")
    allowed = (doc.uploaded_by_id is not None and doc.uploaded_by_id == actor.id) or (
        doc.instance_id is not None and may_see(actor, doc)
        and can_view(actor, db.session.get(ProcessInstance, doc.instance_id))
    ) or archive_scope.may_view_attachment(actor, doc) or session_access.may_view_session_document(actor, doc)
    if not allowed:
        raise NotAllowed("您无权查看该文件")
    return doc, content_of(doc)


def content_of(doc: Document) -> bytes:
    """The stored bytes of a document whose access the caller has already checked."""
    return stored_path(doc.id).read_bytes()


def attach(instance: ProcessInstance, ids: list[str]) -> None:
    """The uploads a form submitted now belong to the case (those no case holds yet). The caller commits."""
    ids = [i for i in ids if isinstance(i, str)]
    if not ids:
        return
    for doc in db.session.scalars(select(Document).where(Document.id.in_(ids), Document.instance_id.is_(None))):
        doc.instance_id = instance.id


def may_see(viewer: User | None, doc: Document) -> bool:
    """Officials-only documents (an objector's evidence, investigation reports) stay with officials."""
    return doc.audience != "officials" or (viewer is not None and viewer.has_role(*OFFICIAL_ROLES))


def for_instance(instance: ProcessInstance, viewer: User | None = None) -> list[Document]:
    docs = db.session.scalars(select(Document).where(Document.instance_id == instance.id).order_by(Document.created_at))
    return [d for d in docs if may_see(viewer, d)]


def store_generated(instance: ProcessInstance | None, kind: str, name: str, content: bytes, content_type: str,
                    doc_no: str | None, actor: User | None) -> Document:
    """Keep a document the system produced (a letter, a list) with the case. The caller commits.

    ``instance`` None: a file that belongs to no case (a background job's export, offered only
    through the job's page); pass ``actor`` None for it too, so that no one can attach it to a
    case as an upload of their own."""
    doc = Document(id=str(uuid.uuid4()), name=name[:255], size=len(content), content_type=content_type,
                   sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=actor.id if actor else None,
                   instance_id=instance.id if instance is not None else None, created_at=clock.now(),
                   kind=kind, doc_no=doc_no)
    path = stored_path(doc.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    db.session.add(doc)
    return doc


def generated(instance: ProcessInstance, kinds: tuple[str, ...] | None = None) -> list[Document]:
    query = select(Document).where(Document.instance_id == instance.id, Document.kind != "upload")
    if kinds:
        query = query.where(Document.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(Document.created_at)))
