"""Process models as zip files: export a version or a draft, import one as a draft.

Our layout (what export writes): `MANIFEST.json` (process id, version, plan year, exported
at/by) and a folder `<process_id>/` holding model.json, the .bpmn, the .dmn files,
`forms/…` and `scenarios/…`. Importing it gives a draft for the current plan year of that
process (existing or new).

SpiffArena's process-model folder (zipped) is read too: `process_model.json` (display_name,
primary_file_name, primary_process_id, files), `*.bpmn`, `*.dmn` and forms named
`*-schema.json` / `*-uischema.json`, referenced from the BPMN by `formJsonSchemaFilename` /
`formUiSchemaFilename` as ours are. It is converted to our layout (model.json written from
process_model.json and the BPMN's lanes, forms moved under forms/); what we do not support is
listed in Chinese notes, and validation of the draft says what the owner must still do (map
the lanes to roles, …).

An upload is untrusted: size, entry count, total and per-entry uncompressed size and
compression ratio are capped before anything is read; paths must be relative without `..`;
only .bpmn, .dmn and .json in UTF-8; XML goes through app.engine.xmlsafe. Nothing is saved
unless every check passes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app import clock
from app.engine.xmlsafe import UnsafeXml, parse_xml
from app.extensions import db
from app.models import ModelDraft, ProcessVersion, User
from app.services import audit, drafts, registry
from app.services.errors import FormInvalid, NotFound

MAX_ZIP_BYTES = 10 * 1024 * 1024
MAX_ENTRIES = 200
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_ENTRY_BYTES = 5 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, checked for entries above RATIO_FLOOR
RATIO_FLOOR = 64 * 1024
ALLOWED_SUFFIXES = (".bpmn", ".dmn", ".json")
MANIFEST = "MANIFEST.json"
SPIFF_MODEL = "process_model.json"
FORMAT = "zhicheng-model/1"
# Harmless entries some zip tools add; skipped without a note.
JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$)")
PROCESS_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
FORM_PROPS = ("formJsonSchemaFilename", "formUiSchemaFilename")


class ArchiveInvalid(FormInvalid):
    """The upload is refused; nothing was saved. `message` says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message, {"file": [message]})


@dataclass
class Imported:
    draft: ModelDraft
    notes: list[str] = field(default_factory=list)
    layout: str = "ours"  # ours, spiffarena


