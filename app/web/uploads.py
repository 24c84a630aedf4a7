"""Forms with file fields: the files are stored first and the form carries their document ids.

One place for what every such page does: store this request's uploads, run the use case, and on
any domain error discard them again (a re-rendered page cannot keep the chosen files), reporting
refused files together with every other field error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.services import documents, forms
from app.services.errors import DomainError, FormInvalid, RuleViolation


def with_uploads(form) -> tuple[MultiDict, list[str], dict[str, list[str]]]:
    """request.form plus the ids of the files uploaded for every document field.

    Returns the data, the ids stored by this request and, per field, the files refused.
    """
    data = request.form.copy()
    stored: list[str] = []
    refused: dict[str, list[str]] = {}
    for name, field in form._fields.items():
        if not isinstance(field, forms.DocumentListField):
            continue
        for storage in request.files.getlist(name):
            if not storage or not storage.filename:
                continue
            try:
                doc = documents.upload(current_user, storage.filename, storage.stream)
            except FormInvalid as exc:
                refused.setdefault(name, []).extend(
                    f"{storage.filename}：{m}" for errs in exc.fields.values() for m in errs)
                continue
            stored.append(doc.id)
            data.add(name, doc.id)
    return data, stored, refused


def submit(form, action: Callable[[MultiDict], Any], check: Callable[[MultiDict], Any] | None = None, *,
           message: str = "表单填写有误，请按提示修改", files: str = "附件") -> Any:
    """Store the uploads, then `action(data)`; `check(data)` names the other field errors when a file
    was refused, so every problem is reported at once."""
    data, stored, refused = with_uploads(form)
    try:
        if refused:
            fields = {name: list(errs) for name, errs in refused.items()}
            try:
                if check is not None:
                    check(data)
            except FormInvalid as exc:
                for name, errs in exc.fields.items():
                    fields.setdefault(name, []).extend(errs)
            raise FormInvalid(message, fields)
        return action(data)
    except DomainError as exc:
        db.session.rollback()
        documents.discard(current_user, stored)
        if isinstance(exc, FormInvalid | RuleViolation) and (stored or refused):
            exc.message += f"；{files}请重新选择上传"
        raise
