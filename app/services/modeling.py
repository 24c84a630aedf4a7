"""Validating uploaded process models without deploying them."""

from __future__ import annotations

from pathlib import PurePath

from app.engine import ModelInvalid
from app.models import User
from app.services import registry
from app.services.errors import FormInvalid, NotAllowed

MAX_FILES = 50


def validate_upload(actor: User, uploads: dict[str, bytes]) -> dict:
    if not actor.has_role("process_owner", "system_admin"):
        raise NotAllowed("只有流程管理员可以校验流程模型")
    if not uploads or len(uploads) > MAX_FILES:
        raise FormInvalid("请上传 1–50 个 .bpmn、.dmn 或 .json 文件", {"files": ["文件数量不正确"]})
    files: dict[str, str] = {}
    for name, content in uploads.items():
        base = PurePath(name or "").name
        if PurePath(base).suffix not in {".bpmn", ".dmn", ".json"}:
            raise FormInvalid("文件类型不允许", {"files": [f"{base}：只接受 .bpmn、.dmn、.json"]})
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormInvalid("文件编码应为 UTF-8", {"files": [f"{base} 不是 UTF-8 文本"]}) from exc
        key = f"forms/{base}" if base.endswith(".json") and base != "model.json" else base
        files[key] = text
    try:
        registry.compile_files(files)
    except ModelInvalid as exc:
        return {"ok": False, "problems": [p.as_dict() for p in exc.problems]}
    return {"ok": True, "problems": []}