# -- export ----------------------------------------------------------------------------------
def export_zip(files: Mapping[str, str], meta: Mapping[str, Any]) -> bytes:
    """A zip of a model's files under `<process_id>/` plus MANIFEST.json at the top."""
    process_id = str(meta.get("process_id") or "model")
    manifest = {"format": FORMAT, **meta, "files": sorted(files)}
    stamp = _zip_time(meta.get("exported_at"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        _write(zf, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", stamp)
        for name in sorted(files):
            _write(zf, f"{process_id}/{name}", files[name], stamp)
    return buffer.getvalue()


def _write(zf: zipfile.ZipFile, name: str, text: str, stamp: tuple[int, ...]) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, text.encode("utf-8"))


def _zip_time(value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.year < 1980:
        value = clock.now()
    return (value.year, value.month, value.day, value.hour, value.minute, value.second)


def _meta(process_id: str, actor: User, **extra: Any) -> dict[str, Any]:
    return {"process_id": process_id, **extra, "exported_at": clock.now().isoformat(timespec="seconds"),
            "exported_by": actor.username}


def export_version(version: ProcessVersion, actor: User) -> tuple[str, bytes]:
    """(file name, zip bytes) of a deployed version."""
    drafts.require_manager(actor)
    meta = _meta(version.process_id, actor, name=version.name, version=version.version,
                 plan_year=version.plan_year, status=version.status)
    return (f"{version.process_id}-v{version.version}.zip",
            export_zip(dict(version.sources.get("files") or {}), meta))


def export_draft(draft: ModelDraft, actor: User) -> tuple[str, bytes]:
    """(file name, zip bytes) of a draft, whatever its state (drafts may be saved at any time)."""
    drafts.require_manager(actor)
    meta = _meta(draft.process_id, actor, version=None, draft_id=draft.id, plan_year=draft.plan_year,
                 status=draft.status,
                 base_version=draft.base_version.version if draft.base_version is not None else None)
    return f"{draft.process_id}-{draft.plan_year}-draft{draft.id}.zip", export_zip(dict(draft.files or {}), meta)


# -- reading an upload safely ----------------------------------------------------------------
def _check_name(name: str) -> None:
    if "\\" in name or "\x00" in name:
        raise ArchiveInvalid(f"压缩包中的路径“{name}”含有不允许的字符")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise ArchiveInvalid(f"压缩包中的路径“{name}”是绝对路径，已拒绝")
    parts = name.rstrip("/").split("/")
    if any(p in ("..", ".") for p in parts) or any(not p for p in parts):
        raise ArchiveInvalid(f"压缩包中的路径“{name}”含有“..”或空的路径段，已拒绝（可能写到目录之外）")


def read_entries(content: bytes) -> dict[str, str]:
    """{path: text} of the files in a zip upload, or ArchiveInvalid saying why not."""
    if not isinstance(content, bytes | bytearray) or not content:
        raise ArchiveInvalid("请选择要导入的 zip 文件")
    if len(content) > MAX_ZIP_BYTES:
        raise ArchiveInvalid(f"文件过大（{len(content) // 1024} KB），上限 {MAX_ZIP_BYTES // 1024 // 1024} MB")
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ArchiveInvalid("不是有效的 zip 文件") from None
    if len(infos) > MAX_ENTRIES:
        raise ArchiveInvalid(f"压缩包中的条目过多（{len(infos)} 个），上限 {MAX_ENTRIES} 个")
    wanted = []
    declared = 0
    for info in infos:
        _check_name(info.filename)
        if info.is_dir() or JUNK.search(info.filename):
            continue
        if not info.filename.lower().endswith(ALLOWED_SUFFIXES):
            raise ArchiveInvalid(f"不支持的文件“{info.filename}”：只接受 .bpmn、.dmn、.json 文件")
        if info.flag_bits & 0x1:
            raise ArchiveInvalid(f"“{info.filename}”已加密，无法导入")
        _check_sizes(info)
        declared += info.file_size
        if declared > MAX_TOTAL_BYTES:
            raise ArchiveInvalid(f"压缩包解压后过大，上限 {MAX_TOTAL_BYTES // 1024 // 1024} MB（疑似压缩炸弹）")
        wanted.append(info)
    names = [i.filename for i in wanted]
    if len(set(names)) != len(names):
        raise ArchiveInvalid("压缩包中有重名的文件")
    return {info.filename: _text(info.filename, _read(zf, info)) for info in wanted}


def _check_sizes(info: zipfile.ZipInfo) -> None:
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ArchiveInvalid(f"“{info.filename}”压缩比异常（超过 {MAX_RATIO} 倍），疑似压缩炸弹，已拒绝")
    if info.file_size > MAX_ENTRY_BYTES:
        raise ArchiveInvalid(f"“{info.filename}”解压后过大（{info.file_size // 1024} KB），"
                             f"单个文件上限 {MAX_ENTRY_BYTES // 1024 // 1024} MB")


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # The header's sizes may lie: never read more than the entry may hold.
    try:
        with zf.open(info) as stream:
            data = stream.read(min(info.file_size, MAX_ENTRY_BYTES) + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise ArchiveInvalid(f"无法解压“{info.filename}”：{exc}") from None
    if len(data) > info.file_size or len(data) > MAX_ENTRY_BYTES:
        raise ArchiveInvalid(f"“{info.filename}”的实际大小与声明不符，疑似压缩炸弹，已拒绝")
    return data


def _text(name: str, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArchiveInvalid(f"“{name}”不是 UTF-8 编码的文本，请另存为 UTF-8 后再导入") from None
    return text


def read_folder(folder: Path) -> dict[str, str]:
    """{path: text} of a model folder on disk (SpiffArena's process_models/<group>/<model>/ or
    ours), with the same limits as a zip upload."""
    entries: dict[str, str] = {}
    total = 0
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and not JUNK.search(p.as_posix()))
    if len(paths) > MAX_ENTRIES:
        raise ArchiveInvalid(f"文件夹中的文件过多（{len(paths)} 个），上限 {MAX_ENTRIES} 个")
    for path in paths:
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            raise ArchiveInvalid(f"“{name}”是符号链接，已拒绝")
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            raise ArchiveInvalid(f"不支持的文件“{name}”：只接受 .bpmn、.dmn、.json 文件")
        size = path.stat().st_size
        total += size
        if size > MAX_ENTRY_BYTES or total > MAX_TOTAL_BYTES:
            raise ArchiveInvalid(f"“{name}”过大或文件夹总大小超过上限")
        entries[name] = _text(name, path.read_bytes())
    return entries


def _strip_top_folder(entries: dict[str, str]) -> dict[str, str]:
    """Paths relative to the model folder: drop MANIFEST.json and one folder all files share."""
    files = {k: v for k, v in entries.items() if k != MANIFEST}
    tops = {k.split("/", 1)[0] for k in files}
    if len(tops) == 1 and all("/" in k for k in files):
        top = tops.pop()
        files = {k[len(top) + 1:]: v for k, v in files.items()}
    files.pop(MANIFEST, None)
    return files


# -- import ----------------------------------------------------------------------------------
def import_zip(content: bytes, actor: User) -> ModelDraft:
    """A draft for the current plan year from a zip (ours or SpiffArena's layout). Commits.

    The notes (what was converted or is unsupported) are on `draft.import_notes`; see
    import_upload for them as a result object."""
    return import_upload(content, actor).draft


def import_upload(content: bytes, actor: User) -> Imported:
    drafts.require_manager(actor)
    return import_entries(read_entries(content), actor)


def import_folder(folder: Path, actor: User) -> Imported:
    drafts.require_manager(actor)
    return import_entries(read_folder(folder), actor)


def import_entries(entries: dict[str, str], actor: User) -> Imported:
    files = _strip_top_folder(entries)
    if not files:
        raise ArchiveInvalid("压缩包中没有文件")
    if "model.json" in files:
        files, notes, layout = _ours(files), [], "ours"
    elif SPIFF_MODEL in files:
        files, notes = spiff_to_ours(files)
        layout = "spiffarena"
    else:
        raise ArchiveInvalid("压缩包中既没有 model.json（本系统格式），也没有 process_model.json（SpiffArena 格式）")
    for name in list(files):
        try:
            files[name] = drafts.check_file(name, files[name])
        except FormInvalid as exc:
            raise ArchiveInvalid(exc.message) from None
    process_id = _process_id(files)
    year = _current_year()
    files["model.json"] = drafts.with_plan_year(files["model.json"], year)
    draft = _save_draft(process_id, year, files, actor, layout)
    problems = drafts.validate(draft)
    if problems:
        notes.append(f"校验发现 {len(problems)} 处问题，请在草稿中修改后再发布（见草稿页的“校验”）")
    draft.import_notes = notes  # type: ignore[attr-defined]
    return Imported(draft, notes, layout)


def _current_year() -> int:
    from app.services import committees

    try:
        return committees.current_plan_year()
    except LookupError:
        raise ArchiveInvalid("尚未设定当前计划年度，无法确定草稿所属年度") from None


def _process_id(files: dict[str, str]) -> str:
    try:
        meta = json.loads(files["model.json"])
    except ValueError as exc:
        raise ArchiveInvalid(f"model.json 不是有效的 JSON：{exc}") from None
    if not isinstance(meta, dict):
        raise ArchiveInvalid("model.json 应为 JSON 对象")
    process_id = meta.get("id")
    if not isinstance(process_id, str) or not PROCESS_ID.match(process_id):
        raise ArchiveInvalid("model.json 的 id（流程编号）应由字母、数字、下划线组成，且以字母或下划线开头")
    return process_id


def _ours(files: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, text in files.items():
        if "/" in name and not name.startswith(("forms/", "scenarios/")):
            raise ArchiveInvalid(f"不认识的路径“{name}”：模型文件夹中只能有 forms/ 和 scenarios/ 两个子文件夹")
        if name.count("/") > 1:
            raise ArchiveInvalid(f"路径“{name}”层级过深")
        out[name] = text
    return out


def _save_draft(process_id: str, year: int, files: dict[str, str], actor: User, layout: str) -> ModelDraft:
    existing = drafts.open_draft(process_id, year)
    if existing is not None:
        raise drafts.DraftExists(existing)
    try:
        base: ProcessVersion | None = registry.for_new_instances(process_id)
    except NotFound:
        base = None
    now = clock.now()
    draft = ModelDraft(process_id=process_id, plan_year=year, base_version_id=base.id if base else None,
                       files=files, status=drafts.OPEN, created_at=now, created_by_id=actor.id, updated_at=now,
                       updated_by_id=actor.id)
    db.session.add(draft)
    db.session.flush()
    audit.record("model_draft_imported", actor=actor,
                 details={"draft_id": draft.id, "process_model": process_id, "plan_year": year, "layout": layout,
                          "base_version": base.version if base else None, "files": sorted(files)})
    db.session.commit()
    return draft


# -- SpiffArena's layout ---------------------------------------------------------------------
def spiff_to_ours(files: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Our files (model.json, BPMN, DMN, forms/…) from a SpiffArena process-model folder, and
    Chinese notes on what was converted or left out."""
    try:
        spiff = json.loads(files[SPIFF_MODEL])
    except ValueError:
        raise ArchiveInvalid("process_model.json 不是有效的 JSON") from None
    if not isinstance(spiff, dict):
        raise ArchiveInvalid("process_model.json 应为 JSON 对象")
    notes: list[str] = []
    for name in files:
        if "/" in name:
            raise ArchiveInvalid(f"SpiffArena 流程模型文件夹中不应有子文件夹（{name}）")
    trees = {}
    for name in sorted(n for n in files if n.endswith((".bpmn", ".dmn"))):
        try:
            trees[name] = parse_xml(files[name])
        except UnsafeXml as exc:
            raise ArchiveInvalid(f"{name} 不是有效的 XML：{exc}") from None
    bpmn_names = [n for n in trees if n.endswith(".bpmn")]
    if not bpmn_names:
        raise ArchiveInvalid("SpiffArena 流程模型中没有 BPMN 文件")
    primary_file, process_id = _primary(spiff, bpmn_names, trees, notes)
    referenced = {v for n in bpmn_names for v in _form_refs(trees[n])}
    out: dict[str, str] = {n: files[n] for n in trees}
    for name, text in files.items():
        if name == SPIFF_MODEL or name in trees:
            continue
        if name in referenced or name.endswith(("-schema.json", "-uischema.json")):
            out[f"forms/{name}"] = text
        elif re.match(r"^test_.*\.json$", name):
            notes.append(f"{name} 是 SpiffArena 的 BPMN 单元测试，本系统不支持，未导入")
        else:
            notes.append(f"{name} 没有被任何用户任务引用为表单，未导入")
    lanes = _lanes(bpmn_names, trees, notes)
    notes.extend(_unsupported(bpmn_names, trees))
    model = {"id": process_id, "name": str(spiff.get("display_name") or process_id),
             "plan_year": None, "description": str(spiff.get("description") or ""),
             "starter_roles": [], "lanes": {lane: {} for lane in lanes}, "result_fields": []}
    out["model.json"] = json.dumps(model, ensure_ascii=False, indent=2) + "\n"
    notes.insert(0, f"已从 SpiffArena 格式转换：主流程 {process_id}（{primary_file}），"
                    f"{len([n for n in out if n.startswith('forms/')])} 个表单文件移入 forms/")
    if lanes:
        notes.append(f"泳道 {'、'.join(lanes)} 尚未映射到角色：请在 model.json 的 lanes 中为每个泳道填写 role")
    notes.append("尚未设定可发起角色（starter_roles）：请在 model.json 中填写")
    return out, notes


def _primary(spiff: dict[str, Any], bpmn_names: list[str], trees: dict[str, Any],
             notes: list[str]) -> tuple[str, str]:
    declared = spiff.get("primary_file_name")
    if isinstance(declared, str) and declared in bpmn_names:
        primary = declared
    else:
        if declared:
            notes.append(f"process_model.json 中的主文件 {declared} 不存在，改用 {bpmn_names[0]}")
        primary = bpmn_names[0]
    processes = [p for p in trees[primary].getroot().iter(f"{{{BPMN_NS}}}process")]
    ids = [p.get("id") for p in processes if p.get("id")]
    wanted = spiff.get("primary_process_id")
    if isinstance(wanted, str) and wanted in ids:
        return primary, wanted
    executable = [p.get("id") for p in processes if p.get("isExecutable") in ("true", "1") and p.get("id")]
    chosen = (executable or ids or [None])[0]
    if chosen is None:
        raise ArchiveInvalid(f"{primary} 中没有流程（bpmn:process）")
    if wanted:
        notes.append(f"主流程 {wanted} 不在 {primary} 中，改用 {chosen}")
    return primary, chosen


def _form_refs(tree: Any) -> set[str]:
    return {p.get("value") for p in tree.getroot().iter(f"{{{SPIFF_NS}}}property")
            if p.get("name") in FORM_PROPS and p.get("value")}


def _lanes(bpmn_names: list[str], trees: dict[str, Any], notes: list[str]) -> list[str]:
    lanes: list[str] = []
    for name in bpmn_names:
        for lane in trees[name].getroot().iter(f"{{{BPMN_NS}}}lane"):
            label = lane.get("name")
            if not label:
                notes.append(f"{name} 中的泳道 {lane.get('id')} 没有名称：请在流程图中为它命名，再在 model.json 中映射")
                continue
            if label not in lanes:
                lanes.append(label)
    return lanes


def _unsupported(bpmn_names: list[str], trees: dict[str, Any]) -> list[str]:
    notes = []
    process_ids = {p.get("id") for n in bpmn_names for p in trees[n].getroot().iter(f"{{{BPMN_NS}}}process")}
    services = ", ".join(sorted(registry_services()))
    for name in bpmn_names:
        root = trees[name].getroot()
        for task in root.iter(f"{{{BPMN_NS}}}serviceTask"):
            operator = next(iter(task.iter(f"{{{SPIFF_NS}}}serviceTaskOperator")), None)
            what = operator.get("id") if operator is not None else "（未指定）"
            if what not in registry_services():
                notes.append(f"服务任务 {task.get('name') or task.get('id')} 使用 SpiffArena 连接器 {what}，"
                             f"本系统不支持；可用服务：{services}")
        for kind in ("dataStoreReference", "dataStore"):
            for store in root.iter(f"{{{BPMN_NS}}}{kind}"):
                notes.append(f"数据存储 {store.get('name') or store.get('id')}（{name}）本系统不支持，请改用流程变量")
        for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
            target = call.get("calledElement")
            if target not in process_ids:
                notes.append(f"调用活动 {call.get('name') or call.get('id')} 调用的流程 {target or '（未指定）'} "
                             "不在导入的文件中，本系统无法执行")
    return notes


def registry_services() -> frozenset[str]:
    from app.services import operations

    return frozenset(operations.names())
